package federation

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// TestSlowHostDoesNotDelayOthers queues an activity for 24 inboxes of a
// host that never answers, then for a real follower: the follower's
// delivery goes at once, while the slow host holds at most
// deliveriesPerHost deliveries; once those time out, the host is left
// alone instead of being tried again for each of its inboxes.
func TestSlowHostDoesNotDelayOthers(t *testing.T) {
	s, _ := newTestService(t, true)
	s.cfg.Deliveries = 4
	s.cfg.DeliveryTimeout = 3 * time.Second
	s.cfg.RetryBase = time.Hour
	var (
		mu              sync.Mutex
		inFlight, most  int
		requests, ended int
		release         = make(chan struct{})
	)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; ended++; mu.Unlock() }()
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer slow.Close()
	defer close(release)
	p := newPeer(t)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.runDeliveries(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	var slowInboxes []string
	for i := range 24 {
		slowInboxes = append(slowInboxes, fmt.Sprintf("%s/inbox/%d", slow.URL, i))
	}
	act := []byte(`{"id":"https://radio.example/ap/shows/lvel/notes/1#create","type":"Create"}`)
	if err := s.enqueue(t.Context(), "lvel", "create-1", act, slowInboxes); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return inFlight > 0 })
	start := time.Now()
	if err := s.enqueue(t.Context(), "lvel", "create-1", act, []string{p.srv.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.received) > 0 })
	mu.Lock()
	if ended > 0 {
		t.Errorf("the real follower's delivery waited for %d of the slow host's deliveries to time out", ended)
	}
	mu.Unlock()
	t.Logf("the real follower's delivery took %v while the slow host held its deliveries", time.Since(start).Round(time.Millisecond))

	// The slow host's deliveries time out; it is then left alone.
	time.Sleep(s.cfg.DeliveryTimeout + 2*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if most > deliveriesPerHost {
		t.Errorf("%d deliveries at once to the slow host, want at most %d", most, deliveriesPerHost)
	}
	if requests > deliveriesPerHost {
		t.Errorf("the slow host got %d deliveries after timing out, want %d: it is not left alone", requests, deliveriesPerHost)
	}
}

// countingStore counts the reads of its objects.
type countingStore struct {
	bucket.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, bucket.ObjectInfo, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key, offset, length)
}

// TestOutboxPollReadsOnlyChanges checks that a poll of the outbox reads
// the deliveries it does not know (or whose revision changed), not every
// delivery each time: retries hours away are not read again.
func TestOutboxPollReadsOnlyChanges(t *testing.T) {
	s, _ := newTestService(t, true)
	counting := &countingStore{Store: s.cfg.Store}
	s.cfg.Store = counting
	later := time.Now().Add(time.Hour)
	for i := range 20 {
		d := delivery{Show: "lvel", Inbox: fmt.Sprintf("https://m%d.example/inbox", i), Activity: []byte(`{}`), Queued: time.Now(), NextAttempt: later}
		if _, err := writeJSON(t.Context(), counting, deliveryKey("a", d.Inbox), &d, ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	s.deliverDue(t.Context(), &wg)
	wg.Wait()
	if n := counting.gets.Load(); n != 20 {
		t.Errorf("first poll read %d deliveries, want the 20 queued", n)
	}
	counting.gets.Store(0)
	s.deliverDue(t.Context(), &wg)
	wg.Wait()
	if n := counting.gets.Load(); n != 0 {
		t.Errorf("second poll read %d deliveries, want none (nothing changed)", n)
	}
}
