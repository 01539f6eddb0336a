package episodes

import (
	"context"
	"errors"
	"fmt"
)

// Sweep removes the objects under shows/ that no document references and
// that are older than OrphanAge: what a failed upload, an interrupted
// process or a failed delete left behind. Younger objects may belong to an
// upload in progress, possibly on another replica, and are kept. It also
// removes the abandoned slug claims (claims.go). It returns the keys
// removed.
func (s *Service) Sweep(ctx context.Context) ([]string, error) {
	// Reload first: an object referenced by a document another replica
	// wrote since the last refresh must not be taken for an orphan.
	if _, err := s.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	refs := referenced(s.cat.references())
	cutoff := s.opts.Now().Add(-s.opts.OrphanAge)
	var removed []string
	var errs []error
	for info, err := range s.blobs.List(ctx, showsPrefix) {
		if err != nil {
			return removed, fmt.Errorf("sweep: %w", err)
		}
		if kind, _, _ := parseKey(info.Key); kind != notADoc || refs[info.Key] || !isObjectKey(info.Key) {
			continue
		}
		if info.ModTime.After(cutoff) {
			continue
		}
		if err := s.blobs.Delete(ctx, info.Key); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, info.Key)
	}
	released, err := s.sweepClaims(ctx)
	return append(removed, released...), errors.Join(append(errs, err)...)
}
