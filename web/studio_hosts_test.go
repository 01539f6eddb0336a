package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHostsPagesAccess: only admins reach the hosts pages; an admin
// cannot disable or demote themselves; a host whose password was reset is
// sent to their account page until they change it; a cross-site post to
// the hosts page is refused.
func TestHostsPagesAccess(t *testing.T) {
	env := newStudioEnv(t, 0)
	alice := env.login("alice")
	for _, path := range []string{"/studio/hosts", "/studio/hosts/bob"} {
		if resp, _ := env.do(alice, "GET", path, nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("alice GET %s: got %d, want 403", path, resp.StatusCode)
		}
	}
	body, h := form("login", "mallory", "password", "mallory-pass", "admin", "1")
	if resp, _ := env.do(alice, "POST", "/studio/hosts", body, h); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice adds an admin: got %d, want 403", resp.StatusCode)
	}
	root := env.login("root")
	r, _ := env.hosts.Host("root")
	body, h = form("revision", r.Revision, "name", "Root", "admin", "1", "disabled", "1")
	if resp, out := env.do(root, "POST", "/studio/hosts/root", body, h); resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, "votre propre compte") {
		t.Errorf("root disables root: got %d, want 400", resp.StatusCode)
	}
	body, h = form("password", "nouveau-provisoire")
	if resp, _ := env.do(root, "POST", "/studio/hosts/alice/password", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset alice: got %d", resp.StatusCode)
	}
	if resp, _ := env.do(alice, "GET", "/studio/", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/studio/login?next=%2Fstudio%2F" {
		t.Errorf("alice's old session after the reset: got %d %s, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := env.client()
	body, h = form("login", "alice", "password", "nouveau-provisoire")
	env.do(c, "POST", "/studio/login", body, h)
	if resp, _ := env.do(c, "GET", "/studio/lvel/", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/studio/account" {
		t.Errorf("after a reset: got %d %s, want the account page", resp.StatusCode, resp.Header.Get("Location"))
	}
	body, h = form("login", "eve", "password", "eve-password")
	h["Origin"] = "https://evil.example"
	h["Sec-Fetch-Site"] = "cross-site"
	if resp, _ := env.do(root, "POST", "/studio/hosts", body, h); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site add: got %d, want 403", resp.StatusCode)
	}
	if _, err := env.hosts.Host("eve"); err == nil {
		t.Error("a cross-site post added a host")
	}
}
