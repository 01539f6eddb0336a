package web

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestThemesExport checks the semester exports against feed.Themes with
// the options of `antenne themes` (French, episode page URLs), so that the
// web and the CLI give the same bytes.
func TestThemesExport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{})
	all, err := f.svc.Episodes(f.show, episodes.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p21, _ := episodes.ParseSemester("P21")
	for _, c := range []struct {
		file   string
		format feed.ThemesFormat
	}{
		{"themes.md", feed.ThemesMarkdown},
		{"themes.tex", feed.ThemesLaTeX},
		{"themes.csv", feed.ThemesCSV},
		{"themes.json", feed.ThemesJSON},
	} {
		want, err := feed.Themes(episodes.InSemester(all, p21, f.svc.Now()), feed.ThemesOptions{
			Format: c.format,
			Lang:   "fr",
			Links:  f.links,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"P21", "p2021"} {
			resp, body := f.do("GET", "/lvel/seasons/"+code+"/"+c.file)
			if resp.StatusCode != 200 || !bytes.Equal(body, want) {
				t.Errorf("%s of %s: got %d\n%s\nwant 200\n%s", c.file, code, resp.StatusCode, body, want)
			}
			if got := resp.Header.Get("Content-Type"); got != c.format.ContentType() {
				t.Errorf("%s: got Content-Type %q, want %q", c.file, got, c.format.ContentType())
			}
		}
	}
	_, md := f.do("GET", "/lvel/seasons/P21/themes.md")
	if got := strings.Count(string(md), "\n- "); got != 2 || bytes.Contains(md, []byte("Brouillon")) || bytes.Contains(md, []byte("Programmé")) {
		t.Errorf("P21 themes: got\n%s\nwant the three published episodes, no draft nor scheduled one", md)
	}

	errs := []struct {
		path   string
		status int
		body   string
	}{
		{"/lvel/seasons/X21/themes.md", http.StatusBadRequest, "Semestre inconnu"},
		{"/lvel/seasons/A19/themes.md", http.StatusOK, ""},
		{"/lvel/seasons/P21/themes.pdf", http.StatusNotFound, ""},
		{"/nope/seasons/P21/themes.md", http.StatusNotFound, ""},
	}
	for _, e := range errs {
		resp, body := f.do("GET", e.path)
		if resp.StatusCode != e.status || (e.body != "" && !bytes.Contains(body, []byte(e.body))) || (e.status == 200 && len(body) != 0) {
			t.Errorf("%s: got %d %q, want %d containing %q", e.path, resp.StatusCode, body, e.status, e.body)
		}
	}
}
