package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
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

// The signatures of the activities the inbox acts upon (inboxHandler)
// are also claimed in the bucket, so that a replay sent to another replica
// is refused too: federation/signatures/<unix time it may go>-<hash>.json,
// created with If-None-Match: *. The time in the key (fixed width, so that
// keys sort by it) is when the signature's Date leaves the window
// checkSigned accepts; sweepSignatures removes the markers past it.
const signaturesPrefix = "federation/signatures/"

func signatureKey(sig []byte, date time.Time) string {
	h := sha256.Sum256(sig)
	return fmt.Sprintf("%s%011d-%s.json", signaturesPrefix, date.Add(maxClockSkew+time.Second).Unix(), hex.EncodeToString(h[:16]))
}

// claimSignature records sig in the bucket, or fails with errReplayed when
// a replica already did.
func (s *Service) claimSignature(ctx context.Context, sig *signature) error {
	marker := struct {
		Seen time.Time `json:"seen"`
	}{time.Now().UTC()}
	_, err := writeJSON(ctx, s.cfg.Store, signatureKey(sig.sig, sig.date), marker, "")
	if bucket.IsConflict(err) {
		return errReplayed
	}
	return err
}

// sweepSignatures removes the signature markers whose time has passed.
func (s *Service) sweepSignatures(ctx context.Context) {
	now := time.Now().Unix()
	for info, err := range s.cfg.Store.List(ctx, signaturesPrefix) {
		if err != nil {
			s.log.WarnContext(ctx, "list the signatures seen", "err", err)
			return
		}
		name := strings.TrimPrefix(info.Key, signaturesPrefix)
		until, err := strconv.ParseInt(strings.SplitN(name, "-", 2)[0], 10, 64)
		if err == nil && until > now {
			return // the others are later
		}
		if err := s.cfg.Store.Delete(ctx, info.Key); err != nil {
			s.log.WarnContext(ctx, "remove a signature seen", "key", info.Key, "err", err)
			return
		}
	}
}

// runSweeper sweeps the signature markers every minute until ctx ends.
func (s *Service) runSweeper(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.sweepSignatures(ctx)
			s.sweepThreads(ctx)
		}
	}
}
