package accounts

import (
	"cmp"
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
	// Used is when the token was spent: by the setup page (Admin names
	// the admin it made) or by an admin created another way (the CLI,
	// the hosts page), which voids it.
	Used  time.Time `json:"used,omitzero"`
	Admin string    `json:"admin,omitempty"`
}

// adminInStore reports whether an enabled admin exists in the store, as
// a fresh listing of the host documents says (not the cache, which may be
// seconds behind an admin made by the CLI or another replica).
func (s *Service) adminInStore(ctx context.Context) (bool, error) {
	if err := s.refreshHosts(ctx); err != nil {
		return false, fmt.Errorf("look for an admin: %w", err)
	}
	return s.HasAdmin(), nil
}

// IssueSetupToken makes the one-time token of the first-run setup page
// while no admin exists in the store: a random token whose SHA-256 is
// stored, so that the link works on any replica. The document is created
// with If-None-Match: *; when one exists (an earlier start, another
// replica, or a token spent by a setup whose admin could not be created),
// it is replaced with If-Match on its ETag: the link logged last is the
// one that works, and a failed first run never leaves the store without
// a way in. ok is false, without error, when an admin exists.
func (s *Service) IssueSetupToken(ctx context.Context) (token string, ok bool, err error) {
	if admin, err := s.adminInStore(ctx); admin || err != nil {
		return "", false, err
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
		_, err = bucket.Write(ctx, s.blobs, setupKey, &doc, etag)
	}
	if err != nil {
		return "", false, fmt.Errorf("store the setup token: %w", err)
	}
	return token, true, nil
}

// CheckSetupToken reports whether token opens the setup page: it is the
// one in the store, unused, and no admin exists in the store. Otherwise
// ErrNoSetup.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	_, _, err := s.readSetup(ctx, token)
	return err
}

// readSetup reads the setup document from the store and checks token
// against it, then that no admin exists in the store.
func (s *Service) readSetup(ctx context.Context, token string) (setupDoc, string, error) {
	var doc setupDoc
	if token == "" || len(token) > 128 {
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
	if admin, err := s.adminInStore(ctx); err != nil || admin {
		return doc, "", cmp.Or(err, ErrNoSetup)
	}
	return doc, etag, nil
}

// SetupAdmin spends the setup token and creates the first admin, h, with
// password: the token is marked used with a conditional write (If-Match
// on the version read), so that of two requests with the same link, on
// any replicas, one only goes on (the other gets ErrNoSetup, as does any
// later use, or any use once an admin exists in the store); then the
// admin is created. When that fails (a taken login, the store away), the
// token is given back with a conditional write, so that the link works
// again; if even that fails, the next start, finding no admin, issues a
// new link (IssueSetupToken). Either way the store is never left without
// an admin and without a working link.
func (s *Service) SetupAdmin(ctx context.Context, token string, h Host, password string) (*Host, error) {
	doc, etag, err := s.readSetup(ctx, token)
	if err != nil {
		return nil, err
	}
	doc.Used, doc.Admin = s.now().UTC(), h.Login
	spent, err := bucket.Write(ctx, s.blobs, setupKey, &doc, etag)
	if errors.Is(err, bucket.ErrConflict) {
		return nil, ErrNoSetup
	}
	if err != nil {
		return nil, fmt.Errorf("use the setup token: %w", err)
	}
	h.Admin = true
	created, err := s.AddHost(ctx, h, password)
	if err != nil {
		doc.Used, doc.Admin = time.Time{}, ""
		if _, gerr := bucket.Write(context.WithoutCancel(ctx), s.blobs, setupKey, &doc, spent); gerr != nil {
			err = errors.Join(err, fmt.Errorf("give back the setup token: %w", gerr))
		}
		return nil, err
	}
	return created, nil
}

// voidSetupToken spends the setup token, if one is unused, before an
// admin is created another way than by the setup page: from then on the
// logged link answers 404, even if no admin exists again later (the next
// start logs a new one).
func (s *Service) voidSetupToken(ctx context.Context) error {
	for range 3 {
		var doc setupDoc
		etag, err := bucket.Read(ctx, s.blobs, setupKey, &doc)
		if errors.Is(err, bucket.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("void the setup token: %w", err)
		}
		if !doc.Used.IsZero() {
			return nil
		}
		doc.Used = s.now().UTC()
		_, err = bucket.Write(ctx, s.blobs, setupKey, &doc, etag)
		if !errors.Is(err, bucket.ErrConflict) {
			if err != nil {
				return fmt.Errorf("void the setup token: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("void the setup token: %w", bucket.ErrConflict)
}
