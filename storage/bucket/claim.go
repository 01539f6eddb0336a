package bucket

import (
	"context"
	"fmt"
	"time"
)

// A claim is a unique name held by one owner: a small document at a key
// derived from the name, created with If-None-Match so that of two
// claimants racing on several replicas exactly one wins. A claim is never
// deleted: releasing it writes it free with If-Match, so that a claim
// taken over between a read and the release is never lost (a delete
// cannot be conditional on every store). A free claim is taken again like
// a missing one.

// ClaimDoc is the document of a claim.
type ClaimDoc struct {
	Version int `json:"version"`
	// Holder is the owner of the name; empty when released.
	Holder string `json:"holder,omitempty"`
	// Since is when the holder took it.
	Since time.Time `json:"created"`
	// Episode is the holder as written by antenne before the layer:
	// read, never written.
	Episode string `json:"episode,omitempty"`
}

// Owner is the holder, read from either field.
func (c *ClaimDoc) Owner() string {
	if c.Holder != "" || c.Episode == "" {
		return c.Holder
	}
	return c.Episode
}

// maxClaim bounds a claim document.
const maxClaim = 4 << 10

// ReadClaim reads the claim at key and its revision; ErrNotFound when
// there is none.
func ReadClaim(ctx context.Context, s Getter, key string) (ClaimDoc, string, error) {
	var c ClaimDoc
	rev, err := ReadLimit(ctx, s, key, &c, maxClaim)
	return c, rev, err
}

// Claim makes owner the holder of the claim at key, at time now. It
// creates the claim, finds it already owner's, takes a released one, or
// takes it over when takeOver, asked with the claim another owner holds,
// says that owner may lose it (takeOver must re-read what the claim
// protects: a claim is never contradicted from a cache). It reports
// whether owner holds the claim now and whether this call wrote it;
// holds is false when another owner keeps it or won a race.
func Claim(ctx context.Context, s Store, key, owner string, now time.Time, takeOver func(held ClaimDoc) (bool, error)) (holds, wrote bool, err error) {
	if owner == "" {
		return false, false, fmt.Errorf("claim %s: no owner", key)
	}
	mine := ClaimDoc{Version: SchemaVersion, Holder: owner, Since: now.UTC()}
	_, err = WriteLimit(ctx, s, key, &mine, "", maxClaim)
	if err == nil {
		return true, true, nil
	}
	if !IsConflict(err) {
		return false, false, err
	}
	held, rev, err := ReadClaim(ctx, s, key)
	switch {
	case IsNotFound(err):
		return false, false, nil // deleted by an older antenne meanwhile: the caller tries again
	case err != nil:
		return false, false, err
	case held.Owner() == owner:
		return true, false, nil
	}
	if held.Owner() != "" {
		if ok, err := takeOver(held); err != nil || !ok {
			return false, false, err
		}
	}
	_, err = WriteLimit(ctx, s, key, &mine, rev, maxClaim)
	if IsConflict(err) || IsNotFound(err) {
		return false, false, nil // someone else came first
	}
	return err == nil, err == nil, err
}

// Release frees the claim at key if owner holds it, with a conditional
// write: a claim another owner took meanwhile is left alone. A missing
// claim or one of another owner is not an error.
func Release(ctx context.Context, s Store, key, owner string) error {
	held, rev, err := ReadClaim(ctx, s, key)
	switch {
	case IsNotFound(err):
		return nil
	case err != nil:
		return err
	case held.Owner() != owner:
		return nil
	}
	free := ClaimDoc{Version: SchemaVersion, Since: held.Since}
	_, err = WriteLimit(ctx, s, key, &free, rev, maxClaim)
	if IsConflict(err) || IsNotFound(err) {
		return nil // taken over meanwhile: not ours to release
	}
	return err
}
