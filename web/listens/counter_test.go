package listens

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage/storagetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestSpans(t *testing.T) {
	for _, tc := range []struct {
		add  [][2]int64
		want string
	}{
		{[][2]int64{{0, 10}}, "[{0 10}]"},
		{[][2]int64{{0, 10}, {10, 20}}, "[{0 20}]"},
		{[][2]int64{{20, 30}, {0, 10}}, "[{0 10} {20 30}]"},
		{[][2]int64{{0, 10}, {20, 30}, {5, 25}}, "[{0 30}]"},
		{[][2]int64{{0, 10}, {20, 30}, {40, 50}, {15, 16}}, "[{0 10} {15 16} {20 30} {40 50}]"},
		{[][2]int64{{5, 5}, {7, 3}}, "[]"},
	} {
		var s spans
		for _, a := range tc.add {
			s.add(a[0], a[1])
		}
		if got := fmt.Sprint([]span(s)); got != tc.want {
			t.Errorf("add %v: got %s, want %s", tc.add, got, tc.want)
		}
	}
	// Past the cap the smallest span goes.
	var s spans
	for i := range int64(maxSpans + 1) {
		s.add(i*100, i*100+10+i)
	}
	if len(s) != maxSpans || s[0].start != 100 {
		t.Errorf("got %d spans starting at %d, want %d starting at 100", len(s), s[0].start, maxSpans)
	}
}

func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		m    Media
		want int64
	}{
		// 40 minutes at 128 kbit/s with a 300 000-byte tag: the tag and
		// one minute.
		{Media{Size: 300_000 + 2400*16_000, Duration: 40 * time.Minute, Bitrate: 128_000}, 300_000 + 60*16_000},
		// Shorter than a minute: the whole file.
		{Media{Size: 500_000, Duration: 30 * time.Second, Bitrate: 128_000}, 500_000},
		// No bitrate: size / duration.
		{Media{Size: 1_200_000, Duration: 120 * time.Second}, 600_000},
		// No duration: the whole file.
		{Media{Size: 1_000}, 1_000},
		{Media{}, 1},
	} {
		if got := Threshold(tc.m); got != tc.want {
			t.Errorf("Threshold(%+v) = %d, want %d", tc.m, got, tc.want)
		}
	}
}

func TestNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.7":                "203.0.113.7",
		"::ffff:203.0.113.7":         "203.0.113.7",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:bbbb:cccc::99": "2001:db8:1:2::/64",
		"fe80::1%eth0":               "fe80::/64",
	} {
		if got := network(ip); got != want {
			t.Errorf("network(%q) = %q, want %q", ip, got, want)
		}
	}
}

// media is a 3-minute file at 64 kbit/s with a 10 000-byte tag: a listen
// is 10 000 + 480 000 bytes.
var media = Media{Show: "lvel", Episode: "ep1", Size: 10_000 + 180*8_000, Duration: 3 * time.Minute, Bitrate: 64_000}

// send simulates a request that reads [start, end) in 32 KiB reads, all
// written.
func send(c *Counter, ip, ua, rng string, m Media, start, end int64) {
	l := c.Start(ip, ua, rng, m)
	r := l.Track(bytes.NewReader(make([]byte, m.Size)))
	r.Seek(start, io.SeekStart)
	io.CopyBuffer(io.Discard, io.LimitReader(r, end-start), make([]byte, 32<<10))
	l.Done(true)
}

func pendingTotal(c *Counter) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.pending {
		n += v
	}
	return n
}

func TestCountingRules(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)}
	c, err := New(Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	const ua = "AntennaPod/3.2.0"
	steps := []struct {
		name string
		do   func()
		want int64
	}{
		{"below the threshold", func() { send(c, "203.0.113.1", ua, "", media, 0, 400_000) }, 0},
		{"the rest of the minute, later", func() { send(c, "203.0.113.1", ua, "bytes=400000-", media, 400_000, 500_000) }, 1},
		{"same listener again", func() { send(c, "203.0.113.1", ua, "", media, 0, media.Size) }, 1},
		{"same /64", func() {
			send(c, "2001:db8::1", ua, "", media, 0, media.Size)
			send(c, "2001:db8::2", ua, "", media, 0, media.Size)
		}, 2},
		{"other app", func() {
			send(c, "203.0.113.1", "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "", media, 0, media.Size)
		}, 3},
		{"probe", func() { send(c, "203.0.113.9", ua, "bytes=0-1", media, 0, media.Size) }, 3},
		{"bot", func() {
			send(c, "203.0.113.9", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", media, 0, media.Size)
		}, 3},
		{"the same bytes twice", func() {
			send(c, "203.0.113.10", ua, "", media, 0, 300_000)
			send(c, "203.0.113.10", ua, "", media, 0, 300_000)
		}, 3},
		{"redirect", func() { c.Redirected("203.0.113.11", ua, "", media) }, 4},
		{"next day", func() {
			clk.Set(clk.Now().Add(2 * time.Hour))
			send(c, "203.0.113.1", ua, "", media, 0, media.Size)
		}, 5},
	}
	for _, st := range steps {
		st.do()
		if got := pendingTotal(c); got != st.want {
			t.Fatalf("%s: got %d listens, want %d", st.name, got, st.want)
		}
	}
	c.mu.Lock()
	days := map[string]int64{}
	for r, n := range c.pending {
		days[r.Day] += n
	}
	c.mu.Unlock()
	if days["2026-12-01"] != 4 || days["2026-12-02"] != 1 {
		t.Errorf("got listens by day %v, want 4 on 2026-12-01 and 1 on 2026-12-02", days)
	}
}

// TestUnwrittenRead: the last read of a response that did not complete
// is not counted as sent.
func TestUnwrittenRead(t *testing.T) {
	c, _ := New(Options{})
	m := Media{Show: "s", Episode: "e", Size: 100_000}
	l := c.Start("203.0.113.1", "AntennaPod/3", "", m)
	r := l.Track(bytes.NewReader(make([]byte, m.Size)))
	io.CopyBuffer(io.Discard, r, make([]byte, 60_000))
	l.Done(false)
	if got := pendingTotal(c); got != 0 {
		t.Fatalf("got %d listens, want 0: the last 40 000 bytes were read but not written", got)
	}
	l = c.Start("203.0.113.1", "AntennaPod/3", "bytes=60000-", m)
	r = l.Track(bytes.NewReader(make([]byte, m.Size)))
	r.Seek(60_000, io.SeekStart)
	io.Copy(io.Discard, r)
	l.Done(true)
	if got := pendingTotal(c); got != 1 {
		t.Fatalf("got %d listens, want 1 once the rest is sent", got)
	}
}

func TestBoundedPairs(t *testing.T) {
	c, _ := New(Options{MaxListeners: 8})
	small := Media{Show: "s", Episode: "e", Size: 1_000}
	// 6 listeners count, then many do not finish.
	for i := range 6 {
		send(c, fmt.Sprintf("203.0.113.%d", i), "AntennaPod/3", "", small, 0, small.Size)
	}
	for i := range 20 {
		send(c, fmt.Sprintf("198.51.100.%d", i), "AntennaPod/3", "", small, 0, int64(10+i))
	}
	c.mu.Lock()
	n := len(c.pairs)
	c.mu.Unlock()
	if n > 8 {
		t.Fatalf("got %d pairs, want at most 8", n)
	}
	// The counted ones are kept: counting them again changes nothing.
	for i := range 6 {
		send(c, fmt.Sprintf("203.0.113.%d", i), "AntennaPod/3", "", small, 0, small.Size)
	}
	if got := pendingTotal(c); got != 6 {
		t.Fatalf("got %d listens, want 6", got)
	}
	// A full day of counted pairs: new listeners are still tracked and
	// count; the pairs that counted first are forgotten to make room.
	for i := range 4 {
		send(c, fmt.Sprintf("192.0.2.%d", i), "AntennaPod/3", "", small, 0, small.Size)
	}
	c.mu.Lock()
	n = len(c.pairs)
	c.mu.Unlock()
	if got := pendingTotal(c); got != 10 || n > 8 {
		t.Fatalf("got %d listens with %d pairs kept, want 10 with at most 8", got, n)
	}
}

// TestPerAddressCap: one address (an IPv6 client's /64) adds at most
// MaxPerAddress listens to an episode in a day, whatever user agents it
// sends, through the bytes or the redirect; other addresses and other
// episodes are not affected.
func TestPerAddressCap(t *testing.T) {
	c, _ := New(Options{MaxPerAddress: 3})
	other := media
	other.Episode = "ep2"
	for i := range 50 {
		ua := fmt.Sprintf("AntennaPod/3.%d", i)
		send(c, "203.0.113.1", ua, "", media, 0, media.Size)
		c.Redirected("2001:db8:1:2::"+fmt.Sprint(i+1), ua, "", media)
	}
	if got := pendingTotal(c); got != 6 {
		t.Fatalf("50 user agents from one IPv4 address and 50 from one /64: got %d listens, want 3 + 3", got)
	}
	send(c, "203.0.113.2", "AntennaPod/3", "", media, 0, media.Size)
	send(c, "203.0.113.1", "AntennaPod/3", "", other, 0, other.Size)
	if got := pendingTotal(c); got != 8 {
		t.Fatalf("another address, another episode: got %d listens, want 8", got)
	}
	c.mu.Lock()
	pairs := len(c.pairs)
	c.mu.Unlock()
	if pairs > 8 {
		t.Errorf("%d pairs kept, want at most 8: an address at its cap adds none", pairs)
	}
	if c.Capped() != 2*47 {
		t.Errorf("Capped: got %d, want %d", c.Capped(), 2*47)
	}
}

// TestRedirectFloodKeepsCounting: with ANTENNE_MEDIA_URL every redirect
// counts at once; a flood of them from many addresses fills the day's
// pairs, and a real listener afterwards still counts (the pairs that
// counted first make room).
func TestRedirectFloodKeepsCounting(t *testing.T) {
	c, _ := New(Options{MaxListeners: 100})
	for i := range 1000 {
		c.Redirected(fmt.Sprintf("198.51.%d.%d", i/250, i%250), fmt.Sprintf("Flood/%d", i), "", media)
	}
	before := pendingTotal(c)
	c.Redirected("203.0.113.50", "AntennaPod/3.2.0", "", media)
	send(c, "203.0.113.51", "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "", media, 0, media.Size)
	if got := pendingTotal(c) - before; got != 2 {
		t.Errorf("after the flood, two real listeners: got +%d listens, want +2", got)
	}
	c.mu.Lock()
	pairs, addresses := len(c.pairs), len(c.addresses)
	c.mu.Unlock()
	if pairs > 100 || addresses > 100 {
		t.Errorf("%d pairs and %d addresses kept, want at most 100 each", pairs, addresses)
	}
}

// TestNoUserAgent: a request without a user agent is not counted, by
// bytes or at the redirect.
func TestNoUserAgent(t *testing.T) {
	c, _ := New(Options{})
	for _, ua := range []string{"", " "} {
		send(c, "203.0.113.1", ua, "", media, 0, media.Size)
		c.Redirected("203.0.113.2", ua, "", media)
	}
	if got := pendingTotal(c); got != 0 {
		t.Errorf("got %d listens without a user agent, want 0", got)
	}
}

// TestDoneAcked: a response cut after the client acknowledged only the
// first bytes counts those bytes only, in the order read, whatever was
// written into the socket's buffers.
func TestDoneAcked(t *testing.T) {
	c, _ := New(Options{})
	read := func(ip, rng string, start int64, acked int64) {
		l := c.Start(ip, "AntennaPod/3", rng, media)
		r := l.Track(bytes.NewReader(make([]byte, media.Size)))
		r.Seek(start, io.SeekStart)
		io.CopyBuffer(io.Discard, r, make([]byte, 32<<10))
		l.DoneAcked(acked)
	}
	read("203.0.113.1", "", 0, 4096)
	if got := pendingTotal(c); got != 0 {
		t.Fatalf("the whole file written, 4 KiB acknowledged: got %d listens, want 0", got)
	}
	read("203.0.113.1", "bytes=4096-", 4096, 500_000)
	if got := pendingTotal(c); got != 1 {
		t.Fatalf("then 500 000 bytes acknowledged from 4096: got %d listens, want 1", got)
	}
}

// TestShards: two replicas flush into one bucket (and one replica name
// shared by two counters), readers see the sum; on the local folder and
// on MinIO.
func TestShards(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, store storagetest.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
		a, _ := New(Options{Store: store, Replica: "a", Now: clk.Now})
		b, _ := New(Options{Store: store, Replica: "b", Now: clk.Now})
		b2, _ := New(Options{Store: store, Replica: "b", Now: clk.Now})
		small := Media{Show: "lvel", Episode: "e1", Size: 1_000}
		send(a, "203.0.113.1", "AntennaPod/3", "", small, 0, small.Size)
		send(b, "203.0.113.2", "AntennaPod/3", "", small, 0, small.Size)
		send(b2, "203.0.113.3", "Overcast/3.0", "", small, 0, small.Size)
		for _, c := range []*Counter{a, b, b2} {
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		clk.Set(clk.Now().Add(24 * time.Hour))
		send(a, "203.0.113.1", "AntennaPod/3", "", small, 0, small.Size)
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(ctx); err != nil { // nothing new: nothing added
			t.Fatal(err)
		}
		rows, err := b.Rows(ctx, "2026-12-01", "2026-12-02")
		if err != nil {
			t.Fatal(err)
		}
		want := "[{2026-12-01 lvel e1 AntennaPod 2} {2026-12-01 lvel e1 Overcast 1} {2026-12-02 lvel e1 AntennaPod 1}]"
		if got := fmt.Sprint(rows); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
		rows, _ = b.Rows(ctx, "2026-12-02", "2026-12-02")
		if len(rows) != 1 {
			t.Errorf("got %v for one day, want one row", rows)
		}
		// The cache follows a shard that changed.
		send(b, "203.0.113.9", "AntennaPod/3", "", small, 0, small.Size)
		b.Flush(ctx)
		rows, _ = b.Rows(ctx, "2026-12-02", "2026-12-02")
		if len(rows) != 1 || rows[0].Count != 2 {
			t.Errorf("got %v after a new flush, want 2 listens", rows)
		}
	})
}

// BenchmarkListen is what counting adds to one request: classify the user
// agent, key the listener, track 16 reads of 256 KiB (a 4 MiB download)
// and record them, for requests from 1,000 addresses.
func BenchmarkListen(b *testing.B) {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := Media{Show: "lvel", Episode: "e", Size: 4 << 20, Duration: 4 * time.Minute, Bitrate: 128_000}
	ips := make([]string, 1000)
	for i := range ips {
		ips[i] = fmt.Sprintf("203.0.%d.%d", i/250, i%250)
	}
	src := bytes.NewReader(nil)
	buf := make([]byte, 256<<10)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		l := c.Start(ips[i%len(ips)], "AntennaPod/3.2.0", "", m)
		r := l.Track(src)
		for j := range int64(16) {
			// The reads a whole download makes, without the bytes.
			tr := r.(*trackedReader)
			tr.l.read(j*int64(len(buf)), (j+1)*int64(len(buf)))
		}
		l.Done(true)
		i++
	}
}
