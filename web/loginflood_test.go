package web_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/web"
)

// TestLoginFloodLocksNobodyOut floods the login from one address with
// thousands of attempts under different logins (some 50 KB long), and
// from many addresses with wrong passwords for alice, while alice signs in
// from her own address: she gets in, the flood is answered 429 or 400,
// and the server's heap stays under 100 MiB.
func TestLoginFloodLocksNobodyOut(t *testing.T) {
	env := newStudioEnvWith(t, 0, func(c *web.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	from := func(addr string, kv ...string) (*strings.Reader, map[string]string) {
		body, h := form(kv...)
		h["X-Forwarded-For"] = addr
		return body.(*strings.Reader), h
	}
	signIn := func(when string) {
		t.Helper()
		body, h := from("198.51.100.9", "login", "alice", "password", testPassword)
		if resp, out := env.do(nil, "POST", "/studio/login", body, h); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("alice %s: got %d, want 303\n%.300s", when, resp.StatusCode, out)
		}
	}

	const (
		longLogins  = 200 // 50 KB each
		shortLogins = 2_000
		spread      = 8 // addresses guessing alice's password once each: her bucket empties
	)
	var (
		statuses sync.Map // status -> *atomic.Int64
		wg       sync.WaitGroup
		next     = make(chan func() (*strings.Reader, map[string]string))
	)
	count := func(code int) {
		v, _ := statuses.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 8},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for range 8 {
		wg.Go(func() {
			for req := range next {
				body, h := req()
				r, _ := http.NewRequest("POST", env.srv.URL+"/studio/login", body)
				for k, v := range h {
					r.Header.Set(k, v)
				}
				resp, err := client.Do(r)
				if err != nil {
					count(0)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count(resp.StatusCode)
			}
		})
	}
	start := time.Now()
	long := strings.Repeat("x", 50<<10)
	for i := range longLogins {
		next <- func() (*strings.Reader, map[string]string) {
			return from("203.0.113.7", "login", fmt.Sprintf("%s%d", long, i), "password", "guess")
		}
	}
	for i := range spread {
		next <- func() (*strings.Reader, map[string]string) {
			return from(fmt.Sprintf("192.0.2.%d", i%250+1)+fmt.Sprintf(", 10.9.%d.1", i), "login", "alice", "password", "guess")
		}
	}
	for i := range shortLogins {
		if i == shortLogins/2 {
			signIn("during the flood")
		}
		next <- func() (*strings.Reader, map[string]string) {
			return from("203.0.113.7", "login", fmt.Sprintf("host%d", i), "password", "guess")
		}
	}
	close(next)
	wg.Wait()
	signIn("after the flood")

	got := map[int]int64{}
	statuses.Range(func(k, v any) bool { got[k.(int)] = v.(*atomic.Int64).Load(); return true })
	if got[http.StatusBadRequest] != longLogins {
		t.Errorf("got %d answers 400, want one per over-long login (%d); statuses %v", got[http.StatusBadRequest], longLogins, got)
	}
	// The flooding address gets its burst and one attempt per refill
	// while the flood lasts; every other attempt is answered 429.
	through := int64(shortLogins) - got[http.StatusTooManyRequests]
	if allowed := int64(ipBurst + time.Since(start)/ipEvery + 1); through > allowed {
		t.Errorf("%d of %d attempts from one address got through, want at most %d; statuses %v", through, shortLogins, allowed, got)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 100<<20 {
		t.Errorf("heap after the flood: %d MiB, want under 100 MiB", ms.HeapAlloc>>20)
	}
	t.Logf("statuses %v, heap %d MiB", got, ms.HeapAlloc>>20)
}

// The per-address limit of web/loginlimit.go.
const (
	ipBurst = 20
	ipEvery = 5 * time.Second
)
