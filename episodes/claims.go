package episodes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/picasoft/antenne/storage/bucket"
)

// An episode slug is unique in its show across every process sharing the
// store because the store arbitrates it: before an episode document takes
// a slug, a claim shows/<show>/slugs/<slug>.json naming the episode is
// created with a conditional write (If-None-Match: *). The writer that
// loses the race reads the claim and, when it belongs to another episode,
// tries the next suffix (slug-2, slug-3...). The cache only gives the first
// guess. A claim is released once its episode no longer holds the slug:
// deleted, or renamed and the new document written. Claims are
// bucket.Claim documents: released by a conditional write, never deleted,
// so that a claim taken over meanwhile is never lost.
//
// A process that dies between the claim and the document leaves a claim
// whose episode does not hold the slug: after claimGrace anyone may take
// it over (with If-Match on the claim), and check --repair releases it.
//
// Show slugs need no claim: the show document itself, shows/<slug>/show.json,
// is created with If-None-Match: * and never renamed.
const (
	slugsDir = "slugs/"
	// claimGrace is how long a claim whose episode does not hold the slug
	// is left alone: the time its writer may take to write the document
	// (one document write, bounded by bucket.OpTimeout).
	claimGrace = 2 * bucket.OpTimeout
	// maxClaimTries bounds the slugs tried in the store for one episode.
	maxClaimTries = 100
)

func slugClaimKey(show, slug string) string {
	return showsPrefix + show + "/" + slugsDir + slug + docExtension
}

func slugClaimsPrefix(show string) string { return showsPrefix + show + "/" + slugsDir }

// nthSlug is the n-th candidate slug of base: base itself, then base-2,
// base-3..., cut to maxSlugLen.
func nthSlug(base string, n int) string {
	if n <= 1 {
		return base
	}
	suffix := fmt.Sprintf("-%d", n)
	return strings.TrimRight(base[:min(len(base), maxSlugLen-len(suffix))], "-") + suffix
}

// claimSlug claims for episode id the first free slug among base, base-2,
// base-3... and returns it. Slugs the cache knows other episodes hold are
// skipped without asking the store; the store decides for the others.
func (s *Service) claimSlug(ctx context.Context, show, id, base string) (string, error) {
	base = cmp.Or(base, "episode")
	taken := s.takenSlugs(show, id)
	tries := 0
	for n := 1; n <= len(taken)+maxClaimTries; n++ {
		slug := nthSlug(base, n)
		if taken[slug] {
			continue
		}
		if tries++; tries > maxClaimTries {
			break
		}
		ok, err := s.claim(ctx, show, slug, id)
		if err != nil {
			return "", fmt.Errorf("claim the slug %q: %w", slug, err)
		}
		if ok {
			return slug, nil
		}
	}
	return "", fmt.Errorf("claim a slug for %q: %d taken in a row: %w", base, maxClaimTries, ErrConflict)
}

// takenSlugs is the set of slugs the cache knows episodes of the show
// other than self hold, with the reserved ones.
func (s *Service) takenSlugs(show, self string) map[string]bool {
	taken := maps.Clone(reservedEpisodeSlugs)
	eps, _ := s.cat.episodesOf(show)
	for _, e := range eps {
		if e.ID != self {
			taken[e.Slug] = true
		}
	}
	return taken
}

// claim tries to make episode id the holder of slug. It reports whether
// id holds it now: true when the claim was created, was already id's, was
// released or was abandoned and taken over; false when another episode
// holds it.
func (s *Service) claim(ctx context.Context, show, slug, id string) (bool, error) {
	holds, _, err := bucket.Claim(ctx, s.blobs, slugClaimKey(show, slug), id, s.opts.Now(), func(held bucket.ClaimDoc) (bool, error) {
		return s.abandoned(ctx, show, slug, held)
	})
	return holds, err
}

// abandoned reports whether a claim of slug is older than claimGrace and
// its episode, read from the store, does not hold that slug (it does not
// exist, or has another slug).
func (s *Service) abandoned(ctx context.Context, show, slug string, c bucket.ClaimDoc) (bool, error) {
	if c.Owner() == "" {
		return false, nil // released already
	}
	if s.opts.Now().Sub(c.Since) < claimGrace {
		return false, nil
	}
	var e Episode
	_, err := bucket.Read(ctx, s.blobs, episodeKey(show, c.Owner()), &e)
	switch {
	case errors.Is(err, ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return e.Slug != slug, nil
}

// releaseSlug releases the claim of slug if episode id holds it, with a
// conditional write. It is best effort: a claim left behind is abandoned,
// taken over after claimGrace and released by check --repair.
func (s *Service) releaseSlug(ctx context.Context, show, slug, id string) {
	bucket.Release(ctx, s.blobs, slugClaimKey(show, slug), id)
}

// claimEntry is a claim as listed in the store.
type claimEntry struct {
	show, slug string
	key        string
	claim      bucket.ClaimDoc
}

// parseClaimKey splits shows/<show>/slugs/<slug>.json.
func parseClaimKey(key string) (show, slug string, ok bool) {
	rest, ok := strings.CutPrefix(key, showsPrefix)
	if !ok {
		return "", "", false
	}
	show, rest, ok = strings.Cut(rest, "/")
	if !ok || show == "" {
		return "", "", false
	}
	name, ok := strings.CutPrefix(rest, slugsDir)
	if !ok || strings.Contains(name, "/") {
		return "", "", false
	}
	slug, ok = strings.CutSuffix(name, docExtension)
	return show, slug, ok && slug != ""
}

// readClaims reads every slug claim of the store.
func (s *Service) readClaims(ctx context.Context) ([]claimEntry, error) {
	var out []claimEntry
	for info, err := range s.blobs.List(ctx, showsPrefix) {
		if err != nil {
			return nil, fmt.Errorf("list the slug claims: %w", err)
		}
		show, slug, ok := parseClaimKey(info.Key)
		if !ok {
			continue
		}
		held, _, err := bucket.ReadClaim(ctx, s.blobs, info.Key)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // removed since the listing (by an older antenne)
			}
			return nil, err
		}
		if held.Owner() == "" {
			continue // released: free for anyone
		}
		out = append(out, claimEntry{show: show, slug: slug, key: info.Key, claim: held})
	}
	return out, nil
}

// slugHolders groups the episodes of each show of cat by slug, each group
// oldest first (OlderFirst): the first keeps the slug.
func slugHolders(cat *catalog) map[string]map[string][]*Episode {
	cat.mu.RLock()
	defer cat.mu.RUnlock()
	out := map[string]map[string][]*Episode{}
	for show, st := range cat.shows {
		bySlug := map[string][]*Episode{}
		for _, e := range st.episodes {
			bySlug[e.doc.Slug] = append(bySlug[e.doc.Slug], e.doc)
		}
		for _, eps := range bySlug {
			slices.SortFunc(eps, OlderFirst)
		}
		out[show] = bySlug
	}
	return out
}

// checkSlugs reports, for a catalog freshly read from the store, the
// episodes sharing a slug with an older one ("duplicate-slug"), the slugs
// whose claim is missing or names another episode ("missing-claim"), and
// the claims older than claimGrace whose episode does not hold the slug
// ("orphan-claim").
func (s *Service) checkSlugs(ctx context.Context, cat *catalog) ([]Problem, error) {
	claims, err := s.readClaims(ctx)
	if err != nil {
		return nil, err
	}
	holders := slugHolders(cat)
	claimOf := map[string]bucket.ClaimDoc{}
	for _, c := range claims {
		claimOf[c.key] = c.claim
	}
	var out []Problem
	for _, show := range slices.Sorted(maps.Keys(holders)) {
		for _, slug := range slices.Sorted(maps.Keys(holders[show])) {
			eps := holders[show][slug]
			for _, e := range eps[1:] {
				out = append(out, Problem{Key: episodeKey(show, e.ID), Kind: "duplicate-slug",
					Detail: fmt.Sprintf("the slug %q is also the older episode %s's: repair gives this one the next free slug", slug, eps[0].ID)})
			}
			key := slugClaimKey(show, slug)
			switch c, ok := claimOf[key]; {
			case !ok:
				out = append(out, Problem{Key: key, Kind: "missing-claim", Detail: fmt.Sprintf("episode %s holds the slug without a claim", eps[0].ID)})
			case c.Owner() != eps[0].ID:
				out = append(out, Problem{Key: key, Kind: "missing-claim", Detail: fmt.Sprintf("the claim names episode %s, but episode %s holds the slug", c.Owner(), eps[0].ID)})
			}
		}
	}
	for _, c := range claims {
		if len(holders[c.show][c.slug]) > 0 || s.opts.Now().Sub(c.claim.Since) < claimGrace {
			continue
		}
		out = append(out, Problem{Key: c.key, Kind: "orphan-claim", Detail: fmt.Sprintf("no episode holds the slug (the claim names episode %s)", c.claim.Owner())})
	}
	return out, nil
}

// SlugRepair is one change RepairSlugs made.
type SlugRepair struct {
	Key    string // the episode document or the claim changed
	Action string // "renamed", "claimed", "released"
	Detail string
}

// RepairSlugs makes the slugs of the store unique and claimed, the same
// way whoever runs it: of episodes sharing a slug, the oldest (OlderFirst)
// keeps it and each other one, oldest first, is renamed to the next free
// slug (claimed; the shared one goes to its FormerSlugs, whose page
// redirects while no other episode holds it); every slug gets a claim
// naming its holder; claims older than claimGrace that no episode holds
// are deleted. It reads the store afresh first.
func (s *Service) RepairSlugs(ctx context.Context) ([]SlugRepair, error) {
	if _, err := s.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("repair slugs: %w", err)
	}
	var done []SlugRepair
	var errs []error
	holders := slugHolders(s.cat)
	for _, show := range slices.Sorted(maps.Keys(holders)) {
		var losers []*Episode
		for _, slug := range slices.Sorted(maps.Keys(holders[show])) {
			eps := holders[show][slug]
			losers = append(losers, eps[1:]...)
			claimed, err := s.forceClaim(ctx, show, slug, eps[0].ID)
			if err != nil {
				errs = append(errs, err)
			} else if claimed {
				done = append(done, SlugRepair{Key: slugClaimKey(show, slug), Action: "claimed", Detail: "for episode " + eps[0].ID})
			}
		}
		slices.SortFunc(losers, OlderFirst)
		for _, e := range losers {
			cur, err := s.Episode(show, e.ID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			slug, err := s.claimSlug(ctx, show, e.ID, cur.Slug)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if _, err := s.UpdateEpisode(ctx, show, e.ID, cur.Revision, func(e *Episode) error {
				e.Slug = slug
				return nil
			}); err != nil {
				s.releaseSlug(context.WithoutCancel(ctx), show, slug, e.ID)
				errs = append(errs, fmt.Errorf("rename episode %s: %w", e.ID, err))
				continue
			}
			done = append(done, SlugRepair{Key: episodeKey(show, e.ID), Action: "renamed",
				Detail: fmt.Sprintf("%s -> %s (the old page URL redirects)", cur.Slug, slug)})
		}
	}
	claims, err := s.readClaims(ctx)
	if err != nil {
		return done, errors.Join(append(errs, err)...)
	}
	for _, c := range claims {
		abandoned, err := s.abandoned(ctx, c.show, c.slug, c.claim)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !abandoned {
			continue
		}
		if err := bucket.Release(ctx, s.blobs, c.key, c.claim.Owner()); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", c.key, err))
			continue
		}
		done = append(done, SlugRepair{Key: c.key, Action: "released", Detail: "no episode holds the slug (the claim named episode " + c.claim.Owner() + ")"})
	}
	return done, errors.Join(errs...)
}

// forceClaim makes episode id, which holds slug in its document, the
// holder of the slug's claim: the claim is created, or taken from an
// episode that does not hold the slug. It reports whether it changed the
// claim.
func (s *Service) forceClaim(ctx context.Context, show, slug, id string) (bool, error) {
	holds, wrote, err := bucket.Claim(ctx, s.blobs, slugClaimKey(show, slug), id, s.opts.Now(), func(bucket.ClaimDoc) (bool, error) { return true, nil })
	if err == nil && !holds {
		err = fmt.Errorf("claim %s for episode %s: %w", slugClaimKey(show, slug), id, ErrConflict)
	}
	return wrote, err
}

// sweepClaims releases the abandoned claims of the cached shows: claims of
// a slug no cached episode holds, older than claimGrace and whose episode,
// read from the store, does not hold the slug. It returns the keys
// released.
func (s *Service) sweepClaims(ctx context.Context) ([]string, error) {
	holders := slugHolders(s.cat)
	var released []string
	var errs []error
	for _, show := range slices.Sorted(maps.Keys(holders)) {
		for info, err := range s.blobs.List(ctx, slugClaimsPrefix(show)) {
			if err != nil {
				errs = append(errs, fmt.Errorf("list the slug claims of %s: %w", show, err))
				break
			}
			_, slug, ok := parseClaimKey(info.Key)
			if !ok || len(holders[show][slug]) > 0 {
				continue
			}
			held, _, err := bucket.ReadClaim(ctx, s.blobs, info.Key)
			if err != nil {
				if !errors.Is(err, ErrNotFound) {
					errs = append(errs, err)
				}
				continue
			}
			abandoned, err := s.abandoned(ctx, show, slug, held)
			if err == nil && abandoned {
				err = bucket.Release(ctx, s.blobs, info.Key, held.Owner())
				if err == nil {
					released = append(released, info.Key)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("sweep the claim %s: %w", info.Key, err))
			}
		}
	}
	return released, errors.Join(errs...)
}
