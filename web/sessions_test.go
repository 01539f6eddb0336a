package web_test

import (
	"net/http"
	"net/url"
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
