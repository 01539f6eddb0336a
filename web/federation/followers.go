package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/picasoft/antenne/storage/bucket"
)

// A show's followers are one small document each,
// shows/<show>/followers/<hash of the actor id>.json: following and
// unfollowing on several replicas at once never loses an update.
func followersPrefix(show string) string { return "shows/" + show + "/followers/" }

func followerKey(show, actor string) string {
	sum := sha256.Sum256([]byte(actor))
	return followersPrefix(show) + hex.EncodeToString(sum[:16]) + ".json"
}

// follower is a remote actor following a show. Every field taken from the
// remote actor is within maxURLLength (actorOf and parseActivity check
// it), so a follower document is small.
type follower struct {
	Actor       string    `json:"actor"`
	Inbox       string    `json:"inbox"`
	SharedInbox string    `json:"shared_inbox,omitempty"`
	FollowID    string    `json:"follow_id"` // the Follow activity, for Accept
	Since       time.Time `json:"since"`
}

// deliveryInbox is where activities for f go: its server's shared inbox
// when it has one, else its own.
func (f follower) deliveryInbox() string {
	if f.SharedInbox != "" {
		return f.SharedInbox
	}
	return f.Inbox
}

// errTooManyFollowers refuses a Follow from a host that already has
// Config.MaxFollowersPerHost followers of the show.
var errTooManyFollowers = errors.New("too many followers of this show on that host")

// followerListAge is how old the followers a count or the per-host bound
// relies on may be: within it, a follower page view or a Follow lists
// nothing. An announce always lists (reading only the changed documents).
const followerListAge = 30 * time.Second

// addFollower records f as a follower of show; following again only
// refreshes the record. It refuses the follower of a host over the
// per-host bound.
func (s *Service) addFollower(ctx context.Context, show string, f follower) error {
	key := followerKey(show, f.Actor)
	idx := s.followers.of(show)
	if err := idx.refresh(ctx, s, show, followerListAge, true); err != nil {
		return err
	}
	group := hostGroup(f.Actor)
	if !idx.has(key) && idx.countHost(group) >= s.cfg.MaxFollowersPerHost {
		return fmt.Errorf("%w (%d)", errTooManyFollowers, s.cfg.MaxFollowersPerHost)
	}
	etag, err := writeJSON(ctx, s.cfg.Store, key, f, "")
	if bucket.IsConflict(err) {
		var old follower
		oldTag, rerr := readJSON(ctx, s.cfg.Store, key, &old)
		if rerr != nil && !bucket.IsUnreadable(rerr) {
			return rerr
		}
		if rerr == nil {
			f.Since = old.Since
			if old == f {
				return nil
			}
		}
		etag, err = writeJSON(ctx, s.cfg.Store, key, f, oldTag)
	}
	if err != nil {
		return err
	}
	idx.put(key, followerEntry{etag: etag, inbox: f.deliveryInbox(), group: group})
	return nil
}

// readFollower reads the follower document of actor.
func (s *Service) readFollower(ctx context.Context, show, actor string) (follower, error) {
	var f follower
	_, err := readJSON(ctx, s.cfg.Store, followerKey(show, actor), &f)
	return f, err
}

// removeFollower forgets actor as a follower of show.
func (s *Service) removeFollower(ctx context.Context, show, actor string) error {
	key := followerKey(show, actor)
	if err := s.cfg.Store.Delete(ctx, key); err != nil && !bucket.IsNotFound(err) {
		return fmt.Errorf("remove follower %s: %w", key, err)
	}
	s.followers.of(show).remove(key)
	return nil
}

// deliveryInboxes lists the followers of show (reading only the documents
// that changed since the last listing) and returns the inboxes to deliver
// to so that every follower receives an activity once.
func (s *Service) deliveryInboxes(ctx context.Context, show string) ([]string, error) {
	idx := s.followers.of(show)
	if err := idx.refresh(ctx, s, show, 0, true); err != nil {
		return nil, err
	}
	return idx.inboxes(), nil
}

// FollowerCount is the number of accounts following show, as listed at
// most followerListAge ago. It lists, and reads no document.
func (s *Service) FollowerCount(ctx context.Context, show string) (int, error) {
	idx := s.followers.of(show)
	if err := idx.refresh(ctx, s, show, followerListAge, false); err != nil {
		return 0, fmt.Errorf("count followers of %s: %w", show, err)
	}
	return idx.count(), nil
}

// removeGone forgets the followers of show reached through inbox, whose
// server answered 410 Gone.
func (s *Service) removeGone(ctx context.Context, show, inbox string) error {
	idx := s.followers.of(show)
	if err := idx.refresh(ctx, s, show, 0, true); err != nil {
		return err
	}
	for _, key := range idx.keysOf(inbox) {
		if err := s.cfg.Store.Delete(ctx, key); err != nil && !bucket.IsNotFound(err) {
			return fmt.Errorf("remove follower %s: %w", key, err)
		}
		idx.remove(key)
	}
	return nil
}

// followerIndexes holds a followerIndex per show.
type followerIndexes struct {
	mu    sync.Mutex
	shows map[string]*followerIndex
}

func (x *followerIndexes) of(show string) *followerIndex {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.shows == nil {
		x.shows = map[string]*followerIndex{}
	}
	idx, ok := x.shows[show]
	if !ok {
		idx = &followerIndex{}
		x.shows[show] = idx
	}
	return idx
}

// followerEntry is what a replica keeps in memory of a follower document:
// not the document, only where to deliver and the host it counts against.
// The strings are shared by every follower of one inbox or host.
type followerEntry struct {
	etag       string // empty while the document is not read
	inbox      string // the delivery inbox; empty when the document is unreadable
	group      string // hostGroup of the actor
	unreadable bool
}

// followerIndex is what a replica knows of one show's followers, from the
// listing of their documents: each document is read once per ETag. It is
// safe for concurrent use.
type followerIndex struct {
	refreshing sync.Mutex // one listing at a time
	mu         sync.Mutex
	listed     time.Time                // the last listing
	read       time.Time                // the last listing that read what changed
	entries    map[string]followerEntry // by key
	strs       map[string]string        // interned inboxes and groups
}

// refresh lists the follower documents when the last listing is older
// than maxAge and, with read, reads those whose ETag changed (without,
// new documents are only counted). An unreadable document is logged and
// skipped (check --repair removes it): it never stops the others.
func (x *followerIndex) refresh(ctx context.Context, s *Service, show string, maxAge time.Duration, read bool) error {
	x.refreshing.Lock()
	defer x.refreshing.Unlock()
	x.mu.Lock()
	last := x.listed
	if read {
		last = x.read
	}
	fresh := maxAge > 0 && time.Since(last) < maxAge
	x.mu.Unlock()
	if fresh {
		return nil
	}
	start := time.Now()
	seen := map[string]bool{}
	prefix := followersPrefix(show)
	for info, err := range s.cfg.Store.List(ctx, prefix) {
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		seen[info.Key] = true
		x.mu.Lock()
		e, ok := x.entries[info.Key]
		x.mu.Unlock()
		if ok && (e.etag == info.ETag || !read) {
			continue
		}
		if !read {
			x.put(info.Key, followerEntry{})
			continue
		}
		var f follower
		etag, err := readJSON(ctx, s.cfg.Store, info.Key, &f)
		switch {
		case bucket.IsNotFound(err):
			delete(seen, info.Key)
			continue
		case bucket.IsUnreadable(err) || (err == nil && f.deliveryInbox() == ""):
			s.log.WarnContext(ctx, "unreadable follower document skipped: antenne check --repair removes it", "key", info.Key, "err", err)
			x.put(info.Key, followerEntry{etag: info.ETag, unreadable: true})
			continue
		case err != nil:
			return err
		}
		x.put(info.Key, followerEntry{etag: etag, inbox: f.deliveryInbox(), group: hostGroup(f.Actor)})
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for key := range x.entries {
		if !seen[key] {
			delete(x.entries, key)
		}
	}
	x.listed = start
	if read {
		x.read = start
	}
	return nil
}

func (x *followerIndex) intern(s string) string {
	if v, ok := x.strs[s]; ok {
		return v
	}
	if x.strs == nil {
		x.strs = map[string]string{}
	}
	x.strs[s] = s
	return s
}

func (x *followerIndex) put(key string, e followerEntry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.entries == nil {
		x.entries = map[string]followerEntry{}
	}
	e.inbox, e.group = x.intern(e.inbox), x.intern(e.group)
	x.entries[key] = e
}

func (x *followerIndex) remove(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.entries, key)
}

func (x *followerIndex) has(key string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	_, ok := x.entries[key]
	return ok
}

// count is the number of followers (unreadable documents excluded).
func (x *followerIndex) count() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, e := range x.entries {
		if !e.unreadable {
			n++
		}
	}
	return n
}

// countHost is the number of followers whose actor is in host group g.
func (x *followerIndex) countHost(g string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, e := range x.entries {
		if e.group == g {
			n++
		}
	}
	return n
}

// inboxes are the distinct delivery inboxes, in no particular order.
func (x *followerIndex) inboxes() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	set := map[string]bool{}
	var out []string
	for _, e := range x.entries {
		if !e.unreadable && e.inbox != "" && !set[e.inbox] {
			set[e.inbox] = true
			out = append(out, e.inbox)
		}
	}
	return out
}

// keysOf are the keys of the followers delivered through inbox.
func (x *followerIndex) keysOf(inbox string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for key, e := range x.entries {
		if e.inbox == inbox {
			out = append(out, key)
		}
	}
	return out
}

// hostGroup is what per-host bounds count against for a URL: its
// registrable domain (eTLD+1: a.evil.example and b.evil.example are one
// host), or the host and port of an IP address.
func hostGroup(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if net.ParseIP(host) != nil {
		return strings.ToLower(u.Host)
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// shortHash is a short hex digest of s, for ids and keys.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
