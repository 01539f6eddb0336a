package episodes_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// runJobs runs the jobs of svc until the test ends.
func runJobs(t *testing.T, svc *episodes.Service, workers int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		svc.RunJobs(ctx, workers, func(err error) { t.Logf("job: %v", err) })
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitStatus waits until the episode has the status want in svc's catalog
// (refreshed from the store) and returns it.
func waitStatus(t *testing.T, svc *episodes.Service, id string, want episodes.Status) *episodes.Episode {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := svc.Refresh(t.Context()); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		e, err := svc.Episode("lvel", id)
		if err != nil {
			t.Fatalf("Episode: %v", err)
		}
		if st := e.Status(svc.Now()); st == want {
			return e
		} else if time.Now().After(deadline) {
			t.Fatalf("episode %s: status %s after 90 s, want %s (pending %+v)", id, st, want, e.Pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIngestInBackground(t *testing.T) {
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 20, Tags: map[string]string{"title": "Le fédivers"}})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
		newShow(t, svc)
		ctx, cancel := context.WithCancel(t.Context())
		e, err := svc.Ingest(ctx, episodes.Upload{
			Show: "lvel", Name: "mumble.wav", Body: open(t, wav), PublishAt: time.Now(), Background: true,
		})
		cancel() // the client leaves: nothing depends on it any more
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		if st := e.Status(svc.Now()); st != episodes.Processing {
			t.Fatalf("status at receipt: got %s, want processing", st)
		}
		if e.Original == nil || !strings.Contains(e.Original.Key, "/originals/") || e.Media.Key != "" {
			t.Fatalf("at receipt: original %+v, media key %q; want the original stored and no media", e.Original, e.Media.Key)
		}
		if js := svc.JobStatus(e); js.State != episodes.JobQueued {
			t.Errorf("job state before any worker: got %s, want queued", js.State)
		}
		if eps, _ := svc.Episodes("lvel", episodes.ListOptions{Status: episodes.Published}); len(eps) != 0 {
			t.Errorf("published episodes while processing: got %d, want 0", len(eps))
		}
		runJobs(t, svc, 1)
		done := waitStatus(t, svc, e.ID, episodes.Published)
		if done.Media.Type != "audio/mpeg" || done.Media.Loudness == nil || done.Title != "Le fédivers" {
			t.Errorf("published episode: media %+v, title %q", done.Media, done.Title)
		}
		if !done.PublishAt.After(e.Created.Add(-time.Second)) {
			t.Errorf("publish_at %s is before the upload %s: a time passed during processing publishes at the end", done.PublishAt, e.Created)
		}
		if js := svc.JobStatus(done); js.State != episodes.JobDone {
			t.Errorf("job state: got %s, want done", js.State)
		}
		// The job document goes once the episode is written and its Opus
		// version made.
		for deadline := time.Now().Add(10 * time.Second); svc.JobStats().Running > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if keys := keysUnder(t, blobs, "shows/lvel/jobs/"); len(keys) != 0 {
			t.Errorf("job documents left: %v", keys)
		}
		if keys := keysUnder(t, blobs, "shows/lvel/media/"); len(keys) != 2 || strings.HasSuffix(keys[0], ".opus") == strings.HasSuffix(keys[1], ".opus") {
			t.Errorf("media objects: got %v, want the MP3 and its Opus version", keys)
		}
		if st := svc.JobStats(); st.Done != 1 || st.Failed != 0 {
			t.Errorf("job stats: got %+v, want 1 done", st)
		}
	})
}

// Two replicas on one store run six jobs: each job once.
func TestJobsTwoReplicas(t *testing.T) {
	var wavs []string
	for i := range 6 {
		wavs = append(wavs, episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 5, Frequency: 300 + 50*i}))
	}
	blobs := storagetest.S3(t)
	a := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), JobScanInterval: 100 * time.Millisecond})
	b := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), JobScanInterval: 100 * time.Millisecond})
	newShow(t, a)
	var ids []string
	for i, wav := range wavs {
		e, err := a.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: fmt.Sprintf("%d.wav", i), Body: open(t, wav), Background: true})
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		ids = append(ids, e.ID)
	}
	if err := b.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	runJobs(t, a, 2)
	runJobs(t, b, 2)
	for _, id := range ids {
		waitStatus(t, a, id, episodes.Draft)
	}
	// The jobs go on after publication with the Opus versions.
	sa, sb := a.JobStats(), b.JobStats()
	for deadline := time.Now().Add(time.Minute); sa.Done+sb.Done < 6 && time.Now().Before(deadline); sa, sb = a.JobStats(), b.JobStats() {
		time.Sleep(100 * time.Millisecond)
	}
	if sa.Done+sb.Done != 6 || sa.Failed+sb.Failed != 0 {
		t.Errorf("jobs done: %d by a, %d by b, failed %d; want 6 in all, none failed", sa.Done, sb.Done, sa.Failed+sb.Failed)
	}
	if keys := keysUnder(t, blobs, "shows/lvel/media/"); len(keys) != 12 {
		t.Errorf("media objects: got %d, want 12 (6 MP3, 6 Opus)", len(keys))
	}
}

// A job that fails leaves the episode failed with its original; a retry
// on a replica with ffmpeg publishes it.
func TestJobFailureAndRetry(t *testing.T) {
	flac := episodestest.Make(t, episodestest.Recording{Format: "flac", Seconds: 4})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		broken := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), Transcoder: ffmpeg.New("/nonexistent/ffmpeg", 1)})
		newShow(t, broken)
		e, err := broken.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "a.flac", Body: open(t, flac), Background: true})
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { broken.RunJobs(ctx, 1, nil) })
		failed := waitStatus(t, broken, e.ID, episodes.Failed)
		cancel()
		wg.Wait()
		if f := failed.Pending.Failure; f.Key != episodes.FailureFFmpegMissing {
			t.Errorf("failure: got %+v, want key %s", f, episodes.FailureFFmpegMissing)
		}
		if js := broken.JobStatus(failed); js.State != episodes.JobFailed {
			t.Errorf("job state: got %s, want failed", js.State)
		}
		if keys := keysUnder(t, blobs, "shows/lvel/originals/"); len(keys) != 1 {
			t.Errorf("originals after the failure: got %v, want the one kept", keys)
		}
		if _, err := broken.RetryJob(t.Context(), "lvel", "no-such-id"); err == nil {
			t.Errorf("RetryJob of a missing episode: got no error")
		}

		fixed := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
		if err := fixed.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := fixed.RetryJob(t.Context(), "lvel", e.ID); err != nil {
			t.Fatalf("RetryJob: %v", err)
		}
		runJobs(t, fixed, 1)
		done := waitStatus(t, fixed, e.ID, episodes.Draft)
		if done.Media.Type != "audio/mpeg" {
			t.Errorf("media after the retry: %+v", done.Media)
		}
		if _, err := fixed.RetryJob(t.Context(), "lvel", e.ID); err == nil {
			t.Errorf("RetryJob of a ready episode: got no error")
		}
		// Deleting removes the original too (once the job, which makes
		// the Opus version after the MP3, is over).
		for deadline := time.Now().Add(30 * time.Second); fixed.JobStats().Running > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if err := fixed.DeleteEpisode(t.Context(), "lvel", e.ID, ""); err != nil {
			t.Fatal(err)
		}
		if keys := heldKeysUnder(t, blobs, "shows/lvel/"); len(keys) != 1 {
			t.Errorf("keys after delete: got %v, want only show.json", keys)
		}
	})
}
