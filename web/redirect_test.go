package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/picasoft/antenne/storage/storagetest"
)

// TestNoRedirectToAnotherHost asks paths that path cleaning could turn
// into a protocol-relative URL (//evil.example): every redirect the
// server answers stays on the site, and the ordinary trailing-slash
// redirect still works.
func TestNoRedirectToAnotherHost(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	for _, tc := range []struct {
		path    string
		headers []string
	}{
		{path: "/%2fevil.example/"},
		{path: "/%2Fevil.example"},
		{path: "/%2f%2fevil.example/"},
		{path: "//evil.example/"},
		{path: "///evil.example/"},
		{path: "/%5cevil.example/"},
		{path: "/%5c%5cevil.example/"},
		{path: "/%2f%5cevil.example/"},
		{path: "/evil.example", headers: []string{"X-Forwarded-Prefix: /"}},
		{path: "/evil.example/", headers: []string{"X-Forwarded-Prefix: //evil.example"}},
		{path: "/studio", headers: []string{"X-Forwarded-Prefix: /%2f"}},
	} {
		resp, _ := s.do("GET", s.srv.URL+tc.path, tc.headers...)
		loc := resp.Header.Get("Location")
		if loc == "" {
			continue
		}
		u, err := url.Parse(loc)
		if err != nil || u.Host != "" || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\\\") || strings.HasPrefix(u.Path, "//") {
			t.Errorf("GET %s %v: %d to %q, want no redirect to another host", tc.path, tc.headers, resp.StatusCode, loc)
		}
	}
	resp, _ := s.do("GET", "/lvel")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != "/lvel/" {
		t.Errorf("GET /lvel: got %d to %q, want 301 to /lvel/", resp.StatusCode, loc)
	}
}
