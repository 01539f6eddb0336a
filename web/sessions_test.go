package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/picasoft/antenne/web/accounts"
)

// cookieOf is the session cookie a client holds.
func cookieOf(t *testing.T, env *studioEnv, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(env.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "antenne_session" {
			return "antenne_session=" + ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestSessionsBoundToAccount: a session of a removed account does not
// open the account created again with the same login, and a plain
// sign-out revokes the session signed out (a copy of its cookie is
// refused) while the host's other sessions go on.
func TestSessionsBoundToAccount(t *testing.T) {
	env := newStudioEnv(t, 0)
	ctx := t.Context()
	studio := func(cookie string) int {
		t.Helper()
		resp, _ := env.do(nil, "GET", "/studio/lvel/", nil, map[string]string{"Cookie": cookie})
		return resp.StatusCode
	}

	old := cookieOf(t, env, env.login("alice"))
	if got := studio(old); got != http.StatusOK {
		t.Fatalf("alice's session: got %d, want 200", got)
	}
	if err := env.hosts.RemoveHost(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.hosts.AddHost(ctx, accounts.Host{Login: "alice", Shows: []string{"lvel"}}, testPassword); err != nil {
		t.Fatal(err)
	}
	if got := studio(old); got != http.StatusSeeOther {
		t.Errorf("the removed account's session on the new alice: got %d, want 303 to the login", got)
	}

	laptop, phone := env.login("alice"), env.login("alice")
	copied := cookieOf(t, env, laptop)
	if resp, _ := env.do(laptop, "POST", "/studio/logout", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: got %d, want 303", resp.StatusCode)
	}
	if got := studio(copied); got != http.StatusSeeOther {
		t.Errorf("the signed-out session's cookie: got %d, want 303 to the login", got)
	}
	if got := studio(cookieOf(t, env, phone)); got != http.StatusOK {
		t.Errorf("another session of the host after a sign-out: got %d, want 200", got)
	}
}

// TestPasswordResetRevokes: an admin's reset ends the host's sessions and
// revokes the tokens made before it; until the host chooses a new
// password, the temporary one opens nothing but the password form (no
// token from the studio or the CLI, no edit, no upload page); after the
// change, tokens can be made again.
func TestPasswordResetRevokes(t *testing.T) {
	env := newStudioEnv(t, 0)
	ctx := t.Context()
	api := func(token string) int {
		t.Helper()
		resp, _ := env.do(nil, "GET", "/api/v1/shows/lvel/episodes", nil, map[string]string{"Authorization": "Bearer " + token})
		return resp.StatusCode
	}
	before, _, err := env.hosts.CreateToken(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	session := cookieOf(t, env, env.login("alice"))
	if got := api(before); got != http.StatusOK {
		t.Fatalf("the token before the reset: got %d, want 200", got)
	}

	root := env.login("root")
	body, h := form("password", "temporary pw")
	if resp, out := env.do(root, "POST", "/studio/hosts/alice/password", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: got %d\n%.2000s", resp.StatusCode, out)
	}
	if got := api(before); got != http.StatusUnauthorized {
		t.Errorf("the token made before the reset: got %d, want 401", got)
	}
	if resp, _ := env.do(nil, "GET", "/studio/lvel/", nil, map[string]string{"Cookie": session}); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") == "/studio/account" {
		t.Errorf("the session made before the reset: got %d to %q, want 303 to the login", resp.StatusCode, resp.Header.Get("Location"))
	}

	c := env.client()
	body, h = form("login", "alice", "password", "temporary pw")
	if resp, _ := env.do(c, "POST", "/studio/login", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with the temporary password: got %d", resp.StatusCode)
	}
	for _, req := range []struct{ method, path string }{
		{"POST", "/studio/account/tokens"},
		{"POST", "/studio/account/tokens/x/revoke"},
		{"GET", "/studio/lvel/"},
		{"GET", "/studio/account/anything"},
		{"POST", "/studio/lvel/upload"},
	} {
		resp, _ := env.do(c, req.method, req.path, nil, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/studio/account" {
			t.Errorf("%s %s with the temporary password: got %d to %q, want 303 to /studio/account", req.method, req.path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, out := env.do(c, "GET", "/studio/account", nil, nil); resp.StatusCode != http.StatusOK || strings.Contains(out, `action="/studio/account/tokens"`) {
		t.Errorf("the account page with the temporary password: got %d, and a token form: %v", resp.StatusCode, strings.Contains(out, "/studio/account/tokens"))
	}
	if _, _, err := env.hosts.CreateToken(ctx, "alice"); !errors.Is(err, accounts.ErrMustChangePassword) {
		t.Errorf("CreateToken (the CLI, an admin) before the change: got %v, want ErrMustChangePassword", err)
	}
	if resp, _ := env.do(root, "POST", "/studio/hosts/alice/tokens", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an admin's token for alice before the change: got %d, want 403", resp.StatusCode)
	}
	if hst, _ := env.hosts.Host("alice"); len(hst.Tokens) != 0 {
		t.Fatalf("alice has %d tokens before choosing her password, want 0", len(hst.Tokens))
	}

	body, h = form("current", "temporary pw", "password", "her own password", "password2", "her own password")
	if resp, out := env.do(c, "POST", "/studio/account/password", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change the password: got %d\n%.2000s", resp.StatusCode, out)
	}
	if resp, out := env.do(c, "POST", "/studio/account/tokens", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(out, "ant_") {
		t.Errorf("a token after the change: got %d", resp.StatusCode)
	}
}
