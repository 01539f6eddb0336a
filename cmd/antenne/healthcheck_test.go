package main

import (
	"strings"
	"testing"
)

// TestHealthcheck: `antenne healthcheck` exits 0 while the antenne of
// ANTENNE_ADDR is ready, 1 once it has stopped.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"ANTENNE_DATA_DIR": t.TempDir()})
	addr := strings.TrimPrefix(s.url, "http://")
	check := func() int {
		var out strings.Builder
		err := run(t.Context(), []string{"healthcheck"}, &env{stdout: &out, stderr: &out, getenv: envFrom(map[string]string{"ANTENNE_ADDR": addr})})
		return report(err, &out)
	}
	if code := check(); code != 0 {
		t.Errorf("healthcheck of a ready antenne: exit %d, want 0", code)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if code := check(); code != 1 {
		t.Errorf("healthcheck of a stopped antenne: exit %d, want 1", code)
	}
}

func TestReadyzURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080/readyz",
		":8080":          "http://127.0.0.1:8080/readyz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/readyz",
		"[::]:8080":      "http://[::1]:8080/readyz",
		"10.0.0.5:8080":  "http://10.0.0.5:8080/readyz",
		"localhost:8081": "http://localhost:8081/readyz",
	} {
		if got, err := readyzURL(addr); err != nil || got != want {
			t.Errorf("readyzURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := readyzURL("8080"); err == nil {
		t.Errorf("readyzURL(\"8080\"): no error")
	}
}
