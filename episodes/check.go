package episodes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/picasoft/antenne/storage/bucket"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// SkipHashes checks sizes only, without reading every object.
	SkipHashes bool
	// Progress, when set, is told how many referenced objects were
	// checked out of how many.
	Progress func(done, total int)
}

// CheckReport is what Check found.
type CheckReport struct {
	Shows, Episodes int // documents read
	Objects         int // referenced objects checked
	Problems        []Problem
	// Slugs are the problems of slugs and their claims (kinds
	// "duplicate-slug", "missing-claim", "orphan-claim"), which
	// RepairSlugs fixes.
	Slugs []Problem
	// Orphans are objects no document references, older than the orphan
	// age: safe to remove. RecentOrphans are younger, and may belong to an
	// upload in progress.
	Orphans, RecentOrphans []bucket.ObjectInfo
}

// Problem is one inconsistency of the bucket.
type Problem struct {
	Key    string // the document or object concerned
	Kind   string // "unreadable", "missing", "size", "hash", "unreachable", or a slug problem
	Detail string
}

// OK reports whether the bucket has no problem and no orphan.
func (r *CheckReport) OK() bool {
	return len(r.Problems) == 0 && len(r.Slugs) == 0 && len(r.Orphans) == 0 && len(r.RecentOrphans) == 0
}

// Check verifies the whole bucket, reading it afresh rather than trusting
// the cache: every document parses, every object a document references
// exists with the recorded size and SHA-256, and objects no document
// references are listed; so are slugs two episodes share and slug claims
// missing or abandoned (claims.go). It changes nothing; see Sweep to remove
// orphans and RepairSlugs to fix the slugs.
func (s *Service) Check(ctx context.Context, opts CheckOptions) (*CheckReport, error) {
	// A store that cannot be listed is an error, not a finding.
	for _, err := range s.blobs.List(ctx, showsPrefix) {
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		break
	}
	fresh := newCatalog()
	_, loadErr := fresh.refresh(ctx, s.blobs)
	r := &CheckReport{}
	for _, err := range unwrapJoined(loadErr) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Problems = append(r.Problems, Problem{Kind: "unreadable", Detail: err.Error()})
	}
	slugs, err := s.checkSlugs(ctx, fresh)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	r.Slugs = slugs
	fresh.mu.RLock()
	r.Shows = len(fresh.shows)
	for _, st := range fresh.shows {
		r.Episodes += len(st.episodes)
	}
	for key := range fresh.orphans {
		r.Problems = append(r.Problems, Problem{Key: key, Kind: "unreadable", Detail: "episode document of a show that does not exist"})
	}
	fresh.mu.RUnlock()
	all := fresh.references()
	refd := referenced(all)
	var refs []reference // the objects to verify, once each
	for _, rf := range all {
		if rf.verify {
			refs = append(refs, rf)
		}
	}
	slices.SortFunc(refs, func(a, b reference) int { return strings.Compare(a.Key, b.Key) })
	refs = slices.CompactFunc(refs, func(a, b reference) bool { return a.Key == b.Key })

	for i, rf := range refs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p := s.checkObject(ctx, rf.Key, rf.Size, rf.SHA256, opts.SkipHashes); p != nil {
			p.Detail += " (referenced by " + rf.owner + ")"
			r.Problems = append(r.Problems, *p)
		}
		r.Objects++
		if opts.Progress != nil {
			opts.Progress(i+1, len(refs))
		}
	}

	cutoff := s.opts.Now().Add(-s.opts.OrphanAge)
	for info, err := range s.blobs.List(ctx, showsPrefix) {
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		if kind, _, _ := parseKey(info.Key); kind != notADoc || refd[info.Key] || !isObjectKey(info.Key) {
			continue
		}
		if info.ModTime.After(cutoff) {
			r.RecentOrphans = append(r.RecentOrphans, info)
		} else {
			r.Orphans = append(r.Orphans, info)
		}
	}
	return r, nil
}

// checkObject compares a stored object with what its document records.
// size < 0 or sum == "" skips that comparison.
func (s *Service) checkObject(ctx context.Context, key string, size int64, sum string, skipHash bool) *Problem {
	info, err := s.blobs.Stat(ctx, key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Problem{Key: key, Kind: "missing", Detail: "the object does not exist"}
	case err != nil:
		return &Problem{Key: key, Kind: "unreachable", Detail: err.Error()}
	case size >= 0 && info.Size != size:
		return &Problem{Key: key, Kind: "size", Detail: fmt.Sprintf("%d bytes stored, %d recorded", info.Size, size)}
	}
	if skipHash || sum == "" {
		return nil
	}
	rc, _, err := s.blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return &Problem{Key: key, Kind: "unreachable", Detail: err.Error()}
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return &Problem{Key: key, Kind: "unreachable", Detail: err.Error()}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return &Problem{Key: key, Kind: "hash", Detail: fmt.Sprintf("SHA-256 %s stored, %s recorded", got[:12], sum[:min(12, len(sum))])}
	}
	return nil
}

// unwrapJoined splits an errors.Join into its errors.
func unwrapJoined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapJoined(e)...)
		}
		return out
	}
	return []error{err}
}
