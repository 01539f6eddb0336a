package accounts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// tokenFlushInterval is how often Run writes the tokens' last uses.
const tokenFlushInterval = time.Minute

// tokenRef names a token of a host.
type tokenRef struct{ login, id string }

// tokenUses are the uses of tokens noted by HostByToken and not yet
// written: recording a use must never slow or fail the request that
// authenticated with it, so it is written later, in batches.
type tokenUses struct {
	mu   sync.Mutex
	last map[tokenRef]time.Time
}

// note records that the token was used at t.
func (u *tokenUses) note(ref tokenRef, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if t.After(u.last[ref]) {
		u.last[ref] = t
	}
}

// take returns the pending uses and forgets them.
func (u *tokenUses) take() map[tokenRef]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	pending := u.last
	u.last = map[tokenRef]time.Time{}
	return pending
}

// FlushTokenUses writes the last uses of tokens noted since the previous
// flush: one conditional write per host. A use whose write fails (other
// than for a host or token removed meanwhile) is noted again for the next
// flush, and the failures are returned. Run calls it every minute.
func (s *Service) FlushTokenUses(ctx context.Context) error {
	pending := s.uses.take()
	byLogin := map[string]map[string]time.Time{}
	for ref, t := range pending {
		if byLogin[ref.login] == nil {
			byLogin[ref.login] = map[string]time.Time{}
		}
		byLogin[ref.login][ref.id] = t
	}
	var errs []error
	for _, login := range slices.Sorted(maps.Keys(byLogin)) {
		used := byLogin[login]
		_, err := s.updateHost(ctx, login, "", func(h *Host) error {
			for i := range h.Tokens {
				if t, ok := used[h.Tokens[i].ID]; ok && t.After(h.Tokens[i].LastUsed) {
					h.Tokens[i].LastUsed = t
				}
			}
			return nil
		})
		switch {
		case err == nil, errors.Is(err, bucket.ErrNotFound):
		default:
			for id, t := range used {
				s.uses.note(tokenRef{login, id}, t)
			}
			errs = append(errs, fmt.Errorf("record the last use of the tokens of %q: %w", login, err))
		}
	}
	return errors.Join(errs...)
}
