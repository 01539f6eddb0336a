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
	// (see the package documentation); DefaultMaxListeners when 0. The
	// count of listens per (episode, address) of the day has the same cap.
	MaxListeners int
	// MaxPerAddress bounds the listens one address (an IPv6 client's
	// /64) adds to one episode in one UTC day, whatever user agents it
	// sends; DefaultMaxPerAddress when 0.
	MaxPerAddress int
}

// DefaultMaxListeners is the default cap of (episode, listener) pairs of
// a day: about 20 MB.
const DefaultMaxListeners = 100_000

// DefaultMaxPerAddress is the default cap of listens one address adds to
// one episode in a day: a household or an office behind one address has
// a few listeners; fifty user agents from one address are one script.
const DefaultMaxPerAddress = 8

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
	store         bucket.Store
	replica       string
	now           func() time.Time
	agents        *Classifier
	maxListeners  int
	maxPerAddress int

	mu    sync.Mutex
	day   string // UTC day of salt and pairs, 2006-01-02
	salt  [32]byte
	pairs map[pairKey]*pair
	// addresses counts the listens of the day per (episode, address).
	addresses map[addressKey]int
	pending   map[Row]int64 // counts not yet in the store; Row.Count unused
	dropped   int64         // pairs of the day forgotten at the cap
	capped    int64         // listens of the day refused by the per-address cap
	counted   int64         // listens counted since the start
	seq       uint64        // numbers the pairs as they count, oldest first

	flushMu sync.Mutex // one flush at a time
	shards  *shardCache
}

// pairKey is an (episode, listener) pair of the current day.
type pairKey struct {
	show, episode string
	listener      [16]byte
}

// addressKey is an (episode, address) pair of the current day: the
// address is keyed like a listener, without the user agent.
type addressKey struct {
	show, episode string
	address       [16]byte
}

// pair is what is known of a pair: whether it counted (and when, as a
// sequence number), else the ranges sent.
type pair struct {
	counted uint64 // 0: not yet
	sent    spans
}

// New returns a counter.
func New(opts Options) (*Counter, error) {
	agents, err := NewClassifier()
	if err != nil {
		return nil, err
	}
	c := &Counter{
		store:         opts.Store,
		replica:       opts.Replica,
		now:           opts.Now,
		agents:        agents,
		maxListeners:  cmp.Or(opts.MaxListeners, DefaultMaxListeners),
		maxPerAddress: cmp.Or(opts.MaxPerAddress, DefaultMaxPerAddress),
		pending:       map[Row]int64{},
		shards:        newShardCache(),
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
	c.addresses = map[addressKey]int{}
	c.dropped, c.capped = 0, 0
	c.agents.forget()
}

// Dropped is how many (episode, listener) pairs of the current day were
// forgotten because the day's pairs were at their cap (a forgotten pair
// that had counted may count once more, within its address's cap).
func (c *Counter) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Capped is how many listens of the current day were not counted because
// their address had already counted MaxPerAddress listens of the episode.
func (c *Counter) Capped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capped
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
// counted (a probe, a bot, a request without a user agent, or a nil
// counter). Neither ip nor userAgent is kept: only keyed hashes, under
// the day's salt.
func (c *Counter) Start(ip, userAgent, rangeHeader string, m Media) *Listen {
	if c == nil || IsProbe(rangeHeader) || strings.TrimSpace(userAgent) == "" {
		// Every podcast app and browser names itself: a request without
		// a user agent is a script.
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
		address:   addressKey{show: m.Show, episode: m.Episode, address: listenerKey(salt, ip, "\x00address")},
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
	l.read(0, l.threshold)
	l.Done(true)
}

// listenerKey is HMAC-SHA256(salt, network(ip) NUL userAgent), cut to 16
// bytes. The key of an address alone is made with a user agent no request
// can send (a NUL).
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
	address   addressKey
	app       string
	threshold int64

	mu sync.Mutex
	// reads are the spans read, in the order read (a read that follows
	// the previous one extends it); at most maxReads, past which reads
	// are not recorded (the request may then count less, never more).
	reads []span
	// last is the length of the last read, the tail of reads, not yet
	// known to be written: a read is known written when the next read
	// comes (the copy loops read again only after a successful write) or
	// when the response completes.
	last int64
}

// maxReads bounds Listen.reads: one span per seek, and a request seeks
// once per range it asks (web: at most 8 after tidying).
const maxReads = 64

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
	defer l.mu.Unlock()
	l.last = 0
	if n := len(l.reads); n > 0 && l.reads[n-1].end == start {
		l.reads[n-1].end = end
	} else if len(l.reads) < maxReads {
		l.reads = append(l.reads, span{start, end})
	} else {
		return
	}
	l.last = end - start
}

// take returns the reads and forgets them; unless complete, without the
// last read.
func (l *Listen) take(complete bool) []span {
	l.mu.Lock()
	defer l.mu.Unlock()
	reads := l.reads
	if n := len(reads); !complete && n > 0 {
		reads[n-1].end -= l.last
		if reads[n-1].end <= reads[n-1].start {
			reads = reads[:n-1]
		}
	}
	l.reads, l.last = nil, 0
	return reads
}

// Done ends the request. complete tells whether the whole response body
// was written; when it was not, the last read is not counted (the copy
// loops read again only after a successful write, so the last read may
// not have been written).
func (l *Listen) Done(complete bool) {
	if l == nil {
		return
	}
	l.finish(l.take(complete))
}

// DoneAcked ends a request that did not complete, of which the client
// acknowledged acked bytes of the body (the connection's TCP
// acknowledgements, which antenne can see and a hang-up cannot fake):
// only the first acked bytes read count, in the order read. A client that
// reads a few kilobytes and hangs up leaves megabytes in the socket
// buffers, which Done(false) would count as sent.
func (l *Listen) DoneAcked(acked int64) {
	if l == nil {
		return
	}
	var kept []span
	for _, r := range l.take(true) {
		if acked <= 0 {
			break
		}
		end := min(r.end, r.start+acked)
		kept = append(kept, span{r.start, end})
		acked -= end - r.start
	}
	l.finish(kept)
}

// finish records the spans read (in read order) with the counter.
func (l *Listen) finish(reads []span) {
	var sent spans
	for _, r := range reads {
		sent.add(r.start, r.end)
	}
	if len(sent) > 0 {
		l.c.record(l, sent)
	}
}

// record adds what a request sent to its pair, and counts the pair when
// it reaches the threshold, unless its address has counted
// maxPerAddress listens of the episode today.
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
		if c.addresses[l.address] >= c.maxPerAddress {
			// The address has counted all it may for the episode today:
			// no pair is kept for another of its user agents.
			c.capped++
			return
		}
		c.admit()
		p = &pair{}
		c.pairs[l.key] = p
	}
	if p.counted != 0 {
		return
	}
	for _, s := range sent {
		p.sent.add(s.start, s.end)
	}
	if p.sent.covered() < l.threshold {
		return
	}
	c.seq++
	p.counted, p.sent = c.seq, nil
	if c.addresses[l.address] >= c.maxPerAddress {
		c.capped++
		return
	}
	if _, ok := c.addresses[l.address]; !ok {
		c.admitAddress()
	}
	c.addresses[l.address]++
	c.pending[row]++
	c.counted++
}

// admit makes room for a new pair when the day is at its cap, down to
// three quarters of it: first the pairs not yet counted that received
// the fewest bytes, then the pairs that counted longest ago. A newcomer
// is always tracked; a forgotten pair that had counted may count once
// more (within its address's cap). c.mu is held.
func (c *Counter) admit() {
	if len(c.pairs) < c.maxListeners {
		return
	}
	type cand struct {
		k       pairKey
		counted uint64
		n       int64
	}
	all := make([]cand, 0, len(c.pairs))
	for k, p := range c.pairs {
		all = append(all, cand{k, p.counted, p.sent.covered()})
	}
	slices.SortFunc(all, func(a, b cand) int {
		if (a.counted == 0) != (b.counted == 0) {
			if a.counted == 0 {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.n, b.n), cmp.Compare(a.counted, b.counted))
	})
	for _, o := range all {
		if len(c.pairs) <= c.maxListeners*3/4 {
			break
		}
		delete(c.pairs, o.k)
		c.dropped++
	}
}

// admitAddress makes room for a new (episode, address) count when the
// day has maxListeners of them: the addresses that counted least go
// first, down to three quarters of the cap (such an address may then
// count its cap again). c.mu is held.
func (c *Counter) admitAddress() {
	if len(c.addresses) < c.maxListeners {
		return
	}
	type cand struct {
		k addressKey
		n int
	}
	all := make([]cand, 0, len(c.addresses))
	for k, n := range c.addresses {
		all = append(all, cand{k, n})
	}
	slices.SortFunc(all, func(a, b cand) int { return cmp.Compare(a.n, b.n) })
	for _, o := range all {
		if len(c.addresses) <= c.maxListeners*3/4 {
			break
		}
		delete(c.addresses, o.k)
	}
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
