package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// The outbox of deliveries is one document per activity and inbox,
// federation/outbox/<activity hash>-<inbox hash>.json, created with
// If-None-Match: * (queuing the same activity for the same inbox twice
// queues it once). A replica takes a delivery by writing a lease into it
// with If-Match, so that two replicas never send the same one at once;
// a lease that runs out (a replica that died) frees it for another.
const outboxPrefix = "federation/outbox/"

// Delivery bounds.
const (
	deliveryTimeout = 30 * time.Second
	leaseTime       = 2 * time.Minute
	maxRetryWait    = 6 * time.Hour
	giveUpAfter     = 72 * time.Hour
)

// delivery is one activity to post to one inbox.
type delivery struct {
	Show        string          `json:"show"` // the actor that signs
	Inbox       string          `json:"inbox"`
	Activity    json.RawMessage `json:"activity"`
	Queued      time.Time       `json:"queued"`
	Attempts    int             `json:"attempts"`
	NextAttempt time.Time       `json:"next_attempt"`
	LeaseUntil  time.Time       `json:"lease_until,omitzero"`
	LastError   string          `json:"last_error,omitempty"`
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
		if _, err := writeJSON(ctx, s.cfg.Store, deliveryKey(activityID, in), d, ""); err != nil && !bucket.IsConflict(err) {
			return fmt.Errorf("queue %s for %s: %w", activityID, in, err)
		}
	}
	if len(inboxes) > 0 {
		s.wake()
	}
	return nil
}

// runDeliveries sends the due deliveries of the outbox, at most
// cfg.Deliveries at once, until ctx ends.
func (s *Service) runDeliveries(ctx context.Context) {
	sem := make(chan struct{}, s.cfg.Deliveries)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(min(s.cfg.Poll, s.cfg.RetryBase))
	defer tick.Stop()
	for {
		s.deliverDue(ctx, sem, &wg)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

// deliverDue starts the deliveries whose time came and that no replica
// holds.
func (s *Service) deliverDue(ctx context.Context, sem chan struct{}, wg *sync.WaitGroup) {
	now := time.Now()
	for info, err := range s.cfg.Store.List(ctx, outboxPrefix) {
		if err != nil {
			s.log.WarnContext(ctx, "list the outbox", "err", err)
			return
		}
		var d delivery
		etag, err := readJSON(ctx, s.cfg.Store, info.Key, &d)
		if bucket.IsNotFound(err) {
			continue
		}
		if err != nil {
			s.log.WarnContext(ctx, "read a delivery", "key", info.Key, "err", err)
			continue
		}
		if d.NextAttempt.After(now) || d.LeaseUntil.After(now) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		d.LeaseUntil = now.Add(leaseTime)
		etag, err = writeJSON(ctx, s.cfg.Store, info.Key, d, etag)
		if err != nil {
			<-sem
			if !bucket.IsConflict(err) {
				s.log.WarnContext(ctx, "take a delivery", "key", info.Key, "err", err)
			}
			continue // another replica took it
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.deliver(ctx, info.Key, etag, d)
		}()
	}
}

// deliver posts d and then removes it, or schedules a retry.
func (s *Service) deliver(ctx context.Context, key, etag string, d delivery) {
	status, err := s.post(ctx, d)
	log := s.log.With("inbox", d.Inbox, "show", d.Show, "attempt", d.Attempts+1)
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
		log.DebugContext(ctx, "delivered", "type", act.Type, "object", obj.ID, "status", status)
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
	if done {
		if err := s.cfg.Store.Delete(context.WithoutCancel(ctx), key); err != nil {
			log.WarnContext(ctx, "remove a delivery", "err", err)
		}
		return
	}
	d.Attempts++
	d.NextAttempt = time.Now().Add(retryWait(s.cfg.RetryBase, d.Attempts))
	d.LeaseUntil = time.Time{}
	if err != nil {
		d.LastError = err.Error()
	} else {
		d.LastError = fmt.Sprintf("HTTP %d", status)
	}
	log.InfoContext(ctx, "delivery failed: will retry", "err", d.LastError, "next", d.NextAttempt)
	if _, err := writeJSON(context.WithoutCancel(ctx), s.cfg.Store, key, d, etag); err != nil {
		log.WarnContext(ctx, "reschedule a delivery", "err", err)
	}
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

// post sends d's activity, signed by its show's key. It returns the
// status, or an error when no answer came.
func (s *Service) post(ctx context.Context, d delivery) (int, error) {
	key, err := s.keys.get(ctx, showKeyName(d.Show))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
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
