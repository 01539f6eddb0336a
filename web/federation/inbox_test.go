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
	"slices"
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
	return p.postWith(t, url, body, postOptions{key: key, date: date, after: tamper})
}

// postOptions says how postWith builds a request.
type postOptions struct {
	key     *rsa.PrivateKey // nil: unsigned
	date    time.Time
	headers []string // signed: postHeaders when nil
	// before changes the request before it is signed, after after.
	before, after func(*http.Request)
}

// postWith sends body to url as o says and returns the status.
func (p *peer) postWith(t *testing.T, url string, body []byte, o postOptions) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if o.before != nil {
		o.before(req)
	}
	if o.key != nil {
		headers := o.headers
		if headers == nil {
			headers = postHeaders
		}
		if err := signHeaders(req, p.actor+"#main-key", o.key, body, o.date, headers); err != nil {
			t.Fatal(err)
		}
	}
	if o.after != nil {
		o.after(req)
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
		{"oversized", append(follow[:len(follow)-1:len(follow)-1], []byte(`,"pad":"`+strings.Repeat("x", 300<<10)+`"}`)...), p.key, now, nil, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.post(t, inbox, tc.body, tc.key, tc.date, tc.tamper); got != tc.want {
				t.Errorf("got HTTP %d, want %d", got, tc.want)
			}
			if n := followersNow(t, s); n != 0 {
				t.Errorf("%d followers recorded, want none", n)
			}
		})
	}
	// Validly signed requests that must still be refused: the signature
	// leaves out a header it must cover, the request was signed for
	// another host, or it is not sent as ActivityPub.
	refusedSigned := []struct {
		name string
		o    postOptions
		want int
	}{
		{"signature without digest", postOptions{headers: []string{"(request-target)", "host", "date"}}, http.StatusUnauthorized},
		{"signature without date", postOptions{headers: []string{"(request-target)", "host", "digest"}}, http.StatusUnauthorized},
		{"signature without (request-target)", postOptions{headers: []string{"host", "date", "digest"}}, http.StatusUnauthorized},
		{"signature without host", postOptions{headers: []string{"(request-target)", "date", "digest"}}, http.StatusUnauthorized},
		{"signed for another host", postOptions{before: func(r *http.Request) { r.Host = "other-antenne.example" }}, http.StatusUnauthorized},
		{"sent as text/plain", postOptions{before: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }}, http.StatusUnsupportedMediaType},
		{"sent as plain JSON-LD", postOptions{before: func(r *http.Request) { r.Header.Set("Content-Type", "application/ld+json") }}, http.StatusUnsupportedMediaType},
	}
	for _, tc := range refusedSigned {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.key, tc.o.date = p.key, time.Now()
			if got := p.postWith(t, inbox, follow, tc.o); got != tc.want {
				t.Errorf("got HTTP %d, want %d", got, tc.want)
			}
			if n := followersNow(t, s); n != 0 {
				t.Errorf("%d followers recorded, want none", n)
			}
		})
	}
	// JSON-LD with the ActivityStreams profile is ActivityPub too: this
	// one is accepted, then undone by the Follow's id alone.
	ld := func(r *http.Request) {
		r.Header.Set("Content-Type", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	}
	follow0 := bytes.Replace(follow, []byte("follow-1"), []byte("follow-0"), 1)
	if got := p.postWith(t, inbox, follow0, postOptions{key: p.key, date: time.Now(), before: ld}); got != http.StatusAccepted {
		t.Fatalf("Follow sent as application/ld+json with the profile: got HTTP %d, want 202", got)
	}
	if n := followersNow(t, s); n != 1 {
		t.Fatalf("%d followers after a Follow, want 1", n)
	}
	undoByID := []byte(`{"id":"` + p.actor + `#undo-0","type":"Undo","actor":"` + p.actor + `","object":"` + p.actor + `#follow-0"}`)
	if got := p.post(t, inbox, undoByID, p.key, time.Now(), nil); got != http.StatusAccepted {
		t.Fatalf("Undo by the Follow's id: got HTTP %d, want 202", got)
	}
	if n := followersNow(t, s); n != 0 {
		t.Fatalf("%d followers after the Undo of the Follow by its id, want 0", n)
	}

	// The signed Follow, kept to be sent again.
	var sent *http.Request
	keep := func(r *http.Request) { sent = r.Clone(r.Context()) }
	if got := p.postWith(t, inbox, follow, postOptions{key: p.key, date: time.Now(), after: keep}); got != http.StatusAccepted {
		t.Fatalf("signed Follow: got HTTP %d, want 202", got)
	}
	if n := followersNow(t, s); n != 1 {
		t.Fatalf("%d followers after a signed Follow, want 1", n)
	}
	p.mu.Lock()
	gets := p.keyGets
	p.mu.Unlock()
	if gets == 0 {
		t.Error("the unknown key was never fetched")
	}

	// The Accept is delivered from the outbox, signed by the show.
	s.deliverDue(t.Context(), &sync.WaitGroup{})
	// (and the Accept of follow-0 before it)
	waitUntil(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.received) == 2 })
	var (
		accept *http.Request
		body   []byte
	)
	p.mu.Lock()
	for i, b := range p.bodies {
		var a activity
		if err := json.Unmarshal(b, &a); err == nil && a.Type == "Accept" && objectID(a.Object) == p.actor+"#follow-1" {
			accept, body = p.received[i], b
		}
	}
	p.mu.Unlock()
	if accept == nil {
		t.Fatalf("delivered %q, want the Accept of the Follow", p.bodies)
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
	if n := followersNow(t, s); n != 0 {
		t.Errorf("%d followers after Undo, want 0", n)
	}

	// The Follow sent again as it was (a replay within its Date's window)
	// is refused: it does not bring the follower back.
	replay := func(r *http.Request) {
		for _, h := range []string{"Date", "Digest", "Signature"} {
			r.Header.Set(h, sent.Header.Get(h))
		}
	}
	if got := p.postWith(t, inbox, follow, postOptions{after: replay}); got != http.StatusUnauthorized {
		t.Errorf("replayed Follow: got HTTP %d, want 401", got)
	}
	if n := followersNow(t, s); n != 0 {
		t.Errorf("%d followers after a replayed Follow, want 0", n)
	}
}

// followersNow counts the followers of lvel in the bucket, listing them
// now.
func followersNow(t *testing.T, s *Service) int {
	t.Helper()
	n := 0
	for _, err := range s.cfg.Store.List(t.Context(), followersPrefix("lvel")) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
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
	if n := followersNow(t, s); n != 0 {
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
// keys on servers that never answer: antenne fetches at most
// maxFetchesPerHost of them at once from one host and maxFetches in all,
// and tells the other senders to come back later (503 with Retry-After)
// at once instead of holding them; while one host's keys hang, a sender
// of another host is served.
func TestInboxBoundsKeyFetches(t *testing.T) {
	s, base := newTestService(t, true)
	var (
		mu        sync.Mutex
		now, most int
		byHost    = map[string]int{}
		mostHost  int
		release   = make(chan struct{})
	)
	tarpit := func() *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			now++
			byHost[r.Host]++
			most, mostHost = max(most, now), max(mostHost, byHost[r.Host])
			mu.Unlock()
			defer func() { mu.Lock(); now--; byHost[r.Host]--; mu.Unlock() }()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			http.NotFound(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	statuses := make(chan int, 1000)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	flood := func(srv *httptest.Server, senders int) {
		for i := range senders {
			wg.Go(func() {
				p := &peer{key: key, actor: fmt.Sprintf("%s/users/u%d", srv.URL, i)}
				follow := []byte(`{"id":"` + p.actor + `#follow","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
				statuses <- p.post(t, base+"/ap/inbox", follow, key, time.Now(), nil)
			})
		}
	}
	// expectBusy waits for n senders to be told to come back later.
	expectBusy := func(n int) {
		t.Helper()
		for busy := 0; busy < n; busy++ {
			select {
			case code := <-statuses:
				if code != http.StatusServiceUnavailable {
					t.Fatalf("a sender got %d while the key server hangs, want 503", code)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%d senders answered 503 in a minute, want %d", busy, n)
			}
		}
	}

	// One slow host: the senders over its bound are answered at once.
	const senders = 3 * maxFetchesPerHost
	flood(tarpit(), senders)
	expectBusy(senders - maxFetchesPerHost)
	// A sender of another host is served meanwhile.
	p := newPeer(t)
	follow := []byte(`{"id":"` + p.actor + `#follow-1","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
	if got := p.post(t, base+"/ap/inbox", follow, p.key, time.Now(), nil); got != http.StatusAccepted {
		t.Errorf("a sender of another host got %d while one host's keys hang, want 202", got)
	}
	if n := followersNow(t, s); n != 1 {
		t.Errorf("%d followers, want the one of the other host", n)
	}

	// Many slow hosts: at most maxFetches keys fetched at once in all.
	hosts := maxFetches/maxFetchesPerHost + 1
	for range hosts {
		flood(tarpit(), maxFetchesPerHost)
	}
	expectBusy(hosts*maxFetchesPerHost - (maxFetches - maxFetchesPerHost))
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return now >= maxFetches })
	mu.Lock()
	defer mu.Unlock()
	if most > maxFetches {
		t.Errorf("%d keys fetched at once, want at most %d", most, maxFetches)
	}
	if mostHost > maxFetchesPerHost {
		t.Errorf("%d keys fetched at once from one host, want at most %d", mostHost, maxFetchesPerHost)
	}
	if most < maxFetches {
		t.Errorf("at most %d keys fetched at once: the test proves nothing", most)
	}
}

// TestReplayToAnotherReplica sends a Follow to one replica, its Undo, and
// then the Follow again, as it was, to another replica of the same bucket:
// the replay is refused there too, and the follower stays gone. Signature
// markers past their window are swept.
func TestReplayToAnotherReplica(t *testing.T) {
	a, base := newTestService(t, true)
	b, err := New(a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t)
	inbox := base + "/ap/inbox"
	follow := []byte(`{"id":"` + p.actor + `#follow-1","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
	var sent *http.Request
	keep := func(r *http.Request) { sent = r.Clone(r.Context()) }
	if got := p.postWith(t, inbox, follow, postOptions{key: p.key, date: time.Now(), after: keep}); got != http.StatusAccepted {
		t.Fatalf("Follow: got HTTP %d, want 202", got)
	}
	undo := []byte(`{"id":"` + p.actor + `#undo-1","type":"Undo","actor":"` + p.actor + `","object":` + string(follow) + `}`)
	if got := p.post(t, inbox, undo, p.key, time.Now(), nil); got != http.StatusAccepted {
		t.Fatalf("Undo: got HTTP %d, want 202", got)
	}
	// The same request, served by replica b.
	req := httptest.NewRequest(http.MethodPost, inbox, bytes.NewReader(follow))
	req.Header = sent.Header.Clone()
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("Follow replayed to another replica: got HTTP %d, want 401", rec.Code)
	}
	if n := followersNow(t, a); n != 0 {
		t.Errorf("%d followers after the replay, want 0", n)
	}

	// A marker past its time goes; the others stay.
	old := signatureKey([]byte("old"), time.Now().Add(-time.Hour))
	if _, err := writeJSON(t.Context(), a.cfg.Store, old, map[string]string{}, ""); err != nil {
		t.Fatal(err)
	}
	a.sweepSignatures(t.Context())
	var left []string
	for info, err := range a.cfg.Store.List(t.Context(), signaturesPrefix) {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, info.Key)
	}
	if len(left) != 2 || slices.Contains(left, old) {
		t.Errorf("markers after the sweep: %q, want the Follow's and the Undo's", left)
	}
}

// TestUndoOfAnOlderFollow checks that an Undo naming an older Follow (sent
// late, or replayed past the window with a new signature by whoever holds
// the key) leaves the follower who followed again with a newer Follow.
func TestUndoOfAnOlderFollow(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	inbox := base + "/ap/inbox"
	followN := func(n int) []byte {
		return []byte(fmt.Sprintf(`{"id":"%s#follow-%d","type":"Follow","actor":"%s","object":"%s/ap/shows/lvel"}`, p.actor, n, p.actor, base))
	}
	undo := func(n int) []byte {
		return []byte(fmt.Sprintf(`{"id":"%s#undo-%d","type":"Undo","actor":"%s","object":%s}`, p.actor, n, p.actor, followN(n)))
	}
	for i, step := range []struct {
		body []byte
		want int // followers after it
	}{{followN(1), 1}, {undo(1), 0}, {followN(2), 1}, {undo(1), 1}, {undo(2), 0}} {
		// Each its own Date: the same body signed in the same second
		// would be a replay.
		date := time.Now().Add(-time.Duration(i) * time.Second)
		if got := p.post(t, inbox, step.body, p.key, date, nil); got != http.StatusAccepted {
			t.Fatalf("%s: got HTTP %d, want 202", step.body, got)
		}
		if n := followersNow(t, s); n != step.want {
			t.Fatalf("after %s: %d followers, want %d", step.body, n, step.want)
		}
	}
}
