package federation_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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
	"github.com/picasoft/antenne/web/federation"
)

// site is antenne serving one show, "lvel", over TLS on 127.0.0.1 (as
// behind a reverse proxy), with federation running.
type site struct {
	t       *testing.T
	store   *storage.Dir
	catalog *episodes.Service
	fed     *federation.Service
	links   feed.Links
	base    string       // https://127.0.0.1:PORT
	host    string       // 127.0.0.1:PORT
	client  *http.Client // trusts the site's certificate, follows no redirect
	// deliveries are the activities antenne logged as delivered.
	deliveries *deliveryLog
}

// newSite starts antenne. client makes its outgoing requests.
func newSite(t *testing.T, client *http.Client) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	base := "https://" + host
	links, err := feed.NewLinks(base, "")
	if err != nil {
		t.Fatal(err)
	}
	store := storagetest.Dir(t)
	catalog := episodes.NewService(store, episodes.Options{})
	ctx := t.Context()
	if _, err := catalog.CreateShow(ctx, episodes.Show{
		Slug: "lvel", Title: "La Voix est Libre", Description: "L'émission de Picasoft sur Graf'hit.",
		Author: "Picasoft", Hashtags: []string{"Picasoft", "logiciel_libre"},
	}, links.Feed("lvel")); err != nil {
		t.Fatal(err)
	}
	deliveries := &deliveryLog{}
	fed, err := federation.New(federation.Config{
		Catalog:   catalog,
		Store:     store,
		Links:     links,
		Client:    client,
		Software:  "test",
		Logger:    slog.New(deliveryLogHandler{slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}), deliveries}),
		RetryBase: time.Second,
		Poll:      time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Catalog: catalog, Store: store, Links: links, Federation: fed, MaxUpload: 50 << 20})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.StartTLS()
	t.Cleanup(hs.Close)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fed.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	hc := hs.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &site{t: t, store: store, catalog: catalog, fed: fed, links: links, base: base, host: host, client: hc, deliveries: deliveries}
}

// addEpisode ingests a real MP3 as a draft and returns it.
func (s *site) addEpisode(title, notes string, freq int) *episodes.Episode {
	s.t.Helper()
	mp3 := episodestest.Make(s.t, episodestest.Recording{Format: "mp3", Seconds: 2, Frequency: freq})
	ep, err := s.catalog.Ingest(s.t.Context(), episodes.Upload{Show: "lvel", Path: mp3, Name: "episode.mp3", Title: title, Notes: notes})
	if err != nil {
		s.t.Fatalf("ingest: %v", err)
	}
	return ep
}

// get fetches path of the site with the Accept header given, and returns
// the status, the Content-Type, the Location and the body.
func (s *site) get(path, accept string) (int, string, string, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), string(body)
}

// keys lists the keys of the store under prefix.
func (s *site) keys(prefix string) []string {
	s.t.Helper()
	var out []string
	for info, err := range s.store.List(s.t.Context(), prefix) {
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, info.Key)
	}
	return out
}

// waitFor polls cond every 250 ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// testClient is the client of antenne's outgoing requests in the tests:
// the peers are on loopback, which the operator allows here.
func testClient() *http.Client {
	return fetch.NewClient(fetch.Options{AllowPrivate: true, Timeout: 30 * time.Second, MaxBytes: 1 << 20, MaxRedirects: -1})
}

// failedDeliveries counts the queued deliveries that failed at least once.
func (s *site) failedDeliveries() int {
	s.t.Helper()
	n := 0
	for _, key := range s.keys("federation/outbox/") {
		rc, _, err := s.store.Get(s.t.Context(), key, 0, -1)
		if err != nil {
			continue // delivered meanwhile
		}
		var d struct {
			LastError string `json:"last_error"`
		}
		err = json.NewDecoder(rc).Decode(&d)
		rc.Close()
		if err == nil && d.LastError != "" {
			n++
		}
	}
	return n
}

// testWriter sends what antenne logs to the test's output.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// deliveryLog keeps the ids of the activities antenne logged as delivered
// (accepted by the inbox with a 2xx answer), one per delivery.
type deliveryLog struct {
	mu  sync.Mutex
	ids []string
}

// count is the number of deliveries of activities whose id starts with
// prefix.
func (l *deliveryLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, id := range l.ids {
		if strings.HasPrefix(id, prefix) {
			n++
		}
	}
	return n
}

// deliveryLogHandler passes records on, and notes the deliveries in log.
type deliveryLogHandler struct {
	slog.Handler
	log *deliveryLog
}

func (h deliveryLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "delivered" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "activity" {
				h.log.mu.Lock()
				h.log.ids = append(h.log.ids, a.Value.String())
				h.log.mu.Unlock()
			}
			return true
		})
	}
	return h.Handler.Handle(ctx, r)
}

func (h deliveryLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return deliveryLogHandler{h.Handler.WithAttrs(attrs), h.log}
}

func (h deliveryLogHandler) WithGroup(name string) slog.Handler {
	return deliveryLogHandler{h.Handler.WithGroup(name), h.log}
}
