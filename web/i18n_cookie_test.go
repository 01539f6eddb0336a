package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picasoft/antenne/feed"
)

// TestLanguageCookieSecure: the language cookie is Secure when the site's
// base URL is https (TLS ended by a proxy), and not over plain http.
func TestLanguageCookieSecure(t *testing.T) {
	for _, tc := range []struct {
		base   string
		secure bool
	}{{"https://radio.example", true}, {"http://radio.example", false}} {
		links, err := feed.NewLinks(tc.base, "")
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Links: links})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/a/b/c/d/e?lang=en", nil))
		var cookie string
		for _, v := range rec.Result().Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, langCookie+"=") {
				cookie = v
			}
		}
		if cookie == "" {
			t.Fatalf("%s: no language cookie (status %d)", tc.base, rec.Code)
		}
		if got := strings.Contains(cookie, "; Secure"); got != tc.secure {
			t.Errorf("%s: cookie %q, want Secure=%v", tc.base, cookie, tc.secure)
		}
	}
}
