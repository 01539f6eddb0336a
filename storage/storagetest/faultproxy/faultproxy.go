// Package faultproxy puts a fault-injecting TCP proxy between a test's
// client and a server (a replica and MinIO): added latency, stalls that
// outlast the client's timeouts, and cut connections, switched on and
// off by the test. It is Shopify's toxiproxy used as a library, so that
// the faults are the ones Jepsen-style tests of other systems use
// (latency, timeout, reset_peer), without its API server.
package faultproxy

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Fault is one kind of fault a Proxy injects.
type Fault string

// The faults.
const (
	// Healthy: no fault.
	Healthy Fault = "healthy"
	// Latency delays every answer by 50 to 400 ms.
	Latency Fault = "latency"
	// Stall lets nothing through, in either direction, without closing
	// the connections: a server that stopped answering. Clients learn it
	// only from their own timeouts.
	Stall Fault = "stall"
	// Cut resets every connection as soon as data flows (TCP RST):
	// requests in flight fail, possibly after the server acted on them.
	Cut Fault = "cut"
)

// Faults lists the faults a schedule picks from, Healthy first.
var Faults = []Fault{Healthy, Latency, Stall, Cut}

// Proxy forwards 127.0.0.1:port to an upstream address, with the faults
// the test sets. It is stopped when the test ends.
type Proxy struct {
	t     testing.TB
	proxy *toxiproxy.Proxy

	mu    sync.Mutex
	fault Fault
	// Counts is how many times each fault was set.
	counts map[Fault]int
}

// Start starts a proxy to upstream (host:port) on a free port of
// 127.0.0.1, with no fault.
func Start(t testing.TB, name, upstream string) *Proxy {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start the fault proxy %s to %s: %v", name, upstream, err)
	}
	fp := &Proxy{t: t, proxy: p, fault: Healthy, counts: map[Fault]int{}}
	t.Cleanup(p.Stop)
	return fp
}

// Addr is the proxy's host:port, to give the client instead of the
// upstream's.
func (p *Proxy) Addr() string { return p.proxy.Listen }

// Fault is the fault now set.
func (p *Proxy) Fault() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// Counts reports how many times each fault was set.
func (p *Proxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[Fault]int{}
	for f, n := range p.counts {
		out[f] = n
	}
	return out
}

// Set replaces the fault in force by f (Healthy removes it). Connections
// a stall held are closed when it is removed. It may be called from any
// goroutine.
func (p *Proxy) Set(f Fault) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	toxics := p.proxy.Toxics
	toxics.ResetToxics(context.Background())
	var specs []string
	switch f {
	case Healthy:
	case Latency:
		specs = []string{`{"name":"latency","type":"latency","stream":"downstream","attributes":{"latency":225,"jitter":175}}`}
	case Stall:
		specs = []string{
			`{"name":"stall_up","type":"timeout","stream":"upstream","attributes":{"timeout":0}}`,
			`{"name":"stall_down","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`,
		}
	case Cut:
		specs = []string{`{"name":"cut","type":"reset_peer","stream":"downstream","attributes":{"timeout":0}}`}
	default:
		p.t.Errorf("fault proxy: unknown fault %q", f)
		return
	}
	for _, spec := range specs {
		if _, err := toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
			p.t.Errorf("fault proxy: set %s: %v", f, err)
			return
		}
	}
	p.fault = f
	p.counts[f]++
}

// Schedule sets a fault drawn from rng (Healthy half of the time) every
// interval drawn between min and max, until ctx ends, then heals the
// proxy. Stalls are kept shorter than stallMax.
func (p *Proxy) Schedule(ctx context.Context, rng *rand.Rand, minEvery, maxEvery, stallMax time.Duration) {
	defer p.Set(Healthy)
	for {
		f := Healthy
		if rng.IntN(2) == 1 {
			f = Faults[1+rng.IntN(len(Faults)-1)]
		}
		d := minEvery + time.Duration(rng.Int64N(int64(maxEvery-minEvery)+1))
		if f == Stall {
			d = min(d, stallMax)
		}
		p.Set(f)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// String names the proxy and its fault, for logs.
func (p *Proxy) String() string {
	return fmt.Sprintf("%s (%s)", p.proxy.Name, p.Fault())
}

// Plan returns the seed of a fault test's schedule and how long the test
// runs: ANTENNE_FAULTS_SEED replays a schedule (else a seed is drawn),
// ANTENNE_FAULTS_DURATION runs it longer than short (make soak). The seed
// is logged so that a failure can be replayed.
func Plan(t testing.TB, short time.Duration) (seed uint64, d time.Duration) {
	t.Helper()
	if v := os.Getenv("ANTENNE_FAULTS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ANTENNE_FAULTS_SEED: %v", err)
		}
		seed = n
	} else {
		var b [8]byte
		crand.Read(b[:])
		seed = binary.BigEndian.Uint64(b[:]) % 1e9
	}
	d = short
	if v := os.Getenv("ANTENNE_FAULTS_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ANTENNE_FAULTS_DURATION: %v", err)
		}
	}
	t.Logf("fault schedule: seed %d (replay with ANTENNE_FAULTS_SEED=%d), running %v", seed, seed, d)
	return seed, d
}
