package bucket

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Lease is the part of a leased document that says who holds it and until
// when. A document embeds it and returns it from LeaseOf; the zero Lease is
// free.
type Lease struct {
	// Owner is the holder (a replica's id); empty when free.
	Owner string `json:"owner,omitempty"`
	// Until is when another owner may take the lease over.
	Until time.Time `json:"lease_until,omitzero"`
	// Takes counts the times the lease was taken: with Owner, the
	// fencing token of the current holder.
	Takes int `json:"attempts,omitempty"`
}

// HeldAt reports whether an owner holds the lease at now.
func (l *Lease) HeldAt(now time.Time) bool { return l.Owner != "" && now.Before(l.Until) }

// Token is the fencing token of the lease's current holding: it changes
// every time the lease is taken. A side effect done under a lease writes
// it into the document it changes, and each later write of that document
// checks it (with If-Match on the revision read), so that a holder whose
// lease was taken over can no longer act.
func (l *Lease) Token() string {
	if l.Owner == "" {
		return ""
	}
	return l.Owner + "/" + strconv.Itoa(l.Takes)
}

// Leased is a document with a lease.
type Leased interface {
	LeaseOf() *Lease
}

// MinLease is the shortest lease Leases accepts for a given operation
// timeout: twice it, so that one write that hangs until its timeout
// cannot outlive the lease it renews.
func MinLease(opTimeout time.Duration) time.Duration { return 2 * opTimeout }

// Leases takes, renews and releases the leases of one owner. It is safe
// for concurrent use.
type Leases struct {
	owner     string
	duration  time.Duration
	opTimeout time.Duration
	now       func() time.Time
}

// LeaseConfig tunes Leases.
type LeaseConfig struct {
	// Owner names the holder (a replica's random id). Required.
	Owner string
	// Duration is how long a lease lasts from the write that takes or
	// renews it. At least MinLease(OpTimeout).
	Duration time.Duration
	// OpTimeout bounds each write of a lease; OpTimeout when zero.
	OpTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewLeases checks cfg and returns the leases of cfg.Owner. It refuses a
// lease shorter than twice the operation timeout.
func NewLeases(cfg LeaseConfig) (*Leases, error) {
	if cfg.Owner == "" {
		return nil, errors.New("leases: an owner is required")
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = OpTimeout
	}
	if cfg.Duration < MinLease(cfg.OpTimeout) {
		return nil, fmt.Errorf("leases: a lease of %v is shorter than twice the operation timeout (%v)", cfg.Duration, cfg.OpTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Leases{owner: cfg.Owner, duration: cfg.Duration, opTimeout: cfg.OpTimeout, now: cfg.Now}, nil
}

// Owner is the holder these leases are written for.
func (l *Leases) Owner() string { return l.owner }

// Duration is how long a lease lasts from its write.
func (l *Leases) Duration() time.Duration { return l.duration }

// OpTimeout bounds each write of a lease.
func (l *Leases) OpTimeout() time.Duration { return l.opTimeout }

// Held is a lease this owner holds: the key and revision of its document
// as last written, and the local time until which the holder may still
// act.
type Held struct {
	Key string
	Rev string
	// Deadline is when the holder must consider the lease lost unless it
	// renewed it: the local time at which the write that took or renewed
	// it began, plus the lease's duration, minus one operation timeout
	// (room for the last fenced write). Monotonic.
	Deadline time.Time
}

// Lost reports whether the holder must consider the lease lost at the
// local time now (time.Now, which carries the monotonic clock).
func (h *Held) Lost(now time.Time) bool { return !now.Before(h.Deadline) }

// ErrLeaseHeld: the lease is held by another owner and not expired.
var ErrLeaseHeld = errors.New("lease held by another owner")

// Take makes this owner the holder of the lease of doc, stored at key with
// revision rev ("": the document does not exist yet, and is created). It
// fails with ErrLeaseHeld when another owner holds the lease at the time
// of the write, and with ErrConflict (or ErrNotFound) when the document
// changed since it was read: the store decides between racing takers.
func (l *Leases) Take(ctx context.Context, s Putter, key string, doc Leased, rev string) (Held, error) {
	lease := doc.LeaseOf()
	if lease.HeldAt(l.now()) && lease.Owner != l.owner {
		return Held{}, fmt.Errorf("take %s: %w (%s until %s)", key, ErrLeaseHeld, lease.Owner, lease.Until.Format(time.RFC3339))
	}
	lease.Takes++
	return l.write(ctx, s, key, doc, rev)
}

// Renew extends the lease h holds, writing doc (with whatever progress the
// holder put in it) over h's revision. It fails with ErrConflict or
// ErrNotFound when the lease was taken over or removed: the holder must
// stop. On success h is updated.
func (l *Leases) Renew(ctx context.Context, s Putter, h *Held, doc Leased) error {
	if doc.LeaseOf().Owner != l.owner {
		return fmt.Errorf("renew %s: %w (not ours)", h.Key, ErrConflict)
	}
	next, err := l.write(ctx, s, h.Key, doc, h.Rev)
	if err != nil {
		return err
	}
	*h = next
	return nil
}

// Release lets go of the lease h holds, so that another owner may take it
// at once, writing doc over h's revision. A lease taken over meanwhile is
// left to its new holder (ErrConflict).
func (l *Leases) Release(ctx context.Context, s Putter, h *Held, doc Leased) error {
	lease := doc.LeaseOf()
	lease.Owner, lease.Until = "", time.Time{}
	ctx, cancel := context.WithTimeout(ctx, l.opTimeout)
	defer cancel()
	rev, err := Write(ctx, s, h.Key, doc, h.Rev)
	if err != nil {
		return err
	}
	h.Rev, h.Deadline = rev, time.Time{}
	return nil
}

// write stores doc with the lease held by this owner from now: the expiry
// is taken at the time of the write, after any wait of the caller.
func (l *Leases) write(ctx context.Context, s Putter, key string, doc Leased, rev string) (Held, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opTimeout)
	defer cancel()
	began := time.Now()
	lease := doc.LeaseOf()
	lease.Owner, lease.Until = l.owner, l.now().UTC().Add(l.duration)
	newRev, err := Write(ctx, s, key, doc, rev)
	if err != nil {
		return Held{}, err
	}
	return Held{Key: key, Rev: newRev, Deadline: began.Add(l.duration - l.opTimeout)}, nil
}
