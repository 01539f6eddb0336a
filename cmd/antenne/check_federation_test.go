package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRemovesUnreadableFederationDocuments puts into the bucket a
// follower document over the bound replicas read (as a Follow with a huge
// id once made) and a delivery that is not JSON: check reports both,
// check --repair removes them, and check is then ok.
func TestCheckRemovesUnreadableFederationDocuments(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre", "--email", "radio@picasoft.net")
	dir := c.vars["ANTENNE_DATA_DIR"]
	huge := filepath.Join(dir, "shows", "lvel", "followers", "0123456789abcdef0123456789abcdef.json")
	broken := filepath.Join(dir, "federation", "outbox", "0123-4567.json")
	for path, data := range map[string]string{
		huge:   `{"actor":"https://evil.example/users/a","follow_id":"` + strings.Repeat(`\u003c`, 250000) + `"}`,
		broken: `{"show":"lvel",`,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	code, out, _ := c.run("check", "--no-hash")
	if code != 1 || !strings.Contains(out, "shows/lvel/followers/0123456789abcdef0123456789abcdef.json") || !strings.Contains(out, "federation/outbox/0123-4567.json") {
		t.Errorf("check: got exit %d, want 1 naming both documents:\n%s", code, out)
	}
	out = c.ok("check", "--repair", "--no-hash")
	if strings.Count(out, "repair: removed") != 2 {
		t.Errorf("check --repair: got\n%s", out)
	}
	if out := c.ok("check", "--no-hash"); !strings.Contains(out, "ok") {
		t.Errorf("check after the repair: got\n%s", out)
	}
}
