package accounts_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/accounts"
)

func TestHostAccounts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, blobs storagetest.Store) {
		ctx := t.Context()
		clock := episodestest.NewClock()
		catalog := episodes.NewService(blobs, episodes.Options{Now: clock.Now})
		if _, err := catalog.CreateShow(ctx, episodes.Show{Slug: "lvel", Title: "La Voix est Libre", Description: "L'émission de Picasoft",
			Author: "Picasoft", Owner: episodes.Owner{Name: "Picasoft", Email: "radio@picasoft.net"},
			Categories: []episodes.Category{{Name: "Technology"}}}, "https://radio.picasoft.net/lvel/feed.xml"); err != nil {
			t.Fatalf("CreateShow: %v", err)
		}
		svc := accounts.New(blobs, catalog, clock.Now)

		if _, err := svc.AddHost(ctx, accounts.Host{Login: "alice", Name: "Alice", Shows: []string{"lvel"}}, "correct horse"); err != nil {
			t.Fatalf("AddHost: %v", err)
		}
		if _, err := svc.AddHost(ctx, accounts.Host{Login: "root", Admin: true}, "admin password"); err != nil {
			t.Fatalf("AddHost admin: %v", err)
		}

		bad := []struct {
			name     string
			host     accounts.Host
			password string
			want     error
		}{
			{"taken login", accounts.Host{Login: "alice"}, "whatever123", bucket.ErrConflict},
			{"bad login", accounts.Host{Login: "../etc"}, "whatever123", episodes.ErrInvalid},
			{"upper case login", accounts.Host{Login: "Alice"}, "whatever123", episodes.ErrInvalid},
			{"unknown show", accounts.Host{Login: "bob", Shows: []string{"nope"}}, "whatever123", episodes.ErrInvalid},
			{"short password", accounts.Host{Login: "bob"}, "short", episodes.ErrInvalid},
			{"long password", accounts.Host{Login: "bob"}, strings.Repeat("x", 73), episodes.ErrInvalid},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.AddHost(ctx, tc.host, tc.password)
				if !errors.Is(err, tc.want) {
					t.Errorf("got %v, want %v", err, tc.want)
				}
			})
		}

		auth := []struct {
			login, password string
			ok              bool
		}{
			{"alice", "correct horse", true},
			{"alice", "correct horsE", false},
			{"alice", "", false},
			{"nobody", "correct horse", false},
			{"../alice", "correct horse", false},
			{"root", "admin password", true},
		}
		for _, tc := range auth {
			h, err := svc.Authenticate(ctx, tc.login, tc.password)
			switch {
			case tc.ok && (err != nil || h.Login != tc.login):
				t.Errorf("Authenticate(%q, %q): got %v, %v; want the host", tc.login, tc.password, h, err)
			case !tc.ok && !errors.Is(err, accounts.ErrBadCredentials):
				t.Errorf("Authenticate(%q, %q): got %v, want ErrBadCredentials", tc.login, tc.password, err)
			}
		}

		alice, _ := svc.Host("alice")
		root, _ := svc.Host("root")
		for _, tc := range []struct {
			host *accounts.Host
			show string
			want bool
		}{{alice, "lvel", true}, {alice, "other", false}, {root, "other", true}, {nil, "lvel", false}} {
			if got := tc.host.CanEdit(tc.show); got != tc.want {
				t.Errorf("CanEdit(%v, %q): got %v, want %v", tc.host, tc.show, got, tc.want)
			}
		}

		// A password change ends the sessions and the old password.
		gen := alice.SessionGeneration
		if err := svc.SetPassword(ctx, "alice", "battery staple"); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		if _, err := svc.Authenticate(ctx, "alice", "correct horse"); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("old password: got %v, want ErrBadCredentials", err)
		}
		if h, err := svc.Authenticate(ctx, "alice", "battery staple"); err != nil || h.SessionGeneration != gen+1 {
			t.Errorf("new password: got %v, %v; want generation %d", h, err, gen+1)
		}

		// Tokens: shown once, stored hashed, revocable; a second replica
		// sees them after a refresh.
		token, tok, err := svc.CreateToken(ctx, "alice")
		if err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		stored, _ := svc.Host("alice")
		if len(stored.Tokens) != 1 || stored.Tokens[0].Hash == token || strings.Contains(stored.Tokens[0].Hash, token) {
			t.Fatalf("got tokens %+v, want one hashed token", stored.Tokens)
		}
		if h, err := svc.HostByToken(ctx, token); err != nil || h.Login != "alice" {
			t.Errorf("HostByToken: got %v, %v; want alice", h, err)
		}
		for _, wrong := range []string{"", "ant_", token + "x", strings.TrimPrefix(token, "ant_"), tok.Hash} {
			if _, err := svc.HostByToken(ctx, wrong); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("HostByToken(%q): got %v, want ErrBadCredentials", wrong, err)
			}
		}
		other := accounts.New(blobs, catalog, clock.Now) // tokens expire: replicas share the time
		if err := other.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if h, err := other.HostByToken(ctx, token); err != nil || h.Login != "alice" {
			t.Errorf("other replica: HostByToken: got %v, %v; want alice", h, err)
		}
		if err := svc.RevokeToken(ctx, "alice", tok.ID); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		if err := svc.RevokeToken(ctx, "alice", tok.ID); !errors.Is(err, bucket.ErrNotFound) {
			t.Errorf("revoke twice: got %v, want ErrNotFound", err)
		}
		if _, err := svc.HostByToken(ctx, token); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("revoked token: got %v, want ErrBadCredentials", err)
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if _, err := other.HostByToken(ctx, token); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("other replica, revoked token: got %v, want ErrBadCredentials", err)
		}

		// A stale revision conflicts.
		stale, _ := svc.Host("alice")
		if _, err := svc.UpdateHost(ctx, "alice", stale.Revision, func(h *accounts.Host) error { h.Name = "A."; return nil }); err != nil {
			t.Fatalf("UpdateHost: %v", err)
		}
		if _, err := svc.UpdateHost(ctx, "alice", stale.Revision, func(h *accounts.Host) error { h.Name = "B."; return nil }); !errors.Is(err, bucket.ErrConflict) {
			t.Errorf("stale UpdateHost: got %v, want ErrConflict", err)
		}

		if err := svc.RemoveHost(ctx, "alice"); err != nil {
			t.Fatalf("RemoveHost: %v", err)
		}
		if err := svc.RemoveHost(ctx, "alice"); !errors.Is(err, bucket.ErrNotFound) {
			t.Errorf("remove twice: got %v, want ErrNotFound", err)
		}
		if _, err := svc.Authenticate(ctx, "alice", "battery staple"); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("removed host: got %v, want ErrBadCredentials", err)
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if got := len(other.Hosts()); got != 1 {
			t.Errorf("other replica after removal: got %d hosts, want 1", got)
		}
	})
}

// TestAuthenticateUnknownLoginCost checks that an unknown login is not
// answered much faster than a wrong password (which would tell which
// logins exist). The bound is loose: only a missing hash check fails it.
func TestAuthenticateUnknownLoginCost(t *testing.T) {
	ctx := t.Context()
	svc := accounts.New(storagetest.Dir(t), nil, nil)
	if _, err := svc.AddHost(ctx, accounts.Host{Login: "alice"}, "correct horse"); err != nil {
		t.Fatal(err)
	}
	measure := func(login string) time.Duration {
		start := time.Now()
		for range 3 {
			svc.Authenticate(ctx, login, "wrong password")
		}
		return time.Since(start)
	}
	measure("nobody") // computes the dummy hash once
	known, unknown := measure("alice"), measure("nobody")
	if unknown < known/4 {
		t.Errorf("unknown login took %v, wrong password %v: a login can be told from the timing", unknown, known)
	}
}
