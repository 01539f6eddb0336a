package listens

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// Options configure a Counter.
type Options struct {
	// Store keeps the replica's shards; nil keeps the counts in memory
	// only (Flush drops them, Rows finds none).
	Store bucket.Store
	// Replica names the replica's shard file; several processes may share
	// a name (conditional writes keep every count), but distinct names
	// avoid retries. Empty: a random name.
	Replica string
	// Now is the clock; time.Now when nil. The day and the salt follow it.
	Now func() time.Time
	// MaxListeners bounds the (episode, listener) pairs kept for one day
	// (see the package documentation); DefaultMaxListeners when 0.
	MaxListeners int
}

// DefaultMaxListeners is the default cap of (episode, listener) pairs of
// a day: about 20 MB.
const DefaultMaxListeners = 100_000

// Media describes the episode file a request reads.
type Media struct {
	Show, Episode string
	Size          int64         // bytes
	Duration      time.Duration // 0: unknown
	Bitrate       int           // bits per second; 0: size / duration
}

// Threshold is how many distinct bytes of m a listener must receive for a
// listen to count: the part before the audio (tags and artwork, estimated
// as the size less duration × bitrate) plus one minute of audio, or the
// whole file when that is more. Unknown duration: the whole file.
func Threshold(m Media) int64 {
	if m.Size <= 0 {
		return 1
	}
	if m.Duration <= 0 {
		return m.Size
	}
	rate := int64(m.Bitrate) / 8 // bytes per second
	if rate <= 0 {
		rate = m.Size * int64(time.Second) / int64(m.Duration)
	}
	audio := rate * int64(m.Duration) / int64(time.Second)
	head := max(0, m.Size-audio)
	return max(1, min(m.Size, head+60*rate))
}

// Counter counts listens (see the package documentation). It is safe for
// concurrent use; a nil *Counter counts nothing.
type Counter struct {
	store        bucket.Store
	replica      string
	now          func() time.Time
	agents       *Classifier
	maxListeners int

	mu      sync.Mutex
	day     string // UTC day of salt and pairs, 2006-01-02
	salt    [32]byte
	pairs   map[pairKey]*pair
	pending map[Row]int64 // counts not yet in the store; Row.Count unused
	dropped int64
	counted int64 // listens counted since the start

	flushMu sync.Mutex // one flush at a time
	shards  shardCache
}

// pairKey is an (episode, listener) pair of the current day.
type pairKey struct {
	show, episode string
	listener      [16]byte
}

// pair is what is known of a pair: whether it counted, else the ranges
// sent.
type pair struct {
	counted bool
	sent    spans
}

// New returns a counter.
func New(opts Options) (*Counter, error) {
	agents, err := NewClassifier()
	if err != nil {
		return nil, err
	}
	c := &Counter{
		store:        opts.Store,
		replica:      opts.Replica,
		now:          opts.Now,
		agents:       agents,
		maxListeners: cmp.Or(opts.MaxListeners, DefaultMaxListeners),
		pending:      map[Row]int64{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.replica == "" {
		var b [6]byte
		rand.Read(b[:])
		c.replica = hex.EncodeToString(b[:])
	}
	c.mu.Lock()
	c.rotate()
	c.mu.Unlock()
	return c, nil
}

// rotate starts a new day when the clock has passed midnight UTC: a new
// salt, and every pair of the previous day forgotten. c.mu is held.
func (c *Counter) rotate() {
	day := c.now().UTC().Format(time.DateOnly)
	if day == c.day {
		return
	}
	c.day = day
	rand.Read(c.salt[:])
	c.pairs = map[pairKey]*pair{}
	c.dropped = 0
	c.agents.forget()
}

// Dropped is how many listeners of the current day were not tracked
// because the day's pairs were at their cap.
func (c *Counter) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Counted is how many listens this counter has counted since it started
// (for monitoring; the figures are the stored ones, Rows).
func (c *Counter) Counted() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counted
}

// IsProbe reports whether a Range header only probes the file
// ("bytes=0-1", sent by Apple's players before they play): such a
// request is never counted.
func IsProbe(rangeHeader string) bool {
	return strings.ReplaceAll(rangeHeader, " ", "") == "bytes=0-1"
}

// Start begins tracking one request for m from the client at ip (as
// given by the server, IPv4 or IPv6) with the User-Agent userAgent and
// the Range header rangeHeader. It returns nil when the request is not
// counted (a probe, a bot, or a nil counter). Neither ip nor userAgent is
// kept: only the keyed hash of both, under the day's salt.
func (c *Counter) Start(ip, userAgent, rangeHeader string, m Media) *Listen {
	if c == nil || IsProbe(rangeHeader) {
		return nil
	}
	agent := c.agents.Classify(userAgent)
	if agent.Bot() {
		return nil
	}
	c.mu.Lock()
	c.rotate()
	day, salt := c.day, c.salt
	c.mu.Unlock()
	return &Listen{
		c:         c,
		day:       day,
		key:       pairKey{show: m.Show, episode: m.Episode, listener: listenerKey(salt, ip, userAgent)},
		app:       agent.Name,
		threshold: Threshold(m),
	}
}

// Redirected counts a request answered with a redirect to the media's
// public URL: antenne does not see the bytes, so the request counts as a
// whole download (once per episode, listener and day, like any other).
func (c *Counter) Redirected(ip, userAgent, rangeHeader string, m Media) {
	l := c.Start(ip, userAgent, rangeHeader, m)
	if l == nil {
		return
	}
	l.sent.add(0, l.threshold)
	l.Done(true)
}

// listenerKey is HMAC-SHA256(salt, network(ip) NUL userAgent), cut to 16
// bytes.
func listenerKey(salt [32]byte, ip, userAgent string) [16]byte {
	mac := hmac.New(sha256.New, salt[:])
	io.WriteString(mac, network(ip))
	mac.Write([]byte{0})
	io.WriteString(mac, userAgent)
	var k [16]byte
	copy(k[:], mac.Sum(nil))
	return k
}

// network is the address that stands for a listener: an IPv4 address
// whole, an IPv6 address cut to its /64 (a home or a phone gets a /64 and
// may change the rest at will).
func network(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		return p.String()
	}
	return addr.String()
}

// Listen tracks the bytes one request sends. Its methods are safe for
// concurrent use (http.ServeContent reads from another goroutine for
// multipart ranges). A nil *Listen tracks nothing.
type Listen struct {
	c         *Counter
	day       string
	key       pairKey
	app       string
	threshold int64

	mu   sync.Mutex
	sent spans
	// last is the span of the last read, not yet known to be written:
	// a read is known written when the next read comes (the copy loops
	// read again only after a successful write) or when the response
	// completes.
	last span
}

// Track wraps the reader that feeds the response: what is read through
// it, and then written, is what the client received.
func (l *Listen) Track(rs io.ReadSeeker) io.ReadSeeker {
	if l == nil {
		return rs
	}
	return &trackedReader{rs: rs, l: l}
}

func (l *Listen) read(start, end int64) {
	l.mu.Lock()
	if l.last.end > l.last.start {
		l.sent.add(l.last.start, l.last.end)
	}
	l.last = span{start, end}
	l.mu.Unlock()
}

// Done ends the request. complete tells whether the whole response body
// was written (then the last read counts as sent too).
func (l *Listen) Done(complete bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	if complete && l.last.end > l.last.start {
		l.sent.add(l.last.start, l.last.end)
	}
	l.last = span{}
	sent := l.sent
	l.sent = nil
	l.mu.Unlock()
	if len(sent) > 0 {
		l.c.record(l, sent)
	}
}

// record adds what a request sent to its pair, and counts the pair when
// it reaches the threshold.
func (c *Counter) record(l *Listen, sent spans) {
	row := Row{Day: l.day, Show: l.key.show, Episode: l.key.episode, App: l.app}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate()
	if l.day != c.day {
		// The request began before midnight: its pair is gone with the
		// old salt. It counts for its day on its own bytes.
		if sent.covered() >= l.threshold {
			c.pending[row]++
			c.counted++
		}
		return
	}
	p := c.pairs[l.key]
	if p == nil {
		if !c.admit() {
			c.dropped++
			return
		}
		p = &pair{}
		c.pairs[l.key] = p
	}
	if p.counted {
		return
	}
	for _, s := range sent {
		p.sent.add(s.start, s.end)
	}
	if p.sent.covered() >= l.threshold {
		p.counted, p.sent = true, nil
		c.pending[row]++
		c.counted++
	}
}

// admit makes room for a new pair when the day is at its cap: the pairs
// not yet counted that received the fewest bytes go first, down to three
// quarters of the cap. It reports whether a pair may be added. c.mu is
// held.
func (c *Counter) admit() bool {
	if len(c.pairs) < c.maxListeners {
		return true
	}
	type cand struct {
		k pairKey
		n int64
	}
	var open []cand
	for k, p := range c.pairs {
		if !p.counted {
			open = append(open, cand{k, p.sent.covered()})
		}
	}
	slices.SortFunc(open, func(a, b cand) int { return cmp.Compare(a.n, b.n) })
	for _, o := range open {
		if len(c.pairs) <= c.maxListeners*3/4 {
			break
		}
		delete(c.pairs, o.k)
	}
	return len(c.pairs) < c.maxListeners
}

// trackedReader reports to its Listen the spans read through it.
type trackedReader struct {
	rs  io.ReadSeeker
	l   *Listen
	off int64
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.rs.Read(p)
	if n > 0 {
		t.l.read(t.off, t.off+int64(n))
		t.off += int64(n)
	}
	return n, err
}

func (t *trackedReader) Seek(offset int64, whence int) (int64, error) {
	off, err := t.rs.Seek(offset, whence)
	if err == nil {
		t.off = off
	}
	return off, err
}

// span is the bytes [start, end) of a file.
type span struct{ start, end int64 }

// maxSpans bounds the spans kept for one pair: past it the smallest is
// dropped.
const maxSpans = 64

// spans are disjoint, non-adjacent spans in order.
type spans []span

// add merges [start, end) into s.
func (s *spans) add(start, end int64) {
	if end <= start {
		return
	}
	out := (*s)[:0:0]
	merged := span{start, end}
	placed := false
	for _, x := range *s {
		switch {
		case x.end < merged.start:
			out = append(out, x)
		case merged.end < x.start:
			if !placed {
				out = append(out, merged)
				placed = true
			}
			out = append(out, x)
		default: // overlapping or adjacent
			merged = span{min(x.start, merged.start), max(x.end, merged.end)}
		}
	}
	if !placed {
		out = append(out, merged)
	}
	if len(out) > maxSpans {
		smallest := 0
		for i, x := range out {
			if x.end-x.start < out[smallest].end-out[smallest].start {
				smallest = i
			}
		}
		out = slices.Delete(out, smallest, smallest+1)
	}
	*s = out
}

// covered is the number of bytes in s.
func (s spans) covered() int64 {
	var n int64
	for _, x := range s {
		n += x.end - x.start
	}
	return n
}
