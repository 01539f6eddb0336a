package importer_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed/importer"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestImportHosts imports feeds shaped like those of the hosts shows move
// away from; each differs in namespaces, CDATA, guid forms, date and
// duration formats, enclosure lengths and URLs.
func TestImportHosts(t *testing.T) {
	for _, tc := range []struct {
		name, fixture, feedPath string
		media                   map[string]string
		files                   map[string][]byte
		slug                    string
		guidFromURL             bool // no podcast:guid: the UUIDv5 of the old feed URL
		categories              []episodes.Category
		artwork                 bool
		warnings                []string          // substrings, one per expected warning
		notes                   map[string]string // item title -> substring of a note
		check                   func(t *testing.T, sh *episodes.Show, eps map[string]*episodes.Episode)
	}{
		{
			name: "Podlove", fixture: "podlove.xml", feedPath: "/feed/m4a/",
			media: map[string]string{
				"/podlove/file/1/s/feed/c/m4a/rl001.m4a": "m4a1",
				"/podlove/file/2/s/feed/c/m4a/rl002.m4a": "m4a2",
				"/podlove/file/3/s/feed/c/m4a/rl003.m4a": "m4a3",
			},
			files: map[string][]byte{"/wp-content/cache/podlove/cover.jpg": jpegImage(t, 800, 600)},
			slug:  "radio-libre", guidFromURL: true,
			categories: []episodes.Category{{Name: "Technology"}, {Name: "Leisure", Sub: "Hobbies"}},
			warnings:   []string{`subcategory "Tech News"`, `owner e-mail dropped: "contact at radiolibre"`, "artwork not imported"},
			check: func(t *testing.T, sh *episodes.Show, eps map[string]*episodes.Episode) {
				if sh.Type != episodes.Serial || sh.Language != "fr-FR" {
					t.Errorf("type, language: got %s %s, want serial fr-FR", sh.Type, sh.Language)
				}
				e := eps["RL001 Premier numéro"]
				if e.Media.Type != "audio/mp4" || e.Number != 1 || !strings.Contains(e.Notes, "<li>Intro</li>") {
					t.Errorf("RL001: got type %s number %d notes %q", e.Media.Type, e.Number, e.Notes)
				}
				if e := eps["RL003 Troisième numéro"]; e.Notes != "" {
					t.Errorf("RL003 notes: got %q, want none", e.Notes)
				}
			},
		},
		{
			name: "AzuraCast", fixture: "azuracast.xml", feedPath: "/api/station/1/public/podcast/7/feed",
			media: map[string]string{
				"/api/station/1/podcast/7/episode/11/download.mp3": "ep1",
				"/api/station/1/podcast/7/episode/12/download.ogg": "ogg2",
				"/api/station/1/podcast/7/episode/13/download.mp3": "ep3",
			},
			// No art: both the show's and the episode's answer 404.
			slug: "station-podcast", guidFromURL: true,
			categories: []episodes.Category{{Name: "Music"}},
			warnings:   []string{`category "Radio" dropped`, "artwork not imported"},
			notes: map[string]string{
				"Émission du 2 octobre": "artwork left out",
				"Émission du 9 octobre": "converted to MP3",
			},
			check: func(t *testing.T, sh *episodes.Show, eps map[string]*episodes.Episode) {
				e := eps["Émission du 9 octobre"]
				if e.Media.Type != "audio/mpeg" || e.Original == nil || e.Original.Type != "audio/ogg" {
					t.Errorf("the Ogg episode: got media %s original %+v, want MP3 with the Ogg kept", e.Media.Type, e.Original)
				}
				if e.GUID != "12" {
					t.Errorf("GUID: got %q, want 12", e.GUID)
				}
			},
		},
		{
			name: "Anchor", fixture: "anchor.xml", feedPath: "/s/123/podcast/rss",
			media: map[string]string{
				"/s/123/podcast/play/1/https://cdn.example.org/ep1.mp3": "ep1",
				"/s/123/podcast/play/2/https://cdn.example.org/ep2.mp3": "ep2",
				"/s/123/podcast/play/3/https://cdn.example.org/ep3.mp3": "ep3",
			},
			files: map[string][]byte{
				"/podcast_uploaded_nologo/123/cover.png": pngImage(t, 1500, 1500),
				"/podcast_uploaded_episode/123/ep1.png":  jpegImage(t, 400, 400),
			},
			slug: "causeries", guidFromURL: true, artwork: true,
			categories: []episodes.Category{{Name: "Education"}},
			notes: map[string]string{
				"Causerie 1 : le libre":    "declares 12345678 bytes",
				"Causerie 2 : les données": "declares 1h0m0s",
			},
			check: func(t *testing.T, sh *episodes.Show, eps map[string]*episodes.Episode) {
				if e := eps["Causerie 1 : le libre"]; e.Artwork == nil || e.Artwork.Type != "image/jpeg" {
					t.Errorf("episode artwork: got %+v", e.Artwork)
				}
				if e := eps["Causerie 3 : la vie privée"]; e.Type != episodes.Bonus {
					t.Errorf("type: got %s, want bonus", e.Type)
				}
			},
		},
		{
			name: "minimal", fixture: "minimal.xml", feedPath: "/podcast/feed.xml",
			media: map[string]string{
				"/podcast/files/un.mp3":    "ep1",
				"/podcast/files/deux.mp3":  "ep2",
				"/podcast/files/trois.mp3": "ep3",
			},
			slug: "mon-petit-podcast", guidFromURL: true,
			notes: map[string]string{"Un": "declares no length"},
			check: func(t *testing.T, sh *episodes.Show, eps map[string]*episodes.Episode) {
				if e := eps["Deux"]; e.GUID != "http://example.org/deux" {
					t.Errorf("GUID: got %q", e.GUID)
				}
				if e := eps["Un"]; !strings.HasSuffix(e.GUID, "/podcast/files/un.mp3") {
					t.Errorf("GUID of an item without guid: got %q, want its enclosure URL", e.GUID)
				}
				if e := eps["Trois & dernier"]; e.Notes != "Le <b>dernier</b>." {
					t.Errorf("notes: got %q", e.Notes)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, tc.fixture, tc.feedPath, tc.media, tc.files)
			blobs := storagetest.Dir(t)
			svc := newService(t, blobs)
			rep := run(t, t.Context(), svc, h.url(tc.feedPath), importer.Options{})
			for _, it := range rep.Items {
				if it.Outcome != importer.Imported {
					t.Errorf("item %q: got %s (%s), want imported", it.Title, it.Outcome, it.Reason)
				}
			}
			if rep.Show == nil || rep.Show.Slug != tc.slug {
				t.Fatalf("show: got %+v, want slug %s", rep.Show, tc.slug)
			}
			sh, _ := svc.Show(tc.slug)
			if tc.guidFromURL && sh.GUID != episodes.PodcastGUID(h.url(tc.feedPath)) {
				t.Errorf("show GUID: got %s, want the UUIDv5 of the old feed URL", sh.GUID)
			}
			if !slices.Equal(sh.Categories, tc.categories) {
				t.Errorf("categories: got %v, want %v", sh.Categories, tc.categories)
			}
			if (sh.Artwork != nil) != tc.artwork {
				t.Errorf("artwork: got %+v, want set %v", sh.Artwork, tc.artwork)
			}
			if len(rep.Warnings) != len(tc.warnings) {
				t.Errorf("warnings: got %q, want %d", rep.Warnings, len(tc.warnings))
			}
			for _, w := range tc.warnings {
				if !slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("warnings: got %q, want one about %s", rep.Warnings, w)
				}
			}
			eps := map[string]*episodes.Episode{}
			for _, it := range rep.Items {
				eps[it.Title] = it.Episode
				if want, ok := tc.notes[it.Title]; ok && !slices.ContainsFunc(it.Notes, func(s string) bool { return strings.Contains(s, want) }) {
					t.Errorf("item %q notes: got %q, want one with %q", it.Title, it.Notes, want)
				}
			}
			if t.Failed() {
				return
			}
			checkSameFeed(t, h, svc, blobs, tc.slug)
			if tc.check != nil {
				tc.check(t, sh, eps)
			}
		})
	}
}

// TestImportBrokenItems: broken items are reported and the others
// imported; a second run retries only the failed ones.
func TestImportBrokenItems(t *testing.T) {
	h := newHost(t, "broken.xml", "/feed.xml", map[string]string{
		"/ok.mp3":   "ep1",
		"/same.mp3": "ep1",
		"/late.mp3": "ep2",
	}, map[string][]byte{"/page.mp3": []byte("<!doctype html><title>Not found</title>")})
	blobs := storagetest.Dir(t)
	svc := newService(t, blobs)
	rep := run(t, t.Context(), svc, h.url("/feed.xml"), importer.Options{})
	want := map[string]struct {
		outcome importer.Outcome
		reason  string
	}{
		"Bon":         {importer.Imported, ""},
		"Même son":    {importer.Failed, "same audio"},
		"Disparu":     {importer.Failed, "404"},
		"Page web":    {importer.Failed, "not a supported audio recording"},
		"Date cassée": {importer.Failed, "invalid pubDate"},
		"Sans média":  {importer.Failed, "no enclosure"},
		"Doublon":     {importer.Failed, "same guid"},
		"Tard":        {importer.Imported, ""},
	}
	if len(rep.Items) != len(want) {
		t.Fatalf("items: got %d, want %d: %+v", len(rep.Items), len(want), rep.Items)
	}
	for _, it := range rep.Items {
		w := want[it.Title]
		if it.Outcome != w.outcome || !strings.Contains(it.Reason, w.reason) {
			t.Errorf("item %q: got %s (%s), want %s (%s)", it.Title, it.Outcome, it.Reason, w.outcome, w.reason)
		}
	}
	// The missing media comes back: only it is imported the second time.
	h.mu.Lock()
	h.media["/gone.mp3"] = recording(t, "ep3")
	h.mu.Unlock()
	rep = run(t, t.Context(), svc, h.url("/feed.xml"), importer.Options{})
	if got := rep.Count(importer.Imported); got != 1 {
		t.Errorf("second run: got %d imported, want 1 (%+v)", got, rep.Items)
	}
	if got := rep.Count(importer.Skipped); got != 2 { // Bon and Tard
		t.Errorf("second run: got %d skipped, want 2", got)
	}
}

func TestImportFile(t *testing.T) {
	h := newHost(t, "minimal.xml", "/podcast/feed.xml", map[string]string{
		"/podcast/files/un.mp3":    "ep1",
		"/podcast/files/deux.mp3":  "ep2",
		"/podcast/files/trois.mp3": "ep3",
	}, nil)
	file := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(file, h.feed, 0o600); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, storagetest.Dir(t))
	_, err := importer.Import(t.Context(), svc, file, importer.Options{TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "--feed-url") {
		t.Fatalf("a file naming no URL: got %v, want an error asking for --feed-url", err)
	}
	rep := run(t, t.Context(), svc, file, importer.Options{FeedURL: h.url("/podcast/feed.xml"), Show: "petit"})
	if got := rep.Count(importer.Imported); got != 3 {
		t.Fatalf("imported: got %d, want 3 (%+v)", got, rep.Items)
	}
	if rep.Show.Slug != "petit" || rep.Show.GUID != episodes.PodcastGUID(h.url("/podcast/feed.xml")) {
		t.Errorf("show: got %s %s", rep.Show.Slug, rep.Show.GUID)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	h := castopod(t)
	blobs := storagetest.Dir(t)
	svc := newService(t, blobs)
	rep := run(t, t.Context(), svc, h.url(h.feedPath), importer.Options{DryRun: true})
	if got := rep.Count(importer.WouldImport); got != 3 || rep.Show != nil {
		t.Errorf("dry run: got %d to import, show %+v, want 3 and none", got, rep.Show)
	}
	if got := listing(t, blobs); len(got) != 0 {
		t.Errorf("dry run wrote %v", got)
	}
	for p, n := range h.hits {
		if strings.HasPrefix(p, "GET ") && strings.HasSuffix(p, ".mp3") && n > 0 {
			t.Errorf("dry run downloaded %s", p)
		}
	}
}

func TestImportRefusesWhatIsNoFeed(t *testing.T) {
	h := newHost(t, "minimal.xml", "/podcast/feed.xml", nil, map[string][]byte{"/page": []byte("<html><body>hello</body></html>")})
	svc := newService(t, storagetest.Dir(t))
	for _, src := range []string{h.url("/page"), h.url("/missing.xml"), filepath.Join(t.TempDir(), "none.xml")} {
		rep, err := importer.Import(t.Context(), svc, src, importer.Options{})
		if err == nil || rep.Show != nil {
			t.Errorf("%s: got %v, show %+v, want an error and no show", src, err, rep.Show)
		}
	}
	if _, err := importer.Import(t.Context(), svc, h.url("/page"), importer.Options{}); !strings.Contains(err.Error(), "not an RSS feed") {
		t.Errorf("HTML page: got %v, want not an RSS feed", err)
	}
}

func TestImportStalledServer(t *testing.T) {
	h := newHost(t, "minimal.xml", "/podcast/feed.xml", map[string]string{
		"/podcast/files/un.mp3":    "ep1",
		"/podcast/files/trois.mp3": "ep3",
	}, nil)
	// deux.mp3 sends its headers and part of the body, then nothing.
	h.mu.Lock()
	h.stall = "/podcast/files/deux.mp3"
	h.mu.Unlock()
	svc := newService(t, storagetest.Dir(t))
	rep := run(t, t.Context(), svc, h.url(h.feedPath), importer.Options{IdleTimeout: 300 * time.Millisecond})
	for _, it := range rep.Items {
		want := importer.Imported
		if it.Title == "Deux" {
			want = importer.Failed
			if !strings.Contains(it.Reason, "stopped sending") {
				t.Errorf("Deux: got reason %q, want the stall", it.Reason)
			}
		}
		if it.Outcome != want {
			t.Errorf("%s: got %s (%s), want %s", it.Title, it.Outcome, it.Reason, want)
		}
	}
}
