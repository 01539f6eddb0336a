package episodes_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestOpusAfterPublication: a Mumble WAV processed in the background is
// published with its MP3 first; its small Opus version (mono, 48 kbit/s,
// as loud as the MP3) comes after, stored and referenced like the other
// objects, and is dropped with the recording it was made from. A show
// that turned it off gets none.
func TestOpusAfterPublication(t *testing.T) {
	t.Parallel()
	blobs := storagetest.Dir(t)
	svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), JobScanInterval: 50 * time.Millisecond})
	newShow(t, svc)
	runJobs(t, svc, 1)
	upload := func(freq int) *episodes.Episode {
		t.Helper()
		b := episodestest.Bytes(t, episodestest.Recording{Format: "wav", Seconds: 20, Frequency: freq, Tags: map[string]string{"title": "Le fédivers"}})
		e, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "mumble.wav", Body: bytes.NewReader(b), PublishAt: time.Now(), Background: true})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := upload(440)
	waitStatus(t, svc, e.ID, episodes.Published)
	var done *episodes.Episode
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		svc.Refresh(t.Context())
		if done, _ = svc.Episode("lvel", e.ID); done.Opus != nil || time.Now().After(deadline) {
			break
		}
	}
	o := done.Opus
	if o == nil || o.Type != "audio/ogg; codecs=opus" || o.Bitrate != 48000 || o.Duration.Round(time.Second) != 20*time.Second {
		t.Fatalf("Opus version: got %+v, want 20 s of Ogg Opus at 48 kbit/s", o)
	}
	if o.Size*10 > done.Media.Size*6 {
		t.Errorf("Opus version: %d bytes, the 96 kbit/s MP3 %d: want about half", o.Size, done.Media.Size)
	}
	if r, err := svc.Check(t.Context(), episodes.CheckOptions{}); err != nil || !r.OK() {
		t.Errorf("check after the Opus: %+v, %v", r, err)
	}
	t.Logf("20 s: MP3 %d bytes, Opus %d bytes", done.Media.Size, o.Size)

	// Off for the show: the next recording gets none.
	if _, err := svc.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error { sh.OpusOff = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e2 := upload(660)
	waitStatus(t, svc, e2.ID, episodes.Published)
	time.Sleep(time.Second)
	svc.Refresh(t.Context())
	if got, _ := svc.Episode("lvel", e2.ID); got.Opus != nil {
		t.Errorf("show with Opus off: got %+v", got.Opus)
	}
}
