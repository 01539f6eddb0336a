package federation

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// errReplayed is a signed request whose signature was already accepted:
// a replay (a sender retrying signs again, with a new Date).
var errReplayed = errors.New("signature already seen: replayed request")

// replayGuard remembers the signatures of the inbox requests this
// replica accepted until their Date leaves the window in which
// checkSigned accepts them, so that none is accepted twice. It keeps at
// most maxRemembered of them (a SHA-256 and a time each). It is safe for
// concurrent use; the zero value is ready to use.
type replayGuard struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte]time.Time // until when to remember it
}

// first records sig, whose Date is date, and reports errReplayed when it
// was already recorded, errBusy when maxRemembered signatures are
// remembered and none can be forgotten yet.
func (g *replayGuard) first(sig []byte, date, now time.Time) error {
	h := sha256.Sum256(sig)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[[sha256.Size]byte]time.Time{}
	}
	if until, ok := g.seen[h]; ok && now.Before(until) {
		return errReplayed
	}
	if len(g.seen) >= maxRemembered {
		for k, until := range g.seen {
			if !now.Before(until) {
				delete(g.seen, k)
			}
		}
		if len(g.seen) >= maxRemembered {
			return errBusy
		}
	}
	// checkSigned accepts a Date up to maxClockSkew away from now.
	g.seen[h] = date.Add(maxClockSkew + time.Second)
	return nil
}
