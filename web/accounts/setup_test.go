package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/accounts"
)

// TestSetupToken: the setup token is issued while no admin exists, works
// on another replica (a second Service on the same store), is spent once
// even by concurrent requests, and none is issued once an admin exists.
func TestSetupToken(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		catalog := episodes.NewService(blobs, episodes.Options{})
		a := accounts.New(blobs, catalog, nil)
		b := accounts.New(blobs, catalog, nil) // another replica
		first, ok, err := a.IssueSetupToken(ctx)
		if err != nil || !ok || len(first) < 30 {
			t.Fatalf("first token: %q %v %v", first, ok, err)
		}
		token, ok, err := b.IssueSetupToken(ctx) // a later start replaces it
		if err != nil || !ok || token == first {
			t.Fatalf("second token: %q %v %v", token, ok, err)
		}
		if err := a.CheckSetupToken(ctx, first); !errors.Is(err, accounts.ErrNoSetup) {
			t.Errorf("the replaced token: got %v, want ErrNoSetup", err)
		}
		if err := a.CheckSetupToken(ctx, token); err != nil {
			t.Errorf("the token on the other replica: %v", err)
		}
		var wg sync.WaitGroup
		results := make(chan error, 4)
		for i, svc := range []*accounts.Service{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.SetupAdmin(ctx, token, accounts.Host{Login: fmt.Sprintf("admin%d", i)}, "admin password")
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, accounts.ErrNoSetup):
				t.Errorf("setup: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d requests spent the token, want 1", won)
		}
		if err := a.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(a.Hosts()); n != 1 || !a.Hosts()[0].Admin {
			t.Errorf("after the setups: %d hosts, want one admin", n)
		}
		if err := b.CheckSetupToken(ctx, token); !errors.Is(err, accounts.ErrNoSetup) {
			t.Errorf("the spent token: got %v, want ErrNoSetup", err)
		}
		if _, ok, err := a.IssueSetupToken(ctx); ok || err != nil {
			t.Errorf("with an admin: got a token (%v, %v)", ok, err)
		}
	})
}

// TestDisableAndReset: a disabled host cannot sign in nor use a token; a
// reset password must be changed; the host's own change needs the
// current password and clears the mark.
func TestDisableAndReset(t *testing.T) {
	blobs := storagetest.Dir(t)
	ctx := t.Context()
	catalog := episodes.NewService(blobs, episodes.Options{})
	svc := accounts.New(blobs, catalog, nil)
	if _, err := svc.AddHost(ctx, accounts.Host{Login: "carol"}, "first password"); err != nil {
		t.Fatal(err)
	}
	token, _, err := svc.CreateToken(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetDisabled(ctx, "carol", true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "carol", "first password"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("disabled sign-in: got %v", err)
	}
	if _, err := svc.HostByToken(ctx, token); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("disabled token: got %v", err)
	}
	if err := svc.SetDisabled(ctx, "carol", false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.HostByToken(ctx, token); err != nil {
		t.Errorf("enabled again, token: %v", err)
	}
	before, _ := svc.Host("carol")
	if err := svc.ResetPassword(ctx, "carol", "temporary pw"); err != nil {
		t.Fatal(err)
	}
	h, _ := svc.Host("carol")
	if !h.MustChangePassword || h.SessionGeneration <= before.SessionGeneration {
		t.Errorf("after reset: got %+v", h)
	}
	if err := svc.ChangePassword(ctx, "carol", "wrong one", "her own password"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("change with a wrong current password: got %v", err)
	}
	if err := svc.ChangePassword(ctx, "carol", "temporary pw", "her own password"); err != nil {
		t.Fatal(err)
	}
	if h, _ := svc.Host("carol"); h.MustChangePassword {
		t.Error("the must-change mark stayed after the change")
	}
	if _, err := svc.Authenticate(ctx, "carol", "her own password"); err != nil {
		t.Errorf("sign in with the new password: %v", err)
	}
}

// TestSetupAfterCLIAdmin: an admin created by the CLI (another replica
// whose host cache the server has not refreshed) spends the logged setup
// link at once: a setup with it is refused, and it stays refused once no
// admin exists again (the next start logs a new link).
func TestSetupAfterCLIAdmin(t *testing.T) {
	blobs := storagetest.Dir(t)
	ctx := t.Context()
	catalog := episodes.NewService(blobs, episodes.Options{})
	server := accounts.New(blobs, catalog, nil)
	token, ok, err := server.IssueSetupToken(ctx)
	if err != nil || !ok {
		t.Fatalf("issue: %v %v", ok, err)
	}
	cli := accounts.New(blobs, catalog, nil)
	if _, err := cli.AddHost(ctx, accounts.Host{Login: "root", Admin: true}, "admin password"); err != nil {
		t.Fatal(err)
	}
	// The server's cache still knows no admin.
	if err := server.CheckSetupToken(ctx, token); !errors.Is(err, accounts.ErrNoSetup) {
		t.Errorf("the link after the CLI's admin: got %v, want ErrNoSetup", err)
	}
	if _, err := server.SetupAdmin(ctx, token, accounts.Host{Login: "mallory"}, "admin password"); !errors.Is(err, accounts.ErrNoSetup) {
		t.Errorf("a setup after the CLI's admin: got %v, want ErrNoSetup", err)
	}
	if err := cli.RemoveHost(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	if err := server.CheckSetupToken(ctx, token); !errors.Is(err, accounts.ErrNoSetup) {
		t.Errorf("the old link once no admin exists again: got %v, want ErrNoSetup", err)
	}
	fresh, ok, err := server.IssueSetupToken(ctx)
	if err != nil || !ok {
		t.Fatalf("a new link without admin: %v %v", ok, err)
	}
	if err := server.CheckSetupToken(ctx, fresh); err != nil {
		t.Errorf("the new link: %v", err)
	}
}

// failingWrites is a store whose writes under a prefix fail while fail
// is set, as a store that goes away between two writes.
type failingWrites struct {
	storagetest.Store
	prefix string
	fail   bool
}

var errStoreAway = errors.New("store away")

func (f *failingWrites) PutIf(ctx context.Context, key string, r io.Reader, size int64, ctype, ifMatch string) (bucket.ObjectInfo, error) {
	if f.fail && strings.HasPrefix(key, f.prefix) {
		return bucket.ObjectInfo{}, errStoreAway
	}
	return f.Store.PutIf(ctx, key, r, size, ctype, ifMatch)
}

// TestSetupFailureKeepsAWayIn: when the admin cannot be created after the
// setup link was spent, the link works again; and when even giving it
// back fails, the next start (no admin in the store) logs a new link,
// instead of no link and no admin for good.
func TestSetupFailureKeepsAWayIn(t *testing.T) {
	blobs := storagetest.Dir(t)
	ctx := t.Context()
	catalog := episodes.NewService(blobs, episodes.Options{})
	store := &failingWrites{Store: blobs, prefix: "hosts/"}
	svc := accounts.New(store, catalog, nil)
	token, ok, err := svc.IssueSetupToken(ctx)
	if err != nil || !ok {
		t.Fatalf("issue: %v %v", ok, err)
	}

	store.fail = true
	if _, err := svc.SetupAdmin(ctx, token, accounts.Host{Login: "root"}, "admin password"); !errors.Is(err, errStoreAway) {
		t.Fatalf("setup with the hosts unwritable: got %v, want the store's error", err)
	}
	store.fail = false
	if err := svc.CheckSetupToken(ctx, token); err != nil {
		t.Errorf("the link after a failed setup: got %v, want it to work again", err)
	}

	store.prefix, store.fail = "", true // the store goes away after the spend
	spendOnly := &spendThenFail{failingWrites: store}
	svc2 := accounts.New(spendOnly, catalog, nil)
	if _, err := svc2.SetupAdmin(ctx, token, accounts.Host{Login: "root"}, "admin password"); err == nil {
		t.Fatal("setup with the store away: no error")
	}
	store.fail = false
	if err := svc.CheckSetupToken(ctx, token); !errors.Is(err, accounts.ErrNoSetup) {
		t.Fatalf("the link spent by a setup that could not give it back: got %v, want ErrNoSetup", err)
	}
	restart := accounts.New(blobs, catalog, nil)
	fresh, ok, err := restart.IssueSetupToken(ctx)
	if err != nil || !ok {
		t.Fatalf("the next start without admin: got a link %v, %v; want a new link", ok, err)
	}
	if _, err := restart.SetupAdmin(ctx, fresh, accounts.Host{Login: "root"}, "admin password"); err != nil {
		t.Errorf("setup with the new link: %v", err)
	}
}

// spendThenFail lets the first write through (the spend of the setup
// token) and fails every later one while its store fails.
type spendThenFail struct {
	*failingWrites
	writes int
}

func (s *spendThenFail) PutIf(ctx context.Context, key string, r io.Reader, size int64, ctype, ifMatch string) (bucket.ObjectInfo, error) {
	s.writes++
	if s.writes == 1 {
		return s.failingWrites.Store.PutIf(ctx, key, r, size, ctype, ifMatch)
	}
	return s.failingWrites.PutIf(ctx, key, r, size, ctype, ifMatch)
}
