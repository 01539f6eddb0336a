package federation

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/fetch"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestTwoReplicas runs two replicas on one bucket, with a clock: a
// scheduled episode is announced when its time comes, each change is
// queued once and delivered once however many replicas notice it, and a
// server answering 410 Gone loses its followers.
func TestTwoReplicas(t *testing.T) {
	store := storagetest.Dir(t)
	clock := episodestest.NewClock(time.Now().UTC().Truncate(time.Second))
	links, err := feed.NewLinks("https://radio.picasoft.net", "")
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t)
	var replicas []*Service
	for range 2 {
		catalog := episodes.NewService(store, episodes.Options{Now: clock.Now})
		if len(replicas) == 0 {
			if _, err := catalog.CreateShow(t.Context(), episodes.Show{Slug: "lvel", Title: "La Voix est Libre"}, links.Feed("lvel")); err != nil {
				t.Fatal(err)
			}
		} else if err := catalog.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Catalog: catalog, Store: store, Links: links,
			Client: fetch.NewClient(fetch.Options{AllowPrivate: true, Timeout: 10 * time.Second}), RetryBase: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, s)
	}
	a, b := replicas[0], replicas[1]
	if err := a.addFollower(t.Context(), "lvel", follower{Actor: p.actor, Inbox: p.actor + "/inbox", SharedInbox: p.srv.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}

	// all lets both replicas do f at once, after refreshing their catalogs.
	all := func(f func(s *Service)) {
		t.Helper()
		var wg sync.WaitGroup
		for _, s := range replicas {
			if _, err := s.cfg.Catalog.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { f(s) })
		}
		wg.Wait()
	}
	announce := func() {
		all(func(s *Service) {
			if err := s.Announce(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	queued := func() []string {
		var types []string
		for info, err := range store.List(t.Context(), outboxPrefix) {
			if err != nil {
				t.Fatal(err)
			}
			var d delivery
			if _, err := readJSON(t.Context(), store, info.Key, &d); err != nil {
				t.Fatal(err)
			}
			var act activity
			json.Unmarshal(d.Activity, &act)
			if d.Inbox != p.srv.URL+"/inbox" {
				t.Errorf("queued for %s, want the shared inbox", d.Inbox)
			}
			types = append(types, act.Type)
		}
		return types
	}
	deliver := func() {
		all(func(s *Service) {
			var wg sync.WaitGroup
			s.deliverDue(t.Context(), &wg)
			wg.Wait()
		})
	}
	received := func() []string {
		p.mu.Lock()
		defer p.mu.Unlock()
		var types []string
		for _, body := range p.bodies {
			var act activity
			json.Unmarshal(body, &act)
			types = append(types, act.Type)
		}
		return types
	}
	expect := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: got %q, want %q", what, got, want)
			}
		}
	}

	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2})
	ep, err := a.cfg.Catalog.Ingest(t.Context(), episodes.Upload{Show: "lvel", Path: mp3, Title: "Les communs", PublishAt: clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	announce()
	expect("scheduled, before its time", queued())

	clock.Add(2 * time.Hour)
	announce()
	expect("scheduled, its time come", queued(), "Create")
	deliver()
	expect("delivered", received(), "Create")
	expect("outbox after delivery", queued())
	announce()
	deliver()
	expect("nothing changed", received(), "Create")

	if _, err := b.cfg.Catalog.UpdateEpisode(t.Context(), "lvel", ep.ID, "", func(e *episodes.Episode) error { e.Notes = "Avec Alice."; return nil }); err != nil {
		t.Fatal(err)
	}
	announce()
	expect("notes edited", queued(), "Update")
	deliver()
	expect("delivered", received(), "Create", "Update")

	p.mu.Lock()
	p.gone = true
	p.mu.Unlock()
	if _, err := a.cfg.Catalog.Unpublish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	announce()
	expect("unpublished", queued(), "Delete")
	deliver()
	expect("outbox after 410", queued())
	if n := followersNow(t, a); n != 0 {
		t.Errorf("after 410 Gone: %d followers, want 0", n)
	}
}

// TestLaggingReplicaNeverContradicts has replica a publish episodes and
// announce them while replica b's catalog is behind (not refreshed): b
// must not queue a Delete (Mastodon would keep a tombstone of the post
// for good) nor an Update back to what it has, neither for an episode it
// knows as a draft nor for one it never saw.
func TestLaggingReplicaNeverContradicts(t *testing.T) {
	store := storagetest.Dir(t)
	links, err := feed.NewLinks("https://radio.picasoft.net", "")
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t)
	var replicas []*Service
	for range 2 {
		catalog := episodes.NewService(store, episodes.Options{})
		if len(replicas) == 0 {
			if _, err := catalog.CreateShow(t.Context(), episodes.Show{Slug: "lvel", Title: "La Voix est Libre"}, links.Feed("lvel")); err != nil {
				t.Fatal(err)
			}
		}
		s, err := New(Config{Catalog: catalog, Store: store, Links: links,
			Client: fetch.NewClient(fetch.Options{AllowPrivate: true, Timeout: 10 * time.Second})})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, s)
	}
	a, b := replicas[0], replicas[1]
	if err := a.addFollower(t.Context(), "lvel", follower{Actor: p.actor, Inbox: p.actor + "/inbox", SharedInbox: p.srv.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2})
	draft, err := a.cfg.Catalog.Ingest(t.Context(), episodes.Upload{Show: "lvel", Path: mp3, Title: "Brouillon"})
	if err != nil {
		t.Fatal(err)
	}
	mp3b := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Frequency: 660})
	// b knows the show and the draft, as of now.
	if err := b.cfg.Catalog.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.cfg.Catalog.Publish(t.Context(), "lvel", draft.ID, ""); err != nil {
		t.Fatal(err)
	}
	unseen, err := a.cfg.Catalog.Ingest(t.Context(), episodes.Upload{Show: "lvel", Path: mp3b, Title: "Nouveau", PublishAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Announce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Announce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var types []string
	for info, err := range store.List(t.Context(), outboxPrefix) {
		if err != nil {
			t.Fatal(err)
		}
		var d delivery
		if _, err := readJSON(t.Context(), store, info.Key, &d); err != nil {
			t.Fatal(err)
		}
		var act activity
		json.Unmarshal(d.Activity, &act)
		types = append(types, act.Type)
	}
	if len(types) != 2 || types[0] != "Create" || types[1] != "Create" {
		t.Errorf("queued %q, want two Creates and nothing from the lagging replica", types)
	}
	for _, id := range []string{draft.ID, unseen.ID} {
		var r record
		if _, err := readJSON(t.Context(), store, recordKey("lvel", id), &r); err != nil || r.State != statePublished {
			t.Errorf("record of %s: %+v (%v), want published", id, r, err)
		}
	}
}
