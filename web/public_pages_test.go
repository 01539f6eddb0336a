package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/storagetest"
)

// subscribeSchemes are the app URL schemes the show page may link to:
// they open an installed app, not another web site.
var subscribeSchemes = map[string]bool{
	"podcasts": true, "antennapod-subscribe": true, "overcast": true,
	"pktc": true, "castros": true, "podcast": true,
}

// checkPage parses an HTML page and checks what every public page must
// hold: a language, no element loading or linking anything from another
// host, no inline script or style (the CSP forbids them), an alt on every
// image, a label for every form field, unique ids.
func checkPage(t *testing.T, f *fixture, path string, body []byte, lang string) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: parse HTML: %v", path, err)
	}
	if !bytes.HasPrefix(body, []byte("<!DOCTYPE html>")) {
		t.Errorf("%s: no HTML5 doctype", path)
	}
	own, _ := url.Parse(f.srv.URL)
	ids := map[string]bool{}
	labels := map[string]bool{}
	var fields []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		a := attrs(n)
		if n.Data == "html" && a["lang"] != lang {
			t.Errorf("%s: got <html lang=%q>, want %q", path, a["lang"], lang)
		}
		if id := a["id"]; id != "" {
			if ids[id] {
				t.Errorf("%s: id %q used twice", path, id)
			}
			ids[id] = true
		}
		if _, ok := a["style"]; ok {
			t.Errorf("%s: <%s style=...>: inline styles are blocked by the CSP", path, n.Data)
		}
		for k := range a {
			if strings.HasPrefix(k, "on") {
				t.Errorf("%s: <%s %s>: inline handlers are blocked by the CSP", path, n.Data, k)
			}
		}
		switch n.Data {
		case "script":
			if a["src"] == "" {
				t.Errorf("%s: an inline <script>", path)
			}
		case "style":
			t.Errorf("%s: a <style> element", path)
		case "img":
			if _, ok := a["alt"]; !ok {
				t.Errorf("%s: <img src=%q> has no alt", path, a["src"])
			}
		case "label":
			labels[a["for"]] = true
		case "input", "textarea", "select":
			fields = append(fields, a["id"])
		}
		for _, k := range []string{"src", "href", "action", "poster", "srcset"} {
			v, ok := a[k]
			if !ok {
				continue
			}
			u, err := url.Parse(v)
			if err != nil {
				t.Errorf("%s: <%s %s=%q>: %v", path, n.Data, k, v, err)
				continue
			}
			switch {
			case u.Scheme == "" && u.Host == "":
				// relative: antenne's own
			case (u.Scheme == "http" || u.Scheme == "https") && u.Host == own.Host:
			case subscribeSchemes[u.Scheme] && n.Data == "a":
			default:
				t.Errorf("%s: <%s %s=%q> points to another host", path, n.Data, k, v)
			}
		}
	}
	for _, id := range fields {
		if !labels[id] {
			t.Errorf("%s: form field #%s has no <label for>", path, id)
		}
	}
	return doc
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

func TestPublicPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{})

	t.Run("home goes to the only show", func(t *testing.T) {
		resp, _ := f.do("GET", "/")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/lvel/" {
			t.Errorf("got %d to %q, want 302 to /lvel/", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("show without trailing slash", func(t *testing.T) {
		resp, _ := f.do("GET", "/lvel")
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/lvel/" {
			t.Errorf("got %d to %q, want 301 to /lvel/", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	pages := []struct {
		path   string
		status int
		has    []string
	}{
		{"/lvel/", 200, []string{
			"La Voix est Libre", "Vie privée &amp; &lt;script&gt;alert(1)&lt;/script&gt;", "Les communs", "Enregistrement Mumble",
			`href="` + f.links.Feed("lvel") + `"`, "antennapod-subscribe://", "pktc://subscribe/", "overcast://x-callback-url/add?url=",
			"vendredis à 9h30 sur Graf&#39;hit 94.9 FM", "S&#39;abonner",
			`<link rel="alternate" type="application/rss+xml" title="La Voix est Libre" href="` + f.links.Feed("lvel") + `">`,
		}},
		{"/lvel/" + f.mp3.Slug, 200, []string{
			`<audio id="player" controls preload="metadata" src="` + objectPath(f.mp3.Media.Key) + `"`,
			`href="` + objectPath(f.mp3.Media.Key) + `#t=1" data-seek="1"`, "Sujet",
			"<strong>logiciels libres</strong>", "Alice", "Bob &lt;b&gt;",
			"vendredi 5 février 2021", "&lt;script&gt;alert(1)&lt;/script&gt;",
		}},
		{"/lvel/" + f.wav.Slug, 200, []string{objectPath(f.wav.Original.Key)}},
		{"/lvel/" + f.mp3.Slug + "/embed", 200, []string{`<body class="embed">`, `id="player"`}},
		{"/lvel/" + f.draft.Slug, 404, []string{"Cette page n&#39;existe pas"}},
		{"/lvel/" + f.scheduled.Slug, 404, nil},
		{"/lvel/" + f.scheduled.Slug + "/embed", 404, nil},
		{"/lvel/" + f.draft.Slug + "/chapters.json", 404, nil},
		{"/lvel/nope", 404, nil},
		{"/nope/", 404, []string{"Retour à l&#39;accueil"}},
		{"/lvel/?page=2", 404, nil},
		{"/lvel/?page=zero", 400, nil},
	}
	for _, p := range pages {
		resp, body := f.do("GET", p.path)
		if resp.StatusCode != p.status {
			t.Errorf("GET %s: got %d, want %d", p.path, resp.StatusCode, p.status)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p.path, ct)
		}
		checkPage(t, f, p.path, body, "fr")
		for _, s := range p.has {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("GET %s: no %q in the page", p.path, s)
			}
		}
		if bytes.Contains(body, []byte("<script>alert")) || bytes.Contains(body, []byte("<b>")) {
			t.Errorf("GET %s: unescaped markup from a title or a name", p.path)
		}
		if resp, head := f.do("HEAD", p.path); resp.StatusCode != p.status || len(head) != 0 {
			t.Errorf("HEAD %s: got %d with %d bytes, want %d and no body", p.path, resp.StatusCode, len(head), p.status)
		}
	}

	t.Run("framing", func(t *testing.T) {
		resp, _ := f.do("GET", "/lvel/"+f.mp3.Slug)
		if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("episode page: got X-Frame-Options %q and CSP %q, want no framing", resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
		}
		resp, _ = f.do("GET", "/lvel/"+f.mp3.Slug+"/embed")
		if resp.Header.Get("X-Frame-Options") != "" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors *") {
			t.Errorf("embed: got X-Frame-Options %q and CSP %q, want framing allowed", resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
		}
		for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("embed: no %s", h)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q: want scripts from antenne only, nothing inline", csp)
		}
	})

	t.Run("language", func(t *testing.T) {
		tests := []struct {
			name    string
			path    string
			headers []string
			lang    string
			text    string
		}{
			{"default", "/lvel/", nil, "fr", "S&#39;abonner"},
			{"Accept-Language", "/lvel/", []string{"Accept-Language: en-GB,en;q=0.9,fr;q=0.5"}, "en", "Subscribe"},
			{"Accept-Language prefers French", "/lvel/", []string{"Accept-Language: fr-CA,en;q=0.8"}, "fr", "S&#39;abonner"},
			{"switch", "/lvel/?lang=en", nil, "en", "Subscribe"},
			{"cookie", "/lvel/", []string{"Cookie: lang=en"}, "en", "Subscribe"},
			{"switch beats the cookie", "/lvel/?lang=fr", []string{"Cookie: lang=en"}, "fr", "S&#39;abonner"},
			{"404 in English", "/nope/", []string{"Accept-Language: en"}, "en", "This page does not exist"},
		}
		for _, tt := range tests {
			resp, body := f.do("GET", tt.path, tt.headers...)
			checkPage(t, f, tt.path, body, tt.lang)
			if !bytes.Contains(body, []byte(tt.text)) {
				t.Errorf("%s: no %q in the page", tt.name, tt.text)
			}
			if got := resp.Header.Get("Content-Language"); got != tt.lang {
				t.Errorf("%s: Content-Language %q, want %q", tt.name, got, tt.lang)
			}
		}
		resp, body := f.do("GET", "/lvel/?lang=en")
		var set bool
		for _, ck := range resp.Cookies() {
			set = set || (ck.Name == "lang" && ck.Value == "en")
		}
		if !set {
			t.Error("?lang=en set no lang cookie")
		}
		if !bytes.Contains(body, []byte(`href="/lvel/?lang=fr"`)) {
			t.Error("the English page has no switch back to French")
		}
	})

	t.Run("chapters.json", func(t *testing.T) {
		resp, body := f.do("GET", "/lvel/"+f.mp3.Slug+"/chapters.json")
		sh, _ := f.svc.Show(f.show)
		want, _ := feed.ChaptersJSON(sh, f.mp3)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != feed.ChaptersType || !bytes.Equal(body, want) {
			t.Errorf("got %d %q %s, want 200 %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, feed.ChaptersType, want)
		}
	})

	t.Run("paging and home with two shows", func(t *testing.T) {
		addEpisodes(t, f.site, 25)
		_, body := f.do("GET", "/lvel/?page=2")
		checkPage(t, f, "/lvel/?page=2", body, "fr")
		if got := bytes.Count(body, []byte(`<li>
<h3>`)); got != 8 {
			t.Errorf("page 2: got %d episodes, want 8 (28 published, 20 a page)", got)
		}
		if !bytes.Contains(body, []byte(`href="/lvel/" rel="prev"`)) {
			t.Error("page 2 has no link to page 1")
		}
		if _, err := f.svc.CreateShow(context.Background(), episodes.Show{Slug: "autre", Title: "Autre émission"}, f.links.Feed("autre")); err != nil {
			t.Fatal(err)
		}
		resp, body := f.do("GET", "/")
		checkPage(t, f, "/", body, "fr")
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("Autre émission")) || !bytes.Contains(body, []byte(`href="/lvel/"`)) {
			t.Errorf("home with two shows: got %d, want a list of both", resp.StatusCode)
		}
	})
}

func TestStatic(t *testing.T) {
	t.Parallel()
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	for _, c := range []struct{ path, ctype string }{
		{"/static/style.css", "text/css; charset=utf-8"},
		{"/static/antenne.js", "text/javascript; charset=utf-8"},
		{"/static/icon.svg", "image/svg+xml"},
	} {
		resp, body := s.do("GET", c.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype || len(body) == 0 {
			t.Errorf("%s: got %d %q (%d bytes), want 200 %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), c.ctype)
		}
		// An SVG names its namespace with a URL; that loads nothing.
		body = bytes.ReplaceAll(body, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil)
		if bytes.Contains(body, []byte("http://")) || bytes.Contains(body, []byte("https://")) || bytes.Contains(body, []byte("@import")) {
			t.Errorf("%s refers to another host", c.path)
		}
	}
	if resp, _ := s.do("GET", "/static/nope.css"); resp.StatusCode != 404 {
		t.Errorf("missing static file: got %d, want 404", resp.StatusCode)
	}
}

// TestImportedRedirects: the old media URLs of an imported show answer a
// 301 to the media here, once published.
func TestImportedRedirects(t *testing.T) {
	t.Parallel()
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	ctx := context.Background()
	key := "shows/lvel/media/old.mp3"
	body := []byte("not really audio, but stored")
	if _, err := s.store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "audio/mpeg"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.CreateEpisode(ctx, &episodes.Episode{
		Show:      "lvel",
		Title:     "Les communs",
		PublishAt: s.clock.Now(),
		Media:     episodes.Media{Key: key, Type: "audio/mpeg", Size: int64(len(body)), SourceURL: "https://old.example.org/audio/@lvel/episodes/les-communs.mp3"},
	}); err != nil {
		t.Fatal(err)
	}
	resp, _ := s.do("GET", "/audio/@lvel/episodes/les-communs.mp3")
	if want := s.links.Base() + "/lvel/media/old.mp3"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Errorf("old media URL: got %d to %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if resp, _ := s.do("GET", "/audio/@lvel/episodes/other.mp3"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown old URL: got %d, want 404", resp.StatusCode)
	}
}
