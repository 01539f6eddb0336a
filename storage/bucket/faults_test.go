package bucket_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/storage/storagetest/faultproxy"
)

// TestLinearizableUnderFaults drives claims and a lease from several
// clients at once, each reaching one MinIO through its own fault proxy
// (latency, stalls longer than the operation timeout, cut connections,
// switched at random), records every operation with its call and return
// times, and checks the histories with porcupine: each claim behaves as
// one register of its holder, the lease document as one compare-and-set
// register whose every take raises the fencing token by one, and no two
// holders of the lease may act at once. An operation that failed for
// another reason than a lost race (a timeout, a cut) may or may not have
// happened: the models allow both.
//
// ANTENNE_FAULTS_SEED replays a schedule; ANTENNE_FAULTS_DURATION (default
// 20s) sets how long the clients run.
func TestLinearizableUnderFaults(t *testing.T) {
	t.Parallel()
	seed, duration := faultproxy.Plan(t, 20*time.Second)
	m := storagetest.StartMinIO(t)
	name := storagetest.BucketName()
	{
		cfg := m.Config()
		cfg.Bucket, cfg.CreateBucket = name, true
		if _, err := storage.NewS3(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}

	const clients = 4
	h := &history{start: time.Now()}
	ctx, cancel := context.WithTimeout(t.Context(), duration)
	defer cancel()
	var wg, faults sync.WaitGroup
	var proxies []*faultproxy.Proxy
	for i := range clients {
		p := faultproxy.Start(t, fmt.Sprintf("client%d", i), m.Endpoint())
		proxies = append(proxies, p)
		cfg := m.Config()
		cfg.Endpoint, cfg.Bucket = p.Addr(), name
		s, err := storage.NewS3(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := &client{id: i, owner: "c" + strconv.Itoa(i), s: s, h: h, rng: mrand.New(mrand.NewPCG(seed, uint64(i)))}
		faults.Go(func() {
			p.Schedule(ctx, mrand.New(mrand.NewPCG(seed, uint64(100+i))), 300*time.Millisecond, 3*time.Second, 2500*time.Millisecond)
		})
		wg.Go(func() { c.run(ctx) })
	}
	wg.Wait()
	faults.Wait()

	ops, unknown := h.operations()
	t.Logf("seed %d: %d operations in %v, %d of unknown outcome; faults set: %v", seed, len(ops), duration, unknown, faultCounts(proxies))
	if len(ops) < 50 {
		t.Errorf("only %d operations recorded: the clients did not run", len(ops))
	}
	var claimOps, leaseOps []porcupine.Operation
	for _, op := range ops {
		switch op.Input.(type) {
		case leaseReadIn, leaseWrite:
			leaseOps = append(leaseOps, op)
		default:
			claimOps = append(claimOps, op)
		}
	}
	for _, c := range []struct {
		name  string
		model porcupine.Model
		ops   []porcupine.Operation
	}{
		{"claims", claimModel.ToModel(), claimOps},
		{"lease", leaseModel.ToModel(), leaseOps},
	} {
		res, info := porcupine.CheckOperationsVerbose(c.model, c.ops, time.Minute)
		switch res {
		case porcupine.Ok:
			t.Logf("%s: %d operations, linearizable", c.name, len(c.ops))
		case porcupine.Unknown:
			t.Errorf("%s: the checker ran out of time", c.name)
		default:
			path := fmt.Sprintf("%s/%s-%d.html", os.TempDir(), c.name, seed)
			porcupine.VisualizePath(c.model, info, path)
			t.Errorf("%s: the history is not linearizable (seed %d); see %s", c.name, seed, path)
		}
	}
	if overlap := h.overlappingHolders(); overlap != "" {
		t.Errorf("two holders of the lease could act at once (seed %d): %s", seed, overlap)
	} else {
		t.Logf("lease: %d holdings, none overlapping", len(h.holdings))
	}
}

func faultCounts(proxies []*faultproxy.Proxy) map[faultproxy.Fault]int {
	all := map[faultproxy.Fault]int{}
	for _, p := range proxies {
		for f, n := range p.Counts() {
			all[f] += n
		}
	}
	return all
}

// Operations of the history. Each names the key it works on, for the
// partition of the checks.
type (
	claimIn struct {
		Key, Owner string
		TakeOver   bool
	}
	claimOut struct {
		Holds, Unknown bool
	}
	releaseIn struct{ Key, Owner string }
	readIn    struct{ Key string }
	readOut   struct {
		Holder string
	}
	// leaseRead is a read of the lease document: the nonce of the write
	// that made it ("" when there is none), its owner and fencing count.
	leaseRead struct {
		Nonce, Owner string
		Takes        int
	}
	// leaseWrite is a take, renewal or release: a write of the document
	// over the revision read (IfMatch, turned into the nonce of the write
	// that made it), writing Nonce.
	leaseWrite struct {
		Kind, Owner    string
		IfMatch, Nonce string
		Takes          int
	}
	leaseWriteOut struct {
		OK, Unknown bool
	}
)

const leaseKey = "leases/job.json"

// history records operations from several goroutines.
type history struct {
	start time.Time

	mu       sync.Mutex
	ops      []porcupine.Operation
	unknown  []int // indexes of operations of unknown outcome
	nonces   map[string]string
	holdings []holding
}

// holding is a time during which a client believed it held the lease.
type holding struct {
	owner    string
	takes    int
	from, to time.Duration
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in, out any, call int64, unknown bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if unknown {
		h.unknown = append(h.unknown, len(h.ops))
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: h.now()})
}

// revision notes that the document of revision rev was written with nonce.
func (h *history) revision(rev, nonce string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nonces == nil {
		h.nonces = map[string]string{}
	}
	h.nonces[rev] = nonce
}

func (h *history) nonceOf(rev string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nonces[rev]
}

// operations returns the history, operations of unknown outcome
// returning after every other: they may take effect at any time after
// their call.
func (h *history) operations() ([]porcupine.Operation, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.now() + 1
	ops := append([]porcupine.Operation(nil), h.ops...)
	for _, i := range h.unknown {
		ops[i].Return = end
	}
	return ops, len(h.unknown)
}

// overlappingHolders describes two holdings of the lease by different
// owners that overlap in time, or returns "". (An owner may take its own
// lease again: it goes on holding it.)
func (h *history) overlappingHolders() string {
	hs := append([]holding(nil), h.holdings...)
	sort.Slice(hs, func(i, j int) bool { return hs[i].from < hs[j].from })
	// An owner's holding ends when the same owner takes the lease again:
	// from then on the newer take says until when it may act.
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			if hs[j].owner == hs[i].owner {
				hs[i].to = min(hs[i].to, hs[j].from)
				break
			}
		}
	}
	for i := 1; i < len(hs); i++ {
		for j := range i {
			if hs[j].owner != hs[i].owner && hs[j].to > hs[i].from {
				return fmt.Sprintf("%s (take %d) until %v, %s (take %d) from %v", hs[j].owner, hs[j].takes, hs[j].to, hs[i].owner, hs[i].takes, hs[i].from)
			}
		}
	}
	return ""
}

// leaseDoc is the leased document: each write carries a fresh nonce, so
// that a read tells which write it sees.
type leaseDoc struct {
	Version int    `json:"version"`
	Nonce   string `json:"nonce"`
	bucket.Lease
}

func (d *leaseDoc) LeaseOf() *bucket.Lease { return &d.Lease }

// client is one replica: it claims and releases names and takes, renews
// and releases the lease, at random.
type client struct {
	id    int
	owner string
	s     *storage.S3
	h     *history
	rng   *mrand.Rand
	seq   int
}

// opTimeout bounds each operation of the clients; leases last twice as
// long (the rule of MinLease).
const opTimeout = time.Second

func (c *client) nonce() string {
	c.seq++
	return fmt.Sprintf("%s-%d", c.owner, c.seq)
}

func (c *client) run(ctx context.Context) {
	leases, err := bucket.NewLeases(bucket.LeaseConfig{Owner: c.owner, Duration: bucket.MinLease(opTimeout), OpTimeout: opTimeout})
	if err != nil {
		panic(err)
	}
	for ctx.Err() == nil {
		switch n := c.rng.IntN(10); {
		case n < 3:
			c.claim(ctx, n == 0)
		case n < 5:
			c.release(ctx)
		case n < 7:
			c.readClaim(ctx)
		default:
			c.lease(ctx, leases)
		}
	}
}

func (c *client) claimKey() string { return fmt.Sprintf("claims/%c.json", 'a'+c.rng.IntN(2)) }

// op bounds one operation; the lease's own operations bound themselves.
func op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*opTimeout)
}

func (c *client) claim(ctx context.Context, takeOver bool) {
	key := c.claimKey()
	octx, cancel := op(ctx)
	defer cancel()
	call := c.h.now()
	holds, _, err := bucket.Claim(octx, c.s, key, c.owner, time.Now(), func(bucket.ClaimDoc) (bool, error) { return takeOver, nil })
	c.h.add(c.id, claimIn{Key: key, Owner: c.owner, TakeOver: takeOver}, claimOut{Holds: holds, Unknown: err != nil}, call, err != nil)
}

func (c *client) release(ctx context.Context) {
	key := c.claimKey()
	octx, cancel := op(ctx)
	defer cancel()
	call := c.h.now()
	err := bucket.Release(octx, c.s, key, c.owner)
	c.h.add(c.id, releaseIn{Key: key, Owner: c.owner}, claimOut{Unknown: err != nil}, call, err != nil)
}

func (c *client) readClaim(ctx context.Context) {
	key := c.claimKey()
	octx, cancel := op(ctx)
	defer cancel()
	call := c.h.now()
	doc, _, err := bucket.ReadClaim(octx, c.s, key)
	switch {
	case bucket.IsNotFound(err):
	case err != nil:
		return // a read that failed changed nothing
	}
	c.h.add(c.id, readIn{Key: key}, readOut{Holder: doc.Owner()}, call, false)
}

// readLease reads the lease document, recording the read.
func (c *client) readLease(ctx context.Context) (leaseDoc, string, bool) {
	octx, cancel := op(ctx)
	defer cancel()
	var doc leaseDoc
	call := c.h.now()
	rev, err := bucket.Read(octx, c.s, leaseKey, &doc)
	switch {
	case bucket.IsNotFound(err):
		doc, rev = leaseDoc{}, ""
	case err != nil:
		return doc, "", false
	default:
		c.h.revision(rev, doc.Nonce)
	}
	c.h.add(c.id, leaseReadIn{Key: leaseKey}, leaseRead{Nonce: doc.Nonce, Owner: doc.Owner, Takes: doc.Takes}, call, false)
	return doc, rev, true
}

// leaseReadIn is the input of a read of the lease.
type leaseReadIn struct{ Key string }

// write records a write of the lease (take, renew or release) done by do
// over revision ifMatch.
func (c *client) write(kind string, doc *leaseDoc, ifMatch string, do func() (string, error)) (string, bool) {
	in := leaseWrite{Kind: kind, Owner: c.owner, IfMatch: c.h.nonceOf(ifMatch), Nonce: doc.Nonce, Takes: doc.Takes}
	call := c.h.now()
	rev, err := do()
	if errors.Is(err, bucket.ErrLeaseHeld) {
		return "", false // refused before any write
	}
	lost := bucket.IsConflict(err) || bucket.IsNotFound(err)
	unknown := err != nil && !lost
	if kind == "release" {
		in.Owner = ""
	}
	if kind == "take" {
		in.Takes = doc.Takes // Take raised it
	}
	c.h.add(c.id, in, leaseWriteOut{OK: err == nil, Unknown: unknown}, call, unknown)
	if err == nil {
		c.h.revision(rev, doc.Nonce)
	}
	return rev, err == nil
}

// lease reads the lease and tries to take it (Take refuses it unless it is
// free, expired or this client's); when it got it, it renews it a few times while "working", then releases it or
// lets it expire.
func (c *client) lease(ctx context.Context, leases *bucket.Leases) {
	doc, rev, ok := c.readLease(ctx)
	if !ok {
		return
	}
	// Take refuses a lease another owner holds (ErrLeaseHeld).
	doc.Nonce = c.nonce()
	var held bucket.Held
	_, ok = c.write("take", &doc, rev, func() (string, error) {
		var err error
		held, err = leases.Take(ctx, c.s, leaseKey, &doc, rev)
		return held.Rev, err
	})
	if !ok {
		return
	}
	from := time.Since(c.h.start)
	end := func(to time.Duration) {
		c.h.mu.Lock()
		c.h.holdings = append(c.h.holdings, holding{owner: c.owner, takes: doc.Takes, from: from, to: to})
		c.h.mu.Unlock()
	}
	for range c.rng.IntN(4) {
		// Work a while; a holder acts only before its deadline.
		time.Sleep(time.Duration(c.rng.IntN(400)) * time.Millisecond)
		if held.Lost(time.Now()) {
			end(held.Deadline.Sub(c.h.start))
			return
		}
		doc.Nonce = c.nonce()
		prev := held.Rev
		if _, ok := c.write("renew", &doc, prev, func() (string, error) {
			err := leases.Renew(ctx, c.s, &held, &doc)
			return held.Rev, err
		}); !ok {
			// The lease may be lost: stop acting now, or at the
			// deadline of the last renewal if that comes first.
			end(min(time.Since(c.h.start), held.Deadline.Sub(c.h.start)))
			return
		}
	}
	if c.rng.IntN(3) == 0 {
		end(held.Deadline.Sub(c.h.start)) // let it expire
		return
	}
	end(time.Since(c.h.start))
	doc.Nonce = c.nonce()
	c.write("release", &doc, held.Rev, func() (string, error) {
		err := leases.Release(ctx, c.s, &held, &doc)
		return held.Rev, err
	})
}

// claimModel: each claim is a register of its holder ("" when free or
// absent). A claim holds when it was free or already the claimant's, or
// was taken over; it fails only while another holds it. A release frees
// the claim of its holder and leaves another's alone.
var claimModel = porcupine.NondeterministicModel{
	Partition: partitionByKey,
	Init:      func() []any { return []any{""} },
	Step: func(state, input, output any) []any {
		holder := state.(string)
		switch in := input.(type) {
		case claimIn:
			out := output.(claimOut)
			canTake := holder == "" || holder == in.Owner || in.TakeOver
			switch {
			case out.Unknown && canTake:
				return []any{holder, in.Owner}
			case out.Unknown:
				return []any{holder}
			case out.Holds && canTake:
				return []any{in.Owner}
			case !out.Holds && holder != "" && holder != in.Owner:
				return []any{holder}
			}
			return nil
		case releaseIn:
			out := output.(claimOut)
			if holder != in.Owner {
				return []any{holder}
			}
			if out.Unknown {
				return []any{holder, ""}
			}
			return []any{""}
		case readIn:
			if output.(readOut).Holder == holder {
				return []any{holder}
			}
			return nil
		}
		return nil // an operation of the lease
	},
	DescribeOperation: func(input, output any) string { return fmt.Sprintf("%+v -> %+v", input, output) },
}

// leaseState is the lease document as the model sees it.
type leaseState struct {
	Nonce, Owner string
	Takes        int
}

// leaseModel: the lease document is a compare-and-set register. A write
// succeeds only over the revision stored, and a take raises the fencing
// count by exactly one; a lost write leaves the document unchanged.
var leaseModel = porcupine.NondeterministicModel{
	Partition: partitionByKey,
	Init:      func() []any { return []any{leaseState{}} },
	Step: func(state, input, output any) []any {
		s := state.(leaseState)
		switch in := input.(type) {
		case leaseReadIn:
			out := output.(leaseRead)
			if out.Nonce == s.Nonce && out.Owner == s.Owner && out.Takes == s.Takes {
				return []any{s}
			}
			return nil
		case leaseWrite:
			out := output.(leaseWriteOut)
			matches := in.IfMatch == s.Nonce && (in.Kind != "take" || in.Takes == s.Takes+1)
			next := leaseState{Nonce: in.Nonce, Owner: in.Owner, Takes: in.Takes}
			switch {
			case out.Unknown && matches:
				return []any{s, next}
			case out.Unknown, !out.OK && !matches:
				return []any{s}
			case out.OK && matches:
				return []any{next}
			}
			return nil
		}
		return nil // an operation of the claims
	},
	DescribeOperation: func(input, output any) string { return fmt.Sprintf("%+v -> %+v", input, output) },
	DescribeState:     func(state any) string { return fmt.Sprintf("%+v", state) },
}

// partitionByKey splits a history by the key each operation works on:
// each key is checked on its own.
func partitionByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range ops {
		var key string
		switch in := op.Input.(type) {
		case claimIn:
			key = in.Key
		case releaseIn:
			key = in.Key
		case readIn:
			key = in.Key
		case leaseReadIn, leaseWrite:
			key = leaseKey
		}
		if _, ok := byKey[key]; !ok {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], op)
	}
	sort.Strings(keys)
	var out [][]porcupine.Operation
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}
