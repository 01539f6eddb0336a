package web

import (
	"container/list"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Login throttling. Two sets of token buckets slow down password guessing
// without letting anyone lock a host out:
//
//   - each client address (an IPv6 client by its /64) gets ipBurst attempts
//     refilled one every ipEvery; an empty bucket is answered 429 with
//     Retry-After before anything else is looked at;
//   - each login gets accountBurst failures refilled one every
//     accountEvery, charged only for a wrong password sent by a request
//     its address was allowed to make. When a login's bucket is empty,
//     attempts from addresses that sent a wrong password in the last
//     failureMemory are answered 429, but an address with no recent
//     failure may still try: the host signing in from home passes while
//     others flood the login, and a guesser pays one address per guess.
//
// Logins longer than maxLoginLen are refused (400) before any bucket, and
// each set keeps at most limiterMaxKeys keys, forgetting the least
// recently used: memory is bounded whatever the flood.
const (
	ipBurst        = 20
	ipEvery        = 5 * time.Second
	accountBurst   = 5
	accountEvery   = 30 * time.Second
	failureMemory  = 15 * time.Minute
	limiterMaxKeys = 10_000
	// maxLoginLen is the longest login (episodes.ValidLogin).
	maxLoginLen = 64
)

// limiters is a bounded set of token buckets by key (client address,
// login), the least recently used forgotten first. Safe for concurrent
// use.
type limiters struct {
	mu    sync.Mutex
	now   func() time.Time
	rate  rate.Limit
	burst int
	max   int
	lru   *list.List // of *limiterEntry, most recently used first
	keys  map[string]*list.Element
}

type limiterEntry struct {
	key    string
	lim    *rate.Limiter
	failed time.Time // last wrong password, for addresses
}

func newLimiters(every time.Duration, burst int) *limiters {
	return &limiters{now: time.Now, rate: rate.Every(every), burst: burst, max: limiterMaxKeys,
		lru: list.New(), keys: map[string]*list.Element{}}
}

// entry returns key's entry, created when absent (evicting the least
// recently used beyond max), and marks it used. l.mu must be held.
func (l *limiters) entry(key string) *limiterEntry {
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*limiterEntry)
	}
	for l.lru.Len() >= l.max {
		old := l.lru.Back()
		delete(l.keys, old.Value.(*limiterEntry).key)
		l.lru.Remove(old)
	}
	e := &limiterEntry{key: key, lim: rate.NewLimiter(l.rate, l.burst)}
	l.keys[key] = l.lru.PushFront(e)
	return e
}

// take spends one token of key's bucket. It returns 0 when allowed, else
// how long to wait before the next attempt (nothing is spent then).
func (l *limiters) take(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.entry(key).lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// wait tells how long until key's bucket has a token, spending nothing.
func (l *limiters) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[key]
	if !ok {
		return 0
	}
	tokens := el.Value.(*limiterEntry).lim.TokensAt(l.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.rate) * float64(time.Second))
}

// markFailed remembers that key (an address) sent a wrong password now.
func (l *limiters) markFailed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entry(key).failed = l.now()
}

// failedRecently reports whether key sent a wrong password within
// failureMemory.
func (l *limiters) failedRecently(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[key]
	if !ok {
		return false
	}
	f := el.Value.(*limiterEntry).failed
	return !f.IsZero() && l.now().Sub(f) < failureMemory
}

// len is the number of keys held.
func (l *limiters) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// normalLogin is the login as typed, trimmed and lowercased, and false
// when it is longer than any login can be.
func normalLogin(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	return s, len(s) <= maxLoginLen
}

// clientKey is the key of the request's client address in loginByIP: the
// address, or its /64 for IPv6 (one subscriber's prefix).
func clientKey(c *gin.Context) string {
	a, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return c.ClientIP()
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// admitLogin decides, before the password is checked, whether an attempt
// to sign in as login may go on; when not, it sets Retry-After and
// returns false (answer 429).
func (s *Server) admitLogin(c *gin.Context, login string) bool {
	client := clientKey(c)
	wait := s.loginByIP.take(client)
	if wait <= 0 && s.loginByIP.failedRecently(client) {
		wait = s.loginByAccount.wait(login)
	}
	if wait <= 0 {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	s.log.WarnContext(c.Request.Context(), "login attempts slowed down", append([]any{"retry_after", secs}, s.clientAttrs(c)...)...)
	return false
}

// loginFailed charges a wrong password to the login and the address.
func (s *Server) loginFailed(c *gin.Context, login string) {
	s.loginByIP.markFailed(clientKey(c))
	s.loginByAccount.take(login)
}
