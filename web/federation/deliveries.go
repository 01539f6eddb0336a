package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// The outbox of deliveries is one document per activity and inbox,
// federation/outbox/<activity hash>-<inbox hash>.json, created with
// If-None-Match: * (queuing the same activity for the same inbox twice
// queues it once). A replica takes a delivery by writing a lease into it
// (bucket.Leases: its expiry is computed at the write, after any wait for
// a delivery slot), so that two replicas never send the same one at once;
// a lease that runs out (a replica that died) frees it for another.
const outboxPrefix = "federation/outbox/"

// Delivery bounds.
const (
	// deliveryTimeout bounds one POST to an inbox, unless
	// Config.DeliveryTimeout says otherwise.
	deliveryTimeout = 15 * time.Second
	// leaseTime is how long a taken delivery is held: more than twice the
	// store's operation timeout (bucket.MinLease), and more than a
	// delivery and the writes around it.
	leaseTime    = 2 * time.Minute
	maxRetryWait = 6 * time.Hour
	giveUpAfter  = 72 * time.Hour
	// deliveriesInFlight is Config.Deliveries when zero, and
	// deliveriesPerHost the deliveries in flight to one host (hostGroup)
	// on one replica: a host that answers slowly holds at most this many.
	deliveriesInFlight = 32
	deliveriesPerHost  = 2
	// maxHostBackoff bounds how long a host that timed out or failed is
	// left alone: after each consecutive failure, its deliveries wait
	// RetryBase, doubled each time, up to this.
	maxHostBackoff = time.Hour
)

// delivery is one activity to post to one inbox. Its lease's Takes count
// the attempts.
type delivery struct {
	Show        string          `json:"show"` // the actor that signs
	Inbox       string          `json:"inbox"`
	Activity    json.RawMessage `json:"activity"`
	Queued      time.Time       `json:"queued"`
	NextAttempt time.Time       `json:"next_attempt"`
	bucket.Lease
	LastError string `json:"last_error,omitempty"`
}

// LeaseOf is the lease a replica takes to send d.
func (d *delivery) LeaseOf() *bucket.Lease { return &d.Lease }

// due is when d may be taken: its next attempt, or the end of the lease
// another replica holds.
func (d *delivery) due() time.Time {
	if d.Owner != "" && d.Until.After(d.NextAttempt) {
		return d.Until
	}
	return d.NextAttempt
}

func deliveryKey(activityID, inbox string) string {
	a := sha256.Sum256([]byte(activityID))
	i := sha256.Sum256([]byte(inbox))
	return outboxPrefix + hex.EncodeToString(a[:12]) + "-" + hex.EncodeToString(i[:8]) + ".json"
}

// enqueue queues act (whose id is activityID), signed by show's actor, for
// each inbox. Queuing what is already queued does nothing.
func (s *Service) enqueue(ctx context.Context, show, activityID string, act []byte, inboxes []string) error {
	now := time.Now()
	for _, in := range inboxes {
		d := delivery{Show: show, Inbox: in, Activity: act, Queued: now, NextAttempt: now}
		key := deliveryKey(activityID, in)
		rev, err := writeJSON(ctx, s.cfg.Store, key, &d, "")
		if err != nil && !bucket.IsConflict(err) {
			return fmt.Errorf("queue %s for %s: %w", activityID, in, err)
		}
		if err == nil {
			s.pending.put(key, outboxEntry{rev: rev, due: now, group: hostGroup(in)})
		}
	}
	if len(inboxes) > 0 {
		s.wake()
	}
	return nil
}

// outbox is what a replica knows of the queued deliveries, kept between
// polls so that a poll reads only the documents whose revision changed
// (a listing gives the revisions), and the deliveries it has in flight
// and the hosts it leaves alone. It is safe for concurrent use.
type outbox struct {
	mu       sync.Mutex
	entries  map[string]outboxEntry // by key
	busy     map[string]bool        // keys in flight here
	inFlight map[string]int         // by host group
	total    int
	hosts    map[string]hostState // hosts that failed last time
}

// outboxEntry is what is kept of a queued delivery: not the activity,
// only its revision, when it is due and the host it goes to.
type outboxEntry struct {
	rev        string
	due        time.Time
	group      string
	unreadable bool
}

// hostState is a host that failed: its consecutive failures and until
// when it is left alone.
type hostState struct {
	failures int
	until    time.Time
}

func (o *outbox) put(key string, e outboxEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.entries == nil {
		o.entries = map[string]outboxEntry{}
	}
	o.entries[key] = e
}

func (o *outbox) entry(key string) (outboxEntry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.entries[key]
	return e, ok
}

func (o *outbox) forget(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.entries, key)
}

// keep forgets the entries not in seen.
func (o *outbox) keep(seen map[string]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for key := range o.entries {
		if !seen[key] {
			delete(o.entries, key)
		}
	}
}

// due lists the keys due at now, earliest first, except those in flight
// here and those of hosts left alone.
func (o *outbox) due(now time.Time) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var keys []string
	for key, e := range o.entries {
		if !e.unreadable && !e.due.After(now) && !o.busy[key] && !o.hosts[e.group].until.After(now) {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return o.entries[a].due.Compare(o.entries[b].due) })
	return keys
}

// reserve takes a delivery slot for key: false when the replica has max
// in flight (full is then true) or its host has deliveriesPerHost.
func (o *outbox) reserve(key string, max int) (ok, full bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.total >= max {
		return false, true
	}
	g := o.entries[key].group
	if o.inFlight[g] >= deliveriesPerHost {
		return false, false
	}
	if o.inFlight == nil {
		o.inFlight, o.busy = map[string]int{}, map[string]bool{}
	}
	o.total++
	o.inFlight[g]++
	o.busy[key] = true
	return true, false
}

// release gives back the slot reserve took for key, of host group g.
func (o *outbox) release(key, g string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.total--
	if o.inFlight[g]--; o.inFlight[g] <= 0 {
		delete(o.inFlight, g)
	}
	delete(o.busy, key)
}

// hostAnswered records how host group g did: a host that failed is left
// alone base, doubled at each consecutive failure, at most
// maxHostBackoff; one that answered is forgiven.
func (o *outbox) hostAnswered(g string, failed bool, base time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !failed {
		delete(o.hosts, g)
		return
	}
	if o.hosts == nil {
		o.hosts = map[string]hostState{}
	}
	h := o.hosts[g]
	h.failures++
	wait := base
	for i := 1; i < h.failures && wait < maxHostBackoff; i++ {
		wait *= 2
	}
	h.until = time.Now().Add(min(wait, maxHostBackoff))
	o.hosts[g] = h
}

// runDeliveries sends the due deliveries of the outbox until ctx ends.
func (s *Service) runDeliveries(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(min(s.cfg.Poll, s.cfg.RetryBase))
	defer tick.Stop()
	for {
		s.deliverDue(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

// deliverDue lists the outbox, reading only the deliveries whose revision
// changed since the last listing, and starts those due, at most
// cfg.Deliveries at once and deliveriesPerHost per host, earliest first,
// skipping the hosts left alone after a failure. It never waits for a
// slot: a delivery that ends wakes the loop.
func (s *Service) deliverDue(ctx context.Context, wg *sync.WaitGroup) {
	seen := map[string]bool{}
	for info, err := range s.cfg.Store.List(ctx, outboxPrefix) {
		if err != nil {
			s.log.WarnContext(ctx, "list the outbox", "err", err)
			return
		}
		seen[info.Key] = true
		if e, ok := s.pending.entry(info.Key); ok && e.rev == info.ETag {
			continue
		}
		var d delivery
		rev, err := readJSON(ctx, s.cfg.Store, info.Key, &d)
		switch {
		case bucket.IsNotFound(err):
			delete(seen, info.Key)
		case bucket.IsUnreadable(err):
			s.log.WarnContext(ctx, "unreadable delivery skipped: antenne check --repair removes it", "key", info.Key, "err", err)
			s.pending.put(info.Key, outboxEntry{rev: info.ETag, unreadable: true})
		case err != nil:
			s.log.WarnContext(ctx, "read a delivery", "key", info.Key, "err", err)
			delete(seen, info.Key) // read again next time
		default:
			s.pending.put(info.Key, outboxEntry{rev: rev, due: d.due(), group: hostGroup(d.Inbox)})
		}
	}
	s.pending.keep(seen)
	for _, key := range s.pending.due(time.Now()) {
		ok, full := s.pending.reserve(key, s.cfg.Deliveries)
		if full {
			return
		}
		if !ok {
			continue
		}
		g := func() string { e, _ := s.pending.entry(key); return e.group }()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.wake()
			defer s.pending.release(key, g)
			s.takeAndDeliver(ctx, key)
		}()
	}
}

// takeAndDeliver reads the delivery at key, takes its lease unless another
// replica holds it or it is not due, and delivers it.
func (s *Service) takeAndDeliver(ctx context.Context, key string) {
	var d delivery
	rev, err := readJSON(ctx, s.cfg.Store, key, &d)
	if err != nil {
		if !bucket.IsNotFound(err) {
			s.log.WarnContext(ctx, "read a delivery", "key", key, "err", err)
		}
		return
	}
	if d.due().After(time.Now()) {
		s.pending.put(key, outboxEntry{rev: rev, due: d.due(), group: hostGroup(d.Inbox)})
		return
	}
	held, err := s.leases.Take(ctx, s.cfg.Store, key, &d, rev)
	if err != nil {
		if !bucket.IsConflict(err) && !bucket.IsNotFound(err) && !errors.Is(err, bucket.ErrLeaseHeld) {
			s.log.WarnContext(ctx, "take a delivery", "key", key, "err", err)
		}
		return // another replica took it
	}
	s.pending.put(key, outboxEntry{rev: held.Rev, due: d.due(), group: hostGroup(d.Inbox)})
	s.deliver(ctx, &held, d)
}

// deliver posts d, held under held, and then removes it, or schedules a
// retry.
func (s *Service) deliver(ctx context.Context, held *bucket.Held, d delivery) {
	status, err := s.post(ctx, d)
	log := s.log.With("inbox", d.Inbox, "show", d.Show, "attempt", d.Takes)
	group := hostGroup(d.Inbox)
	// A host that did not answer in time, or answered that it is unwell,
	// is left alone for a while: its other deliveries wait instead of
	// holding slots.
	s.pending.hostAnswered(group, err != nil || status/100 == 5 || status == http.StatusTooManyRequests, s.cfg.RetryBase)
	done := false
	switch {
	case err == nil && status/100 == 2:
		var act struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		json.Unmarshal(d.Activity, &act)
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(act.Object, &obj) != nil {
			json.Unmarshal(act.Object, &obj.ID) // an object named by its id
		}
		log.InfoContext(ctx, "delivered", "activity", activityIDOf(d.Activity), "type", act.Type, "object", obj.ID, "status", status)
		done = true
	case status == http.StatusGone:
		log.InfoContext(ctx, "inbox gone: removing its followers")
		if err := s.removeGone(ctx, d.Show, d.Inbox); err != nil {
			log.WarnContext(ctx, "remove followers of a gone inbox", "err", err)
		}
		done = true
	case status/100 == 4 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		log.WarnContext(ctx, "delivery refused: dropped", "status", status)
		done = true
	case time.Since(d.Queued) > giveUpAfter:
		log.WarnContext(ctx, "delivery failed for three days: dropped", "err", err, "status", status)
		done = true
	}
	ctx = context.WithoutCancel(ctx)
	if done {
		if err := s.cfg.Store.Delete(ctx, held.Key); err != nil {
			log.WarnContext(ctx, "remove a delivery", "err", err)
			return
		}
		s.pending.forget(held.Key)
		return
	}
	d.NextAttempt = time.Now().Add(retryWait(s.cfg.RetryBase, d.Takes))
	if err != nil {
		d.LastError = err.Error()
	} else {
		d.LastError = fmt.Sprintf("HTTP %d", status)
	}
	log.InfoContext(ctx, "delivery failed: will retry", "err", d.LastError, "next", d.NextAttempt)
	if err := s.leases.Release(ctx, s.cfg.Store, held, &d); err != nil {
		log.WarnContext(ctx, "reschedule a delivery", "err", err)
		return
	}
	s.pending.put(held.Key, outboxEntry{rev: held.Rev, due: d.NextAttempt, group: group})
}

// activityIDOf is the id of an encoded activity, for the log.
func activityIDOf(act []byte) string {
	var a struct {
		ID string `json:"id"`
	}
	json.Unmarshal(act, &a)
	return a.ID
}

// retryWait is the wait after the n-th failure: base doubled n-1 times, at
// most maxRetryWait.
func retryWait(base time.Duration, n int) time.Duration {
	w := base
	for i := 1; i < n && w < maxRetryWait; i++ {
		w *= 2
	}
	return min(w, maxRetryWait)
}

// post sends d's activity, signed by its show's key, within
// cfg.DeliveryTimeout. It returns the status, or an error when no answer
// came.
func (s *Service) post(ctx context.Context, d delivery) (int, error) {
	key, err := s.keys.get(ctx, showKeyName(d.Show))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Inbox, bytes.NewReader(d.Activity))
	if err != nil {
		return http.StatusBadRequest, err // an inbox we can never reach
	}
	req.Header.Set("Content-Type", contentType)
	if err := signRequest(req, s.u.key(s.u.actor(d.Show)), key, d.Activity, time.Now()); err != nil {
		return 0, err
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// activityJSON encodes an activity of show's actor.
func activityJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSpace(b.String())), nil
}
