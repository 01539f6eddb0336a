package episodes_test

import (
	"errors"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestSetTranscript: a checked transcript is stored and referenced; a new
// one replaces it and the old object goes; a refused file or a stale
// revision leaves the episode and the store as they were.
func TestSetTranscript(t *testing.T) {
	blobs := storagetest.Dir(t)
	svc := episodes.NewService(blobs, episodes.Options{})
	newShow(t, svc)
	e := newEpisode(t, svc, blobs, "Les communs")
	transcripts := func() []string {
		var keys []string
		for info, err := range blobs.List(t.Context(), "shows/lvel/transcripts/") {
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, info.Key)
		}
		return keys
	}
	vtt := "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nBonjour.\n"
	got, err := svc.SetTranscript(t.Context(), "lvel", e.ID, e.Revision, episodes.TranscriptFile{Data: []byte(vtt), Type: "text/vtt"})
	if err != nil {
		t.Fatal(err)
	}
	if tr := got.Transcript; tr == nil || tr.Type != episodes.TypeWebVTT || tr.Language != "fr" || len(transcripts()) != 1 || transcripts()[0] != tr.Key {
		t.Fatalf("got transcript %+v, stored %v", got.Transcript, transcripts())
	}
	first := got.Transcript.Key
	if _, err := svc.SetTranscript(t.Context(), "lvel", e.ID, got.Revision, episodes.TranscriptFile{Data: []byte("1\n00:00:01,000 -> 00:00:02,000\nx\n"), Type: "application/x-subrip"}); !errors.Is(err, episodes.ErrInvalid) {
		t.Errorf("bad SRT: got %v, want ErrInvalid", err)
	}
	srt := "1\n00:00:01,000 --> 00:00:02,000\nBonjour.\n"
	if _, err := svc.SetTranscript(t.Context(), "lvel", e.ID, e.Revision, episodes.TranscriptFile{Data: []byte(srt), Type: "application/x-subrip"}); !errors.Is(err, episodes.ErrConflict) {
		t.Errorf("stale revision: got %v, want ErrConflict", err)
	}
	if keys := transcripts(); len(keys) != 1 || keys[0] != first {
		t.Errorf("after refusals: stored %v, want only %s", keys, first)
	}
	got, err = svc.SetTranscript(t.Context(), "lvel", e.ID, got.Revision, episodes.TranscriptFile{Data: []byte(srt), Type: "application/x-subrip", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if keys := transcripts(); got.Transcript.Type != episodes.TypeSRT || got.Transcript.Language != "en" || len(keys) != 1 || keys[0] != got.Transcript.Key {
		t.Errorf("replaced: got %+v, stored %v", got.Transcript, keys)
	}
}
