package federation

import (
	"container/list"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Bounds of a fetch of a remote document (an actor, a key).
const (
	fetchTimeout = 10 * time.Second
	// maxRemoteBytes bounds a remote actor or key document: Mastodon's
	// and GoToSocial's are under 20 KiB.
	maxRemoteBytes = 256 << 10
	// remoteTTL is how long a remote actor or key is trusted without
	// fetching it again; a signature that fails with a cached key makes
	// us fetch it again at once.
	remoteTTL = 1 * time.Hour
	// maxFetches bounds the remote documents one replica fetches at
	// once, and maxFetchesPerHost those of one host (hostGroup): a flood
	// of inbox POSTs signed by keys on slow servers makes at most this
	// many outgoing requests, the rest are told to come back later
	// (errBusy) at once instead of waiting, and senders of other hosts
	// still get their keys fetched.
	maxFetches        = 32
	maxFetchesPerHost = 2
)

// errBusy says that too many remote documents are being fetched (from
// all hosts, or from the sender's): the request may be sent again later.
var errBusy = errors.New("too many remote documents being fetched, try again later")

// remoteActor is what we keep of a remote actor.
type remoteActor struct {
	ID          string
	Inbox       string
	SharedInbox string
}

func (a remoteActor) size() int { return len(a.ID) + len(a.Inbox) + len(a.SharedInbox) }

// remoteKey is a remote public key and the actor owning it.
type remoteKey struct {
	Owner string
	Key   *rsa.PublicKey
}

func (k remoteKey) size() int { return len(k.Owner) + k.Key.Size() + 16 }

// remoteCache keeps the remote keys and actors we fetched.
type remoteCache struct {
	keys   fetchedCache[remoteKey]
	actors fetchedCache[remoteActor]
}

func newRemoteCache() *remoteCache {
	return &remoteCache{}
}

// fetched is a remote document as we keep it, with when it was fetched.
type fetched[T any] struct {
	key string
	v   T
	at  time.Time
}

// entryOverhead is what a cache entry costs beyond the bytes of its
// strings: map and list bookkeeping.
const entryOverhead = 128

// fetchedCache keeps remote documents for remoteTTL, at most
// maxCacheBytes of them (the lengths of the keys and of what is kept of
// each document, plus entryOverhead each): the oldest go first. The zero
// value is ready to use.
type fetchedCache[T interface{ size() int }] struct {
	mu    sync.Mutex
	m     map[string]*list.Element // of fetched[T]
	order list.List                // oldest first
	bytes int
}

// get returns the document fetched from key less than remoteTTL ago.
func (c *fetchedCache[T]) get(key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok || time.Since(el.Value.(fetched[T]).at) >= remoteTTL {
		var zero T
		return zero, false
	}
	return el.Value.(fetched[T]).v, true
}

// put keeps v, fetched from key now, forgetting the oldest entries to stay
// within maxCacheBytes.
func (c *fetchedCache[T]) put(key string, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*list.Element{}
	}
	if el, ok := c.m[key]; ok {
		c.remove(el)
	}
	c.m[key] = c.order.PushBack(fetched[T]{key: key, v: v, at: time.Now()})
	c.bytes += entrySize(key, v)
	for c.bytes > maxCacheBytes {
		c.remove(c.order.Front())
	}
}

func (c *fetchedCache[T]) remove(el *list.Element) {
	f := c.order.Remove(el).(fetched[T])
	delete(c.m, f.key)
	c.bytes -= entrySize(f.key, f.v)
}

func entrySize[T interface{ size() int }](key string, v T) int {
	return len(key) + v.size() + entryOverhead
}

// fetchSlots bounds the fetches in flight: maxFetches in all,
// maxFetchesPerHost per hostGroup. It is safe for concurrent use.
type fetchSlots struct {
	mu     sync.Mutex
	total  int
	byHost map[string]int
}

// take reserves a slot for a fetch from host, or fails with errBusy.
// release gives it back.
func (f *fetchSlots) take(host string) (release func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.total >= maxFetches || f.byHost[host] >= maxFetchesPerHost {
		return nil, errBusy
	}
	if f.byHost == nil {
		f.byHost = map[string]int{}
	}
	f.total++
	f.byHost[host]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.total--
		if f.byHost[host]--; f.byHost[host] == 0 {
			delete(f.byHost, host)
		}
	}, nil
}

// fetchJSON GETs an ActivityPub document, signed by the instance actor
// (servers in secure mode answer only signed requests), within
// fetchTimeout and maxRemoteBytes.
func (s *Service) fetchJSON(ctx context.Context, rawURL string, v any) error {
	if err := checkLength("URL to fetch", rawURL, maxURLLength); err != nil {
		return err
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("fetch %q: not an http(s) URL", rawURL)
	}
	u.Fragment = ""
	release, err := s.fetches.take(hostGroup(rawURL))
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", u, err)
	}
	req.Header.Set("Accept", `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	key, err := s.keys.get(ctx, instanceKeyName)
	if err != nil {
		return err
	}
	if err := signRequest(req, s.u.key(s.u.instanceActor()), key, nil, time.Now()); err != nil {
		return err
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteBytes+1))
	if err != nil {
		return fmt.Errorf("fetch %s: %w", u, err)
	}
	if len(data) > maxRemoteBytes {
		return fmt.Errorf("fetch %s: larger than %d bytes", u, maxRemoteBytes)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("fetch %s: %w", u, err)
	}
	return nil
}

// publicKeyOf returns the key keyID names, from the cache unless fresh is
// set or the cached copy is old.
func (s *Service) publicKeyOf(ctx context.Context, keyID string, fresh bool) (remoteKey, error) {
	if k, ok := s.cache.keys.get(keyID); ok && !fresh {
		return k, nil
	}
	// The document at keyId is either the actor (Mastodon) or the key
	// itself (GoToSocial's /main-key).
	var doc struct {
		ID           string    `json:"id"`
		Owner        string    `json:"owner"`
		PublicKeyPEM string    `json:"publicKeyPem"`
		PublicKey    publicKey `json:"publicKey"`
	}
	if err := s.fetchJSON(ctx, keyID, &doc); err != nil {
		return remoteKey{}, err
	}
	pk := doc.PublicKey
	if pk.PublicKeyPEM == "" {
		pk = publicKey{ID: doc.ID, Owner: doc.Owner, PublicKeyPEM: doc.PublicKeyPEM}
	}
	if err := errors.Join(checkLength("key owner", pk.Owner, maxURLLength), checkLength("key PEM", pk.PublicKeyPEM, maxKeyPEMLength)); err != nil {
		return remoteKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	if pk.ID != keyID || pk.Owner == "" {
		return remoteKey{}, fmt.Errorf("key %s: the document names key %q of %q", keyID, pk.ID, pk.Owner)
	}
	if !sameHost(pk.Owner, keyID) {
		return remoteKey{}, fmt.Errorf("key %s: owner %s is on another host", keyID, pk.Owner)
	}
	pub, err := parsePublicKey(pk.PublicKeyPEM)
	if err != nil {
		return remoteKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	if pub.N.BitLen() > maxKeyBits {
		return remoteKey{}, fmt.Errorf("key %s: %d bits, at most %d", keyID, pub.N.BitLen(), maxKeyBits)
	}
	k := remoteKey{Owner: pk.Owner, Key: pub}
	s.cache.keys.put(keyID, k)
	return k, nil
}

// actorOf returns the remote actor id: its inboxes.
func (s *Service) actorOf(ctx context.Context, id string) (remoteActor, error) {
	if a, ok := s.cache.actors.get(id); ok {
		return a, nil
	}
	var doc struct {
		ID        string            `json:"id"`
		Inbox     string            `json:"inbox"`
		Endpoints map[string]string `json:"endpoints"`
	}
	if err := s.fetchJSON(ctx, id, &doc); err != nil {
		return remoteActor{}, err
	}
	a := remoteActor{ID: doc.ID, Inbox: doc.Inbox, SharedInbox: doc.Endpoints["sharedInbox"]}
	if err := errors.Join(checkLength("inbox", a.Inbox, maxURLLength), checkLength("shared inbox", a.SharedInbox, maxURLLength)); err != nil {
		return remoteActor{}, fmt.Errorf("actor %s: %w", id, err)
	}
	if a.ID != id || !httpURL(a.Inbox) || !sameHost(a.Inbox, id) {
		return remoteActor{}, fmt.Errorf("actor %s: no inbox of its own", id)
	}
	if a.SharedInbox != "" && (!httpURL(a.SharedInbox) || !sameHost(a.SharedInbox, id)) {
		a.SharedInbox = ""
	}
	s.cache.actors.put(id, a)
	return a, nil
}

// httpURL reports whether s is an absolute http(s) URL.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// sameHost reports whether two URLs are on the same host (and port).
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && strings.EqualFold(ua.Host, ub.Host)
}

// hostOf is the host (with port, when there is one) of a base URL.
func hostOf(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("federation: base URL %q has no host", base)
	}
	return u.Host, nil
}
