// Package accounts keeps the host accounts of the studio and the API: who
// may sign in, with which password (bcrypt) or API token (only its SHA-256
// is stored), on which shows, and the key that signs the studio's
// sessions. Accounts live in the store beside the catalog, one document a
// login (hosts/<login>.json), written with conditional writes so that
// replicas never lose each other's changes.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
)

// Host accounts live beside the shows, one document per login:
// hosts/<login>.json (docs/bucket.md lists every key).
const hostsPrefix = "hosts/"

func hostKey(login string) string { return hostsPrefix + login + docExtension }

const docExtension = ".json"

// Shows tells whether a show exists; *episodes.Service satisfies it.
type Shows interface {
	Show(slug string) (*episodes.Show, error)
}

// Service keeps the host accounts: an in-memory copy refreshed from the
// store (Refresh, Run), and every change written through to the store. It
// is safe for concurrent use.
type Service struct {
	blobs bucket.Store
	shows Shows
	now   func() time.Time
	hosts *hostCache
	uses  tokenUses
	// rereads bounds the re-reads of the accounts for unknown tokens.
	rereads rereads
}

// New returns the accounts kept in store. shows validates the shows a host
// is given; now is the clock (time.Now when nil). Call Refresh (or Run)
// before serving.
func New(store bucket.Store, shows Shows, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{blobs: store, shows: shows, now: now, hosts: newHostCache(), uses: tokenUses{last: map[tokenRef]time.Time{}}}
}

// Refresh brings the accounts in line with the store: hosts added,
// changed or removed by other processes.
func (s *Service) Refresh(ctx context.Context) error { return s.refreshHosts(ctx) }

// Run refreshes the accounts every interval and writes the tokens' last
// uses every minute (see HostByToken) until ctx is done, then tries once
// more to write the uses still pending (for at most 5 s; a process exiting
// meanwhile loses them, which costs only the precision of LastUsed).
// Failures go to report.
func (s *Service) Run(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	flush := time.NewTicker(tokenFlushInterval)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.FlushTokenUses(last); err != nil {
				report(err)
			}
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				report(err)
			}
		case <-flush.C:
			if err := s.FlushTokenUses(ctx); err != nil && ctx.Err() == nil {
				report(err)
			}
		}
	}
}

func invalid(field, key, format string, args ...any) error {
	return episodes.Invalid(field, key, format, args...)
}

// ErrBadCredentials: the login, password or token is wrong. It never tells
// which, so that nobody can find out which logins exist.
var ErrBadCredentials = errors.New("wrong login or password")

// ErrMustChangePassword: the host's password was reset by an admin and
// the host has not chosen a new one yet; until then the account does
// nothing else (no token is made, none works).
var ErrMustChangePassword = errors.New("the host must choose a new password first")

// Password rules. bcrypt reads at most 72 bytes: a longer password is
// refused rather than silently cut.
const (
	MinPasswordLen = 8
	maxPasswordLen = 72
	bcryptCost     = bcrypt.DefaultCost
	// tokenPrefix marks antenne tokens so that secret scanners and humans
	// recognise them.
	tokenPrefix = "ant_"
	// tokenTouchEvery bounds the writes of Token.LastUsed: at most one a
	// token an hour.
	tokenTouchEvery = time.Hour
)

// Host is a person who may sign in to the studio and use the API. Admins
// manage every show and the host accounts; other hosts act only on the
// shows listed in Shows. It is stored as hosts/<login>.json.
type Host struct {
	Version int    `json:"version"`
	Login   string `json:"login"`
	Name    string `json:"name,omitempty"`
	Admin   bool   `json:"admin"`
	// Shows are the slugs of the shows the host may edit.
	Shows []string `json:"shows,omitempty"`
	// PasswordHash is a bcrypt hash; empty: the host cannot sign in
	// with a password (tokens only).
	PasswordHash string `json:"password_hash,omitempty"`
	// SessionGeneration is bumped when the password changes or the host
	// signs out everywhere: sessions signed with an older one are void.
	SessionGeneration int `json:"session_generation"`
	// ID is random, drawn when the account is created: a login removed
	// and created again is another account, and the sessions of the old
	// one do not open the new one (see Identity). Empty for accounts
	// created before it existed.
	ID string `json:"id,omitempty"`
	// RevokedSessions are sessions signed out one by one, kept until they
	// would have expired.
	RevokedSessions []RevokedSession `json:"revoked_sessions,omitempty"`
	// Disabled hosts cannot sign in or use their tokens; the account and
	// its history stay.
	Disabled bool `json:"disabled,omitempty"`
	// MustChangePassword is set when an admin resets the password: the
	// host must choose a new one at the next sign-in.
	MustChangePassword bool      `json:"must_change_password,omitempty"`
	Tokens             []Token   `json:"tokens,omitempty"`
	Created            time.Time `json:"created"`
	Updated            time.Time `json:"updated"`
	// Revision identifies the stored version; not stored.
	Revision string `json:"-"`
}

// Token is an API token of a host. The token itself is shown once, at
// creation; only its SHA-256 is stored.
type Token struct {
	ID       string    `json:"id"`
	Hash     string    `json:"hash"` // hex SHA-256 of the token
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	// Expires is when the token stops working: TokenTTL after its
	// creation. A token made before tokens expired has none and expires
	// TokenTTL after Created.
	Expires time.Time `json:"expires,omitzero"`
}

// TokenTTL is how long an API token works: a year, then the host makes a
// new one (antenne hosts token). A leaked token that nobody revoked stops
// working by itself.
const TokenTTL = 365 * 24 * time.Hour

// ExpiresAt is when the token stops working.
func (t Token) ExpiresAt() time.Time {
	if t.Expires.IsZero() {
		return t.Created.Add(TokenTTL)
	}
	return t.Expires
}

// RevokedSession is a session signed out (Service.RevokeSession).
type RevokedSession struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
}

// maxRevokedSessions bounds Host.RevokedSessions: beyond it, a sign-out
// ends every session of the host (the generation is bumped) and the list
// starts again.
const maxRevokedSessions = 64

// Identity names this account, not its login: its ID and creation time.
// A session records it, and opens only the account it was made for.
func (h *Host) Identity() string {
	return h.ID + "@" + strconv.FormatInt(h.Created.UnixNano(), 36)
}

// SessionRevoked reports whether the session id was signed out.
func (h *Host) SessionRevoked(id string) bool {
	return slices.ContainsFunc(h.RevokedSessions, func(r RevokedSession) bool { return r.ID == id })
}

func (h *Host) clone() *Host {
	c := *h
	c.RevokedSessions = slices.Clone(h.RevokedSessions)
	c.Shows = slices.Clone(h.Shows)
	c.Tokens = slices.Clone(h.Tokens)
	return &c
}

var loginPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidLogin reports whether s can be a login: 1 to 64 lowercase ASCII
// letters, digits, dots, hyphens and underscores, starting with a letter or
// digit.
func ValidLogin(s string) bool { return loginPattern.MatchString(s) && !strings.Contains(s, "..") }

// hostCache is the in-memory copy of the host documents, refreshed from
// the store. Like the catalog's cache, it numbers its changes so that a
// refresh never undoes a change made (by a write or a fresh read) after
// the refresh began: the refresh's listing may predate it.
type hostCache struct {
	mu    sync.RWMutex
	hosts map[string]cachedHost
	// byToken maps a token's hash to the login that owns it.
	byToken map[string]string
	// seq numbers the changes applied to the cache.
	seq uint64
}

// cachedHost is a host document with the ETag it was read or written at
// and the number of the change that cached it. A nil doc records a host
// removed by this process, until the refreshes that may still list it are
// over.
type cachedHost struct {
	doc  *Host
	etag string
	seq  uint64
}

func newHostCache() *hostCache {
	return &hostCache{hosts: map[string]cachedHost{}, byToken: map[string]string{}}
}

// set caches what this process just wrote or read of a host; a nil h
// records its removal.
func (c *hostCache) set(login string, h *Host, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.putLocked(login, h, etag, c.seq)
}

func (c *hostCache) putLocked(login string, h *Host, etag string, seq uint64) {
	if old, ok := c.hosts[login]; ok && old.doc != nil {
		for _, t := range old.doc.Tokens {
			delete(c.byToken, t.Hash)
		}
	}
	c.hosts[login] = cachedHost{doc: h, etag: etag, seq: seq}
	if h == nil {
		return
	}
	for _, t := range h.Tokens {
		c.byToken[t.Hash] = login
	}
}

func (c *hostCache) get(login string) (*Host, string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	h, ok := c.hosts[login]
	if !ok || h.doc == nil {
		return nil, "", false
	}
	return h.doc, h.etag, true
}

// tokenOwner is the login of the host whose token has this hash.
func (c *hostCache) tokenOwner(hash string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	login, ok := c.byToken[hash]
	return login, ok
}

// startSeq is the number of the last change cached, read when a refresh
// begins.
func (c *hostCache) startSeq() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.seq
}

// refreshHosts brings the host cache in line with the store. What this
// process cached after the refresh began (a host added, changed, removed
// or read afresh) is left as it is.
func (s *Service) refreshHosts(ctx context.Context) error {
	start := s.hosts.startSeq()
	seen := map[string]string{}
	for info, err := range s.blobs.List(ctx, hostsPrefix) {
		if err != nil {
			return fmt.Errorf("list the hosts: %w", err)
		}
		name, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, hostsPrefix), docExtension)
		if !ok || !ValidLogin(name) {
			continue
		}
		seen[name] = info.ETag
	}
	type read struct {
		h    *Host // nil: gone since the listing
		etag string
	}
	reads := map[string]read{}
	var errs []error
	for login, etag := range seen {
		if _, have, ok := s.hosts.get(login); ok && have == etag {
			continue
		}
		h, etag, err := s.loadHost(ctx, login)
		switch {
		case errors.Is(err, bucket.ErrNotFound):
			reads[login] = read{}
		case err != nil:
			errs = append(errs, err)
		default:
			reads[login] = read{h, etag}
		}
	}

	c := s.hosts
	c.mu.Lock()
	defer c.mu.Unlock()
	for login, r := range reads {
		if c.hosts[login].seq > start {
			continue
		}
		c.seq++
		c.putLocked(login, r.h, r.etag, c.seq)
	}
	for login, h := range c.hosts {
		if h.seq > start {
			continue
		}
		if _, listed := seen[login]; !listed || h.doc == nil {
			c.putLocked(login, nil, "", 0)
			delete(c.hosts, login)
			c.seq++
		}
	}
	return errors.Join(errs...)
}

// loadHost reads a host document from the store.
func (s *Service) loadHost(ctx context.Context, login string) (*Host, string, error) {
	var h Host
	etag, err := bucket.Read(ctx, s.blobs, hostKey(login), &h)
	if errors.Is(err, bucket.ErrNotFound) {
		return nil, "", fmt.Errorf("host %q: %w", login, bucket.ErrNotFound)
	}
	if err != nil {
		return nil, "", err
	}
	if h.Login != login {
		return nil, "", fmt.Errorf("%s: login %q does not match its key", hostKey(login), h.Login)
	}
	return &h, etag, nil
}

// readHost reads a host document from the store into the cache.
func (s *Service) readHost(ctx context.Context, login string) (*Host, error) {
	h, etag, err := s.loadHost(ctx, login)
	if errors.Is(err, bucket.ErrNotFound) {
		s.hosts.set(login, nil, "")
	}
	if err != nil {
		return nil, err
	}
	s.hosts.set(login, h, etag)
	c := h.clone()
	c.Revision = etag
	return c, nil
}

// Hosts lists the host accounts, by login.
func (s *Service) Hosts() []*Host {
	s.hosts.mu.RLock()
	defer s.hosts.mu.RUnlock()
	out := make([]*Host, 0, len(s.hosts.hosts))
	for _, h := range s.hosts.hosts {
		if h.doc == nil {
			continue
		}
		c := h.doc.clone()
		c.Revision = h.etag
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Host) int { return strings.Compare(a.Login, b.Login) })
	return out
}

// Host returns a host account from the cache, or bucket.ErrNotFound.
func (s *Service) Host(login string) (*Host, error) {
	h, etag, ok := s.hosts.get(login)
	if !ok {
		return nil, fmt.Errorf("host %q: %w", login, bucket.ErrNotFound)
	}
	c := h.clone()
	c.Revision = etag
	return c, nil
}

// AddHost creates a host account. password may be empty (the host then
// signs in only once a password is set). Creating an admin spends the
// first-run setup link first (see SetupAdmin). It fails with bucket.ErrConflict when
// the login is taken and ErrInvalid for a bad login, password or show.
func (s *Service) AddHost(ctx context.Context, h Host, password string) (*Host, error) {
	if !ValidLogin(h.Login) {
		return nil, invalid("login", "login.malformed", "%q is not a login: use 1 to 64 lowercase letters, digits, dots, hyphens or underscores", h.Login)
	}
	if err := s.checkHostShows(h.Shows); err != nil {
		return nil, err
	}
	if err := episodes.CheckText("name", h.Name, 255); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	h.Version = bucket.SchemaVersion
	h.Created, h.Updated = now, now
	h.Tokens, h.Revision, h.PasswordHash, h.RevokedSessions = nil, "", "", nil
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("add host: %w", err)
	}
	h.ID = hex.EncodeToString(id[:])
	h.Shows = slices.Compact(slices.Sorted(slices.Values(h.Shows)))
	if password != "" {
		hash, err := hashPassword(password)
		if err != nil {
			return nil, err
		}
		h.PasswordHash = hash
	}
	if h.Admin {
		// The first-run link has done its job once an admin exists,
		// whoever made it (the CLI, another replica).
		if err := s.voidSetupToken(ctx); err != nil {
			return nil, fmt.Errorf("add host %q: %w", h.Login, err)
		}
	}
	etag, err := bucket.Write(ctx, s.blobs, hostKey(h.Login), &h, "")
	if err != nil {
		if errors.Is(err, bucket.ErrConflict) {
			return nil, fmt.Errorf("host %q already exists: %w", h.Login, bucket.ErrConflict)
		}
		return nil, err
	}
	s.hosts.set(h.Login, h.clone(), etag)
	return s.Host(h.Login)
}

func (s *Service) checkHostShows(shows []string) error {
	for _, sh := range shows {
		if _, err := s.shows.Show(sh); err != nil {
			return invalid("shows", "show.unknown", "there is no show %q", sh)
		}
	}
	return nil
}

// UpdateHost applies edit to a host account (name, admin, shows) and
// stores it. The login, password hash, tokens, session generation and the
// disabled and must-change-password marks cannot be changed by edit (see
// SetPassword, ResetPassword, SetDisabled). revision "" means the current version.
func (s *Service) UpdateHost(ctx context.Context, login, revision string, edit func(*Host) error) (*Host, error) {
	return s.updateHost(ctx, login, revision, func(h *Host) error {
		keep := h.clone()
		if err := edit(h); err != nil {
			return err
		}
		h.Login, h.PasswordHash, h.Tokens, h.SessionGeneration, h.Created = keep.Login, keep.PasswordHash, keep.Tokens, keep.SessionGeneration, keep.Created
		h.ID, h.RevokedSessions = keep.ID, keep.RevokedSessions
		h.Disabled, h.MustChangePassword = keep.Disabled, keep.MustChangePassword
		h.Shows = slices.Compact(slices.Sorted(slices.Values(h.Shows)))
		if err := episodes.CheckText("name", h.Name, 255); err != nil {
			return err
		}
		return s.checkHostShows(h.Shows)
	})
}

// updateHost reads the host from the store (not the cache: credentials
// must not be lost to a stale copy), applies edit and writes it back over
// that version.
func (s *Service) updateHost(ctx context.Context, login, revision string, edit func(*Host) error) (*Host, error) {
	cur, err := s.readHost(ctx, login)
	if err != nil {
		return nil, err
	}
	if revision != "" && revision != cur.Revision {
		return nil, fmt.Errorf("host %q: %w", login, bucket.ErrConflict)
	}
	h := cur.clone()
	if err := edit(h); err != nil {
		return nil, err
	}
	h.Version = bucket.SchemaVersion
	h.Updated = s.now().UTC()
	h.Revision = ""
	etag, err := bucket.Write(ctx, s.blobs, hostKey(login), h, cur.Revision)
	if err != nil {
		return nil, err
	}
	s.hosts.set(login, h.clone(), etag)
	return s.Host(login)
}

// SetPassword changes a host's password and signs them out of every
// session. It clears MustChangePassword.
func (s *Service) SetPassword(ctx context.Context, login, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	_, err = s.updateHost(ctx, login, "", func(h *Host) error {
		h.PasswordHash = hash
		h.MustChangePassword = false
		h.SessionGeneration++
		return nil
	})
	return err
}

// ResetPassword is an admin's reset: the host's password becomes
// temporary, every session ends, every API token is revoked (a reset is
// what an admin does when the account may be in other hands), and the
// host must choose a new password at the next sign-in
// (MustChangePassword): until then CreateToken refuses and the studio
// opens nothing but the password form.
func (s *Service) ResetPassword(ctx context.Context, login, temporary string) error {
	hash, err := hashPassword(temporary)
	if err != nil {
		return err
	}
	_, err = s.updateHost(ctx, login, "", func(h *Host) error {
		h.PasswordHash = hash
		h.MustChangePassword = true
		h.SessionGeneration++
		h.RevokedSessions = nil // all void with the generation
		h.Tokens = nil
		return nil
	})
	return err
}

// ChangePassword is a host changing their own password: current must be
// right (else ErrBadCredentials), then it works as SetPassword.
func (s *Service) ChangePassword(ctx context.Context, login, current, password string) error {
	if _, err := s.Authenticate(ctx, login, current); err != nil {
		return err
	}
	return s.SetPassword(ctx, login, password)
}

// SetDisabled disables (or enables again) a host: a disabled host cannot
// sign in, its sessions end and its tokens stop working.
func (s *Service) SetDisabled(ctx context.Context, login string, disabled bool) error {
	_, err := s.updateHost(ctx, login, "", func(h *Host) error {
		h.Disabled = disabled
		h.SessionGeneration++
		return nil
	})
	return err
}

// HasAdmin reports whether an admin who can sign in (enabled) exists, as
// the cache knows.
func (s *Service) HasAdmin() bool {
	for _, h := range s.Hosts() {
		if h.Admin && !h.Disabled {
			return true
		}
	}
	return false
}

// EndSessions signs the host out of every session (on every replica once
// their caches refresh).
func (s *Service) EndSessions(ctx context.Context, login string) error {
	_, err := s.updateHost(ctx, login, "", func(h *Host) error {
		h.SessionGeneration++
		return nil
	})
	return err
}

// RevokeSession signs out the session id of the host, which would expire
// at expires: it stops opening the account on every replica once their
// caches refresh. Revoked sessions are kept until they expire; beyond
// maxRevokedSessions every session of the host ends instead.
func (s *Service) RevokeSession(ctx context.Context, login, id string, expires time.Time) error {
	now := s.now()
	_, err := s.updateHost(ctx, login, "", func(h *Host) error {
		h.RevokedSessions = slices.DeleteFunc(h.RevokedSessions, func(r RevokedSession) bool { return !r.Expires.After(now) })
		if len(h.RevokedSessions) >= maxRevokedSessions {
			h.SessionGeneration++
			h.RevokedSessions = nil
			return nil
		}
		h.RevokedSessions = append(h.RevokedSessions, RevokedSession{ID: id, Expires: expires.UTC()})
		return nil
	})
	return err
}

// RemoveHost deletes a host account; its sessions and tokens stop working.
func (s *Service) RemoveHost(ctx context.Context, login string) error {
	if _, err := s.readHost(ctx, login); err != nil {
		return err
	}
	if err := s.blobs.Delete(ctx, hostKey(login)); err != nil {
		return fmt.Errorf("remove host %q: %w", login, err)
	}
	s.hosts.set(login, nil, "")
	return nil
}

// dummyHash is checked against when the login is unknown, so that a wrong
// login costs as much time as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("antenne: no such host"), bcryptCost)
	if err != nil {
		panic(err) // only fails for a bad cost or an over-long password
	}
	return h
})

// Authenticate checks a login and password. The host is read from the
// store, so a password changed on another replica counts at once. Any
// failure (unknown login, wrong password, no password set, disabled) is
// ErrBadCredentials, after about the same time; a store failure is
// returned as such.
func (s *Service) Authenticate(ctx context.Context, login, password string) (*Host, error) {
	var h *Host
	if ValidLogin(login) {
		var err error
		h, err = s.readHost(ctx, login)
		if err != nil && !errors.Is(err, bucket.ErrNotFound) {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
	}
	if h == nil || h.PasswordHash == "" || h.Disabled || len(password) > maxPasswordLen {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password[:min(len(password), maxPasswordLen)]))
		return nil, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(h.PasswordHash), []byte(password)) != nil {
		return nil, ErrBadCredentials
	}
	return h, nil
}

// CheckPassword tells whether password may be set: UTF-8, at least
// MinPasswordLen characters, at most 72 bytes. The error is a FieldError
// on password.
func CheckPassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return invalid("password", "password.not_utf8", "the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return invalid("password", "password.too_short", "the password is shorter than %d characters", MinPasswordLen)
	case len(password) > maxPasswordLen:
		return invalid("password", "password.too_long", "the password is longer than %d bytes", maxPasswordLen)
	}
	return nil
}

func hashPassword(password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return string(hash), nil
}

// CreateToken makes a new API token for the host and returns it with its
// description. The token is returned only here: the store keeps its hash.
// A host whose password was reset gets ErrMustChangePassword until they
// choose a new one: the temporary password opens nothing else.
func (s *Service) CreateToken(ctx context.Context, login string) (token string, t Token, err error) {
	var secret [32]byte
	rand.Read(secret[:])
	var id [6]byte
	rand.Read(id[:])
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	now := s.now().UTC()
	t = Token{ID: hex.EncodeToString(id[:]), Hash: tokenHash(token), Created: now, Expires: now.Add(TokenTTL)}
	_, err = s.updateHost(ctx, login, "", func(h *Host) error {
		if h.MustChangePassword {
			return fmt.Errorf("token for host %q: %w", login, ErrMustChangePassword)
		}
		h.Tokens = append(h.Tokens, t)
		return nil
	})
	if err != nil {
		return "", Token{}, err
	}
	return token, t, nil
}

// RevokeToken removes a token of the host, by id; bucket.ErrNotFound when it has
// no such token.
func (s *Service) RevokeToken(ctx context.Context, login, id string) error {
	_, err := s.updateHost(ctx, login, "", func(h *Host) error {
		n := len(h.Tokens)
		h.Tokens = slices.DeleteFunc(h.Tokens, func(t Token) bool { return t.ID == id })
		if len(h.Tokens) == n {
			return fmt.Errorf("token %q of host %q: %w", id, login, bucket.ErrNotFound)
		}
		return nil
	})
	return err
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// HostByToken returns the host that owns an API token, or
// ErrBadCredentials (also for an expired token, see Token.ExpiresAt, and
// for a host who must change their password). It reads the cache: a token revoked on another
// replica stops working there at its next refresh (within RefreshInterval).
// A token the cache does not know makes it read the accounts again (at
// most once a second, see rereadForToken), so that a token just made by
// the CLI or another replica works at once. A known token never calls the
// store: the use is only noted, and Run writes the token's LastUsed later
// (FlushTokenUses), at most once an hour a token.
func (s *Service) HostByToken(ctx context.Context, token string) (*Host, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, ErrBadCredentials
	}
	hash := tokenHash(token)
	login, ok := s.hosts.tokenOwner(hash)
	if !ok && s.rereadForToken(ctx) {
		login, ok = s.hosts.tokenOwner(hash)
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	h, err := s.Host(login)
	if err != nil || h.Disabled || h.MustChangePassword {
		return nil, ErrBadCredentials
	}
	i := slices.IndexFunc(h.Tokens, func(t Token) bool {
		return subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) == 1
	})
	now := s.now().UTC()
	if i < 0 || !now.Before(h.Tokens[i].ExpiresAt()) {
		return nil, ErrBadCredentials
	}
	if now.Sub(h.Tokens[i].LastUsed) > tokenTouchEvery {
		s.uses.note(tokenRef{login, h.Tokens[i].ID}, now)
	}
	return h, nil
}

// CanEdit reports whether the host may act on the show: admins on every
// show, others on theirs.
func (h *Host) CanEdit(show string) bool {
	return h != nil && (h.Admin || slices.Contains(h.Shows, show))
}

// sessionKeyKey is where the key that signs studio sessions is kept, so
// that every replica sharing the store signs and checks alike.
const sessionKeyKey = "secrets/session-key"

// SessionKey returns the 32-byte key that signs studio sessions, creating
// it in the store (with a conditional write: the first replica wins) when
// there is none. Anyone who can read the store can forge sessions: keep
// the bucket private, or set the key outside the store.
func (s *Service) SessionKey(ctx context.Context) ([]byte, error) {
	read := func() ([]byte, error) {
		rc, _, err := s.blobs.Get(ctx, sessionKeyKey, 0, -1)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, 1024))
		if err != nil {
			return nil, err
		}
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s is not a hex key of 32 bytes or more", sessionKeyKey)
		}
		return key, nil
	}
	key, err := read()
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read the session key: %w", err)
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	data := hex.EncodeToString(fresh) + "\n"
	_, err = s.blobs.PutIf(ctx, sessionKeyKey, strings.NewReader(data), int64(len(data)), "text/plain", "")
	switch {
	case err == nil:
		return fresh, nil
	case errors.Is(err, fs.ErrExist):
		if key, err = read(); err == nil {
			return key, nil // another replica made it first
		}
	}
	return nil, fmt.Errorf("create the session key: %w", err)
}
