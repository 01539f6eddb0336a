package feed

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// CSV writes records (the first one a header) as CSV (RFC 4180), every
// cell made inert for spreadsheets: a cell that a spreadsheet would run as
// a formula (starting with = + - @, a tab or a carriage return) gets a
// leading single quote (OWASP, "CSV Injection"). Every CSV antenne writes
// (the themes export, the studio's listens.csv) goes through it, so that
// no text a host or a remote server chose ever runs in a spreadsheet.
func CSV(records [][]string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cells := []string{}
	for _, rec := range records {
		cells = cells[:0]
		for _, cell := range rec {
			cells = append(cells, inertCell(cell))
		}
		if err := w.Write(cells); err != nil {
			return nil, fmt.Errorf("write CSV: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("write CSV: %w", err)
	}
	return b.Bytes(), nil
}

// inertCell keeps a spreadsheet from running a CSV cell as a formula: a
// cell starting with = + - @ tab or carriage return gets a leading single
// quote.
func inertCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
