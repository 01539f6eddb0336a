package episodes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

func TestCheckFindsEveryKindOfProblem(t *testing.T) {
	t.Parallel()
	recs := []string{
		episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 400}),
		episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 500}),
		episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 600}),
		episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 700}),
	}
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		clk := episodestest.NewClock(time.Now())
		svc := episodes.NewService(blobs, episodes.Options{Now: clk.Now, TempDir: t.TempDir()})
		newShow(t, svc)
		var eps []*episodes.Episode
		for _, r := range recs {
			e, err := svc.Ingest(ctx, episodes.Upload{Show: "lvel", Body: open(t, r)})
			if err != nil {
				t.Fatal(err)
			}
			eps = append(eps, e)
		}
		r, err := svc.Check(ctx, episodes.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Episodes != 4 || r.Objects != 4 {
			t.Fatalf("check of a sound bucket: got %+v, want ok with 4 episodes and 4 objects", r)
		}

		// Break it in every way.
		missing, resized, altered := eps[0].Media, eps[1].Media, eps[2].Media
		if err := blobs.Delete(ctx, missing.Key); err != nil {
			t.Fatal(err)
		}
		put := func(key, body string) {
			if _, err := blobs.Put(ctx, key, strings.NewReader(body), int64(len(body)), "audio/mpeg"); err != nil {
				t.Fatal(err)
			}
		}
		put(resized.Key, "short")
		put(altered.Key, strings.Repeat("x", int(altered.Size)))
		put("shows/lvel/media/orphan.mp3", "left by an interrupted upload")
		put("shows/lvel/episodes/broken.json", "{")

		r, err = svc.Check(ctx, episodes.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, p := range r.Problems {
			kinds[p.Key] = p.Kind
			if p.Key == "" && strings.Contains(p.Detail, "broken.json") {
				kinds["broken.json"] = p.Kind
			}
		}
		for key, want := range map[string]string{missing.Key: "missing", resized.Key: "size", altered.Key: "hash", "broken.json": "unreadable"} {
			if kinds[key] != want {
				t.Errorf("problem of %s: got %q, want %q (all: %+v)", key, kinds[key], want, r.Problems)
			}
		}
		if len(r.RecentOrphans) != 1 || r.RecentOrphans[0].Key != "shows/lvel/media/orphan.mp3" || len(r.Orphans) != 0 {
			t.Errorf("orphans: got old %v recent %v, want the orphan as recent", r.Orphans, r.RecentOrphans)
		}
		if r, _ := svc.Check(ctx, episodes.CheckOptions{SkipHashes: true}); len(r.Problems) != 3 {
			t.Errorf("check without hashes: got %d problems, want 3 (the altered bytes go unseen)", len(r.Problems))
		}
		clk.Add(2 * time.Hour)
		r, _ = svc.Check(ctx, episodes.CheckOptions{SkipHashes: true})
		if len(r.Orphans) != 1 {
			t.Errorf("an hour later: got orphans %v, want the orphan old enough to remove", r.Orphans)
		}
	})
}
