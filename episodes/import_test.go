package episodes_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIngestImportFields(t *testing.T) {
	t.Parallel()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		svc := episodes.NewService(blobs, episodes.Options{Now: episodestest.NewClock().Now, TempDir: t.TempDir()})
		newShow(t, svc)
		aired := time.Date(2020, 10, 2, 9, 30, 0, 0, time.UTC)
		e, err := svc.Ingest(t.Context(), episodes.Upload{
			Show: "lvel", Name: "ep1.mp3", Body: open(t, mp3), Title: "Épisode 1",
			AiredAt: aired, PublishAt: aired,
			GUID:       "tag:old.example.org,2020:ep1",
			SourceURL:  "https://old.example.org/media/ep%201.mp3?dl=1",
			Artwork:    pngBytes(t, 300, 300),
			Chapters:   []episodes.Chapter{{Start: 0, Title: "Intro"}, {Start: time.Second, Title: "Sujet"}},
			Transcript: &episodes.TranscriptFile{Data: []byte("WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n"), Type: "text/vtt; charset=utf-8", Language: "fr"},
		})
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		if e.GUID != "tag:old.example.org,2020:ep1" {
			t.Errorf("GUID: got %q, want the item guid", e.GUID)
		}
		if e.Media.SourceURL != "https://old.example.org/media/ep%201.mp3?dl=1" {
			t.Errorf("SourceURL: got %q", e.Media.SourceURL)
		}
		if e.Artwork == nil || e.Artwork.Width != 300 {
			t.Errorf("Artwork: got %+v, want a 300 px PNG", e.Artwork)
		}
		if len(e.Chapters) != 2 || e.Chapters[1].Title != "Sujet" {
			t.Errorf("Chapters: got %+v", e.Chapters)
		}
		if e.Transcript == nil || e.Transcript.Type != "text/vtt" || e.Transcript.Language != "fr" {
			t.Fatalf("Transcript: got %+v", e.Transcript)
		}
		rc, _, err := blobs.Get(t.Context(), e.Transcript.Key, 0, -1)
		if err != nil {
			t.Fatalf("get transcript: %v", err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.HasPrefix(data, []byte("WEBVTT")) {
			t.Errorf("transcript bytes: got %q", data)
		}

		for _, tc := range []struct {
			path string
			ok   bool
		}{
			{"/media/ep 1.mp3", true},
			{"media/ep 1.mp3", true},
			{"/media/./ep 1.mp3", true},
			{"/media/ep1.mp3", false},
			{"/", false},
			{"", false},
		} {
			key, ok := svc.Redirect(tc.path)
			if ok != tc.ok || (ok && key != e.Media.Key) {
				t.Errorf("Redirect(%q): got %q, %v, want %v", tc.path, key, ok, tc.ok)
			}
		}
		// Another Service over the same store sees the same map.
		other := episodes.NewService(blobs, episodes.Options{})
		if err := other.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		if key, ok := other.Redirect("/media/ep 1.mp3"); !ok || key != e.Media.Key {
			t.Errorf("Redirect after Load: got %q, %v", key, ok)
		}
		// Deleting the episode removes its redirect and its transcript.
		if err := svc.DeleteEpisode(t.Context(), "lvel", e.ID, ""); err != nil {
			t.Fatal(err)
		}
		if key, ok := svc.Redirect("/media/ep 1.mp3"); ok {
			t.Errorf("Redirect after delete: got %q, want none", key)
		}
		if keys := keysUnder(t, blobs, "shows/lvel/transcripts/"); len(keys) != 0 {
			t.Errorf("transcripts after delete: got %v, want none", keys)
		}
	})
}

func TestIngestRefusesBadImportFields(t *testing.T) {
	t.Parallel()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2})
	blobs := storagetest.Dir(t)
	svc := episodes.NewService(blobs, episodes.Options{Now: episodestest.NewClock().Now, TempDir: t.TempDir()})
	newShow(t, svc)
	for name, up := range map[string]episodes.Upload{
		"artwork":    {Artwork: []byte("GIF89a not a png")},
		"transcript": {Transcript: &episodes.TranscriptFile{Data: []byte("x"), Type: "application/pdf"}},
		// HTML served from the site's origin would be a page of the site.
		"transcript ": {Transcript: &episodes.TranscriptFile{Data: []byte("<script>alert(1)</script>"), Type: "text/html; charset=utf-8"}},
	} {
		name = strings.TrimSpace(name)
		up.Show, up.Body = "lvel", open(t, mp3)
		_, err := svc.Ingest(t.Context(), up)
		var fe *episodes.FieldError
		if !errors.As(err, &fe) || fe.Field != name {
			t.Errorf("%s: got %v, want a FieldError on %s", name, err, name)
		}
	}
	if keys := keysUnder(t, blobs, "shows/lvel/"); len(keys) != 1 {
		t.Errorf("objects left: got %v, want only show.json", keys)
	}
}
