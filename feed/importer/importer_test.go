package importer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/importer"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

// recordings are made once for all the tests: ffmpeg is slow.
var (
	recOnce sync.Once
	recs    map[string]string // name -> file
	recDir  string
)

// recording returns the file of a named test recording: ep1..ep3 in MP3
// (2, 3 and 4 s), m4a1..m4a3 in M4A, ogg2 in Ogg Vorbis, each of its own
// bytes.
func recording(t *testing.T, name string) string {
	t.Helper()
	episodestest.FFmpeg(t)
	recOnce.Do(func() {
		recs = map[string]string{}
		for i, name := range []string{"ep1", "ep2", "ep3", "m4a1", "m4a2", "m4a3", "ogg2"} {
			format := map[byte]string{'e': "mp3", 'm': "m4a", 'o': "ogg"}[name[0]]
			seconds := float64(2 + i%3)
			src := episodestest.Make(t, episodestest.Recording{Format: format, Seconds: seconds, Frequency: 300 + 50*i})
			// t.TempDir goes with the first test: keep a copy.
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if recDir == "" {
				recDir, _ = os.MkdirTemp("", "antenne-import-test-")
			}
			dst := filepath.Join(recDir, name+"."+format)
			if err := os.WriteFile(dst, data, 0o600); err != nil {
				t.Fatal(err)
			}
			recs[name] = dst
		}
	})
	p, ok := recs[name]
	if !ok {
		t.Fatalf("no recording %q", name)
	}
	return p
}

func TestMain(m *testing.M) {
	code := m.Run()
	if recDir != "" {
		os.RemoveAll(recDir)
	}
	os.Exit(code)
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// host serves a fixture feed and its files on 127.0.0.1, like the host a
// show moves away from.
type host struct {
	srv      *httptest.Server
	feedPath string
	feed     []byte
	files    map[string][]byte // path -> bytes
	media    map[string]string // path -> recording file
	block    map[string]func() // path -> called before answering
	hits     map[string]int
	stall    string            // a path whose body stops after a few bytes
	redirect map[string]string // path -> URL it redirects to
	mu       sync.Mutex
}

// newHost serves testdata/<fixture> at feedPath. media maps the paths of
// the media to recording names; the template gets {{.Base}} and the
// functions size, secs, hms and mmss of a recording name.
func newHost(t *testing.T, fixture, feedPath string, media map[string]string, files map[string][]byte) *host {
	t.Helper()
	h := &host{feedPath: feedPath, files: files, media: map[string]string{}, block: map[string]func(){}, hits: map[string]int{}}
	if h.files == nil {
		h.files = map[string][]byte{}
	}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	for p, name := range media {
		h.media[p] = recording(t, name)
	}
	dur := func(name string) time.Duration {
		p, err := audio.Probe(context.Background(), recording(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return p.Duration.Round(time.Second)
	}
	funcs := template.FuncMap{
		"size": func(name string) int64 {
			st, err := os.Stat(recording(t, name))
			if err != nil {
				t.Fatal(err)
			}
			return st.Size()
		},
		"secs": func(name string) int { return int(dur(name).Seconds()) },
		"hms": func(name string) string {
			d := dur(name)
			return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
		},
		"mmss": func(name string) string {
			d := dur(name)
			return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
		},
	}
	tpl, err := template.New(fixture).Funcs(funcs).ParseFiles(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, map[string]string{"Base": h.srv.URL}); err != nil {
		t.Fatal(err)
	}
	h.feed = buf.Bytes()
	return h
}

func (h *host) url(p string) string { return h.srv.URL + p }

func (h *host) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hits[r.Method+" "+r.URL.Path]++
	block := h.block[r.URL.Path]
	h.mu.Unlock()
	if r.URL.Path == h.stall {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	if to, ok := h.redirect[r.URL.Path]; ok {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	if block != nil {
		block()
		<-r.Context().Done()
		return
	}
	if r.URL.Path == h.feedPath {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(h.feed)
		return
	}
	if data, ok := h.files[r.URL.Path]; ok {
		w.Write(data)
		return
	}
	if p, ok := h.media[r.URL.Path]; ok {
		http.ServeFile(w, r, p)
		return
	}
	http.NotFound(w, r)
}

func newService(t *testing.T, blobs storagetest.Store) *episodes.Service {
	t.Helper()
	svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
	if err := svc.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func run(t *testing.T, ctx context.Context, svc *episodes.Service, source string, opts importer.Options) *importer.Report {
	t.Helper()
	opts.TempDir = t.TempDir()
	opts.UserAgent = "antenne/test"
	rep, err := importer.Import(ctx, svc, source, opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return rep
}

// listing is the store's keys with their ETags.
func listing(t *testing.T, blobs storagetest.Store) []string {
	t.Helper()
	var out []string
	for info, err := range blobs.List(t.Context(), "") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, info.Key+" "+info.ETag)
	}
	return out
}

func read(t *testing.T, blobs storagetest.Store, key string) []byte {
	t.Helper()
	rc, _, err := blobs.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sum(data []byte) [32]byte { return sha256.Sum256(data) }

// checkSameFeed checks that antenne's feed of the show has the items of
// the old feed: same GUIDs, titles and dates, and media of the same bytes
// as the old host served (the original when antenne converted it).
func checkSameFeed(t *testing.T, h *host, svc *episodes.Service, blobs storagetest.Store, show string) {
	t.Helper()
	old, err := feed.Parse(bytes.NewReader(h.feed), h.url(h.feedPath))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := svc.Show(show)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := svc.Episodes(show, episodes.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	links, err := feed.NewLinks("https://antenne.example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := feed.Build(sh, eps, feed.Options{Links: links, BuildTime: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	built, err := feed.Parse(bytes.NewReader(out), "")
	if err != nil {
		t.Fatalf("parse antenne's feed: %v", err)
	}
	if len(built.Items) != len(old.Items) {
		t.Fatalf("items: got %d, want %d", len(built.Items), len(old.Items))
	}
	byGUID := map[string]feed.ForeignItem{}
	for _, it := range built.Items {
		byGUID[it.GUID] = it
	}
	for _, want := range old.Items {
		got, ok := byGUID[want.GUID]
		if !ok {
			t.Errorf("item %q: missing from antenne's feed", want.GUID)
			continue
		}
		if got.Title != want.Title {
			t.Errorf("item %q title: got %q, want %q", want.GUID, got.Title, want.Title)
		}
		if !got.PubDate.Equal(want.PubDate) {
			t.Errorf("item %q pubDate: got %v, want %v", want.GUID, got.PubDate, want.PubDate)
		}
		var e *episodes.Episode
		for _, x := range eps {
			if x.GUID == want.GUID {
				e = x
			}
		}
		if got.Enclosure.Length != e.Media.Size {
			t.Errorf("item %q enclosure length: got %d, want %d", want.GUID, got.Enclosure.Length, e.Media.Size)
		}
		src, err := os.ReadFile(h.media[mustPath(t, want.Enclosure.URL)])
		if err != nil {
			t.Fatal(err)
		}
		stored := e.Media
		if e.Original != nil {
			stored = *e.Original
		}
		if sum(read(t, blobs, stored.Key)) != sum(src) {
			t.Errorf("item %q: the stored media (%s) is not the bytes of %s", want.GUID, stored.Key, want.Enclosure.URL)
		}
	}
}

func mustPath(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Path
}

// castopod is the Castopod-shaped host of the main tests.
func castopod(t *testing.T) *host {
	chapters := []byte(`{"version":"1.2.0","chapters":[{"startTime":0,"title":"Intro"},{"startTime":1.5,"title":"Le sujet","url":"https://example.org"}]}`)
	return newHost(t, "castopod.xml", "/@lvel/feed.xml", map[string]string{
		"/audio/@lvel/episodes/bande-annonce.mp3":  "ep1",
		"/audio/@lvel/episodes/les-communs.mp3":    "ep2",
		"/audio/@lvel/episodes/le-chiffrement.mp3": "ep3",
	}, map[string][]byte{
		"/media/podcasts/lvel/cover.png":                    pngImage(t, 1400, 1400),
		"/media/podcasts/lvel/ep3.png":                      pngImage(t, 600, 600),
		"/media/podcasts/lvel/le-chiffrement-chapters.json": chapters,
		"/media/podcasts/lvel/le-chiffrement.srt":           []byte("1\n00:00:00,000 --> 00:00:01,000\nBonjour\n"),
	})
}

func TestImportThenAgainChangesNothing(t *testing.T) {
	h := castopod(t)
	storagetest.Run(t, func(t *testing.T, store storagetest.Store) {
		svc := newService(t, store)
		rep := run(t, t.Context(), svc, h.url(h.feedPath), importer.Options{})
		if got := rep.Count(importer.Imported); got != 3 {
			t.Fatalf("imported: got %d, want 3 (%+v)", got, rep.Items)
		}
		if !rep.ShowCreated || rep.Show.Slug != "la-voix-est-libre" {
			t.Fatalf("show: got %+v created %v", rep.Show, rep.ShowCreated)
		}
		sh, _ := svc.Show("la-voix-est-libre")
		if sh.GUID != "d1b2a3c4-0000-5000-8000-00000000cafe" {
			t.Errorf("show GUID: got %s, want the feed's podcast:guid", sh.GUID)
		}
		if sh.Artwork == nil || sh.Artwork.Width != 1400 {
			t.Errorf("show artwork: got %+v, want the 1400 px cover", sh.Artwork)
		}
		if want := []episodes.Category{{Name: "Technology"}, {Name: "Society & Culture", Sub: "Documentary"}}; !slices.Equal(sh.Categories, want) {
			t.Errorf("categories: got %v, want %v", sh.Categories, want)
		}
		if want := "L'émission de Picasoft sur les libertés numériques."; sh.Description != want {
			t.Errorf("description: got %q, want %q", sh.Description, want)
		}
		if sh.Owner.Email != "radio@picasoft.net" || sh.Author != "Picasoft" || len(sh.Hosts) != 1 {
			t.Errorf("owner, author, hosts: got %+v, %q, %+v", sh.Owner, sh.Author, sh.Hosts)
		}
		checkSameFeed(t, h, svc, store, sh.Slug)

		var ep3 *episodes.Episode
		for _, it := range rep.Items {
			if it.Title == "Le chiffrement" {
				ep3 = it.Episode
			}
		}
		if ep3 == nil {
			t.Fatal("Le chiffrement not imported")
		}
		if len(ep3.Chapters) != 2 || ep3.Chapters[1].Start != 1500*time.Millisecond {
			t.Errorf("chapters: got %+v", ep3.Chapters)
		}
		if ep3.Transcript == nil || ep3.Transcript.Type != "application/x-subrip" || !strings.HasPrefix(ep3.Transcript.Key, "shows/la-voix-est-libre/transcripts/") {
			t.Errorf("transcript: got %+v", ep3.Transcript)
		}
		if ep3.Artwork == nil || ep3.Artwork.Width != 600 {
			t.Errorf("episode artwork: got %+v", ep3.Artwork)
		}
		if ep3.Season != 1 || ep3.Number != 3 || ep3.Type != episodes.Full || len(ep3.Persons) != 1 {
			t.Errorf("season, number, type, persons: got %d %d %s %+v", ep3.Season, ep3.Number, ep3.Type, ep3.Persons)
		}
		if !strings.Contains(ep3.Notes, "<a href=\"https://example.org\">chiffrement</a>") || strings.Contains(ep3.Notes, "\n\n") {
			t.Errorf("notes: got %q, want the HTML without blank lines", ep3.Notes)
		}
		if key, ok := svc.Redirect("/audio/@lvel/episodes/le-chiffrement.mp3"); !ok || key != ep3.Media.Key {
			t.Errorf("Redirect of the old media path: got %q, %v, want %s", key, ok, ep3.Media.Key)
		}

		version, objects := svc.Version(), listing(t, store)
		again := run(t, t.Context(), svc, h.url(h.feedPath), importer.Options{})
		if got := again.Count(importer.Skipped); got != 3 || again.ShowCreated {
			t.Errorf("again: got %d skipped, show created %v, want 3 and false", got, again.ShowCreated)
		}
		if svc.Version() != version {
			t.Errorf("catalog version: got %d, want %d unchanged", svc.Version(), version)
		}
		if got := listing(t, store); !slices.Equal(got, objects) {
			t.Errorf("objects changed:\ngot  %v\nwant %v", got, objects)
		}
		// A fresh process sees the same: nothing to import.
		fresh := newService(t, store)
		if got := run(t, t.Context(), fresh, h.url(h.feedPath), importer.Options{DryRun: true}).Count(importer.Skipped); got != 3 {
			t.Errorf("dry run in a new process: got %d skipped, want 3", got)
		}
	})
}

func TestImportInterruptedThenResumed(t *testing.T) {
	h := castopod(t)
	storagetest.Run(t, func(t *testing.T, store storagetest.Store) {
		svc := newService(t, store)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// The third media (by date) blocks until the import is cancelled.
		h.mu.Lock()
		h.block["/audio/@lvel/episodes/le-chiffrement.mp3"] = cancel
		h.mu.Unlock()
		rep, err := importer.Import(ctx, svc, h.url(h.feedPath), importer.Options{TempDir: t.TempDir()})
		if err == nil {
			t.Fatal("Import: got no error, want the interruption")
		}
		if got := rep.Count(importer.Imported); got != 2 {
			t.Fatalf("imported before the interruption: got %d, want 2", got)
		}
		h.mu.Lock()
		delete(h.block, "/audio/@lvel/episodes/le-chiffrement.mp3")
		h.mu.Unlock()

		// Restarted in a new process.
		svc = newService(t, store)
		rep = run(t, t.Context(), svc, h.url(h.feedPath), importer.Options{})
		if got, skipped := rep.Count(importer.Imported), rep.Count(importer.Skipped); got != 1 || skipped != 2 {
			t.Fatalf("resumed: got %d imported, %d skipped, want 1 and 2 (%+v)", got, skipped, rep.Items)
		}
		eps, _ := svc.Episodes("la-voix-est-libre", episodes.ListOptions{})
		var guids []string
		for _, e := range eps {
			guids = append(guids, e.GUID)
		}
		slices.Sort(guids)
		if len(guids) != 3 || len(slices.Compact(slices.Clone(guids))) != 3 {
			t.Errorf("episodes: got GUIDs %v, want three distinct", guids)
		}
		var media []string
		for info, err := range store.List(t.Context(), "shows/la-voix-est-libre/media/") {
			if err != nil {
				t.Fatal(err)
			}
			media = append(media, info.Key)
		}
		if len(media) != 3 {
			t.Errorf("media objects: got %v, want 3", media)
		}
		checkSameFeed(t, h, svc, store, "la-voix-est-libre")
	})
}

// cancelAtDoc is a store that cancels the import as the n-th episode
// document is about to be written, after the episode's media were stored:
// the worst moment to be interrupted.
type cancelAtDoc struct {
	storagetest.Store
	n      int
	cancel context.CancelFunc
	mu     sync.Mutex
	docs   int
}

func (c *cancelAtDoc) PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (bucket.ObjectInfo, error) {
	if strings.Contains(key, "/episodes/") {
		c.mu.Lock()
		c.docs++
		hit := c.docs == c.n
		c.mu.Unlock()
		if hit {
			c.cancel()
			return bucket.ObjectInfo{}, context.Canceled
		}
	}
	return c.Store.PutIf(ctx, key, r, size, contentType, ifMatch)
}

func TestImportInterruptedBeforeTheDocumentLeavesNoHalfEpisode(t *testing.T) {
	h := castopod(t)
	blobs := storagetest.Dir(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	svc := episodes.NewService(&cancelAtDoc{Store: blobs, n: 3, cancel: cancel}, episodes.Options{TempDir: t.TempDir()})
	if _, err := importer.Import(ctx, svc, h.url(h.feedPath), importer.Options{TempDir: t.TempDir()}); err == nil {
		t.Fatal("Import: got no error, want the interruption")
	}
	var keys []string
	for info, err := range blobs.List(t.Context(), "shows/la-voix-est-libre/") {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(info.Key, "/images/") { // show artwork, episode 3's picture may be shared
			keys = append(keys, info.Key)
		}
	}
	var media, docs int
	for _, k := range keys {
		switch {
		case strings.Contains(k, "/media/"):
			media++
		case strings.Contains(k, "/episodes/"):
			docs++
		case strings.Contains(k, "/transcripts/"):
			t.Errorf("transcript of the interrupted episode left: %s", k)
		}
	}
	if media != 2 || docs != 2 {
		t.Errorf("after the interruption: got %d media and %d documents, want 2 and 2: %v", media, docs, keys)
	}
	svc = newService(t, blobs)
	rep := run(t, t.Context(), svc, h.url(h.feedPath), importer.Options{})
	if got := rep.Count(importer.Imported); got != 1 {
		t.Errorf("resumed: got %d imported, want 1 (%+v)", got, rep.Items)
	}
	checkSameFeed(t, h, svc, blobs, "la-voix-est-libre")
}
