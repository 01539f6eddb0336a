package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/accounts"
)

// pausingStore is a real store whose listings of hosts/ wait, once the
// listing is read, until resume is closed: a refresh caught between its
// listing and its update of the cache.
type pausingStore struct {
	storagetest.Store
	listed chan struct{} // closed when a paused listing is read
	resume chan struct{}
	paused atomic.Bool
}

func (p *pausingStore) List(ctx context.Context, prefix string) iter.Seq2[bucket.ObjectInfo, error] {
	inner := p.Store.List(ctx, prefix)
	if prefix != "hosts/" || !p.paused.CompareAndSwap(true, false) {
		return inner
	}
	return func(yield func(bucket.ObjectInfo, error) bool) {
		var all []bucket.ObjectInfo
		for info, err := range inner {
			if err != nil {
				yield(info, err)
				return
			}
			all = append(all, info)
		}
		close(p.listed)
		<-p.resume
		for _, info := range all {
			if !yield(info, nil) {
				return
			}
		}
	}
}

func TestRefreshKeepsHostAddedMeanwhile(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		clock := episodestest.NewClock()
		store := &pausingStore{Store: blobs, listed: make(chan struct{}), resume: make(chan struct{})}
		catalog := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		svc := accounts.New(store, catalog, clock.Now)
		if _, err := svc.AddHost(ctx, accounts.Host{Login: "alice"}, "correct horse"); err != nil {
			t.Fatal(err)
		}
		store.paused.Store(true)
		refreshed := make(chan error, 1)
		go func() { refreshed <- svc.Refresh(ctx) }()
		<-store.listed
		// Added, and removed, after the refresh listed the hosts.
		if _, err := svc.AddHost(ctx, accounts.Host{Login: "bob"}, "battery staple"); err != nil {
			t.Fatal(err)
		}
		if err := svc.RemoveHost(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		close(store.resume)
		if err := <-refreshed; err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Host("bob"); err != nil {
			t.Errorf("host added during a refresh: %v, want it kept", err)
		}
		if h, err := svc.Host("alice"); err == nil {
			t.Errorf("host removed during a refresh: got %s back", h.Login)
		}
		if err := svc.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Host("bob"); err != nil {
			t.Errorf("after the next refresh: %v", err)
		}
		if got := len(svc.Hosts()); got != 1 {
			t.Errorf("hosts after the next refresh: got %d, want 1", got)
		}
	})
}

// failingStore is a real store whose reads and writes fail while broken
// is set, counting the calls made meanwhile.
type failingStore struct {
	storagetest.Store
	broken atomic.Bool
	calls  atomic.Int64
}

var errStoreDown = errors.New("store down")

func (f *failingStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, bucket.ObjectInfo, error) {
	if f.broken.Load() {
		f.calls.Add(1)
		return nil, bucket.ObjectInfo{}, errStoreDown
	}
	return f.Store.Get(ctx, key, off, n)
}

func (f *failingStore) PutIf(ctx context.Context, key string, r io.Reader, size int64, ct, ifMatch string) (bucket.ObjectInfo, error) {
	if f.broken.Load() {
		f.calls.Add(1)
		return bucket.ObjectInfo{}, errStoreDown
	}
	return f.Store.PutIf(ctx, key, r, size, ct, ifMatch)
}

func TestTokenUseIsRecordedOffTheRequestPath(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		clock := episodestest.NewClock()
		store := &failingStore{Store: blobs}
		catalog := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		svc := accounts.New(store, catalog, clock.Now)
		if _, err := svc.AddHost(ctx, accounts.Host{Login: "alice"}, ""); err != nil {
			t.Fatal(err)
		}
		token, tok, err := svc.CreateToken(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		store.broken.Store(true)
		for range 3 {
			if h, err := svc.HostByToken(ctx, token); err != nil || h.Login != "alice" {
				t.Fatalf("HostByToken with the store down: got %v, %v, want alice", h, err)
			}
		}
		if n := store.calls.Load(); n != 0 {
			t.Errorf("HostByToken called the store %d times, want 0", n)
		}
		if err := svc.FlushTokenUses(ctx); !errors.Is(err, errStoreDown) {
			t.Errorf("flush with the store down: got %v, want the store's error", err)
		}
		store.broken.Store(false)
		clock.Add(time.Minute)
		if err := svc.FlushTokenUses(ctx); err != nil {
			t.Fatalf("flush: %v", err)
		}
		fresh := accounts.New(blobs, catalog, clock.Now)
		if err := fresh.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		h, err := fresh.Host("alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Tokens) != 1 || h.Tokens[0].ID != tok.ID || !h.Tokens[0].LastUsed.Equal(clock.Now().Add(-time.Minute).UTC()) {
			t.Errorf("stored token: got %+v, want last used at %s (kept for the flush after the failed one)", h.Tokens, clock.Now().Add(-time.Minute))
		}
	})
}

// countingStore is a real store that counts its listings of hosts/.
type countingStore struct {
	storagetest.Store
	lists atomic.Int64
}

func (c *countingStore) List(ctx context.Context, prefix string) iter.Seq2[bucket.ObjectInfo, error] {
	if prefix == "hosts/" {
		c.lists.Add(1)
	}
	return c.Store.List(ctx, prefix)
}

// TestTokenFromAnotherProcessWorksAtOnce: a token made by the CLI (another
// Service on the same store) is accepted by a running server on first
// sight, without waiting for its refresh; unknown tokens, however many,
// cost at most one listing of the accounts a second.
func TestTokenFromAnotherProcessWorksAtOnce(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		catalog := episodes.NewService(blobs, episodes.Options{})
		cli := accounts.New(blobs, catalog, nil)
		if _, err := cli.AddHost(ctx, accounts.Host{Login: "alice"}, ""); err != nil {
			t.Fatal(err)
		}
		store := &countingStore{Store: blobs}
		server := accounts.New(store, catalog, nil)
		if err := server.Refresh(ctx); err != nil {
			t.Fatal(err)
		}

		token, _, err := cli.CreateToken(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if h, err := server.HostByToken(ctx, token); err != nil || h.Login != "alice" {
			t.Fatalf("a token made by the CLI, at once: got %v, %v, want alice", h, err)
		}

		// A flood of random tokens, some at once: one listing, maybe two
		// if the flood straddles a second.
		time.Sleep(tokenRereadEvery)
		before := store.lists.Load()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for i := range 25 {
					if _, err := server.HostByToken(ctx, fmt.Sprintf("ant_random-%d", i)); !errors.Is(err, accounts.ErrBadCredentials) {
						t.Errorf("a random token: got %v, want ErrBadCredentials", err)
					}
				}
			})
		}
		wg.Wait()
		if n := store.lists.Load() - before; n < 1 || n > 2 {
			t.Errorf("200 unknown tokens listed the accounts %d times, want 1 or 2", n)
		}
	})
}

// tokenRereadEvery is accounts' bound on the re-reads for unknown tokens.
const tokenRereadEvery = time.Second
