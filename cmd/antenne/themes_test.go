package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// TestThemesAfterTenPublishes is the walk-through: ten episodes
// published through the CLI, out of order, then the spring 2021 themes.
func TestThemesAfterTenPublishes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	published := []struct{ title, theme, aired string }{
		{"Les communs numériques", "", "2021-03-05T09:30"},
		{"Vie privée (partie 1)", "Vie privée", "2021-02-05T09:30"},
		{"Vie privée (partie 2)", "Vie privée", "2021-02-12T09:30"},
		{"Rentrée", "", "2020-09-18T09:30"}, // autumn 2020: not listed
		{"Logiciels libres & 100% éthique", "", "2021-04-02T09:30"},
		{"Fin de semestre", "", "2021-07-31T23:30"}, // last evening of P21
		{"Été", "", "2021-08-01T09:30"},             // A21: not listed
		{"Mumble et la radio", "", "2021-02-01T00:10"},
		{"CHATONS", "Le collectif CHATONS", "2021-05-07T09:30"},
		{"Les données de santé", "", "2021-06-04T09:30"},
	}
	for i, p := range published {
		rec := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 300 + 50*i})
		args := []string{"publish", rec, "--title", p.title, "--aired", p.aired}
		if p.theme != "" {
			args = append(args, "--theme", p.theme)
		}
		c.ok(args...)
	}
	got := c.ok("themes", "--season", "P21")
	want := strings.Join([]string{
		"- Mumble et la radio",
		"- Vie privée",
		"- Les communs numériques",
		"- Logiciels libres & 100% éthique",
		"- Le collectif CHATONS",
		"- Les données de santé",
		"- Fin de semestre",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("themes --season P21:\ngot:\n%s\nwant:\n%s", got, want)
	}

	intro := c.ok("themes", "--season", "P2021", "--intro")
	if !strings.HasPrefix(intro, "Les thèmes suivants auront été abordés ce semestre :\n") || !strings.HasSuffix(intro, want) {
		t.Errorf("themes --intro:\n%s", intro)
	}
	latex := c.ok("themes", "--season", "P21", "--format", "latex")
	for _, line := range []string{`\begin{itemize}`, `\item Logiciels libres \& 100\% éthique`, `\end{itemize}`} {
		if !strings.Contains(latex, line) {
			t.Errorf("latex export lacks %q:\n%s", line, latex)
		}
	}
	csv := c.ok("themes", "--season", "P21", "--format", "csv")
	if n := strings.Count(csv, "\n"); n != 9 {
		t.Errorf("csv export: got %d lines, want a header and 8 episodes:\n%s", n, csv)
	}
	if !strings.Contains(csv, "https://radio.picasoft.net/lvel/vie-privee-partie-1") {
		t.Errorf("csv export lacks the episode URLs:\n%s", csv)
	}
}

func TestThemesEmptyAndBadSeason(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	code, out, errOut := c.run("themes", "--season", "A19")
	if code != 0 || out != "" || !strings.Contains(errOut, "A19") {
		t.Errorf("empty semester: got exit %d, stdout %q, stderr %q; want 0, nothing, a message", code, out, errOut)
	}
	for _, bad := range []string{"X20", "A2", "20A", "P-21"} {
		code, _, errOut := c.run("themes", "--season", bad)
		if code != 2 || !strings.Contains(errOut, "A20") {
			t.Errorf("--season %s: got exit %d %q, want 2 with valid examples", bad, code, errOut)
		}
	}
	if code, _, _ := c.run("themes"); code != 2 {
		t.Errorf("themes without --season: got exit %d, want 2", code)
	}
	if code, _, _ := c.run("themes", "--season", "A20", "--format", "pdf"); code != 2 {
		t.Errorf("--format pdf: got exit %d, want 2", code)
	}
	if code, _, errOut := c.run("themes", "--season", "A20", "--lang", "de"); code != 2 || !strings.Contains(errOut, "de") {
		t.Errorf("--lang de: got exit %d %q, want 2 naming the language", code, errOut)
	}
}

// TestThemesListens: downloads from a running antenne serve, stopped
// (which stores its last counts), then `antenne themes --listens` on the
// same data folder.
func TestThemesListens(t *testing.T) {
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	now := time.Now()
	sem := episodes.SemesterOf(now)
	aired := now.Add(-2 * time.Hour)
	if !sem.Contains(aired) {
		aired = now
	}
	for i, theme := range []string{"Vie privée", "Communs"} {
		rec := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 400 + 100*i})
		c.ok("publish", rec, "--title", theme+" : l'émission", "--theme", theme, "--aired", aired.In(episodes.Paris()).Format("2006-01-02T15:04"))
	}
	srv := startServe(t, map[string]string{"ANTENNE_DATA_DIR": c.vars["ANTENNE_DATA_DIR"], "ANTENNE_BASE_URL": c.vars["ANTENNE_BASE_URL"]})
	feedXML := body(t, srv.url+"/lvel/feed.xml")
	enclosure := regexp.MustCompile(`<enclosure url="https://radio\.picasoft\.net([^"]+)"`)
	mediaOf := map[string]string{} // theme -> media path
	for _, item := range strings.Split(feedXML, "<item>")[1:] {
		m := enclosure.FindStringSubmatch(item)
		for _, theme := range []string{"Vie privée", "Communs"} {
			if m != nil && strings.Contains(item, theme+" : l") {
				mediaOf[theme] = m[1]
			}
		}
	}
	if len(mediaOf) != 2 {
		t.Fatalf("got the media of %v, want both episodes:\n%s", mediaOf, feedXML)
	}
	get := func(path, ua string) {
		req, _ := http.NewRequest("GET", srv.url+path, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	get(mediaOf["Vie privée"], "AntennaPod/3.2.0")
	get(mediaOf["Vie privée"], "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)")
	get(mediaOf["Communs"], "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}

	got := c.ok("themes", "--season", sem.String(), "--listens")
	if !strings.Contains(got, "- Vie privée (2 écoutes)\n") || !strings.Contains(got, "- Communs (0 écoute)\n") || strings.Count(got, "\n") != 2 {
		t.Errorf("themes --listens:\ngot:\n%s\nwant Vie privée (2 écoutes) and Communs (0 écoute)", got)
	}
	if got := c.ok("themes", "--season", sem.String()); strings.Contains(got, "écoute") {
		t.Errorf("themes without --listens mentions listens:\n%s", got)
	}
	for format, want := range map[string]string{"csv": ",listens\n", "json": `"listens": 2`, "latex": `\item Vie privée (2 écoutes)`} {
		if out := c.ok("themes", "--season", sem.String(), "--listens", "--format", format); !strings.Contains(out, want) {
			t.Errorf("--format %s --listens: no %q in\n%s", format, want, out)
		}
	}
}
