package websub_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/fetch"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/websub"
)

// hub is a WebSub hub served by the test: it records the pings, and
// fails the first ones when told to.
type hub struct {
	srv   *httptest.Server
	mu    sync.Mutex
	pings []url.Values
	fail  int // answer 503 to that many requests first
	tries int
}

func newHub(t *testing.T) *hub {
	h := &hub{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.tries++
		if h.fail > 0 {
			h.fail--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		r.ParseForm()
		h.pings = append(h.pings, r.PostForm)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pings)
}

// replica is one antenne process on the shared bucket: its catalog, its
// web server (which builds the feeds) and its pinger.
type replica struct {
	catalog *episodes.Service
	srv     *web.Server
	pinger  *websub.Pinger
}

func newReplica(t *testing.T, store *storage.Dir, links feed.Links, h *hub) *replica {
	t.Helper()
	catalog := episodes.NewService(store, episodes.Options{})
	if err := catalog.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Catalog: catalog, Store: store, Links: links, WebSubHubs: []string{h.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := websub.New(websub.Config{
		Hubs: []string{h.srv.URL}, FeedURL: links.Feed, Store: store,
		Client:    fetch.NewClient(fetch.Options{AllowPrivate: true, Timeout: 10 * time.Second}),
		RetryBase: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{catalog: catalog, srv: srv, pinger: p}
}

// check refreshes the replica's catalog and lets its pinger compare.
func (r *replica) check(t *testing.T) {
	t.Helper()
	if _, err := r.catalog.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.pinger.Check(t.Context(), r.srv.FeedVersions())
}

// TestOnePingPerFeedChange runs two replicas on one bucket: each change of
// the feed is pinged once, a change that leaves the feed as it was (a new
// draft) is not pinged, and a hub that fails at first is pinged again.
func TestOnePingPerFeedChange(t *testing.T) {
	store := storagetest.Dir(t)
	links, err := feed.NewLinks("https://radio.picasoft.net", "")
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(t)
	seed := episodes.NewService(store, episodes.Options{})
	if _, err := seed.CreateShow(t.Context(), episodes.Show{Slug: "lvel", Title: "La Voix est Libre"}, links.Feed("lvel")); err != nil {
		t.Fatal(err)
	}
	a, b := newReplica(t, store, links, h), newReplica(t, store, links, h)

	rec := httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lvel/feed.xml", nil))
	if !strings.Contains(rec.Body.String(), `<atom:link href="`+h.srv.URL+`" rel="hub">`) {
		t.Errorf("the feed does not name the hub:\n%.1500s", rec.Body.String())
	}

	step := func(what string, want int) {
		t.Helper()
		var wg sync.WaitGroup
		for _, r := range []*replica{a, b} {
			wg.Go(func() { r.check(t) })
		}
		wg.Wait()
		if got := h.count(); got != want {
			t.Fatalf("%s: %d pings in all, want %d", what, got, want)
		}
	}
	step("first look at the feed", 1)
	step("nothing changed", 1)

	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2})
	ep, err := a.catalog.Ingest(t.Context(), episodes.Upload{Show: "lvel", Path: mp3, Title: "Les communs"})
	if err != nil {
		t.Fatal(err)
	}
	step("a draft, which the feed does not show", 1)

	if _, err := a.catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	step("publication", 2)
	step("nothing changed", 2)

	h.mu.Lock()
	h.fail = 2
	h.mu.Unlock()
	if _, err := b.catalog.UpdateEpisode(t.Context(), "lvel", ep.ID, "", func(e *episodes.Episode) error { e.Title = "Les communs numériques"; return nil }); err != nil {
		t.Fatal(err)
	}
	step("an edit, the hub failing twice first", 3)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tries != 5 {
		t.Errorf("the hub was tried %d times, want 5 (3 pings, 2 of them failed first)", h.tries)
	}
	for _, p := range h.pings {
		if p.Get("hub.mode") != "publish" || p.Get("hub.url") != links.Feed("lvel") {
			t.Errorf("ping %v, want hub.mode=publish and hub.url=%s", p, links.Feed("lvel"))
		}
	}
}
