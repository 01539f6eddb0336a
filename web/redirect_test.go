package web

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/picasoft/antenne/storage/storagetest"
)

// TestNoRedirectToAnotherHost asks paths that path cleaning could turn
// into a protocol-relative URL (//evil.example, or /\evil.example, which
// browsers read alike), each in a form the server answers with a redirect
// (the trailing slash added or removed), and a forwarded prefix that could
// be put before one: every variant is a redirect, and every redirect
// stays on the site. The requests are written on the connection as they
// are, backslashes included.
func TestNoRedirectToAnotherHost(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	addr := strings.TrimPrefix(s.srv.URL, "http://")
	get := func(target string, headers ...string) (int, string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", target, addr)
		for _, h := range headers {
			fmt.Fprintf(c, "%s\r\n", h)
		}
		fmt.Fprint(c, "\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	type variant struct {
		path    string
		headers []string
	}
	var variants []variant
	for _, lead := range []string{"%2f", "%2F", "%2f%2f", "/", "//", "%5c", "%5c%5c", "%2f%5c", `\`, `\\`, `/\`} {
		// The slash added (the show's page), or removed (an episode's).
		variants = append(variants, variant{path: "/" + lead + "evil.example"}, variant{path: "/" + lead + "evil.example/x/"})
	}
	for _, prefix := range []string{"/", "//evil.example", "/%2f", `/\evil.example`, `\\evil.example`} {
		variants = append(variants, variant{path: "/lvel", headers: []string{"X-Forwarded-Prefix: " + prefix}})
	}
	for _, v := range variants {
		code, loc := get(v.path, v.headers...)
		if code < 300 || code > 399 || loc == "" {
			t.Errorf("GET %s %v: got %d, want a redirect (the variant tests nothing otherwise)", v.path, v.headers, code)
			continue
		}
		u, err := url.Parse(loc)
		path := ""
		if err == nil {
			path, _ = url.PathUnescape(u.EscapedPath())
		}
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") ||
			strings.HasPrefix(loc, `/\`) || strings.HasPrefix(path, "//") {
			t.Errorf("GET %s %v: %d to %q, want no redirect to another host", v.path, v.headers, code, loc)
		}
	}
	resp, _ := s.do("GET", "/lvel")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != "/lvel/" {
		t.Errorf("GET /lvel: got %d to %q, want 301 to /lvel/", resp.StatusCode, loc)
	}
}
