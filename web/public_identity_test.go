package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestShowIdentity: the show's pages carry its colour (a stylesheet of
// its own), its artwork everywhere (drawn by antenne when it has none),
// link previews (Open Graph, meta description) and a discreet link to
// the studio.
func TestShowIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{})
	ctx := context.Background()
	sh, err := f.svc.UpdateShow(ctx, f.show, "", func(sh *episodes.Show) error {
		sh.Accent = "#7a1f5c"
		sh.Description = "L'émission de Picasoft sur le numérique libre."
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	artwork, _ := f.links.Object(sh.Artwork.Key)
	audio, _ := f.links.Object(f.mp3.Media.Key)
	theme := themePath(sh)
	for _, p := range []struct {
		path string
		has  []string
	}{
		{"/lvel/", []string{
			`<link rel="stylesheet" href="` + theme + `">`,
			`<meta name="description" content="L&#39;émission de Picasoft sur le numérique libre.">`,
			`<meta property="og:title" content="La Voix est Libre">`,
			`<meta property="og:image" content="` + artwork + `">`,
			`<meta property="og:locale" content="fr_FR">`,
			`<img class="artwork" src="` + objectPath(sh.Artwork.Key) + `"`,
			`<a class="studio-link" href="/studio/">`,
		}},
		{"/lvel/" + f.mp3.Slug, []string{
			`<link rel="stylesheet" href="` + theme + `">`,
			`<meta name="description" content="Les logiciels libres et la vie privée.`,
			`<meta property="og:type" content="music.song">`,
			`<meta property="og:url" content="` + f.links.Episode("lvel", f.mp3.Slug) + `">`,
			`<meta property="og:audio" content="` + audio + `">`,
			`<meta property="og:image" content="` + artwork + `">`,
			`<img class="artwork" src="` + objectPath(sh.Artwork.Key) + `"`,
		}},
		{"/lvel/" + f.mp3.Slug + "/embed", []string{
			`<link rel="stylesheet" href="` + theme + `">`,
			`<img class="artwork" src="` + objectPath(sh.Artwork.Key) + `"`,
		}},
	} {
		resp, body := f.do("GET", p.path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p.path, resp.StatusCode)
			continue
		}
		for _, s := range p.has {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("GET %s: no %q in the page", p.path, s)
			}
		}
	}
	resp, css := f.do("GET", theme)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" || !bytes.Contains(css, []byte("--accent: #7a1f5c;")) {
		t.Errorf("theme: got %d %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), css)
	}

	// Without artwork: a drawn placeholder, in the show's colour, from
	// this server only; no og:image (previews take no SVG).
	sh, err = f.svc.UpdateShow(ctx, f.show, "", func(sh *episodes.Show) error { sh.Artwork = nil; return nil })
	if err != nil {
		t.Fatal(err)
	}
	_, page := f.do("GET", "/lvel/")
	drawn := placeholderPath(sh)
	if !bytes.Contains(page, []byte(`<img class="artwork" src="`+drawn+`"`)) || bytes.Contains(page, []byte("og:image")) {
		t.Errorf("show without artwork: want the drawn %s and no og:image:\n%s", drawn, page)
	}
	resp, svg := f.do("GET", drawn)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("placeholder: got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Errorf("placeholder is not XML: %v\n%s", err, svg)
	}
	if !bytes.Contains(svg, []byte(`fill="#7a1f5c"`)) || !bytes.Contains(svg, []byte(">LV</text>")) || bytes.Contains(svg, []byte("http://")) && !bytes.Contains(svg, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Errorf("placeholder: want the initials LV on #7a1f5c:\n%s", svg)
	}
	if strings.Count(string(svg), "http") != 1 {
		t.Errorf("placeholder refers to another address:\n%s", svg)
	}
}

// TestAccentContrast: an accent colour that text could not be read in is
// refused, with a colour that reads; the dark pages get a lighter one.
func TestAccentContrast(t *testing.T) {
	if err := episodes.CheckAccent("#ffcc00"); err == nil {
		t.Error("#ffcc00 (1.6:1 on the page) accepted")
	} else if fe, ok := err.(*episodes.FieldError); !ok || fe.Key != "accent.contrast" {
		t.Errorf("#ffcc00: got %v, want accent.contrast", err)
	} else if p := problemOf(err); !strings.Contains(p.Message(langFR), "il faut 4,5:1") {
		t.Errorf("message: %q", p.Message(langFR))
	}
	for _, ok := range []string{"#0b5cad", "#7a1f5c", episodes.ReadableOn("#ffcc00", episodes.LightBackground)} {
		if err := episodes.CheckAccent(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	if err := episodes.CheckAccent("bleu"); err == nil {
		t.Error("bleu accepted")
	}
	for _, c := range []string{"#0b5cad", "#7a1f5c", "#000000"} {
		dark := episodes.ReadableOn(c, episodes.DarkBackground)
		if r := episodes.Contrast(dark, episodes.DarkBackground); r < episodes.MinContrast {
			t.Errorf("%s on the dark pages: %s reaches %.2f:1", c, dark, r)
		}
	}
}

// TestOriginalsPrivateByDefault: the recording as uploaded is neither
// linked, served nor in the feed unless the show publishes originals.
func TestOriginalsPrivateByDefault(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{})
	orig := objectPath(f.wav.Original.Key)
	set := func(public bool) {
		t.Helper()
		if _, err := f.svc.UpdateShow(context.Background(), f.show, "", func(sh *episodes.Show) error { sh.OriginalsPublic = public; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if (&episodes.Show{}).OriginalsPublic {
		t.Fatal("a new show publishes its originals")
	}
	for _, public := range []bool{false, true} {
		set(public)
		_, page := f.do("GET", "/lvel/"+f.wav.Slug)
		resp, _ := f.do("GET", orig)
		_, rss := f.do("GET", "/lvel/feed.xml")
		linked, inFeed := bytes.Contains(page, []byte(orig)), bytes.Contains(rss, []byte("/originals/"))
		served := resp.StatusCode == http.StatusOK
		if linked != public || inFeed != public || served != public {
			t.Errorf("originals public %v: linked %v, served %v (%d), in the feed %v", public, linked, served, resp.StatusCode, inFeed)
		}
	}
}
