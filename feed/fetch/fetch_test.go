package fetch_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picasoft/antenne/feed/fetch"
)

// server is an httptest server on 127.0.0.1 that counts its requests.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func body(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) }
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}

func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return string(data), err
}

// wantBlocked fails unless err carries a *BlockedError refusing want.
func wantBlocked(t *testing.T, err error, want string) {
	t.Helper()
	var be *fetch.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("got error %v, want a *fetch.BlockedError", err)
	}
	if want != "" && be.Addr.String() != want {
		t.Errorf("refused address %s, want %s (%v)", be.Addr, want, err)
	}
}

func TestClientRefusesLoopbackByDefault(t *testing.T) {
	s := newServer(t, body("internal page"))
	_, err := get(t, fetch.NewClient(fetch.Options{}), s.URL+"/admin")
	wantBlocked(t, err, "127.0.0.1")
	if !strings.Contains(err.Error(), s.URL+"/admin") || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("error %q names neither the URL nor the reason", err)
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the server got %d requests, want 0", n)
	}
}

func TestClientAllowPrivate(t *testing.T) {
	s := newServer(t, body("ok"))
	got, err := get(t, fetch.NewClient(fetch.Options{AllowPrivate: true}), s.URL)
	if err != nil || got != "ok" {
		t.Fatalf("got %q, %v; want ok", got, err)
	}
}

func TestClientTrustedOrigin(t *testing.T) {
	private := newServer(t, body("internal page"))
	feedHost := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			io.WriteString(w, "<rss/>")
		case "/to-private":
			http.Redirect(w, r, private.URL+"/secret", http.StatusFound)
		case "/to-localhost":
			// A name, not an address: refused after resolution.
			http.Redirect(w, r, strings.Replace(private.URL, "127.0.0.1", "localhost", 1)+"/secret", http.StatusFound)
		case "/to-self":
			http.Redirect(w, r, "/feed.xml", http.StatusMovedPermanently)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}
	})
	c := fetch.NewClient(fetch.Options{Trusted: []string{feedHost.URL + "/feed.xml"}})
	for _, p := range []string{"/feed.xml", "/to-self"} {
		if got, err := get(t, c, feedHost.URL+p); err != nil || got != "<rss/>" {
			t.Errorf("%s: got %q, %v; want the feed from the trusted origin", p, got, err)
		}
	}
	_, err := get(t, c, feedHost.URL+"/to-private")
	wantBlocked(t, err, "127.0.0.1")
	_, err = get(t, c, feedHost.URL+"/to-localhost")
	wantBlocked(t, err, "")
	_, err = get(t, c, feedHost.URL+"/to-file")
	wantBlocked(t, err, "")
	if n := private.hits.Load(); n != 0 {
		t.Errorf("the private server got %d requests, want 0", n)
	}
	// Another port of the trusted host is another origin.
	_, err = get(t, c, private.URL)
	wantBlocked(t, err, "127.0.0.1")
}

func TestClientRedirectLimit(t *testing.T) {
	var s *server
	s = newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, s.URL, http.StatusFound) })
	_, err := get(t, fetch.NewClient(fetch.Options{AllowPrivate: true, MaxRedirects: 3}), s.URL)
	if err == nil || !strings.Contains(err.Error(), "more than 3 redirects") {
		t.Fatalf("got %v, want a refusal after 3 redirects", err)
	}
	if n := s.hits.Load(); n != 4 {
		t.Errorf("got %d requests, want 4", n)
	}
}

func TestClientSchemes(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/"} {
		_, err := get(t, fetch.NewClient(fetch.Options{AllowPrivate: true}), u)
		wantBlocked(t, err, "")
	}
}

func TestClientMaxBytes(t *testing.T) {
	big := strings.Repeat("x", 1000)
	declared := newServer(t, body(big))
	chunked := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, big[:500])
		w.(http.Flusher).Flush()
		io.WriteString(w, big[500:])
	})
	exact := newServer(t, body(big[:100]))
	c := fetch.NewClient(fetch.Options{AllowPrivate: true, MaxBytes: 100})
	for _, s := range []*server{declared, chunked} {
		if _, err := get(t, c, s.URL); !errors.Is(err, fetch.ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
	}
	if got, err := get(t, c, exact.URL); err != nil || len(got) != 100 {
		t.Errorf("a body of exactly MaxBytes: got %d bytes, %v", len(got), err)
	}
}

func TestReadAll(t *testing.T) {
	if got, err := fetch.ReadAll(strings.NewReader("abc"), 3); err != nil || string(got) != "abc" {
		t.Errorf("got %q, %v; want abc", got, err)
	}
	if _, err := fetch.ReadAll(strings.NewReader("abcd"), 3); !errors.Is(err, fetch.ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"127.0.0.1", false}, {"127.8.9.10", false}, {"::1", false},
		{"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"fc00::1", false}, {"fd12:3456::1", false},
		{"169.254.169.254", false}, {"fe80::1", false},
		{"224.0.0.1", false}, {"ff02::1", false}, {"239.255.255.250", false},
		{"0.0.0.0", false}, {"::", false}, {"0.1.2.3", false},
		{"100.64.0.1", false}, {"100.127.255.254", false},
		{"255.255.255.255", false}, {"198.18.0.1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"::ffff:169.254.169.254", false},
		{"64:ff9b::7f00:1", false}, {"2002:7f00:1::1", false}, {"2002:a00:1::1", false},
		{"1.1.1.1", true}, {"8.8.8.8", true}, {"100.128.0.1", true}, {"172.32.0.1", true},
		{"2606:4700:4700::1111", true}, {"::ffff:1.1.1.1", true}, {"64:ff9b::101:101", true},
	} {
		got := fetch.Classify(netip.MustParseAddr(tc.addr))
		if (got == "") != tc.public {
			t.Errorf("Classify(%s) = %q, want public=%v", tc.addr, got, tc.public)
		}
	}
}
