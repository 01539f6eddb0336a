package web

import (
	"fmt"
	"net/http"
	"path"
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

// TestHugeTranscriptPage: a 10 MiB WebVTT transcript (some 250,000 cues)
// gives an episode page of bounded size that shows the transcript's start
// and links to the file, which is served whole.
func TestHugeTranscriptPage(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	e := s.ingest("mp3", 440, episodes.Upload{Title: "Bavard", PublishAt: s.clock.Now().Add(-time.Hour)})
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	for i := 0; b.Len() < episodes.MaxTranscriptBytes-100; i++ {
		fmt.Fprintf(&b, "%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\nmot %d\n\n", i/3600%100, i/60%60, i%60, i/3600%100, i/60%60, i%60, i)
	}
	data := b.String()
	e, err := s.svc.SetTranscript(t.Context(), s.show, e.ID, "", episodes.TranscriptFile{Data: []byte(data), Type: episodes.TypeWebVTT})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		resp, page := s.do("GET", "/lvel/"+e.Slug)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("view %d: got %d", i, resp.StatusCode)
		}
		if len(page) > 1<<20 {
			t.Fatalf("view %d: the page is %d bytes, want at most 1 MiB", i, len(page))
		}
		transcript := "/lvel/transcripts/" + path.Base(e.Transcript.Key)
		if !strings.Contains(string(page), "> mot 0</p>") || !strings.Contains(string(page), `id="transcript-cut"><a href="`+transcript+`"`) {
			t.Fatalf("view %d: no start of the transcript or no link to the rest:\n%s", i, page[max(0, strings.Index(string(page), "transcript-cut")-200):][:600])
		}
	}
	resp, file := s.do("GET", "/lvel/transcripts/"+path.Base(e.Transcript.Key))
	if resp.StatusCode != http.StatusOK || string(file) != data {
		t.Errorf("the transcript file: got %d with %d bytes, want the %d bytes", resp.StatusCode, len(file), len(data))
	}
	// A transcript of a few cues is shown whole, without the note.
	small := s.ingest("mp3", 550, episodes.Upload{Title: "Court", PublishAt: s.clock.Now().Add(-time.Hour)})
	if small, err = s.svc.SetTranscript(t.Context(), s.show, small.ID, "", episodes.TranscriptFile{Data: []byte("WEBVTT\n\n00:01.000 --> 00:02.000\nBonjour\n"), Type: episodes.TypeWebVTT}); err != nil {
		t.Fatal(err)
	}
	if _, page := s.do("GET", "/lvel/"+small.Slug); !strings.Contains(string(page), "> Bonjour</p>") || strings.Contains(string(page), "transcript-cut") {
		t.Errorf("a short transcript:\n%.3000s", page)
	}
}
