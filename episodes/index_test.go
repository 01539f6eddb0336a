package episodes_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

// countingGets is a real store that counts its Get calls.
type countingGets struct {
	storagetest.Store
	gets atomic.Int64
}

func (c *countingGets) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, bucket.ObjectInfo, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key, offset, length)
}

func TestIndexSpeedsUpColdLoadAndNeverLies(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		a := episodes.NewService(blobs, episodes.Options{})
		newShow(t, a)
		var ids []string
		for i := range 80 {
			ids = append(ids, newEpisode(t, a, blobs, fmt.Sprintf("Épisode %d", i)).ID)
		}
		if err := a.WriteIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		// An edit after the index was written: the index is stale for it.
		if _, err := a.UpdateEpisode(ctx, "lvel", ids[3], "", func(e *episodes.Episode) error {
			e.Title = "Changé après l'index"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := a.DeleteEpisode(ctx, "lvel", ids[4], ""); err != nil {
			t.Fatal(err)
		}

		counting := &countingGets{Store: blobs}
		b := episodes.NewService(counting, episodes.Options{})
		if err := b.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := counting.gets.Load(); got > 5 {
			t.Errorf("cold load with an index: got %d reads, want the index, the show and the changed episode", got)
		}
		if got := b.EpisodeCount(); got != 79 {
			t.Errorf("episodes loaded: got %d, want 79", got)
		}
		e, err := b.Episode("lvel", ids[3])
		if err != nil || e.Title != "Changé après l'index" {
			t.Errorf("episode edited after the index: got %v, %v, want the edit", e, err)
		}
		if _, err := b.Episode("lvel", ids[4]); err == nil {
			t.Errorf("episode deleted after the index is still loaded")
		}

		// A broken index only slows the load down.
		if _, err := blobs.Put(ctx, "shows/lvel/index.json", strings.NewReader("{broken"), 7, "application/json"); err != nil {
			t.Fatal(err)
		}
		c := episodes.NewService(blobs, episodes.Options{})
		if err := c.Load(ctx); err != nil || c.EpisodeCount() != 79 {
			t.Errorf("load with a broken index: got %d episodes, %v; want 79", c.EpisodeCount(), err)
		}
		// Sweep and check leave the index alone.
		if r, err := c.Check(ctx, episodes.CheckOptions{SkipHashes: true}); err != nil || !r.OK() {
			t.Errorf("check with an index: got %+v, %v", r, err)
		}
	})
}
