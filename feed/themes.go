package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
)

// ThemesFormat is a format of the semester export.
type ThemesFormat string

// Formats of the semester export.
const (
	ThemesMarkdown ThemesFormat = "md"    // bullet list of themes
	ThemesLaTeX    ThemesFormat = "latex" // itemize environment of themes
	ThemesCSV      ThemesFormat = "csv"   // one row per episode, with a header
	ThemesJSON     ThemesFormat = "json"  // array of objects, one per episode
)

// ParseThemesFormat reads a format name as the CLI and the web give it:
// "md" (or "markdown"), "latex" (or "tex"), "csv", "json", in any case.
// The empty name is Markdown.
func ParseThemesFormat(name string) (ThemesFormat, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "md", "markdown":
		return ThemesMarkdown, nil
	case "latex", "tex":
		return ThemesLaTeX, nil
	case "csv":
		return ThemesCSV, nil
	case "json":
		return ThemesJSON, nil
	}
	return "", fmt.Errorf("unknown themes format %q: use md, latex, csv or json", name)
}

// ContentType is the media type to serve the format with.
func (f ThemesFormat) ContentType() string {
	switch f {
	case ThemesLaTeX:
		return "application/x-latex; charset=utf-8"
	case ThemesCSV:
		return "text/csv; charset=utf-8"
	case ThemesJSON:
		return "application/json"
	default:
		return "text/markdown; charset=utf-8"
	}
}

// ThemesOptions shape a semester export.
type ThemesOptions struct {
	// Format is the output format, Markdown when empty.
	Format ThemesFormat
	// Lang is the language of the intro sentence: "fr" (the default, also
	// when empty) or "en", optionally with a region ("fr-FR").
	Lang string
	// Intro puts the standard sentence ("Les thèmes suivants auront été
	// abordés ce semestre :") before the list, in Markdown and LaTeX.
	Intro bool
	// Links give the public page of an episode for the url field of CSV
	// and JSON; the zero Links leaves the field empty.
	Links Links
	// Listens, when not nil, adds each episode's listens (by episode ID;
	// an ID missing is 0), as the caller counted them: a listens column in
	// CSV and JSON, and "(42 écoutes)" / "(42 listens)" after each theme in
	// Markdown and LaTeX, where episodes sharing a theme add up.
	Listens map[string]int64
}

// Intro sentences, by language.
const (
	introFR = "Les thèmes suivants auront été abordés ce semestre :"
	introEN = "The following themes were discussed this semester:"
)

// Themes writes the semester export of eps, in the order given: pass the
// result of episodes.InSemester, which selects the published episodes of
// a semester and sorts them in aired order. No episode gives no bytes (nil)
// and no error, whatever the options, so that the caller can say so.
//
// Markdown and LaTeX list themes (Episode.ThemeOrTitle), one line per
// theme: episodes whose themes are equal once spaces are trimmed and
// letter case is ignored give one line, at the first one's place and in
// its spelling. So the two parts of a subject collapse when they share a
// theme ("Vie privée" for both), and stay two lines when only their titles
// tell them apart ("Vie privée (partie 1)", "Vie privée (partie 2)").
// Markdown escapes the characters that would change the rendering (* _ `
// [ ] < > \ ~ | and a leading # + - > or number); LaTeX escapes its
// specials (& % $ # _ { } ~ ^ \, and < > | for the OT1 font encoding) and
// keeps accents as UTF-8. Spaces and newlines in a theme or title become
// one space in every format.
//
// CSV (with a header row) and JSON (snake_case keys) give one record per
// episode: aired date and time in Europe/Paris, title, theme, duration,
// URL, hosts and guests (names from Persons; role "host" or empty, and
// "guest"). CSV joins several names with "; " and is written by CSV, so a
// text cell that a spreadsheet would run as a formula starts with a single
// quote.
//
// The error is about the options: an unknown format or language.
func Themes(eps []*episodes.Episode, opts ThemesOptions) ([]byte, error) {
	format, err := ParseThemesFormat(string(opts.Format))
	if err != nil {
		return nil, fmt.Errorf("export themes: %w", err)
	}
	intro, err := introSentence(opts.Lang)
	if err != nil {
		return nil, fmt.Errorf("export themes: %w", err)
	}
	if !opts.Intro {
		intro = ""
	}
	if len(eps) == 0 {
		return nil, nil
	}
	switch format {
	case ThemesLaTeX:
		return themesLaTeX(distinctThemes(eps, opts.Listens), intro, opts.Lang), nil
	case ThemesCSV:
		return themesCSV(themeRows(eps, opts.Links, opts.Listens), opts.Listens != nil)
	case ThemesJSON:
		return themesJSON(themeRows(eps, opts.Links, opts.Listens))
	default:
		return themesMarkdown(distinctThemes(eps, opts.Listens), intro, opts.Lang), nil
	}
}

// themeLine is a line of the Markdown and LaTeX lists: a theme and, when
// listens were given, the listens of its episodes (else -1).
type themeLine struct {
	theme   string
	listens int64
}

// listensLabel is " (42 écoutes)" in lang, "" for n < 0. French uses the
// singular for 0 and 1, English for 1 only.
func listensLabel(lang string, n int64) string {
	if n < 0 {
		return ""
	}
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if primary == "en" {
		if n == 1 {
			return " (1 listen)"
		}
		return fmt.Sprintf(" (%d listens)", n)
	}
	if n <= 1 {
		return fmt.Sprintf(" (%d écoute)", n)
	}
	return fmt.Sprintf(" (%d écoutes)", n)
}

func introSentence(lang string) (string, error) {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch primary {
	case "", "fr":
		return introFR, nil
	case "en":
		return introEN, nil
	}
	return "", fmt.Errorf("unsupported language %q: use fr or en", lang)
}

// distinctThemes lists the themes of eps in order, each once, with the
// sum of their episodes' listens when listens is not nil; see Themes.
func distinctThemes(eps []*episodes.Episode, listens map[string]int64) []themeLine {
	seen := make(map[string]int, len(eps)) // lowercased theme -> index
	var lines []themeLine
	for _, e := range eps {
		theme := oneLine(e.ThemeOrTitle())
		key := strings.ToLower(theme)
		if theme == "" {
			continue
		}
		i, ok := seen[key]
		if !ok {
			i = len(lines)
			seen[key] = i
			lines = append(lines, themeLine{theme: theme, listens: -1})
		}
		if listens != nil {
			lines[i].listens = max(lines[i].listens, 0) + listens[e.ID]
		}
	}
	return lines
}

// oneLine trims s and turns each run of spaces, tabs and newlines into one
// space, so that a theme is one list item.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func themesMarkdown(themes []themeLine, intro, lang string) []byte {
	var b bytes.Buffer
	if intro != "" {
		b.WriteString(intro)
		b.WriteString("\n\n")
	}
	for _, t := range themes {
		b.WriteString("- ")
		b.WriteString(escapeMarkdown(t.theme))
		b.WriteString(listensLabel(lang, t.listens)) // digits and letters: nothing to escape
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func themesLaTeX(themes []themeLine, intro, lang string) []byte {
	var b bytes.Buffer
	if intro != "" {
		b.WriteString(escapeLaTeX(intro))
		b.WriteString("\n\n")
	}
	b.WriteString("\\begin{itemize}\n")
	for _, t := range themes {
		b.WriteString("  \\item ")
		b.WriteString(escapeLaTeX(t.theme))
		b.WriteString(listensLabel(lang, t.listens))
		b.WriteByte('\n')
	}
	b.WriteString("\\end{itemize}\n")
	return b.Bytes()
}

// themeRow is one episode in the CSV and JSON exports. The JSON keys are
// the CSV header.
type themeRow struct {
	AiredDate       string   `json:"aired_date"` // 2021-02-01, in Paris
	AiredAt         string   `json:"aired_at"`   // RFC 3339, Paris offset
	Title           string   `json:"title"`
	Theme           string   `json:"theme"`
	Duration        string   `json:"duration"` // H:MM:SS
	DurationSeconds int64    `json:"duration_seconds"`
	URL             string   `json:"url"`
	Hosts           []string `json:"hosts"`
	Guests          []string `json:"guests"`
	// Listens is there only when the caller gave listens.
	Listens *int64 `json:"listens,omitempty"`
}

var themeHeader = []string{
	"aired_date", "aired_at", "title", "theme", "duration", "duration_seconds", "url", "hosts", "guests",
}

func themeRows(eps []*episodes.Episode, links Links, listens map[string]int64) []themeRow {
	rows := make([]themeRow, 0, len(eps))
	for _, e := range eps {
		aired := e.AiredDate().In(episodes.Paris())
		secs := int64(e.Media.Duration.Round(time.Second) / time.Second)
		r := themeRow{
			AiredDate:       aired.Format(time.DateOnly),
			AiredAt:         aired.Format(time.RFC3339),
			Title:           oneLine(e.Title),
			Theme:           oneLine(e.ThemeOrTitle()),
			Duration:        episodes.FormatDurationHours(e.Media.Duration),
			DurationSeconds: secs,
			Hosts:           []string{},
			Guests:          []string{},
		}
		if !links.IsZero() {
			r.URL = links.Episode(e.Show, e.Slug)
		}
		if listens != nil {
			n := listens[e.ID]
			r.Listens = &n
		}
		for _, p := range e.Persons {
			switch p.Role {
			case "", episodes.RoleHost:
				r.Hosts = append(r.Hosts, p.Name)
			case episodes.RoleGuest:
				r.Guests = append(r.Guests, p.Name)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func themesCSV(rows []themeRow, withListens bool) ([]byte, error) {
	header := themeHeader
	if withListens {
		header = append(slices.Clip(header), "listens")
	}
	records := [][]string{header}
	for _, r := range rows {
		rec := []string{
			r.AiredDate, r.AiredAt, r.Title, r.Theme, r.Duration,
			fmt.Sprint(r.DurationSeconds), r.URL,
			strings.Join(r.Hosts, "; "), strings.Join(r.Guests, "; "),
		}
		if withListens && r.Listens != nil {
			rec = append(rec, fmt.Sprint(*r.Listens))
		}
		records = append(records, rec)
	}
	out, err := CSV(records)
	if err != nil {
		return nil, fmt.Errorf("export themes: %w", err)
	}
	return out, nil
}

func themesJSON(rows []themeRow) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "&" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(rows); err != nil {
		return nil, fmt.Errorf("export themes as JSON: %w", err)
	}
	return b.Bytes(), nil
}
