package federation

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/fetch"
	"github.com/picasoft/antenne/storage/storagetest"
)

// peer is a remote fediverse account served by the test: its actor
// document and key, and an inbox that records what it receives.
type peer struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	actor    string
	mu       sync.Mutex
	keyGets  int
	received []*http.Request
	bodies   [][]byte
	gone     bool // the inboxes answer 410 Gone
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{key: key}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/users/bob":
			if r.Header.Get("Signature") == "" {
				http.Error(w, "sign your GET", http.StatusUnauthorized)
				return
			}
			p.keyGets++
			w.Header().Set("Content-Type", contentType)
			json.NewEncoder(w).Encode(map[string]any{
				"id": p.actor, "type": "Person", "preferredUsername": "bob", "inbox": p.actor + "/inbox",
				"endpoints": map[string]string{"sharedInbox": p.srv.URL + "/inbox"},
				"publicKey": publicKey{ID: p.actor + "#main-key", Owner: p.actor, PublicKeyPEM: publicKeyPEM(key)},
			})
		case r.Method == http.MethodPost && p.gone:
			http.Error(w, "gone", http.StatusGone)
		case r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			p.received = append(p.received, r)
			p.bodies = append(p.bodies, body)
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	p.actor = p.srv.URL + "/users/bob"
	return p
}

// post sends body to url signed with key (the peer's when nil), with the
// Date at date; tamper may change the request after signing.
func (p *peer) post(t *testing.T, url string, body []byte, key *rsa.PrivateKey, date time.Time, tamper func(*http.Request)) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if key != nil {
		if err := signRequest(req, p.actor+"#main-key", key, body, date); err != nil {
			t.Fatal(err)
		}
	}
	if tamper != nil {
		tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func newTestService(t *testing.T, allowPrivate bool) (*Service, string) {
	t.Helper()
	store := storagetest.Dir(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	links, err := feed.NewLinks(base, "")
	if err != nil {
		t.Fatal(err)
	}
	catalog := episodes.NewService(store, episodes.Options{})
	if _, err := catalog.CreateShow(t.Context(), episodes.Show{Slug: "lvel", Title: "La Voix est Libre"}, links.Feed("lvel")); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Catalog: catalog, Store: store, Links: links, Client: fetch.NewClient(fetch.Options{AllowPrivate: allowPrivate, Timeout: 10 * time.Second, MaxBytes: 1 << 20, MaxRedirects: -1})})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s
	srv.Start()
	t.Cleanup(srv.Close)
	return s, base
}

// TestInbox checks that the inbox refuses unsigned, badly signed, replayed,
// tampered and oversized requests without recording anything, and that a
// signed Follow from a key it never saw is verified (the key fetched with
// a signed GET), recorded and accepted; Undo removes the follower.
func TestInbox(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	inbox := base + "/ap/inbox"
	actor := base + "/ap/shows/lvel"
	follow := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + p.actor + `#follow-1","type":"Follow","actor":"` + p.actor + `","object":"` + actor + `"}`)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	refused := []struct {
		name   string
		body   []byte
		key    *rsa.PrivateKey
		date   time.Time
		tamper func(*http.Request)
		want   int
	}{
		{"unsigned", follow, nil, now, nil, http.StatusUnauthorized},
		{"signed by another key", follow, other, now, nil, http.StatusUnauthorized},
		{"replayed (Date 10 minutes old)", follow, p.key, now.Add(-10 * time.Minute), nil, http.StatusUnauthorized},
		{"Date in the future", follow, p.key, now.Add(10 * time.Minute), nil, http.StatusUnauthorized},
		{"Digest of another body", follow, p.key, now, func(r *http.Request) {
			r.Header.Set("Digest", digest([]byte("something else")))
		}, http.StatusUnauthorized},
		{"body changed after signing", follow, p.key, now, func(r *http.Request) {
			changed := bytes.Replace(follow, []byte("follow-1"), []byte("follow-2"), 1)
			r.Body = io.NopCloser(bytes.NewReader(changed))
		}, http.StatusUnauthorized},
		{"signature without digest", follow, p.key, now, func(r *http.Request) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), " digest", "", 1))
		}, http.StatusUnauthorized},
		{"oversized", append(follow[:len(follow)-1:len(follow)-1], []byte(`,"pad":"`+strings.Repeat("x", 300<<10)+`"}`)...), p.key, now, nil, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.post(t, inbox, tc.body, tc.key, tc.date, tc.tamper); got != tc.want {
				t.Errorf("got HTTP %d, want %d", got, tc.want)
			}
			if n, _ := s.FollowerCount(t.Context(), "lvel"); n != 0 {
				t.Errorf("%d followers recorded, want none", n)
			}
		})
	}

	if got := p.post(t, inbox, follow, p.key, time.Now(), nil); got != http.StatusAccepted {
		t.Fatalf("signed Follow: got HTTP %d, want 202", got)
	}
	if n, _ := s.FollowerCount(t.Context(), "lvel"); n != 1 {
		t.Fatalf("%d followers after a signed Follow, want 1", n)
	}
	p.mu.Lock()
	gets := p.keyGets
	p.mu.Unlock()
	if gets == 0 {
		t.Error("the unknown key was never fetched")
	}

	// The Accept is delivered from the outbox, signed by the show.
	s.deliverDue(t.Context(), make(chan struct{}, 1), &sync.WaitGroup{})
	waitUntil(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.received) > 0 })
	p.mu.Lock()
	accept, body := p.received[0], p.bodies[0]
	p.mu.Unlock()
	var a activity
	if err := json.Unmarshal(body, &a); err != nil || a.Type != "Accept" || objectID(a.Object) != p.actor+"#follow-1" {
		t.Errorf("delivered %s, want the Accept of the Follow", body)
	}
	showKey, err := s.keys.get(t.Context(), showKeyName("lvel"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := checkSigned(accept, body, time.Now())
	if err != nil || sig.keyID != actor+"#main-key" || sig.verify(accept, &showKey.PublicKey) != nil {
		t.Errorf("the Accept is not signed by the show's key: %v", err)
	}

	undo := []byte(`{"id":"` + p.actor + `#undo-1","type":"Undo","actor":"` + p.actor + `","object":` + string(follow) + `}`)
	if got := p.post(t, base+"/ap/shows/lvel/inbox", undo, p.key, time.Now(), nil); got != http.StatusAccepted {
		t.Fatalf("Undo: got HTTP %d, want 202", got)
	}
	if n, _ := s.FollowerCount(t.Context(), "lvel"); n != 0 {
		t.Errorf("%d followers after Undo, want 0", n)
	}
}

// TestInboxRefusesPrivateKeyURL checks that without
// ANTENNE_FETCH_ALLOW_PRIVATE a key on a loopback address is never fetched:
// the Follow is refused and nothing is recorded.
func TestInboxRefusesPrivateKeyURL(t *testing.T) {
	s, base := newTestService(t, false)
	p := newPeer(t)
	follow := []byte(`{"id":"` + p.actor + `#follow-1","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
	if got := p.post(t, base+"/ap/inbox", follow, p.key, time.Now(), nil); got != http.StatusUnauthorized {
		t.Errorf("got HTTP %d, want 401", got)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keyGets != 0 {
		t.Errorf("the key at a loopback address was fetched %d times", p.keyGets)
	}
	if n, _ := s.FollowerCount(t.Context(), "lvel"); n != 0 {
		t.Errorf("%d followers recorded, want none", n)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("timed out")
		}
	}
}

// TestInboxBoundsKeyFetches floods the inbox with activities signed by
// keys on a server that never answers: antenne fetches at most maxFetches
// of them at once and tells the other senders to come back later (503
// with Retry-After) at once, instead of holding them.
func TestInboxBoundsKeyFetches(t *testing.T) {
	_, base := newTestService(t, true)
	var (
		mu        sync.Mutex
		now, most int
		release   = make(chan struct{})
	)
	tarpit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		now++
		most = max(most, now)
		mu.Unlock()
		defer func() { mu.Lock(); now--; mu.Unlock() }()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.NotFound(w, r)
	}))
	defer tarpit.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	const senders = 3 * maxFetches
	statuses := make(chan int, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			p := &peer{key: key, actor: fmt.Sprintf("%s/users/u%d", tarpit.URL, i)}
			follow := []byte(`{"id":"` + p.actor + `#follow","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
			statuses <- p.post(t, base+"/ap/inbox", follow, key, time.Now(), nil)
		})
	}
	// The senders over the bound are answered while the others wait.
	busy := 0
	for busy < senders-maxFetches {
		select {
		case code := <-statuses:
			if code != http.StatusServiceUnavailable {
				t.Fatalf("a sender got %d while the key server hangs, want 503", code)
			}
			busy++
		case <-time.After(time.Minute):
			t.Fatalf("%d senders answered 503 in a minute, want %d", busy, senders-maxFetches)
		}
	}
	close(release)
	wg.Wait()
	close(statuses)
	for code := range statuses {
		if code != http.StatusUnauthorized {
			t.Errorf("a sender whose key was not found got %d, want 401", code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most > maxFetches {
		t.Errorf("%d keys fetched at once, want at most %d", most, maxFetches)
	}
	if most == 0 {
		t.Error("no key was fetched: the test proves nothing")
	}
}
