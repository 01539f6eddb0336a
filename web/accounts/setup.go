package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// setupKey holds the hash of the first-run setup token.
const setupKey = "secrets/setup.json"

// ErrNoSetup: the setup token is unknown, already used, or no longer
// needed (an admin exists). The web answers 404.
var ErrNoSetup = errors.New("no such setup link")

// setupDoc is secrets/setup.json.
type setupDoc struct {
	Hash    string    `json:"hash"` // hex SHA-256 of the token
	Created time.Time `json:"created"`
	Used    time.Time `json:"used,omitzero"`
}

// IssueSetupToken makes the one-time token of the first-run setup page
// while no admin exists (HasAdmin is false after a Refresh): a random
// token whose SHA-256 is stored in the store, so that the link works on
// any replica. The document is created with If-None-Match: *; when one
// exists unused (an earlier start, another replica), it is replaced with
// If-Match on its ETag: the link logged last is the one that works. ok is
// false, without error, when an admin exists or the setup was done.
func (s *Service) IssueSetupToken(ctx context.Context) (token string, ok bool, err error) {
	if s.HasAdmin() {
		return "", false, nil
	}
	var secret [24]byte
	rand.Read(secret[:])
	token = base64.RawURLEncoding.EncodeToString(secret[:])
	doc := setupDoc{Hash: tokenHash(token), Created: s.now().UTC()}
	_, err = bucket.Write(ctx, s.blobs, setupKey, &doc, "")
	if errors.Is(err, bucket.ErrConflict) {
		var cur setupDoc
		etag, rerr := bucket.Read(ctx, s.blobs, setupKey, &cur)
		if rerr != nil {
			return "", false, fmt.Errorf("read the setup token: %w", rerr)
		}
		if !cur.Used.IsZero() {
			return "", false, nil
		}
		_, err = bucket.Write(ctx, s.blobs, setupKey, &doc, etag)
	}
	if err != nil {
		return "", false, fmt.Errorf("store the setup token: %w", err)
	}
	return token, true, nil
}

// CheckSetupToken reports whether token opens the setup page: it is the
// stored one, unused, and no admin exists. Otherwise ErrNoSetup.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	_, _, err := s.readSetup(ctx, token)
	return err
}

func (s *Service) readSetup(ctx context.Context, token string) (setupDoc, string, error) {
	var doc setupDoc
	if token == "" || len(token) > 128 || s.HasAdmin() {
		return doc, "", ErrNoSetup
	}
	etag, err := bucket.Read(ctx, s.blobs, setupKey, &doc)
	if errors.Is(err, bucket.ErrNotFound) {
		return doc, "", ErrNoSetup
	}
	if err != nil {
		return doc, "", fmt.Errorf("read the setup token: %w", err)
	}
	if !doc.Used.IsZero() || subtle.ConstantTimeCompare([]byte(doc.Hash), []byte(tokenHash(token))) != 1 {
		return doc, "", ErrNoSetup
	}
	return doc, etag, nil
}

// ConsumeSetupToken uses the setup token once: it is marked used with a
// conditional write (If-Match on the version read), so that of two
// requests with the same link, on any replicas, one only succeeds; the
// other gets ErrNoSetup, as does any later use.
func (s *Service) ConsumeSetupToken(ctx context.Context, token string) error {
	doc, etag, err := s.readSetup(ctx, token)
	if err != nil {
		return err
	}
	doc.Used = s.now().UTC()
	if _, err := bucket.Write(ctx, s.blobs, setupKey, &doc, etag); err != nil {
		if errors.Is(err, bucket.ErrConflict) {
			return ErrNoSetup
		}
		return fmt.Errorf("use the setup token: %w", err)
	}
	return nil
}
