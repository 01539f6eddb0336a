package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes/episodestest"
)

func TestCLIImport(t *testing.T) {
	t.Parallel()
	media := map[string]string{}
	for i := 1; i <= 3; i++ {
		media[fmt.Sprintf("/ep%d.mp3", i)] = episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Frequency: 300 + 100*i})
	}
	var items strings.Builder
	for i := 1; i <= 4; i++ { // the fourth media is missing
		fmt.Fprintf(&items, `<item><title>Épisode %d</title><guid>ep-%d</guid><pubDate>Fri, 0%d Oct 2020 09:30:00 +0000</pubDate><enclosure url="ep%d.mp3" type="audio/mpeg"/></item>`, i, i, i, i)
	}
	feedXML := `<rss version="2.0"><channel><title>Vieux podcast</title><description>d</description>` + items.String() + `</channel></rss>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feed.xml" {
			w.Write([]byte(feedXML))
			return
		}
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "antenne/") {
			t.Errorf("User-Agent: got %q, want antenne/<version>", ua)
		}
		if p, ok := media[r.URL.Path]; ok {
			http.ServeFile(w, r, p)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	c := newCLI(t)
	if code, _, _ := c.run("import"); code != 2 {
		t.Errorf("import without a feed: got exit %d, want 2", code)
	}
	code, out, errOut := c.run("import", srv.URL+"/feed.xml", "--dry-run")
	if code != 1 || !strings.Contains(out, "dry run: 3 to import, 0 already imported, 1 would fail") {
		t.Errorf("dry run: got exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = c.run("import", srv.URL+"/feed.xml", "--show", "vieux")
	if code != 1 || !strings.Contains(out, "3 imported, 0 skipped (already imported), 1 failed") ||
		!strings.Contains(out, "[4/4] failed") || !strings.Contains(out, "404") ||
		!strings.Contains(out, "https://radio.picasoft.net/vieux/feed.xml") {
		t.Errorf("import: got exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = c.run("import", srv.URL+"/feed.xml", "--show", "vieux")
	if code != 1 || !strings.Contains(out, "0 imported, 3 skipped") {
		t.Errorf("again: got exit %d\n%s", code, out)
	}
	media["/ep4.mp3"] = episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Frequency: 900})
	if out := c.ok("import", srv.URL+"/feed.xml", "--show", "vieux"); !strings.Contains(out, "1 imported, 3 skipped") {
		t.Errorf("once the media is back: got\n%s", out)
	}
	if out := c.ok("episodes", "list", "--show", "vieux"); strings.Count(out, "Épisode") != 4 {
		t.Errorf("episodes list: got\n%s", out)
	}
}
