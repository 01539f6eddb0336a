package episodes_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestDateOnlyTagAirsAtAirSlot: a recording tagged with a day but no time
// went on air at the show's air slot (09:30 for La Voix est Libre), not at
// midnight (a tag with a time keeps it: TestFieldsFromTags).
func TestDateOnlyTagAirsAtAirSlot(t *testing.T) {
	t.Parallel()
	svc := episodes.NewService(storagetest.Dir(t), episodes.Options{TempDir: t.TempDir()})
	newShow(t, svc)
	if _, err := svc.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error {
		sh.AirSlot = &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ date, want string }{
		{"2021-03-05", "2021-03-05 09:30"},
	} {
		b := episodestest.Bytes(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 300 + len(tc.date), Tags: map[string]string{"title": tc.date, "date": tc.date}})
		e, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "r.mp3", Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.AiredAt.In(episodes.Paris()).Format("2006-01-02 15:04"); got != tc.want {
			t.Errorf("tag date %s: aired %s, want %s (Paris)", tc.date, got, tc.want)
		}
	}
}
