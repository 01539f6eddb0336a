package accounts

import (
	"context"
	"sync"
	"time"
)

// Bounds of the re-reads of the accounts an unknown token causes (see
// HostByToken): at most one a second, however many unknown tokens come
// (random ones included), each within 5 s.
const (
	tokenRereadEvery   = time.Second
	tokenRereadTimeout = 5 * time.Second
)

// rereads makes the re-reads for unknown tokens one at a time: callers
// that come while one runs wait for it rather than start another.
type rereads struct {
	mu      sync.Mutex
	last    time.Time     // when the last re-read started (monotonic clock)
	running chan struct{} // closed when the running re-read ends; nil when none runs
}

// rereadForToken reads the accounts again from the store, for a token the
// cache does not know: one made a moment ago by the CLI or another
// replica is then accepted on first sight instead of after the next
// refresh. A re-read that started less than tokenRereadEvery ago is not
// repeated; one running is waited for (up to ctx). It reports whether the
// cache may have learnt something since the caller looked.
func (s *Service) rereadForToken(ctx context.Context) bool {
	r := &s.rereads
	r.mu.Lock()
	if ch := r.running; ch != nil {
		r.mu.Unlock()
		select {
		case <-ch:
			return true
		case <-ctx.Done():
			return false
		}
	}
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < tokenRereadEvery {
		r.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	r.running, r.last = ch, now
	r.mu.Unlock()

	// The re-read serves every waiter: it does not end with the request
	// that started it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenRereadTimeout)
	err := s.refreshHosts(rctx)
	cancel()
	r.mu.Lock()
	r.running = nil
	r.mu.Unlock()
	close(ch)
	// A refresh that failed on some documents applied the others.
	_ = err
	return true
}
