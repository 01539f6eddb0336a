package episodes_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestIngestRefusesLongRecordings: a recording longer than
// Options.MaxDuration is refused with a message naming the limit, and
// nothing is stored; one within it is ingested.
func TestIngestRefusesLongRecordings(t *testing.T) {
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3})
	blobs := storagetest.Dir(t)
	svc := episodes.NewService(blobs, episodes.Options{Now: episodestest.NewClock().Now, TempDir: t.TempDir(), MaxDuration: 2 * time.Second})
	newShow(t, svc)
	_, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Body: open(t, mp3)})
	var fe *episodes.FieldError
	if !errors.As(err, &fe) || fe.Field != "recording" || !strings.Contains(fe.Reason, "ANTENNE_MAX_DURATION") {
		t.Fatalf("got %v, want a FieldError on the recording naming ANTENNE_MAX_DURATION", err)
	}
	if keys := keysUnder(t, blobs, "shows/lvel/"); len(keys) != 1 {
		t.Errorf("objects left: got %v, want only show.json", keys)
	}
	svc = episodes.NewService(blobs, episodes.Options{Now: episodestest.NewClock().Now, TempDir: t.TempDir(), MaxDuration: 4 * time.Second})
	if err := svc.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Body: open(t, mp3)}); err != nil {
		t.Fatalf("within the limit: %v", err)
	}
}
