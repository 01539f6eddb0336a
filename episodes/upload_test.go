package episodes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

func open(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// keysUnder lists the keys of the store under prefix.
func keysUnder(t *testing.T, blobs storagetest.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range blobs.List(t.Context(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

// heldKeysUnder is keysUnder without the released slug claims, which are
// kept free rather than deleted (bucket.Release).
func heldKeysUnder(t *testing.T, blobs storagetest.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for _, key := range keysUnder(t, blobs, prefix) {
		if strings.Contains(key, "/slugs/") {
			if c, _, err := bucket.ReadClaim(t.Context(), blobs, key); err == nil && c.Owner() == "" {
				continue
			}
		}
		keys = append(keys, key)
	}
	return keys
}

func TestIngestMP3(t *testing.T) {
	t.Parallel()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 4, Tags: map[string]string{
		"title": "Les logiciels libres", "date": "2020-10-02", "comment": "Avec **Alice**", "track": "7",
	}})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clk := episodestest.NewClock()
		svc := episodes.NewService(blobs, episodes.Options{Now: clk.Now, TempDir: t.TempDir()})
		newShow(t, svc)
		var stages []string
		e, err := svc.Ingest(t.Context(), episodes.Upload{
			Show: "lvel", Name: "enregistrement.mp3", Body: open(t, mp3),
			Progress: func(stage string, done float64) {
				if len(stages) == 0 || stages[len(stages)-1] != stage {
					stages = append(stages, stage)
				}
			},
		})
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		st, _ := os.Stat(mp3)
		checks := []struct {
			name      string
			got, want any
		}{
			{"title", e.Title, "Les logiciels libres"},
			{"notes", e.Notes, "Avec **Alice**"},
			{"number", e.Number, 7},
			{"aired", e.AiredAt.In(episodes.Paris()).Format("2006-01-02 15:04"), "2020-10-02 00:00"},
			{"status", e.Status(clk.Now()), episodes.Draft},
			{"media type", e.Media.Type, "audio/mpeg"},
			{"media size", e.Media.Size, st.Size()},
			{"source name", e.Media.SourceName, "enregistrement.mp3"},
			{"original", e.Original == nil, true},
			{"slug", e.Slug, "les-logiciels-libres"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
			}
		}
		if d := e.Media.Duration - 4*time.Second; d < -100*time.Millisecond || d > 100*time.Millisecond {
			t.Errorf("duration: got %v, want about 4s", e.Media.Duration)
		}
		if !strings.HasPrefix(e.Media.Key, "shows/lvel/media/les-logiciels-libres-"+e.Media.SHA256[:12]) || !strings.HasSuffix(e.Media.Key, ".mp3") {
			t.Errorf("media key: got %s", e.Media.Key)
		}
		stored, _, err := blobs.Get(t.Context(), e.Media.Key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(stored)
		stored.Close()
		want, _ := os.ReadFile(mp3)
		if string(got) != string(want) {
			t.Errorf("stored media differs from the upload (%d bytes, want %d)", len(got), len(want))
		}
		if len(stages) == 0 || stages[len(stages)-1] != episodes.StageStore {
			t.Errorf("progress stages: got %v, want to end with store", stages)
		}

		// The same bytes again: the existing episode, not a copy.
		_, err = svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "encore.mp3", Body: open(t, mp3)})
		var dup *episodes.DuplicateError
		if !errors.As(err, &dup) || dup.EpisodeID != e.ID || !errors.Is(err, episodes.ErrDuplicate) {
			t.Errorf("second upload of the same file: got %v, want ErrDuplicate naming %s", err, e.ID)
		}
		if eps, _ := svc.Episodes("lvel", episodes.ListOptions{}); len(eps) != 1 {
			t.Errorf("episodes after a duplicate upload: got %d, want 1", len(eps))
		}
	})
}

func TestIngestRefusesNonAudioAndStoresNothing(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
		newShow(t, svc)
		for name, body := range map[string]string{
			"image.mp3": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00",
			"notes.mp3": "Bonjour, ceci est un fichier texte et pas un enregistrement.\n",
			"empty.mp3": "",
		} {
			_, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: name, Body: strings.NewReader(body)})
			var ua *audio.UnsupportedAudioError
			if !errors.As(err, &ua) || !errors.Is(err, audio.ErrUnsupportedAudio) {
				t.Errorf("%s: got %v, want ErrUnsupportedAudio", name, err)
			}
		}
		if keys := keysUnder(t, blobs, "shows/lvel/"); len(keys) != 1 {
			t.Errorf("objects after refused uploads: got %v, want only show.json", keys)
		}
		if _, err := svc.Ingest(t.Context(), episodes.Upload{Show: "nope", Body: strings.NewReader("x")}); !errors.Is(err, episodes.ErrNotFound) {
			t.Errorf("upload to a missing show: got %v, want ErrNotFound", err)
		}
	})
}

func TestIngestMumbleWAVIsTranscodedAndKept(t *testing.T) {
	t.Parallel()
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 5, Tags: map[string]string{"title": "Mixdown"}})
	blobs := storagetest.S3(t)
	svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
	newShow(t, svc)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	e, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "Mixdown.wav", Body: open(t, wav), Title: "Depuis Mumble", PublishAt: at})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if e.Title != "Depuis Mumble" || !e.PublishAt.Equal(at) || e.Status(time.Now()) != episodes.Scheduled {
		t.Errorf("fields: got title %q publish_at %v, want the host's title and a schedule at %v", e.Title, e.PublishAt, at)
	}
	if e.Media.Type != "audio/mpeg" || !strings.HasSuffix(e.Media.Key, ".mp3") {
		t.Errorf("media: got %s %s, want an MP3", e.Media.Type, e.Media.Key)
	}
	if e.Original == nil || e.Original.Type != "audio/wav" && e.Original.Type != "audio/x-wav" || !strings.HasPrefix(e.Original.Key, "shows/lvel/originals/") {
		t.Fatalf("original: got %+v, want the WAV kept under originals/", e.Original)
	}
	if e.Media.Loudness == nil || e.Original.Loudness == nil {
		t.Errorf("loudness: got after %v before %v, want both measured", e.Media.Loudness, e.Original.Loudness)
	}
	st, _ := os.Stat(wav)
	info, err := blobs.Stat(t.Context(), e.Original.Key)
	if err != nil || info.Size != st.Size() {
		t.Errorf("stored original: got %v, %v, want %d bytes", info.Size, err, st.Size())
	}
	// The same WAV again is a duplicate, though the stored media differ
	// from it.
	if _, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Body: open(t, wav)}); !errors.Is(err, episodes.ErrDuplicate) {
		t.Errorf("same WAV again: got %v, want ErrDuplicate", err)
	}
}

func TestReplaceRecording(t *testing.T) {
	t.Parallel()
	first := episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 440, Tags: map[string]string{"title": "Première"}})
	second := episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 880, Seconds: 5})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
		newShow(t, svc)
		e, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Body: open(t, first)})
		if err != nil {
			t.Fatal(err)
		}
		e, err = svc.UpdateEpisode(t.Context(), "lvel", e.ID, "", func(ep *episodes.Episode) error {
			ep.Theme = "Gardé"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.ReplaceRecording(t.Context(), "lvel", e.ID, e.Revision, episodes.Upload{Body: open(t, second)})
		if err != nil {
			t.Fatalf("ReplaceRecording: %v", err)
		}
		if r.Media.Key == e.Media.Key || r.GUID != e.GUID || r.Theme != "Gardé" || r.Title != "Première" {
			t.Errorf("replaced: got key %s guid %s theme %q title %q", r.Media.Key, r.GUID, r.Theme, r.Title)
		}
		if d := r.Media.Duration; d < 4900*time.Millisecond || d > 5100*time.Millisecond {
			t.Errorf("new duration: got %v, want about 5s", d)
		}
		if _, err := blobs.Stat(t.Context(), e.Media.Key); err == nil {
			t.Errorf("old media %s still stored", e.Media.Key)
		}
		if _, err := blobs.Stat(t.Context(), r.Media.Key); err != nil {
			t.Errorf("new media: %v", err)
		}
		// A stale revision is refused and stores nothing.
		if _, err := svc.ReplaceRecording(t.Context(), "lvel", e.ID, e.Revision, episodes.Upload{Body: open(t, first)}); !errors.Is(err, episodes.ErrConflict) {
			t.Errorf("replace with a stale revision: got %v, want ErrConflict", err)
		}
		if keys := keysUnder(t, blobs, "shows/lvel/media/"); len(keys) != 1 {
			t.Errorf("media objects: got %v, want only the new one", keys)
		}
	})
}

// failingDocs is a real store whose episode document writes fail, as when
// the store goes away between the objects and the document.
type failingDocs struct {
	storagetest.Store
}

func (f failingDocs) PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (bucket.ObjectInfo, error) {
	if strings.Contains(key, "/episodes/") {
		return bucket.ObjectInfo{}, errors.New("connection reset by peer")
	}
	return f.Store.PutIf(ctx, key, r, size, contentType, ifMatch)
}

func TestIngestFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3"})
	blobs := storagetest.Dir(t)
	svc := episodes.NewService(failingDocs{blobs}, episodes.Options{TempDir: t.TempDir()})
	newShow(t, svc)
	if _, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Body: open(t, mp3)}); err == nil {
		t.Fatal("Ingest with a failing document write: got no error")
	}
	if keys := heldKeysUnder(t, blobs, "shows/lvel/"); len(keys) != 1 {
		t.Errorf("objects after a failed ingest: got %v, want only show.json", keys)
	}
}

// TestOneEpisodePerRecordingAcrossReplicas uploads one recording six
// times at once through two processes sharing the store, under six
// titles: one episode is created, the other uploads are refused as
// duplicates naming it, and nothing of theirs is left in the store. Once
// the episode is deleted, the recording may be uploaded again; and a
// recording an episode had before its recording was replaced makes a new
// episode.
func TestOneEpisodePerRecordingAcrossReplicas(t *testing.T) {
	t.Parallel()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3, Frequency: 610})
	other := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3, Frequency: 910})
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		a := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
		newShow(t, a)
		b := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir()})
		if err := b.Load(ctx); err != nil {
			t.Fatal(err)
		}
		var (
			mu      sync.Mutex
			created []*episodes.Episode
			dups    []*episodes.DuplicateError
			wg      sync.WaitGroup
		)
		for i, svc := range []*episodes.Service{a, b, a, b, a, b} {
			wg.Go(func() {
				e, err := svc.Ingest(ctx, episodes.Upload{Show: "lvel", Title: fmt.Sprintf("Envoi %d", i), Body: open(t, mp3)})
				mu.Lock()
				defer mu.Unlock()
				var dup *episodes.DuplicateError
				switch {
				case err == nil:
					created = append(created, e)
				case errors.As(err, &dup):
					dups = append(dups, dup)
				default:
					t.Errorf("upload %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if len(created) != 1 || len(dups) != 5 {
			t.Fatalf("got %d episodes and %d duplicates, want 1 and 5", len(created), len(dups))
		}
		e := created[0]
		for _, d := range dups {
			if d.EpisodeID != e.ID || d.Title != e.Title {
				t.Errorf("duplicate of %s %q, want of %s %q", d.EpisodeID, d.Title, e.ID, e.Title)
			}
		}
		for _, svc := range []*episodes.Service{a, b} {
			if _, err := svc.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if eps, _ := svc.Episodes("lvel", episodes.ListOptions{}); len(eps) != 1 {
				t.Errorf("a replica lists %d episodes, want 1", len(eps))
			}
		}
		if keys := keysUnder(t, blobs, "shows/lvel/media/"); len(keys) != 1 || keys[0] != e.Media.Key {
			t.Errorf("media objects: got %v, want only %s", keys, e.Media.Key)
		}

		// Deleted on b, uploaded again on a.
		if err := b.DeleteEpisode(ctx, "lvel", e.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		again, err := a.Ingest(ctx, episodes.Upload{Show: "lvel", Body: open(t, mp3)})
		if err != nil {
			t.Fatalf("upload after the delete: %v", err)
		}
		// Its recording replaced, then the first one uploaded again.
		if _, err := a.ReplaceRecording(ctx, "lvel", again.ID, "", episodes.Upload{Body: open(t, other)}); err != nil {
			t.Fatal(err)
		}
		third, err := a.Ingest(ctx, episodes.Upload{Show: "lvel", Body: open(t, mp3)})
		if err != nil || third.ID == again.ID {
			t.Fatalf("the first recording after it was replaced: got %v, want a new episode", err)
		}
	})
}

// lyingWAV writes a WAV of seconds of tone whose block align says 1000
// bytes a frame instead of 3: its headers give a few hundredths of its
// duration, and ffmpeg decodes it whole.
func lyingWAV(t *testing.T, seconds float64) string {
	t.Helper()
	b, err := os.ReadFile(episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: seconds, Frequency: 523}))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "fmt ")
	if i < 0 {
		t.Fatal("no fmt chunk")
	}
	b[i+8+12], b[i+8+13] = 0xe8, 0x03 // block align 1000
	path := t.TempDir() + "/lying.wav"
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := audio.Probe(t.Context(), path); err != nil || p.Duration > time.Second {
		t.Fatalf("the lying WAV probes as %v, %v; want under a second", p, err)
	}
	return path
}

// TestMaxDurationDecoded: ANTENNE_MAX_DURATION holds for a recording
// whose headers lie about its duration: counted on the decoded audio,
// ffmpeg stops once it passes (the Runner's MaxDuration), and the MP3
// made is probed against it too (for a Transcoder without that bound).
func TestMaxDurationDecoded(t *testing.T) {
	t.Parallel()
	episodestest.NeedTool(t, "ffmpeg")
	wav := lyingWAV(t, 12)
	for _, tc := range []struct {
		name string
		tr   *ffmpeg.Runner
		key  string
	}{
		{"decoded", &ffmpeg.Runner{MaxDuration: 5 * time.Second}, "recording.long_decoded"},
		{"the MP3 probed", &ffmpeg.Runner{}, "recording.too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blobs := storagetest.Dir(t)
			svc := episodes.NewService(blobs, episodes.Options{TempDir: t.TempDir(), Transcoder: tc.tr, MaxDuration: 5 * time.Second})
			newShow(t, svc)
			_, err := svc.Ingest(t.Context(), episodes.Upload{Show: "lvel", Name: "lying.wav", Body: open(t, wav), Title: "Menteur"})
			var fe *episodes.FieldError
			if !errors.As(err, &fe) || fe.Key != tc.key {
				t.Fatalf("a 12 s WAV whose headers say 0.04 s under a 5 s limit: got %v, want the invalid %s", err, tc.key)
			}
			if eps, _ := svc.Episodes("lvel", episodes.ListOptions{}); len(eps) != 0 {
				t.Errorf("%d episodes made, want none", len(eps))
			}
		})
	}
}
