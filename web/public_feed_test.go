package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// rssDoc is what the tests read of a feed.
type rssDoc struct {
	Channel struct {
		Title         string    `xml:"title"`
		LastBuildDate string    `xml:"lastBuildDate"`
		Generator     string    `xml:"generator"`
		Items         []rssItem `xml:"item"`
	} `xml:"channel"`
}

type rssItem struct {
	Title     string `xml:"title"`
	GUID      string `xml:"guid"`
	Enclosure struct {
		URL    string `xml:"url,attr"`
		Length int64  `xml:"length,attr"`
		Type   string `xml:"type,attr"`
	} `xml:"enclosure"`
	Seasons []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"https://podcastindex.org/namespace/1.0 season"`
}

func parseRSS(t testing.TB, b []byte) rssDoc {
	t.Helper()
	var d rssDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("parse feed: %v\n%s", err, b)
	}
	return d
}

func TestFeedRoute(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{})

	resp, plain := f.do("GET", "/lvel/feed.xml")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET feed: got %d, want 200: %s", resp.StatusCode, plain)
	}
	checks := []struct{ header, want string }{
		{"Content-Type", "application/rss+xml; charset=utf-8"},
		{"Vary", "Accept-Encoding"},
		{"Content-Encoding", ""},
		{"Access-Control-Allow-Origin", "*"},
	}
	for _, c := range checks {
		if got := resp.Header.Get(c.header); got != c.want {
			t.Errorf("%s: got %q, want %q", c.header, got, c.want)
		}
	}
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag: got %q, want a strong ETag", etag)
	}
	doc := parseRSS(t, plain)
	if got, want := len(doc.Channel.Items), 3; got != want {
		t.Fatalf("got %d items, want %d (drafts and scheduled left out)", got, want)
	}
	if got, want := doc.Channel.Generator, "antenne test"; got != want {
		t.Errorf("generator: got %q, want %q", got, want)
	}
	// The build time is the latest change of the catalog, not the clock.
	wantMod := f.wav.Updated.UTC().Format(http.TimeFormat)
	if lastMod != wantMod {
		t.Errorf("Last-Modified: got %q, want %q (the newest published episode's change)", lastMod, wantMod)
	}

	t.Run("HEAD", func(t *testing.T) {
		resp, body := f.do("HEAD", "/lvel/feed.xml")
		if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("HEAD: got %d, %d bytes, ETag %q; want 200, no body, %q", resp.StatusCode, len(body), resp.Header.Get("ETag"), etag)
		}
		if got := resp.Header.Get("Content-Length"); got != itoa(len(plain)) {
			t.Errorf("HEAD Content-Length: got %s, want %d", got, len(plain))
		}
	})

	t.Run("304", func(t *testing.T) {
		for _, h := range []string{"If-None-Match: " + etag, "If-Modified-Since: " + lastMod} {
			resp, body := f.do("GET", "/lvel/feed.xml", h)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("%s: got %d with %d bytes, want 304 and no body", h, resp.StatusCode, len(body))
			}
		}
		resp, _ := f.do("GET", "/lvel/feed.xml", `If-None-Match: "other"`, "If-Modified-Since: "+lastMod)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a stale ETag with a current date: got %d, want 200 (If-None-Match wins)", resp.StatusCode)
		}
	})

	t.Run("gzip", func(t *testing.T) {
		resp, body := f.do("GET", "/lvel/feed.xml", "Accept-Encoding: br;q=1, gzip;q=0.8")
		if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
			t.Fatalf("Content-Encoding: got %q, want gzip", got)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(unzipped, plain) {
			t.Errorf("gzipped feed: got %d bytes once unzipped, want the %d plain bytes", len(unzipped), len(plain))
		}
		gzTag := resp.Header.Get("ETag")
		if gzTag == etag || gzTag == "" {
			t.Errorf("gzip ETag: got %q, want one of its own (plain is %q)", gzTag, etag)
		}
		resp, _ = f.do("GET", "/lvel/feed.xml", "Accept-Encoding: gzip", "If-None-Match: "+gzTag)
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("gzip revalidation: got %d, want 304", resp.StatusCode)
		}
		resp, _ = f.do("GET", "/lvel/feed.xml", "Accept-Encoding: gzip;q=0")
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("gzip;q=0: got Content-Encoding %q, want none", resp.Header.Get("Content-Encoding"))
		}
	})

	t.Run("publish changes the ETag", func(t *testing.T) {
		f.clock.Add(time.Minute)
		if _, err := f.svc.Publish(context.Background(), f.show, f.draft.ID, ""); err != nil {
			t.Fatal(err)
		}
		resp, body := f.do("GET", "/lvel/feed.xml", "If-None-Match: "+etag)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("after a publish: got %d, want 200", resp.StatusCode)
		}
		if resp.Header.Get("ETag") == etag {
			t.Errorf("after a publish: ETag still %q", etag)
		}
		if got, want := len(parseRSS(t, body).Channel.Items), 4; got != want {
			t.Errorf("after a publish: got %d items, want %d", got, want)
		}
		etag = resp.Header.Get("ETag")
	})

	t.Run("scheduled episode appears when due", func(t *testing.T) {
		f.clock.Add(2 * time.Hour)
		resp, body := f.do("GET", "/lvel/feed.xml", "If-None-Match: "+etag)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("once due: got %d, want 200", resp.StatusCode)
		}
		items := parseRSS(t, body).Channel.Items
		if len(items) != 5 || items[0].Title != f.scheduled.Title {
			t.Errorf("once due: got %d items, first %q; want 5, first %q", len(items), items[0].Title, f.scheduled.Title)
		}
	})

	t.Run("unknown show", func(t *testing.T) {
		resp, _ := f.do("GET", "/nope/feed.xml")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("got %d, want 404", resp.StatusCode)
		}
	})
}

// TestFeedSemesters numbers seasons by semester when the show asks for it.
func TestFeedSemesters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{})
	ctx := context.Background()
	// An episode aired in autumn 2020 makes A20 season 1, P21 season 2.
	if _, err := f.svc.UpdateEpisode(ctx, f.show, f.m4a.ID, "", func(e *episodes.Episode) error {
		e.AiredAt = time.Date(2020, 10, 2, 9, 30, 0, 0, time.UTC)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateShow(ctx, f.show, "", func(sh *episodes.Show) error {
		sh.SeasonsAreSemesters = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, body := f.do("GET", "/lvel/feed.xml")
	want := map[string][2]string{
		f.m4a.GUID: {"1", "A20"},
		f.mp3.GUID: {"2", "P21"},
		f.wav.GUID: {"2", "P21"},
	}
	for _, it := range parseRSS(t, body).Channel.Items {
		w := want[it.GUID]
		if len(it.Seasons) != 1 || it.Seasons[0].Value != w[0] || it.Seasons[0].Name != w[1] {
			t.Errorf("item %q: got podcast:season %+v, want %s named %s", it.Title, it.Seasons, w[0], w[1])
		}
	}
}

// TestEnclosures downloads every enclosure of the feed and compares it
// with the stored object.
func TestEnclosures(t *testing.T) {
	t.Parallel()
	forStores(t, siteOptions{}, func(t *testing.T, f *fixture) {
		_, body := f.do("GET", "/lvel/feed.xml")
		items := parseRSS(t, body).Channel.Items
		byGUID := map[string]string{f.mp3.GUID: f.mp3.Media.Key, f.m4a.GUID: f.m4a.Media.Key, f.wav.GUID: f.wav.Media.Key}
		for _, it := range items {
			resp, got := f.do("GET", it.Enclosure.URL)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: got %d, want 200", it.Enclosure.URL, resp.StatusCode)
			}
			want := f.object(byGUID[it.GUID])
			if int64(len(got)) != it.Enclosure.Length || !bytes.Equal(got, want) {
				t.Errorf("%s: got %d bytes (feed says %d), want the %d stored bytes", it.Enclosure.URL, len(got), it.Enclosure.Length, len(want))
			}
			if ct := resp.Header.Get("Content-Type"); ct != it.Enclosure.Type {
				t.Errorf("%s: got Content-Type %q, want %q", it.Enclosure.URL, ct, it.Enclosure.Type)
			}
		}
	})
}

// BenchmarkFeedHandler serves the feed of a 1,000-episode show from the
// warm cache, plain and gzipped, through the whole gin handler.
func BenchmarkFeedHandler(b *testing.B) {
	s := newSite(b, storagetest.Dir(b), siteOptions{})
	addEpisodes(b, s, 1000)
	h := s.web.Handler()
	probe := httptest.NewRecorder()
	h.ServeHTTP(probe, httptest.NewRequest("GET", "/lvel/feed.xml", nil))
	etag := probe.Header().Get("ETag")
	for _, c := range []struct{ name, enc, inm string }{
		{"200", "", ""},
		{"200 gzip", "gzip", ""},
		{"304", "", etag},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", "/lvel/feed.xml", nil)
			req.Header.Set("Accept-Encoding", c.enc)
			if c.inm != "" {
				req.Header.Set("If-None-Match", c.inm)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != 200 && w.code != 304 {
					b.Fatalf("got %d", w.code)
				}
			}
		})
	}
}

// addEpisodes publishes n episodes with small media objects and a few
// lines of notes, straight through the catalog (no ingest).
func addEpisodes(tb testing.TB, s *site, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		key := fmt.Sprintf("shows/%s/media/episode-%04d.mp3", s.show, i)
		body := bytes.Repeat([]byte{byte(i)}, 1024)
		if _, err := s.store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "audio/mpeg"); err != nil {
			tb.Fatal(err)
		}
		_, err := s.svc.CreateEpisode(ctx, &episodes.Episode{
			Show:      s.show,
			Title:     fmt.Sprintf("Épisode %d : les communs & le libre", i),
			Notes:     fmt.Sprintf("Dans cet épisode **%d**, on parle de [Picasoft](https://picasoft.net) et des *communs*.\n\n- un\n- deux\n", i),
			AiredAt:   s.clock.Now().Add(-time.Duration(n-i) * 24 * time.Hour),
			PublishAt: s.clock.Now().Add(-time.Duration(n-i) * time.Hour),
			Media:     episodes.Media{Key: key, Type: "audio/mpeg", Size: int64(len(body)), Duration: 45 * time.Minute},
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(code int) { w.code = code }

func itoa(n int) string { return strconv.Itoa(n) }
