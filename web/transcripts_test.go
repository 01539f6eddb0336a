package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestTranscriptsServedAsText serves transcripts: a WebVTT one keeps its
// type; an HTML one stored before antenne refused them is served as plain
// text; both with X-Content-Type-Options: nosniff.
func TestTranscriptsServedAsText(t *testing.T) {
	store := storagetest.Dir(t)
	s := newSite(t, store, siteOptions{})
	for _, tc := range []struct {
		key, stored, want string
		freq              int
	}{
		{"shows/lvel/transcripts/a.vtt", "text/vtt", "text/vtt", 440},
		{"shows/lvel/transcripts/b.html", "text/html; charset=utf-8", "text/plain; charset=utf-8", 550},
	} {
		data := "WEBVTT\n\n00:00.000 --> 00:01.000\n<script>alert(1)</script>\n"
		if _, err := store.Put(t.Context(), tc.key, strings.NewReader(data), int64(len(data)), tc.stored); err != nil {
			t.Fatal(err)
		}
		e := s.ingest("mp3", tc.freq, episodes.Upload{PublishAt: s.clock.Now().Add(-time.Hour)})
		if _, err := s.svc.UpdateEpisode(t.Context(), s.show, e.ID, "", func(e *episodes.Episode) error {
			e.Transcript = &episodes.Transcript{Key: tc.key, Type: tc.stored}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		resp, body := s.do("GET", "/lvel/transcripts/"+tc.key[len("shows/lvel/transcripts/"):])
		if resp.StatusCode != http.StatusOK || string(body) != data {
			t.Fatalf("%s: got %d %q", tc.key, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Type"); got != tc.want {
			t.Errorf("%s: Content-Type %q, want %q", tc.key, got, tc.want)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", tc.key, got)
		}
	}
}
