package episodes_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

// gatedTranscoder is ffmpeg's Runner whose first Prepare waits, once
// started, until open is closed: a job caught in the middle of its work.
type gatedTranscoder struct {
	ffmpeg.Runner
	once      sync.Once
	closeOnce sync.Once
	started   chan struct{}
	open      chan struct{}
}

func newGated() *gatedTranscoder {
	return &gatedTranscoder{started: make(chan struct{}), open: make(chan struct{})}
}

// release opens the gate (once).
func (g *gatedTranscoder) release() { g.closeOnce.Do(func() { close(g.open) }) }

func (g *gatedTranscoder) Prepare(ctx context.Context, path, dir string, progress func(float64)) (*audio.Prepared, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.started)
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Runner.Prepare(ctx, path, dir, progress)
}

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestReplacementSupersedesARunningJob: a recording replaced while the
// first one is processed wins; the first job's result is dropped, and its
// original removed.
func TestReplacementSupersedesARunningJob(t *testing.T) {
	first := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 4, Frequency: 330})
	second := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 9, Frequency: 550})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		gate := newGated()
		t.Cleanup(gate.release)
		svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), Transcoder: gate})
		newShow(t, svc)
		e, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "a.wav", Body: open(t, first), PublishAt: time.Now(), Background: true})
		if err != nil {
			t.Fatal(err)
		}
		runJobs(t, svc, 1)
		<-gate.started
		replaced, err := svc.ReplaceRecording(t.Context(), "lvel", e.ID, "", episodes.Upload{Name: "b.wav", Body: open(t, second), Background: true})
		if err != nil {
			t.Fatalf("ReplaceRecording while processing: %v", err)
		}
		if replaced.Pending == nil || replaced.Pending.Job == e.Pending.Job {
			t.Fatalf("replacement: pending %+v, want a new job", replaced.Pending)
		}
		gate.release()
		done := waitStatus(t, svc, e.ID, episodes.Published)
		if want := sha256Of(t, second); done.Original == nil || done.Original.SHA256 != want {
			t.Errorf("published original: %+v, want the replacement's (%s)", done.Original, want[:12])
		}
		if d := done.Media.Duration; d < 8*time.Second {
			t.Errorf("published media lasts %v: the first recording's (4 s), not the replacement's (9 s)", d)
		}
		// The first job's media and original are gone once it ends.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var stray []string
			for _, k := range keysUnder(t, blobs, "shows/lvel/") {
				if (strings.Contains(k, "/media/") && k != done.Media.Key) || (strings.Contains(k, "/originals/") && k != done.Original.Key) {
					stray = append(stray, k)
				}
			}
			if len(stray) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("objects of the superseded recording left: %v", stray)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestReplaceAFailedUploadWithAnMP3: the natural remedy for a recording
// that could not be converted works, and publishes as asked at upload.
func TestReplaceAFailedUploadWithAnMP3(t *testing.T) {
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		broken := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), Transcoder: &ffmpeg.Runner{Path: "/nonexistent/ffmpeg"}})
		newShow(t, broken)
		wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 3})
		e, err := broken.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "a.wav", Body: open(t, wav), Background: true})
		if err != nil {
			t.Fatal(err)
		}
		runJobs(t, broken, 1)
		failed := waitStatus(t, broken, e.ID, episodes.Failed)
		got, err := broken.ReplaceRecording(t.Context(), "lvel", e.ID, failed.Revision, episodes.Upload{Name: "b.mp3", Body: open(t, mp3), Background: true})
		if err != nil {
			t.Fatalf("replace a failed upload with an MP3: %v", err)
		}
		if got.Pending != nil || got.Media.Type != "audio/mpeg" || got.Status(broken.Now()) != episodes.Draft {
			t.Errorf("after the replacement: pending %+v, media %+v, status %s; want a ready draft", got.Pending, got.Media, got.Status(broken.Now()))
		}
	})
}

// TestSweepKeepsARunningJob: the job document of a pending episode is
// referenced, however old.
func TestSweepKeepsARunningJob(t *testing.T) {
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 4})
	blobs := storagetest.Dir(t)
	gate := newGated()
	svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), Transcoder: gate, OrphanAge: time.Millisecond})
	newShow(t, svc)
	e, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "a.wav", Body: open(t, wav), PublishAt: time.Now(), Background: true})
	if err != nil {
		t.Fatal(err)
	}
	runJobs(t, svc, 1)
	<-gate.started
	time.Sleep(10 * time.Millisecond)
	removed, err := svc.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range removed {
		if strings.Contains(k, "/jobs/") || strings.Contains(k, "/originals/") {
			t.Errorf("the sweep removed %s of a running job", k)
		}
	}
	gate.release()
	waitStatus(t, svc, e.ID, episodes.Published)
}

// TestLateReplicaKeepsItsHandsOff: a replica whose storing of the MP3
// hangs past its lease (its renewals time out meanwhile) while another
// takes the job over and publishes it stores nothing when its write
// finally completes, and does not delete the media the other published,
// although its own output has the same key.
func TestLateReplicaKeepsItsHandsOff(t *testing.T) {
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 4})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		opts := episodes.Options{TempDir: t.TempDir(), StoreTimeout: time.Second, JobLease: 2 * time.Second, JobScanInterval: 200 * time.Millisecond}
		late := &lateMedia{Store: blobs, started: make(chan struct{}), release: make(chan struct{})}
		t.Cleanup(late.open)
		a := episodes.NewService(late, opts)
		b := episodes.NewService(blobs, opts)
		newShow(t, a)
		e, err := a.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "a.wav", Body: open(t, wav), PublishAt: time.Now(), Background: true})
		if err != nil {
			t.Fatal(err)
		}
		runJobs(t, a, 1)
		<-late.started
		if _, err := b.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		runJobs(t, b, 1)
		done := waitStatus(t, b, e.ID, episodes.Published)
		// b's job goes on with the Opus version: its last write.
		for deadline := time.Now().Add(30 * time.Second); done.Opus == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			b.Refresh(t.Context())
			done, _ = b.Episode("lvel", e.ID)
		}
		late.open() // a's write completes, long after its lease
		time.Sleep(3 * time.Second)
		if _, err := blobs.Stat(t.Context(), done.Media.Key); err != nil {
			t.Fatalf("the published media is gone after the late replica went on: %v", err)
		}
		if _, err := b.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		after, err := b.Episode("lvel", e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Revision != done.Revision {
			t.Errorf("the late replica wrote the episode after losing its lease")
		}
	})
}

// lateMedia is a store whose first Put of a media object hangs until
// released, whatever its context, then completes; from that Put on, the
// writes of job documents time out: a replica cut off from the store in
// the middle of its work.
type lateMedia struct {
	storagetest.Store
	once, openOnce sync.Once
	started        chan struct{}
	release        chan struct{}
	cut            atomic.Bool
}

func (l *lateMedia) open() { l.openOnce.Do(func() { close(l.release) }) }

func (l *lateMedia) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (bucket.ObjectInfo, error) {
	if strings.Contains(key, "/media/") {
		first := false
		l.once.Do(func() { first = true })
		if first {
			l.cut.Store(true)
			close(l.started)
			<-l.release
			ctx = context.WithoutCancel(ctx)
		}
	}
	return l.Store.Put(ctx, key, r, size, contentType)
}

func (l *lateMedia) PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (bucket.ObjectInfo, error) {
	if l.cut.Load() && strings.Contains(key, "/jobs/") {
		<-ctx.Done()
		return bucket.ObjectInfo{}, ctx.Err()
	}
	return l.Store.PutIf(ctx, key, r, size, contentType, ifMatch)
}
