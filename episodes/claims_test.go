package episodes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

// replicas returns n Services over one store, loaded, as n processes
// sharing a bucket would be.
func replicas(t *testing.T, blobs storagetest.Store, n int, clock *episodestest.Clock) []*episodes.Service {
	t.Helper()
	var out []*episodes.Service
	for range n {
		svc := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		if err := svc.Load(t.Context()); err != nil {
			t.Fatalf("Load: %v", err)
		}
		out = append(out, svc)
	}
	return out
}

// claimOf reads the claim of a slug: the id of the episode holding it, or
// "" when there is none or it was released.
func claimOf(t *testing.T, blobs storagetest.Store, show, slug string) string {
	t.Helper()
	c, _, err := bucket.ReadClaim(t.Context(), blobs, "shows/"+show+"/slugs/"+slug+".json")
	if errors.Is(err, episodes.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("read the claim of %s: %v", slug, err)
	}
	return c.Owner()
}

func TestSlugsUniqueAcrossReplicas(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clock := episodestest.NewClock()
		first := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		newShow(t, first)
		reps := replicas(t, blobs, 3, clock)
		const n = 18
		var wg sync.WaitGroup
		created := make([]*episodes.Episode, n)
		errs := make([]error, n)
		for i := range n {
			media := storeMedia(t, blobs, "lvel", fmt.Sprintf("race-%d", mediaCount.Add(1)))
			wg.Go(func() {
				// No replica refreshes meanwhile: each one's cache says
				// the title's slug is free.
				created[i], errs[i] = reps[i%len(reps)].CreateEpisode(t.Context(), &episodes.Episode{Show: "lvel", Title: "Sobriété numérique", Media: media})
			})
		}
		wg.Wait()
		slugs := map[string]string{}
		for i, e := range created {
			if errs[i] != nil {
				t.Fatalf("CreateEpisode %d: %v", i, errs[i])
			}
			if other, dup := slugs[e.Slug]; dup {
				t.Errorf("slug %q given to %s and %s", e.Slug, other, e.ID)
			}
			slugs[e.Slug] = e.ID
			if got := claimOf(t, blobs, "lvel", e.Slug); got != e.ID {
				t.Errorf("claim of %s: got episode %q, want %s", e.Slug, got, e.ID)
			}
		}
		for i := 1; i <= n; i++ {
			want := "sobriete-numerique"
			if i > 1 {
				want += fmt.Sprintf("-%d", i)
			}
			if _, ok := slugs[want]; !ok {
				t.Errorf("slug %s not given: got %v", want, slices.Sorted(maps.Keys(slugs)))
			}
		}
		r, err := first.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Slugs) > 0 {
			t.Errorf("check after the race: got %v, want no slug problem", r.Slugs)
		}
	})
}

func TestRenameAndDeleteReleaseClaims(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clock := episodestest.NewClock()
		svc := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		newShow(t, svc)
		e := newEpisode(t, svc, blobs, "Logiciel libre")
		if got := claimOf(t, blobs, "lvel", "logiciel-libre"); got != e.ID {
			t.Fatalf("claim after create: got %q, want %s", got, e.ID)
		}
		e, err := svc.UpdateEpisode(t.Context(), "lvel", e.ID, e.Revision, func(e *episodes.Episode) error {
			e.Slug = "les-logiciels-libres"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := claimOf(t, blobs, "lvel", "logiciel-libre"); got != "" {
			t.Errorf("old slug still claimed by %q after the rename", got)
		}
		if got := claimOf(t, blobs, "lvel", "les-logiciels-libres"); got != e.ID {
			t.Errorf("new slug: claim names %q, want %s", got, e.ID)
		}
		if !slices.Equal(e.FormerSlugs, []string{"logiciel-libre"}) {
			t.Errorf("former slugs: got %v, want [logiciel-libre]", e.FormerSlugs)
		}
		// Another replica may now take the released slug.
		other := replicas(t, blobs, 1, clock)[0]
		e2 := newEpisode(t, other, blobs, "Logiciel libre")
		if e2.Slug != "logiciel-libre" {
			t.Errorf("released slug: got %q, want logiciel-libre", e2.Slug)
		}
		if err := svc.DeleteEpisode(t.Context(), "lvel", e.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := claimOf(t, blobs, "lvel", "les-logiciels-libres"); got != "" {
			t.Errorf("slug still claimed by %q after the delete", got)
		}
	})
}

func TestAbandonedClaimIsTakenOverAfterGrace(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clock := episodestest.NewClock()
		svc := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		newShow(t, svc)
		// A process died between its claim and its document.
		claim := map[string]any{"version": 1, "episode": "0190dead-0000-7000-8000-000000000000", "created": clock.Now().UTC()}
		if _, err := bucket.Write(t.Context(), blobs, "shows/lvel/slugs/communs.json", claim, ""); err != nil {
			t.Fatal(err)
		}
		young := newEpisode(t, svc, blobs, "Communs")
		if young.Slug != "communs-2" {
			t.Errorf("slug while the claim may still be written: got %q, want communs-2", young.Slug)
		}
		r, err := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Slugs) != 0 {
			t.Errorf("a young claim is reported: %v", r.Slugs)
		}
		clock.Add(5 * time.Minute)
		r, err = svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Slugs) != 1 || r.Slugs[0].Kind != "orphan-claim" || r.Slugs[0].Key != "shows/lvel/slugs/communs.json" {
			t.Errorf("check: got %+v, want one orphan-claim of communs", r.Slugs)
		}
		old := newEpisode(t, svc, blobs, "Communs")
		if old.Slug != "communs" {
			t.Errorf("slug of an abandoned claim: got %q, want communs", old.Slug)
		}
		if got := claimOf(t, blobs, "lvel", "communs"); got != old.ID {
			t.Errorf("claim after the takeover: got %q, want %s", got, old.ID)
		}
	})
}

// putDocument writes v at key, unconditionally, as something bypassing
// the claims would (an older antenne, a hand edit).
func putDocument(t *testing.T, blobs storagetest.Store, key string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Put(t.Context(), key, strings.NewReader(string(data)), int64(len(data)), "application/json"); err != nil {
		t.Fatal(err)
	}
}

func TestRepairSlugs(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clock := episodestest.NewClock()
		svc := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		newShow(t, svc)
		a := newEpisode(t, svc, blobs, "Vie privée")
		clock.Add(time.Hour)
		// Two more episodes with a's slug, written without claims, the
		// younger one first; and a claim nobody holds.
		var dups []*episodes.Episode
		for i, id := range []string{"0190ffff-0000-7000-8000-000000000002", "0190ffff-0000-7000-8000-000000000001"} {
			d := *a
			d.ID, d.GUID, d.Revision = id, id, ""
			d.Created = a.Created.Add(time.Duration(2-i) * time.Minute)
			d.Media = storeMedia(t, blobs, "lvel", fmt.Sprintf("dup-%d", mediaCount.Add(1)))
			putDocument(t, blobs, "shows/lvel/episodes/"+id+".json", &d)
			dups = append(dups, &d)
		}
		putDocument(t, blobs, "shows/lvel/slugs/gone.json", map[string]any{"version": 1, "episode": "nobody", "created": a.Created})
		if err := blobs.Delete(t.Context(), "shows/lvel/slugs/vie-privee.json"); err != nil {
			t.Fatal(err)
		}

		r, err := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, p := range r.Slugs {
			kinds[p.Kind]++
		}
		if kinds["duplicate-slug"] != 2 || kinds["missing-claim"] != 1 || kinds["orphan-claim"] != 1 {
			t.Errorf("check: got %v, want 2 duplicate-slug, 1 missing-claim, 1 orphan-claim", r.Slugs)
		}
		if _, err := svc.RepairSlugs(t.Context()); err != nil {
			t.Fatalf("RepairSlugs: %v", err)
		}
		// The oldest keeps the slug; the others, oldest first, get the
		// next free ones.
		want := map[string]string{a.ID: "vie-privee", dups[1].ID: "vie-privee-2", dups[0].ID: "vie-privee-3"}
		for id, slug := range want {
			e, err := svc.Episode("lvel", id)
			if err != nil {
				t.Fatal(err)
			}
			if e.Slug != slug {
				t.Errorf("episode %s: got slug %q, want %q", id, e.Slug, slug)
			}
			if got := claimOf(t, blobs, "lvel", slug); got != id {
				t.Errorf("claim of %s: got %q, want %s", slug, got, id)
			}
			if id != a.ID && !slices.Equal(e.FormerSlugs, []string{"vie-privee"}) {
				t.Errorf("episode %s: former slugs %v, want [vie-privee]", id, e.FormerSlugs)
			}
		}
		if got := claimOf(t, blobs, "lvel", "gone"); got != "" {
			t.Errorf("abandoned claim kept, naming %q", got)
		}
		fresh := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		r, err = fresh.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Errorf("check after repair: got %+v, want all well", r)
		}
		if done, err := fresh.RepairSlugs(t.Context()); err != nil || len(done) != 0 {
			t.Errorf("second repair: got %v, %v, want nothing to do", done, err)
		}
	})
}

func TestImportedGUIDCreatedOnce(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clock := episodestest.NewClock()
		first := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		newShow(t, first)
		reps := replicas(t, blobs, 4, clock)
		media := storeMedia(t, blobs, "lvel", fmt.Sprintf("guid-%d", mediaCount.Add(1)))
		oneWins(t, reps, episodes.ErrGUIDTaken, func(svc *episodes.Service, _ int) error {
			_, err := svc.CreateEpisode(t.Context(), &episodes.Episode{Show: "lvel", Title: "Épisode importé", GUID: "https://old.example.org/?p=12", Media: media})
			return err
		})
		if _, err := first.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		eps, err := first.Episodes("lvel", episodes.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != 1 || eps[0].Slug != "episode-importe" {
			t.Errorf("episodes: got %d, want one with slug episode-importe", len(eps))
		}
		r, err := first.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Errorf("check: got %+v, want all well (losers released their slug claims)", r)
		}
	})
}

// TestEpisodesRevisionMatchesContent lists episodes while they change: each
// listed episode must carry the revision of the very content listed.
func TestEpisodesRevisionMatchesContent(t *testing.T) {
	blobs := storagetest.Dir(t)
	svc := episodes.NewService(blobs, episodes.Options{})
	newShow(t, svc)
	e := newEpisode(t, svc, blobs, "Version 0")
	var (
		mu      sync.Mutex
		titleOf = map[string]string{e.Revision: e.Title}
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ctx.Err() == nil && i < 200; i++ {
			u, err := svc.UpdateEpisode(t.Context(), "lvel", e.ID, "", func(e *episodes.Episode) error {
				e.Title = fmt.Sprintf("Version %d", i)
				return nil
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			titleOf[u.Revision] = u.Title
			mu.Unlock()
		}
		cancel()
	})
	var listed [][2]string
	for ctx.Err() == nil {
		eps, err := svc.Episodes("lvel", episodes.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, [2]string{eps[0].Revision, eps[0].Title})
	}
	wg.Wait()
	for _, l := range listed {
		if want := titleOf[l[0]]; want != l[1] {
			t.Fatalf("listed %q with the revision of %q", l[1], want)
		}
	}
}

// TestShowSlugUniqueAcrossReplicas: the show document is its own claim,
// created with If-None-Match: *, so of replicas creating one show at once
// exactly one succeeds.
func TestShowSlugUniqueAcrossReplicas(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		reps := replicas(t, blobs, 4, episodestest.NewClock())
		oneWins(t, reps, episodes.ErrConflict, func(svc *episodes.Service, i int) error {
			_, err := svc.CreateShow(t.Context(), episodes.Show{Slug: "lvel", Title: fmt.Sprintf("Replica %d", i)}, "https://radio.picasoft.net/lvel/feed.xml")
			return err
		})
	})
}

// oneWins runs create on every replica at once and checks that exactly
// one succeeds and the others fail with lost.
func oneWins(t *testing.T, reps []*episodes.Service, lost error, create func(svc *episodes.Service, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(reps))
	for i, svc := range reps {
		wg.Go(func() { errs[i] = create(svc, i) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, lost):
			t.Errorf("loser: got %v, want %v", err, lost)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d succeeded, want 1", won, len(reps))
	}
}

// TestSweepRemovesAbandonedClaims: a claim left by a process that died
// before writing its episode is swept once older than the grace, and a
// claim whose episode holds the slug is kept.
func TestSweepRemovesAbandonedClaims(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		clock := episodestest.NewClock()
		svc := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		newShow(t, svc)
		kept := newEpisode(t, svc, blobs, "Communs")
		claim := map[string]any{"version": 1, "episode": "0190dead-0000-7000-8000-000000000000", "created": clock.Now().UTC()}
		if _, err := bucket.Write(t.Context(), blobs, "shows/lvel/slugs/mort.json", claim, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := claimOf(t, blobs, "lvel", "mort"); got == "" {
			t.Errorf("a claim younger than the grace was swept")
		}
		clock.Add(5 * time.Minute)
		removed, err := svc.Sweep(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(removed, []string{"shows/lvel/slugs/mort.json"}) {
			t.Errorf("swept: got %v, want the abandoned claim only", removed)
		}
		if got := claimOf(t, blobs, "lvel", "communs"); got != kept.ID {
			t.Errorf("claim of a held slug: got %q, want %s", got, kept.ID)
		}
	})
}
