package episodes

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	// Semesters are computed in Europe/Paris time, also on machines
	// without /usr/share/zoneinfo (containers built FROM scratch).
	_ "time/tzdata"
)

// ErrUnknownSemester is wrapped by the errors of ParseSemester: the code is
// malformed or names no semester.
var ErrUnknownSemester = errors.New("unknown semester")

// Term is the half of the university year a semester covers.
type Term uint8

// Terms. The zero Term is no term.
const (
	Autumn Term = iota + 1 // "A", automne: 1 August to 31 January
	Spring                 // "P", printemps: 1 February to 31 July
)

// Semester is a semester of the university calendar, in Europe/Paris time:
// A20 (automne 2020) runs from 1 August 2020 00:00 to 31 January 2021
// 23:59:59.999999999 inclusive, P21 (printemps 2021) from 1 February 2021
// to 31 July 2021.
//
// Year is the calendar year the semester starts in: 2020 for A20, 2021 for
// P21. The zero Semester is no semester: its String is "" and it contains
// no instant. Semesters are comparable values.
type Semester struct {
	Term Term
	Year int
}

var parisOnce = sync.OnceValues(func() (*time.Location, error) {
	return time.LoadLocation("Europe/Paris")
})

// Paris is the Europe/Paris time zone, in which semesters begin and end.
// The zone data is embedded in the binary, so Paris works on any machine.
func Paris() *time.Location {
	loc, err := parisOnce()
	if err != nil {
		// Unreachable: time/tzdata is linked in.
		panic(fmt.Sprintf("load Europe/Paris with time/tzdata linked in: %v", err))
	}
	return loc
}

// ParseSemester reads a semester code: A (automne) or P (printemps), in
// either case, then the year in two digits (20 for 2020; two digits always
// mean 2000 to 2099) or four (A2020). Surrounding spaces are ignored. A
// malformed code gives a *SemesterError, which matches ErrUnknownSemester.
func ParseSemester(code string) (Semester, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) != 3 && len(c) != 5 {
		return Semester{}, badSemester(code)
	}
	var s Semester
	switch c[0] {
	case 'A':
		s.Term = Autumn
	case 'P':
		s.Term = Spring
	default:
		return Semester{}, badSemester(code)
	}
	digits := c[1:]
	for _, r := range digits {
		if r < '0' || r > '9' {
			return Semester{}, badSemester(code)
		}
	}
	year, err := strconv.Atoi(digits)
	if err != nil {
		return Semester{}, badSemester(code)
	}
	if len(digits) == 2 {
		year += 2000
	}
	s.Year = year
	return s, nil
}

// SemesterError is a code that names no semester. It matches
// ErrUnknownSemester.
type SemesterError struct {
	Code string // as given
}

func (e *SemesterError) Error() string {
	return fmt.Sprintf("%v %q: use A or P then the year, like A20, P21 or A2020", ErrUnknownSemester, e.Code)
}

// Is makes errors.Is(err, ErrUnknownSemester) true.
func (e *SemesterError) Is(target error) bool { return target == ErrUnknownSemester }

func badSemester(code string) error { return &SemesterError{Code: code} }

// SemesterOf is the semester that contains t, read in Europe/Paris time.
func SemesterOf(t time.Time) Semester {
	p := t.In(Paris())
	switch m := p.Month(); {
	case m >= time.August:
		return Semester{Autumn, p.Year()}
	case m == time.January:
		return Semester{Autumn, p.Year() - 1}
	default:
		return Semester{Spring, p.Year()}
	}
}

// IsZero reports whether s is the zero Semester.
func (s Semester) IsZero() bool { return s == Semester{} }

// String is the code of s: "A20", "P21". Years outside 2000 to 2099 get
// four digits ("A1999") so that ParseSemester reads every code back. The
// zero Semester gives "".
func (s Semester) String() string {
	var letter string
	switch s.Term {
	case Autumn:
		letter = "A"
	case Spring:
		letter = "P"
	default:
		return ""
	}
	if s.Year >= 2000 && s.Year <= 2099 {
		return fmt.Sprintf("%s%02d", letter, s.Year-2000)
	}
	return fmt.Sprintf("%s%04d", letter, s.Year)
}

// Name is the semester in words: "automne 2020", "printemps 2021" in
// French, "autumn 2020", "spring 2021" when lang is English ("en" or
// "en-..."). Any other lang gives French, the show's language. The zero
// Semester gives "".
func (s Semester) Name(lang string) string {
	en := lang == "en" || strings.HasPrefix(lang, "en-")
	var word string
	switch {
	case s.Term == Autumn && en:
		word = "autumn"
	case s.Term == Autumn:
		word = "automne"
	case s.Term == Spring && en:
		word = "spring"
	case s.Term == Spring:
		word = "printemps"
	default:
		return ""
	}
	return fmt.Sprintf("%s %d", word, s.Year)
}

// Start is the first instant of s: midnight in Paris on 1 August (autumn)
// or 1 February (spring). The zero Semester gives the zero time.
func (s Semester) Start() time.Time {
	switch s.Term {
	case Autumn:
		return time.Date(s.Year, time.August, 1, 0, 0, 0, 0, Paris())
	case Spring:
		return time.Date(s.Year, time.February, 1, 0, 0, 0, 0, Paris())
	default:
		return time.Time{}
	}
}

// End is the first instant after s, the Start of the next semester: s
// holds the instants t with !t.Before(s.Start()) && t.Before(s.End()).
// The zero Semester gives the zero time.
func (s Semester) End() time.Time {
	if s.IsZero() {
		return time.Time{}
	}
	return s.Next().Start()
}

// Contains reports whether t falls in s.
func (s Semester) Contains(t time.Time) bool {
	return !s.IsZero() && SemesterOf(t) == s
}

// Next is the semester after s: P21 after A20, A21 after P21. The zero
// Semester gives itself.
func (s Semester) Next() Semester {
	switch s.Term {
	case Autumn:
		return Semester{Spring, s.Year + 1}
	case Spring:
		return Semester{Autumn, s.Year}
	default:
		return s
	}
}

// Prev is the semester before s: A20 before P21, P20 before A20. The zero
// Semester gives itself.
func (s Semester) Prev() Semester {
	switch s.Term {
	case Autumn:
		return Semester{Spring, s.Year}
	case Spring:
		return Semester{Autumn, s.Year - 1}
	default:
		return s
	}
}

// Compare orders semesters in time: -1 when s is before o, 0 when equal,
// +1 when after. The zero Semester comes before every other.
func (s Semester) Compare(o Semester) int {
	if s.IsZero() || o.IsZero() {
		return cmp.Compare(b2i(!s.IsZero()), b2i(!o.IsZero()))
	}
	return cmp.Compare(s.ordinal(), o.ordinal())
}

// Sub is the number of semesters from o to s: P21.Sub(A20) is 1,
// A20.Sub(P21) is -1. Numbering seasons from the show's first semester
// gives s.Sub(first) + 1. Either being zero gives 0.
func (s Semester) Sub(o Semester) int {
	if s.IsZero() || o.IsZero() {
		return 0
	}
	return s.ordinal() - o.ordinal()
}

// ordinal numbers semesters in time order: P21 < A21 < P22.
func (s Semester) ordinal() int {
	return 2*s.Year + b2i(s.Term == Autumn)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MarshalText encodes s as its code, so a Semester reads and writes as
// "A20" in JSON and works with flag.TextVar.
func (s Semester) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText parses a code with ParseSemester. Empty text gives the zero
// Semester.
func (s *Semester) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*s = Semester{}
		return nil
	}
	v, err := ParseSemester(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// AiredDate is the date that places e in a semester and in aired order:
// AiredAt, or PublishAt when AiredAt is zero. It is zero for a draft that
// never aired.
func (e *Episode) AiredDate() time.Time {
	if !e.AiredAt.IsZero() {
		return e.AiredAt
	}
	return e.PublishAt
}

// InSemester selects the episodes of s that are published at now (drafts
// and episodes still scheduled are left out) and returns them in aired
// order: by AiredDate, then Number, Slug and ID so that the order is the
// same on every call. eps is not modified; nil entries are skipped.
func InSemester(eps []*Episode, s Semester, now time.Time) []*Episode {
	var out []*Episode
	for _, e := range eps {
		if e == nil || e.Status(now) != Published || !s.Contains(e.AiredDate()) {
			continue
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, compareAired)
	return out
}

func compareAired(a, b *Episode) int {
	if c := a.AiredDate().Compare(b.AiredDate()); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.Number, b.Number),
		strings.Compare(a.Slug, b.Slug),
		strings.Compare(a.ID, b.ID),
	)
}

// Days are the first and last UTC days of the semester, 2006-01-02 (1
// August to 31 January, 1 February to 31 July), as day-keyed counts such
// as listens take them.
func (s Semester) Days() (first, last string) {
	return s.Start().Format(time.DateOnly), s.End().AddDate(0, 0, -1).Format(time.DateOnly)
}
