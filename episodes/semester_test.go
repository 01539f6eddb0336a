package episodes

import (
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func paris(t *testing.T, year int, month time.Month, day, hour, min, sec, nsec int) time.Time {
	t.Helper()
	return time.Date(year, month, day, hour, min, sec, nsec, Paris())
}

func mustSemester(t *testing.T, code string) Semester {
	t.Helper()
	s, err := ParseSemester(code)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSemesterOf(t *testing.T) {
	t.Parallel()
	utc := func(year int, month time.Month, day, hour, min int) time.Time {
		return time.Date(year, month, day, hour, min, 0, 0, time.UTC)
	}
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		// 1 August: the autumn semester starts at midnight in Paris (UTC+2).
		{"31 Jul 23:30 Paris", paris(t, 2020, time.July, 31, 23, 30, 0, 0), "P20"},
		{"31 Jul last nanosecond Paris", paris(t, 2020, time.July, 31, 23, 59, 59, 999999999), "P20"},
		{"1 Aug midnight Paris", paris(t, 2020, time.August, 1, 0, 0, 0, 0), "A20"},
		{"1 Aug 23:30 Paris", paris(t, 2020, time.August, 1, 23, 30, 0, 0), "A20"},
		{"31 Jul 22:30 UTC is 1 Aug 00:30 Paris", utc(2020, time.July, 31, 22, 30), "A20"},
		{"31 Jul 21:59 UTC is 23:59 Paris", utc(2020, time.July, 31, 21, 59), "P20"},
		// 1 February: the spring semester starts at midnight in Paris (UTC+1).
		{"31 Jan 23:30 Paris", paris(t, 2021, time.January, 31, 23, 30, 0, 0), "A20"},
		{"31 Jan last nanosecond Paris", paris(t, 2021, time.January, 31, 23, 59, 59, 999999999), "A20"},
		{"31 Jan 23:30 Paris is 22:30 UTC", utc(2021, time.January, 31, 22, 30), "A20"},
		{"31 Jan 23:30 UTC is 1 Feb 00:30 Paris", utc(2021, time.January, 31, 23, 30), "P21"},
		{"1 Feb midnight Paris", paris(t, 2021, time.February, 1, 0, 0, 0, 0), "P21"},
		{"1 Feb 23:30 Paris", paris(t, 2021, time.February, 1, 23, 30, 0, 0), "P21"},
		// New year's eve stays in the autumn semester that began in August.
		{"31 Dec 23:59 Paris", paris(t, 2020, time.December, 31, 23, 59, 0, 0), "A20"},
		{"1 Jan 00:00 Paris", paris(t, 2021, time.January, 1, 0, 0, 0, 0), "A20"},
		{"31 Dec 23:30 UTC is 1 Jan Paris", utc(2020, time.December, 31, 23, 30), "A20"},
		// DST days fall inside semesters: the switch must not move anything.
		{"28 Mar 2021 01:59 UTC+1 before DST", utc(2021, time.March, 28, 0, 59), "P21"},
		{"28 Mar 2021 03:00 UTC+2 after DST", utc(2021, time.March, 28, 1, 0), "P21"},
		{"31 Oct 2021 02:30 first pass", utc(2021, time.October, 31, 0, 30), "A21"},
		{"31 Oct 2021 02:30 second pass", utc(2021, time.October, 31, 1, 30), "A21"},
		// Another zone: read in Paris, not in the zone of the value.
		{"1 Feb 06:00 Tokyo is 31 Jan 22:00 Paris",
			time.Date(2021, time.February, 1, 6, 0, 0, 0, time.FixedZone("JST", 9*3600)), "A20"},
		{"31 Jul 20:00 New York is 1 Aug 02:00 Paris",
			time.Date(2020, time.July, 31, 20, 0, 0, 0, time.FixedZone("EDT", -4*3600)), "A20"},
		{"year 1999", paris(t, 1999, time.September, 1, 0, 0, 0, 0), "A1999"},
		{"year 2099", paris(t, 2100, time.January, 31, 0, 0, 0, 0), "A99"},
		{"year 2100", paris(t, 2100, time.February, 1, 0, 0, 0, 0), "P2100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := SemesterOf(tt.t)
			if got := s.String(); got != tt.want {
				t.Errorf("SemesterOf(%v) = %s, want %s", tt.t, got, tt.want)
			}
			if !s.Contains(tt.t) {
				t.Errorf("%s.Contains(%v) = false, want true", s, tt.t)
			}
			if tt.t.Before(s.Start()) || !tt.t.Before(s.End()) {
				t.Errorf("%v not in [%v, %v) of %s", tt.t, s.Start(), s.End(), s)
			}
			for _, other := range []Semester{s.Prev(), s.Next()} {
				if other.Contains(tt.t) {
					t.Errorf("%s.Contains(%v) = true, want false", other, tt.t)
				}
			}
		})
	}
}

func TestSemesterBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code       string
		start, end time.Time
	}{
		{"A20", paris(t, 2020, time.August, 1, 0, 0, 0, 0), paris(t, 2021, time.February, 1, 0, 0, 0, 0)},
		{"P21", paris(t, 2021, time.February, 1, 0, 0, 0, 0), paris(t, 2021, time.August, 1, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			s := mustSemester(t, tt.code)
			if got := s.Start(); !got.Equal(tt.start) {
				t.Errorf("Start() = %v, want %v", got, tt.start)
			}
			if got := s.End(); !got.Equal(tt.end) {
				t.Errorf("End() = %v, want %v", got, tt.end)
			}
			last := s.End().Add(-time.Nanosecond)
			if !s.Contains(last) {
				t.Errorf("Contains(%v) = false, want true", last)
			}
			if s.Contains(s.End()) {
				t.Errorf("Contains(End() %v) = true, want false", s.End())
			}
			if !s.Contains(s.Start()) {
				t.Errorf("Contains(Start() %v) = false, want true", s.Start())
			}
		})
	}
	// Winter (UTC+1) and summer (UTC+2) offsets at midnight.
	if got, want := mustSemester(t, "P21").Start().UTC(), time.Date(2021, time.January, 31, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("P21 starts at %v UTC, want %v", got, want)
	}
	if got, want := mustSemester(t, "A21").Start().UTC(), time.Date(2021, time.July, 31, 22, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("A21 starts at %v UTC, want %v", got, want)
	}
}

func TestParseSemester(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want Semester
		str  string
	}{
		{"A20", Semester{Autumn, 2020}, "A20"},
		{"a20", Semester{Autumn, 2020}, "A20"},
		{"A2020", Semester{Autumn, 2020}, "A20"},
		{"P21", Semester{Spring, 2021}, "P21"},
		{"p21", Semester{Spring, 2021}, "P21"},
		{"P2021", Semester{Spring, 2021}, "P21"},
		{" P21\n", Semester{Spring, 2021}, "P21"},
		{"A00", Semester{Autumn, 2000}, "A00"},
		{"P99", Semester{Spring, 2099}, "P99"},
		{"A1999", Semester{Autumn, 1999}, "A1999"},
		{"P2100", Semester{Spring, 2100}, "P2100"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := ParseSemester(tt.code)
			if err != nil {
				t.Fatalf("ParseSemester(%q): %v", tt.code, err)
			}
			if got != tt.want {
				t.Errorf("ParseSemester(%q) = %+v, want %+v", tt.code, got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			back, err := ParseSemester(got.String())
			if err != nil || back != got {
				t.Errorf("ParseSemester(%q) = %+v, %v; want %+v", got.String(), back, err, got)
			}
		})
	}
}

func TestParseSemesterBad(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		"", " ", "X20", "A", "P", "A2", "A202", "A20201", "20", "2020", "AA20",
		"A-1", "A+20", "A 20", "A2O", "P２１", "É20", "automne 2020", "A20 P21",
	} {
		t.Run(code, func(t *testing.T) {
			s, err := ParseSemester(code)
			if err == nil {
				t.Fatalf("ParseSemester(%q) = %v, want an error", code, s)
			}
			if !errors.Is(err, ErrUnknownSemester) {
				t.Errorf("error %v does not wrap ErrUnknownSemester", err)
			}
			if !s.IsZero() {
				t.Errorf("got %+v with the error, want the zero Semester", s)
			}
			msg := err.Error()
			for _, want := range []string{"A20", "P21", "A2020"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not give the example %s", msg, want)
				}
			}
		})
	}
	_, err := ParseSemester("X20")
	if got, want := err.Error(), `unknown semester "X20": use A or P then the year, like A20, P21 or A2020`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSemesterNextPrev(t *testing.T) {
	t.Parallel()
	s := mustSemester(t, "A19")
	want0 := s
	want := []string{"A19", "P20", "A20", "P21", "A21", "P22"}
	for i, code := range want {
		if got := s.String(); got != code {
			t.Errorf("step %d: got %s, want %s", i, got, code)
		}
		if i > 0 && s.Prev().Next() != s {
			t.Errorf("%s.Prev().Next() = %s", s, s.Prev().Next())
		}
		// Semesters tile time: each starts where the previous ends.
		if !s.Start().Equal(s.Prev().End()) {
			t.Errorf("%s starts at %v, %s ends at %v", s, s.Start(), s.Prev(), s.Prev().End())
		}
		if c := s.Compare(s.Next()); c != -1 {
			t.Errorf("%s.Compare(%s) = %d, want -1", s, s.Next(), c)
		}
		if c := s.Next().Compare(s); c != 1 {
			t.Errorf("%s.Compare(%s) = %d, want 1", s.Next(), s, c)
		}
		if got := s.Sub(want0); got != i {
			t.Errorf("%s.Sub(A19) = %d, want %d", s, got, i)
		}
		if got := want0.Sub(s); got != -i {
			t.Errorf("A19.Sub(%s) = %d, want %d", s, got, -i)
		}
		if c := s.Compare(s); c != 0 {
			t.Errorf("%s.Compare(itself) = %d, want 0", s, c)
		}
		s = s.Next()
	}
}

func TestSemesterZero(t *testing.T) {
	t.Parallel()
	var z Semester
	if !z.IsZero() || z.String() != "" || z.Name("fr") != "" {
		t.Errorf("zero Semester: IsZero %v, String %q, Name %q", z.IsZero(), z.String(), z.Name("fr"))
	}
	if !z.Start().IsZero() || !z.End().IsZero() {
		t.Errorf("zero Semester: Start %v, End %v, want zero times", z.Start(), z.End())
	}
	if z.Contains(time.Time{}) || z.Contains(paris(t, 2021, time.March, 1, 0, 0, 0, 0)) {
		t.Error("zero Semester contains an instant")
	}
	if d := z.Sub(mustSemester(t, "A20")); d != 0 {
		t.Errorf("zero.Sub(A20) = %d, want 0", d)
	}
	if z.Next() != z || z.Prev() != z {
		t.Errorf("zero Semester: Next %v, Prev %v", z.Next(), z.Prev())
	}
	if c := z.Compare(mustSemester(t, "A1000")); c != -1 {
		t.Errorf("zero.Compare(A1000) = %d, want -1", c)
	}
}

func TestSemesterName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, lang, want string
	}{
		{"A20", "fr", "automne 2020"},
		{"A20", "", "automne 2020"},
		{"A20", "fr-FR", "automne 2020"},
		{"P21", "fr", "printemps 2021"},
		{"A20", "en", "autumn 2020"},
		{"P21", "en", "spring 2021"},
		{"P21", "en-GB", "spring 2021"},
		{"P21", "eo", "printemps 2021"},
	}
	for _, tt := range tests {
		if got := mustSemester(t, tt.code).Name(tt.lang); got != tt.want {
			t.Errorf("%s.Name(%q) = %q, want %q", tt.code, tt.lang, got, tt.want)
		}
	}
}

func TestSemesterText(t *testing.T) {
	t.Parallel()
	var v struct {
		Season Semester `json:"season"`
	}
	if err := json.Unmarshal([]byte(`{"season":"a2020"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"season":"A20"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"season":"Z9"}`), &v); !errors.Is(err, ErrUnknownSemester) {
		t.Errorf("got %v, want ErrUnknownSemester", err)
	}

	fs := flag.NewFlagSet("themes", flag.ContinueOnError)
	var s Semester
	fs.TextVar(&s, "season", Semester{}, "semester")
	if err := fs.Parse([]string{"--season", "P21"}); err != nil {
		t.Fatal(err)
	}
	if s != (Semester{Spring, 2021}) {
		t.Errorf("--season P21 gave %+v", s)
	}
}

func TestAiredDate(t *testing.T) {
	t.Parallel()
	aired := paris(t, 2021, time.January, 31, 23, 30, 0, 0)
	published := paris(t, 2021, time.February, 3, 9, 0, 0, 0)
	tests := []struct {
		name string
		e    Episode
		want time.Time
	}{
		{"aired and published", Episode{AiredAt: aired, PublishAt: published}, aired},
		{"published only", Episode{PublishAt: published}, published},
		{"aired draft", Episode{AiredAt: aired}, aired},
		{"draft", Episode{}, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.e.AiredDate(); !got.Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestInSemester(t *testing.T) {
	t.Parallel()
	at := func(month time.Month, day, hour, min int) time.Time {
		return paris(t, 2021, month, day, hour, min, 0, 0)
	}
	ep := func(id string, aired, publish time.Time) *Episode {
		return &Episode{ID: id, Slug: id, AiredAt: aired, PublishAt: publish}
	}
	eps := []*Episode{
		ep("july-31", at(time.July, 31, 23, 30), at(time.August, 2, 10, 0)),
		ep("aug-1", at(time.August, 1, 23, 30), at(time.August, 2, 10, 0)),
		ep("jan-31", at(time.January, 31, 23, 30), at(time.February, 1, 10, 0)),
		nil,
		ep("feb-1", at(time.February, 1, 23, 30), at(time.February, 2, 10, 0)),
		ep("draft", at(time.March, 5, 9, 30), time.Time{}),
		ep("scheduled", at(time.June, 4, 9, 30), at(time.June, 20, 12, 0)),
		ep("no-air-date", time.Time{}, at(time.April, 2, 12, 0)),
		ep("dst-day", at(time.March, 28, 9, 30), at(time.March, 28, 12, 0)),
		// Same air time: Number, then Slug, then ID decide.
		ep("same-b", at(time.May, 7, 9, 30), at(time.May, 7, 12, 0)),
		ep("same-a", at(time.May, 7, 9, 30), at(time.May, 7, 12, 0)),
		{ID: "same-n1", Slug: "same-z", Number: 1, AiredAt: at(time.May, 7, 9, 30), PublishAt: at(time.May, 7, 12, 0)},
	}
	p21 := mustSemester(t, "P21")
	ids := func(eps []*Episode) string {
		var s []string
		for _, e := range eps {
			if e != nil {
				s = append(s, e.ID)
			}
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name string
		sem  Semester
		now  time.Time
		want string
	}{
		{"before the scheduled episode", p21, at(time.June, 20, 11, 59),
			"feb-1 dst-day no-air-date same-a same-b same-n1"},
		{"once the scheduled episode is out", p21, at(time.June, 20, 12, 0),
			"feb-1 dst-day no-air-date same-a same-b same-n1 scheduled"},
		{"after the semester", p21, at(time.September, 1, 0, 0),
			"feb-1 dst-day no-air-date same-a same-b same-n1 scheduled july-31"},
		{"autumn before", mustSemester(t, "A20"), at(time.September, 1, 0, 0), "jan-31"},
		{"autumn after", mustSemester(t, "A21"), at(time.September, 1, 0, 0), "aug-1"},
		{"nothing published yet", p21, at(time.January, 1, 0, 0), ""},
		{"zero semester", Semester{}, at(time.September, 1, 0, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ids(eps)
			if got := ids(InSemester(eps, tt.sem, tt.now)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if after := ids(eps); after != before {
				t.Errorf("input reordered: %q, was %q", after, before)
			}
		})
	}
}
