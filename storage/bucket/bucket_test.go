package bucket_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

type note struct {
	Version int    `json:"version"`
	Text    string `json:"text"`
}

func TestDocuments(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, s storagetest.Store) {
		ctx := t.Context()
		const key = "docs/a.json"
		var got note
		if _, err := bucket.Read(ctx, s, key, &got); !errors.Is(err, bucket.ErrNotFound) {
			t.Fatalf("read of a missing document: got %v, want ErrNotFound", err)
		}
		rev, err := bucket.Create(ctx, s, key, note{Version: 1, Text: "one"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bucket.Create(ctx, s, key, note{Text: "again"}); !errors.Is(err, bucket.ErrConflict) {
			t.Errorf("second create: got %v, want ErrConflict", err)
		}
		rev2, err := bucket.Update(ctx, s, key, note{Version: 1, Text: "two"}, rev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bucket.Update(ctx, s, key, note{Text: "stale"}, rev); !errors.Is(err, bucket.ErrConflict) {
			t.Errorf("update over a stale revision: got %v, want ErrConflict", err)
		}
		if r, err := bucket.Read(ctx, s, key, &got); err != nil || r != rev2 || got.Text != "two" {
			t.Errorf("read: got %q %q %v, want %q two", r, got.Text, err, rev2)
		}
		if _, err := bucket.Update(ctx, s, "docs/missing.json", note{}, rev2); !errors.Is(err, bucket.ErrNotFound) && !errors.Is(err, bucket.ErrConflict) {
			t.Errorf("update of a missing document: got %v", err)
		}
	})
}

func TestDocumentBounds(t *testing.T) {
	ctx := t.Context()
	s := storagetest.Dir(t)
	big := note{Text: strings.Repeat("x", 2000)}
	if _, err := bucket.WriteLimit(ctx, s, "big.json", big, "", 1000); !errors.Is(err, bucket.ErrTooLarge) {
		t.Fatalf("write over the bound: got %v, want ErrTooLarge", err)
	}
	if _, err := s.Stat(ctx, "big.json"); err == nil {
		t.Errorf("a document over the bound was stored")
	}
	if _, err := bucket.Create(ctx, s, "big.json", big); err != nil {
		t.Fatal(err)
	}
	var got note
	if _, err := bucket.ReadLimit(ctx, s, "big.json", &got, 1000); !errors.Is(err, bucket.ErrTooLarge) {
		t.Errorf("read over the bound: got %v, want ErrTooLarge", err)
	}
	if _, err := bucket.Create(ctx, s, "new.json", note{Version: bucket.SchemaVersion + 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := bucket.Read(ctx, s, "new.json", &got); err == nil || !strings.Contains(err.Error(), "upgrade antenne") {
		t.Errorf("read of a newer schema: got %v, want a refusal", err)
	}
}

type job struct {
	Version int `json:"version"`
	bucket.Lease
	Progress float64 `json:"progress"`
}

func (j *job) LeaseOf() *bucket.Lease { return &j.Lease }

func TestLeaseRules(t *testing.T) {
	if _, err := bucket.NewLeases(bucket.LeaseConfig{Owner: "a", Duration: 59 * time.Second}); err == nil {
		t.Errorf("a lease shorter than twice the operation timeout was accepted")
	}
	if _, err := bucket.NewLeases(bucket.LeaseConfig{Owner: "a", Duration: time.Minute}); err != nil {
		t.Errorf("a lease of twice the operation timeout: %v", err)
	}
	if _, err := bucket.NewLeases(bucket.LeaseConfig{Duration: time.Minute}); err == nil {
		t.Errorf("a lease without owner was accepted")
	}
}

func TestLeases(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, s storagetest.Store) {
		ctx := t.Context()
		clock := time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC)
		var mu sync.Mutex
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
		newLeases := func(owner string) *bucket.Leases {
			l, err := bucket.NewLeases(bucket.LeaseConfig{Owner: owner, Duration: 2 * time.Second, OpTimeout: time.Second, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		a, b := newLeases("a"), newLeases("b")
		const key = "jobs/1.json"

		var ja job
		ha, err := a.Take(ctx, s, key, &ja, "")
		if err != nil {
			t.Fatal(err)
		}
		if ja.Owner != "a" || !ja.Until.Equal(clock.Add(2*time.Second)) || ja.Takes != 1 {
			t.Errorf("taken lease: got %+v", ja.Lease)
		}
		var jb job
		rev, err := bucket.Read(ctx, s, key, &jb)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Take(ctx, s, key, &jb, rev); !errors.Is(err, bucket.ErrLeaseHeld) {
			t.Errorf("take of a held lease: got %v, want ErrLeaseHeld", err)
		}
		// Renewing moves the expiry from the time of the write.
		advance(time.Second)
		ja.Progress = 0.5
		if err := a.Renew(ctx, s, &ha, &ja); err != nil {
			t.Fatal(err)
		}
		if !ja.Until.Equal(clock.Add(2 * time.Second)) {
			t.Errorf("renewed until %v, want %v", ja.Until, clock.Add(2*time.Second))
		}
		// Expired: b takes it over, and a's renewal is refused by the store.
		advance(3 * time.Second)
		rev, _ = bucket.Read(ctx, s, key, &jb)
		hb, err := b.Take(ctx, s, key, &jb, rev)
		if err != nil {
			t.Fatalf("take of an expired lease: %v", err)
		}
		if jb.Token() == ja.Token() {
			t.Errorf("the fencing token did not change on takeover: %q", jb.Token())
		}
		if err := a.Renew(ctx, s, &ha, &ja); !errors.Is(err, bucket.ErrConflict) {
			t.Errorf("renewal of a lease taken over: got %v, want ErrConflict", err)
		}
		if err := a.Release(ctx, s, &ha, &ja); !errors.Is(err, bucket.ErrConflict) {
			t.Errorf("release of a lease taken over: got %v, want ErrConflict", err)
		}
		// Released, a lease is free at once.
		if err := b.Release(ctx, s, &hb, &jb); err != nil {
			t.Fatal(err)
		}
		rev, _ = bucket.Read(ctx, s, key, &ja)
		if _, err := a.Take(ctx, s, key, &ja, rev); err != nil {
			t.Errorf("take of a released lease: %v", err)
		}
	})
}

// TestLeaseDeadline: the holder's own deadline counts from before its
// write and keeps one operation timeout of margin.
func TestLeaseDeadline(t *testing.T) {
	s := storagetest.Dir(t)
	l, err := bucket.NewLeases(bucket.LeaseConfig{Owner: "a", Duration: 4 * time.Second, OpTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	var j job
	h, err := l.Take(t.Context(), s, "j.json", &j, "")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if h.Deadline.Before(before.Add(2*time.Second)) || h.Deadline.After(after.Add(2*time.Second)) || h.Lost(before) {
		t.Errorf("deadline %v: want 2 s after the write began (%v)", h.Deadline, before)
	}
	if !h.Lost(time.Now().Add(2 * time.Second)) {
		t.Errorf("the lease is not lost after duration minus margin")
	}
}

func TestClaims(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, s storagetest.Store) {
		ctx := t.Context()
		now := time.Now()
		const key = "slugs/hello.json"
		never := func(bucket.ClaimDoc) (bool, error) { return false, nil }
		if holds, wrote, err := bucket.Claim(ctx, s, key, "e1", now, never); !holds || !wrote || err != nil {
			t.Fatalf("first claim: %v %v %v", holds, wrote, err)
		}
		if holds, wrote, err := bucket.Claim(ctx, s, key, "e1", now, never); !holds || wrote || err != nil {
			t.Errorf("claim again by its holder: %v %v %v", holds, wrote, err)
		}
		if holds, _, err := bucket.Claim(ctx, s, key, "e2", now, never); holds || err != nil {
			t.Errorf("claim held by another: %v %v", holds, err)
		}
		// Releasing by another owner changes nothing.
		if err := bucket.Release(ctx, s, key, "e2"); err != nil {
			t.Fatal(err)
		}
		if c, _, _ := bucket.ReadClaim(ctx, s, key); c.Owner() != "e1" {
			t.Errorf("after a release by another owner: holder %q, want e1", c.Owner())
		}
		if err := bucket.Release(ctx, s, key, "e1"); err != nil {
			t.Fatal(err)
		}
		if c, _, err := bucket.ReadClaim(ctx, s, key); err != nil || c.Owner() != "" {
			t.Errorf("released claim: holder %q, err %v; want a free claim kept", c.Owner(), err)
		}
		if holds, _, err := bucket.Claim(ctx, s, key, "e2", now, never); !holds || err != nil {
			t.Errorf("claim of a released name: %v %v", holds, err)
		}
		always := func(bucket.ClaimDoc) (bool, error) { return true, nil }
		if holds, _, err := bucket.Claim(ctx, s, key, "e3", now, always); !holds || err != nil {
			t.Errorf("takeover: %v %v", holds, err)
		}
	})
}

// TestClaimRace: of many claimants racing on one name, exactly one holds
// it, and a release by a former holder never frees a claim taken over.
func TestClaimRace(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, s storagetest.Store) {
		ctx := context.Background()
		const key = "slugs/race.json"
		never := func(bucket.ClaimDoc) (bool, error) { return false, nil }
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 8 {
			wg.Go(func() {
				holds, _, err := bucket.Claim(ctx, s, key, string(rune('a'+i)), time.Now(), never)
				if err != nil {
					t.Error(err)
				}
				if holds {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Errorf("%d claimants hold the name, want 1", winners)
		}
	})
}

func TestModify(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, s storagetest.Store) {
		ctx := t.Context()
		type counter struct {
			N int `json:"n"`
		}
		incr := func(c *counter, _ bool) error { c.N++; return nil }
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if _, err := bucket.Modify(ctx, s, "count.json", 1<<10, incr); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var got counter
		if _, err := bucket.Read(ctx, s, "count.json", &got); err != nil || got.N != 3 {
			t.Errorf("after 3 concurrent increments: got %d (%v), want 3", got.N, err)
		}
		refuse := errors.New("no")
		if _, err := bucket.Modify(ctx, s, "count.json", 1<<10, func(c *counter, _ bool) error { c.N = 100; return refuse }); err != refuse {
			t.Errorf("a change that fails: got %v, want its error", err)
		}
		if _, err := bucket.Read(ctx, s, "count.json", &got); err != nil || got.N != 3 {
			t.Errorf("after a failed change: got %d, want 3 (nothing written)", got.N)
		}
	})
}

// countingGets counts the reads of documents.
type countingGets struct {
	storagetest.Store
	mu   sync.Mutex
	gets int
}

func (c *countingGets) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, bucket.ObjectInfo, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.Store.Get(ctx, key, offset, length)
}

func TestCollection(t *testing.T) {
	ctx := t.Context()
	s := &countingGets{Store: storagetest.Dir(t)}
	for _, k := range []string{"f/a.json", "f/b.json", "f/c.json"} {
		if _, err := bucket.Create(ctx, s, k, note{Text: k}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(ctx, "f/bad.json", strings.NewReader("{not json"), -1, "application/json"); err != nil {
		t.Fatal(err)
	}
	col := bucket.NewCollection[note](1 << 10)
	docs, bad, err := col.List(ctx, s, "f/", nil)
	if err != nil || len(docs) != 3 || len(bad) != 1 || bad[0] != "f/bad.json" {
		t.Fatalf("first list: %d docs, unreadable %q, %v; want 3 and f/bad.json", len(docs), bad, err)
	}
	s.gets = 0
	var b note
	rev, _ := bucket.Read(ctx, s, "f/b.json", &b)
	if _, err := bucket.Update(ctx, s, "f/b.json", note{Text: "changed"}, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "f/c.json"); err != nil {
		t.Fatal(err)
	}
	s.gets = 0
	docs, _, err = col.List(ctx, s, "f/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.gets != 2 { // b changed, bad.json still unreadable
		t.Errorf("second list read %d documents, want 2 (the changed one and the unreadable one)", s.gets)
	}
	var texts []string
	for _, d := range docs {
		texts = append(texts, d.V.Text)
	}
	if got := strings.Join(texts, ","); got != "f/a.json,changed" {
		t.Errorf("second list: got %s, want f/a.json,changed", got)
	}
}
