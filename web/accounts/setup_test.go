package accounts_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/picasoft/antenne/episodes"
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
		for _, svc := range []*accounts.Service{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- svc.ConsumeSetupToken(ctx, token)
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
				t.Errorf("consume: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d requests spent the token, want 1", won)
		}
		if err := b.CheckSetupToken(ctx, token); !errors.Is(err, accounts.ErrNoSetup) {
			t.Errorf("the spent token: got %v, want ErrNoSetup", err)
		}
		if _, err := a.AddHost(ctx, accounts.Host{Login: "root", Admin: true}, "admin password"); err != nil {
			t.Fatal(err)
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
