package accounts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/accounts"
)

// TestTokensExpire: a token works until TokenTTL after its creation and
// is refused after, and so is a token stored before tokens had an expiry
// once it is TokenTTL old.
func TestTokensExpire(t *testing.T) {
	ctx := t.Context()
	blobs := storagetest.Dir(t)
	clock := episodestest.NewClock()
	svc := accounts.New(blobs, episodes.NewService(blobs, episodes.Options{Now: clock.Now}), clock.Now)
	if _, err := svc.AddHost(ctx, accounts.Host{Login: "alice"}, ""); err != nil {
		t.Fatal(err)
	}
	tok, info, err := svc.CreateToken(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := info.ExpiresAt().Sub(info.Created); got != accounts.TokenTTL {
		t.Errorf("token lifetime %s, want %s", got, accounts.TokenTTL)
	}
	clock.Add(accounts.TokenTTL - time.Hour)
	if _, err := svc.HostByToken(ctx, tok); err != nil {
		t.Fatalf("an hour before it expires: %v", err)
	}
	clock.Add(time.Hour)
	if _, err := svc.HostByToken(ctx, tok); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("expired token: got %v, want ErrBadCredentials", err)
	}
	old := accounts.Token{Created: clock.Now().Add(-accounts.TokenTTL)}
	if !old.ExpiresAt().Equal(clock.Now()) {
		t.Errorf("a token without Expires expires at %s, want a year after its creation", old.ExpiresAt())
	}
}
