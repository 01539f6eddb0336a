package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/fetch"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/accounts"
	"github.com/picasoft/antenne/web/federation"
)

// studioEnv is antenne served over HTTP on a local folder, with two shows
// (lvel, other), a host of each (alice, bob) and an admin (root).
type studioEnv struct {
	t      *testing.T
	store  *storage.Dir
	svc    *episodes.Service
	hosts  *accounts.Service
	srv    *httptest.Server
	tokens map[string]string
	logs   storagetest.LogBuffer
}

const testPassword = "correct horse"

func newStudioEnv(t *testing.T, maxUpload int64) *studioEnv {
	t.Helper()
	return newStudioEnvWith(t, maxUpload, nil)
}

// newStudioEnvWith is newStudioEnv with the web configuration changed by
// tweak (when not nil) before the server is built.
func newStudioEnvWith(t *testing.T, maxUpload int64, tweak func(*web.Config)) *studioEnv {
	t.Helper()
	return newStudioEnvFull(t, maxUpload, episodes.Options{TempDir: t.TempDir()}, tweak)
}

// newStudioEnvJobs is newStudioEnv with the catalog's options, for the
// tests of ingest jobs.
func newStudioEnvJobs(t *testing.T, opts episodes.Options) *studioEnv {
	t.Helper()
	return newStudioEnvFull(t, 0, opts, nil)
}

func newStudioEnvFull(t *testing.T, maxUpload int64, opts episodes.Options, tweak func(*web.Config)) *studioEnv {
	t.Helper()
	ctx := t.Context()
	store := storagetest.Dir(t)
	svc := episodes.NewService(store, opts)
	for _, slug := range []string{"lvel", "other"} {
		if _, err := svc.CreateShow(ctx, episodes.Show{Slug: slug, Title: "Émission " + slug, Description: "Une émission"}, "http://antenne.test/"+slug+"/feed.xml"); err != nil {
			t.Fatal(err)
		}
	}
	hosts := accounts.New(store, svc, nil)
	env := &studioEnv{t: t, store: store, svc: svc, hosts: hosts, tokens: map[string]string{}}
	for _, h := range []accounts.Host{
		{Login: "alice", Name: "Alice", Shows: []string{"lvel"}},
		{Login: "bob", Shows: []string{"other"}},
		{Login: "root", Admin: true},
	} {
		if _, err := hosts.AddHost(ctx, h, testPassword); err != nil {
			t.Fatal(err)
		}
		tok, _, err := hosts.CreateToken(ctx, h.Login)
		if err != nil {
			t.Fatal(err)
		}
		env.tokens[h.Login] = tok
	}
	// The base URL is the test server's own, so that every link of the
	// pages (and of the feed) points to it.
	var handler http.Handler
	env.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	links, err := feed.NewLinks("http://"+env.srv.Listener.Addr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	fed, err := federation.New(federation.Config{Catalog: svc, Store: store, Links: links, Client: fetch.NewClient(fetch.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{Catalog: svc, Accounts: hosts, Store: store, Links: links, MaxUpload: maxUpload, Federation: fed, Logger: slog.New(slog.NewTextHandler(&env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	handler = s.Handler()
	env.srv.Start()
	t.Cleanup(env.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", env.logs.String())
		}
	})
	return env
}

// client is a browser-like client: cookies kept, redirects not followed.
func (env *studioEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request and returns the response with its body read.
func (env *studioEnv) do(c *http.Client, method, path string, body io.Reader, header map[string]string) (*http.Response, string) {
	env.t.Helper()
	req, err := http.NewRequestWithContext(env.t.Context(), method, env.srv.URL+path, body)
	if err != nil {
		env.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = env.client()
	}
	resp, err := c.Do(req)
	if err != nil {
		env.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func form(kv ...string) (io.Reader, map[string]string) {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

// login signs in as login and returns the client holding the session.
func (env *studioEnv) login(login string) *http.Client {
	env.t.Helper()
	c := env.client()
	body, h := form("login", login, "password", testPassword)
	resp, out := env.do(c, "POST", "/studio/login", body, h)
	if resp.StatusCode != http.StatusSeeOther {
		env.t.Fatalf("login %s: got %d, want 303\n%s", login, resp.StatusCode, out)
	}
	return c
}

// multipartBody is a multipart form with fields then the file part.
func multipartBody(t *testing.T, fileName string, data []byte, fields ...string) (io.Reader, map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	fw, _ := w.CreateFormFile("file", fileName)
	fw.Write(data)
	w.Close()
	return &buf, map[string]string{"Content-Type": w.FormDataContentType()}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objects lists the keys of the store under prefix.
func (env *studioEnv) objects(prefix string) []string {
	var keys []string
	for info, err := range env.store.List(env.t.Context(), prefix) {
		if err != nil {
			env.t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

func TestStudioAndAPIWithoutLogin(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	ep := env.upload(t, "alice", "lvel")
	studio := []struct{ method, path string }{
		{"GET", "/studio/"},
		{"GET", "/studio/lvel/"},
		{"POST", "/studio/lvel/upload"},
		{"GET", "/studio/lvel/settings"},
		{"POST", "/studio/lvel/settings"},
		{"GET", "/studio/lvel/" + ep},
		{"POST", "/studio/lvel/" + ep},
		{"POST", "/studio/lvel/" + ep + "/replace"},
		{"GET", "/studio/lvel/" + ep + "/delete"},
		{"POST", "/studio/lvel/" + ep + "/delete"},
		{"POST", "/studio/logout"},
	}
	for _, tc := range studio {
		for _, cookie := range []string{"", "antenne_session=forged.value", "antenne_session=YWxpY2V8MHw5OTk5OTk5OTk5.AAAA"} {
			resp, _ := env.do(nil, tc.method, tc.path, strings.NewReader(""), map[string]string{"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/studio/login") {
				t.Errorf("%s %s (cookie %q): got %d to %q, want 303 to the login page", tc.method, tc.path, cookie, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	api := []struct{ method, path string }{
		{"GET", "/api/v1/shows"},
		{"GET", "/api/v1/shows/lvel"},
		{"GET", "/api/v1/shows/lvel/episodes"},
		{"POST", "/api/v1/shows/lvel/episodes"},
		{"GET", "/api/v1/shows/lvel/episodes/" + ep},
		{"PATCH", "/api/v1/shows/lvel/episodes/" + ep},
		{"DELETE", "/api/v1/shows/lvel/episodes/" + ep},
		{"POST", "/api/v1/shows/lvel/episodes/" + ep + "/publish"},
		{"POST", "/api/v1/shows/lvel/episodes/" + ep + "/schedule"},
		{"POST", "/api/v1/shows/lvel/episodes/" + ep + "/unpublish"},
	}
	for _, tc := range api {
		for _, auth := range []string{"", "Bearer", "Bearer ant_wrong", "Basic YWxpY2U6eA==", "Bearer " + env.tokens["alice"] + "x"} {
			resp, body := env.do(nil, tc.method, tc.path, strings.NewReader("{}"), map[string]string{"Authorization": auth})
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
				t.Errorf("%s %s (auth %q): got %d %s, want 401 unauthorized", tc.method, tc.path, auth, resp.StatusCode, body)
			}
		}
	}
	if _, err := env.svc.Episode("lvel", ep); err != nil {
		t.Errorf("after the refused requests: %v", err)
	}
}

// upload creates an episode of show through the API as login and returns
// its id.
func (env *studioEnv) upload(t *testing.T, login, show string) string {
	t.Helper()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Tags: map[string]string{"title": "Les communs " + show}})
	body, h := multipartBody(t, "communs.mp3", readFile(t, mp3), "draft", "true")
	h["Authorization"] = "Bearer " + env.tokens[login]
	resp, out := env.do(nil, "POST", "/api/v1/shows/"+show+"/episodes", body, h)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: got %d %s, want 201", resp.StatusCode, out)
	}
	var e struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(out), &e)
	return e.ID
}

func TestOtherShowsHostIsForbidden(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	ep := env.upload(t, "bob", "other")
	alice := env.login("alice")
	for _, tc := range []struct{ method, path string }{
		{"GET", "/studio/other/"},
		{"POST", "/studio/other/upload"},
		{"GET", "/studio/other/" + ep},
		{"POST", "/studio/other/" + ep},
		{"POST", "/studio/other/" + ep + "/replace"},
		{"GET", "/studio/other/" + ep + "/delete"},
		{"POST", "/studio/other/" + ep + "/delete"},
		{"GET", "/studio/other/settings"},
		{"GET", "/studio/lvel/settings"}, // not an admin
		{"POST", "/studio/lvel/settings"},
	} {
		body, h := form("title", "pwned", "action", "publish")
		resp, _ := env.do(alice, tc.method, tc.path, body, h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("alice %s %s: got %d, want 403", tc.method, tc.path, resp.StatusCode)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/shows/other"},
		{"GET", "/api/v1/shows/other/episodes"},
		{"POST", "/api/v1/shows/other/episodes"},
		{"GET", "/api/v1/shows/other/episodes/" + ep},
		{"PATCH", "/api/v1/shows/other/episodes/" + ep},
		{"DELETE", "/api/v1/shows/other/episodes/" + ep},
		{"POST", "/api/v1/shows/other/episodes/" + ep + "/publish"},
		{"POST", "/api/v1/shows/other/episodes/" + ep + "/schedule"},
		{"POST", "/api/v1/shows/other/episodes/" + ep + "/unpublish"},
	} {
		resp, body := env.do(nil, tc.method, tc.path, strings.NewReader(`{"title":"pwned"}`), map[string]string{"Authorization": "Bearer " + env.tokens["alice"]})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":"forbidden"`) {
			t.Errorf("alice %s %s: got %d %s, want 403 forbidden", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	e, err := env.svc.Episode("other", ep)
	if err != nil || e.Title == "pwned" || e.Status(env.svc.Now()) != episodes.Draft {
		t.Errorf("bob's episode after alice's attempts: got %+v, %v; want it untouched", e, err)
	}
	// The admin may act on every show; alice's show list has hers only.
	resp, body := env.do(nil, "GET", "/api/v1/shows/other/episodes/"+ep, nil, map[string]string{"Authorization": "Bearer " + env.tokens["root"]})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("admin GET: got %d %s, want 200", resp.StatusCode, body)
	}
	_, body = env.do(nil, "GET", "/api/v1/shows", nil, map[string]string{"Authorization": "Bearer " + env.tokens["alice"]})
	if !strings.Contains(body, `"slug":"lvel"`) || strings.Contains(body, `"slug":"other"`) {
		t.Errorf("alice's shows: got %s, want lvel only", body)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	alice := env.login("alice")
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"sec-fetch-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"origin", map[string]string{"Origin": "https://evil.example"}},
	} {
		for _, path := range []string{"/studio/login", "/studio/logout", "/studio/lvel/upload", "/api/v1/shows/lvel/episodes"} {
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + env.tokens["alice"]}
			for k, v := range tc.header {
				h[k] = v
			}
			resp, _ := env.do(alice, "POST", path, strings.NewReader("login=alice&password=x"), h)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: cross-origin POST %s: got %d, want 403", tc.name, path, resp.StatusCode)
			}
		}
	}
	// The same request from antenne's own pages goes through.
	body, h := form("login", "alice", "password", testPassword)
	h["Sec-Fetch-Site"] = "same-origin"
	if resp, _ := env.do(nil, "POST", "/studio/login", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin login: got %d, want 303", resp.StatusCode)
	}
}

func TestOversizeUpload(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10
	env := newStudioEnv(t, limit)
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 5})
	data := readFile(t, mp3)
	if len(data) <= limit {
		t.Fatalf("fixture of %d bytes is not over the limit", len(data))
	}
	alice := env.login("alice")
	for _, tc := range []struct {
		name   string
		client *http.Client
		path   string
		body   func() (io.Reader, map[string]string)
		want   string
	}{
		{"api multipart", nil, "/api/v1/shows/lvel/episodes", func() (io.Reader, map[string]string) {
			b, h := multipartBody(t, "big.wav", data)
			h["Authorization"] = "Bearer " + env.tokens["alice"]
			return b, h
		}, `"code":"too_large"`},
		{"api raw, length unknown", nil, "/api/v1/shows/lvel/episodes?name=big.wav", func() (io.Reader, map[string]string) {
			return io.MultiReader(bytes.NewReader(data)), map[string]string{"Authorization": "Bearer " + env.tokens["alice"], "Content-Type": "audio/wav"}
		}, `"code":"too_large"`},
		{"studio", alice, "/studio/lvel/upload", func() (io.Reader, map[string]string) {
			return multipartBody(t, "big.wav", data)
		}, "Le fichier est trop gros"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, h := tc.body()
			resp, out := env.do(tc.client, "POST", tc.path, body, h)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(out, tc.want) {
				t.Errorf("got %d %.300s, want 413 with %q", resp.StatusCode, out, tc.want)
			}
		})
	}
	if keys := append(env.objects("shows/lvel/media/"), env.objects("shows/lvel/originals/")...); len(keys) > 0 {
		t.Errorf("objects stored after refused uploads: %v", keys)
	}
	if eps, _ := env.svc.Episodes("lvel", episodes.ListOptions{}); len(eps) > 0 {
		t.Errorf("episodes after refused uploads: %d, want 0", len(eps))
	}
}

func TestLoginBurstIsSlowedDown(t *testing.T) {
	env := newStudioEnv(t, 0)
	var (
		mu         sync.Mutex
		limited    int
		retryAfter string
		wg         sync.WaitGroup
		next       = make(chan int)
	)
	for range 10 {
		wg.Go(func() {
			for i := range next {
				body, h := form("login", "alice", "password", fmt.Sprintf("guess %d", i))
				resp, _ := env.do(nil, "POST", "/studio/login", body, h)
				mu.Lock()
				switch resp.StatusCode {
				case http.StatusTooManyRequests:
					limited++
					retryAfter = resp.Header.Get("Retry-After")
				case http.StatusUnauthorized:
				default:
					t.Errorf("attempt %d: got %d, want 401 or 429", i, resp.StatusCode)
				}
				mu.Unlock()
			}
		})
	}
	for i := range 50 {
		next <- i
	}
	close(next)
	wg.Wait()
	if limited < 30 || retryAfter == "" {
		t.Errorf("got %d of 50 wrong passwords answered 429 (Retry-After %q), want most of them with a Retry-After", limited, retryAfter)
	}
	// The right password is refused too while the account is limited.
	body, h := form("login", "alice", "password", testPassword)
	if resp, _ := env.do(nil, "POST", "/studio/login", body, h); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password during the lockout: got %d, want 429", resp.StatusCode)
	}
	// Another account from the same address is slowed too: guessing many
	// logins from one place is. The address's bucket refills one attempt
	// every 5 s while the test runs, so more attempts than its burst (20)
	// must meet a 429.
	for i := 0; ; i++ {
		body, h = form("login", "bob", "password", testPassword)
		resp, _ := env.do(nil, "POST", "/studio/login", body, h)
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		if i == 40 {
			t.Errorf("other account from the same address: 40 attempts, no 429")
			break
		}
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	alice := env.login("alice")
	u, _ := url.Parse(env.srv.URL)
	var cookie *http.Cookie
	for _, c := range alice.Jar.Cookies(u) {
		if c.Name == "antenne_session" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after login")
	}
	resp, _ := env.do(alice, "POST", "/studio/login", strings.NewReader("login=alice&password=correct+horse"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	setCookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, want)
		}
	}
	if strings.Contains(setCookie, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain HTTP with an http base URL", setCookie)
	}
	if resp, _ := env.do(alice, "GET", "/studio/lvel/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("studio with a session: got %d, want 200", resp.StatusCode)
	}
	// A tampered cookie (another login, same signature) is refused.
	payload, sig, _ := strings.Cut(cookie.Value, ".")
	_ = payload
	forged := "cm9vdHwwfDk5OTk5OTk5OTk." + sig // root|0|9999999999
	if resp, _ := env.do(nil, "GET", "/studio/", nil, map[string]string{"Cookie": "antenne_session=" + forged}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged cookie: got %d, want 303 to login", resp.StatusCode)
	}
	// A password change ends the session.
	if err := env.hosts.SetPassword(t.Context(), "alice", "battery staple"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := env.do(alice, "GET", "/studio/lvel/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after a password change: got %d, want 303 to login", resp.StatusCode)
	}
	// A session key is in the store, shared by replicas.
	if keys := env.objects("secrets/"); len(keys) != 1 {
		t.Errorf("secrets in the store: %v, want the session key", keys)
	}
	// The login page never sends elsewhere.
	bob := env.client()
	body, h := form("login", "bob", "password", testPassword, "next", "//evil.example/")
	if resp, _ := env.do(bob, "POST", "/studio/login", body, h); resp.Header.Get("Location") != "/studio/" {
		t.Errorf("login with next=//evil.example/: redirected to %q, want /studio/", resp.Header.Get("Location"))
	}
}

func TestAPILifecycle(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	auth := map[string]string{"Authorization": "Bearer " + env.tokens["alice"]}
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Tags: map[string]string{"title": "Les <script>communs</script>"}})
	h := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "audio/mpeg"}
	resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes?name=communs.mp3&draft=true&theme=Communs", bytes.NewReader(readFile(t, mp3)), h)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("raw upload: got %d %s", resp.StatusCode, out)
	}
	var ep struct {
		ID, Title, Theme, Status, Revision string
		DurationSeconds                    float64 `json:"duration_seconds"`
	}
	json.Unmarshal([]byte(out), &ep)
	if ep.Title != "Les <script>communs</script>" || ep.Theme != "Communs" || ep.Status != "draft" || ep.DurationSeconds < 1.5 {
		t.Fatalf("created: got %+v", ep)
	}
	base := "/api/v1/shows/lvel/episodes/" + ep.ID

	// Same bytes again: duplicate.
	resp, out = env.do(nil, "POST", "/api/v1/shows/lvel/episodes?name=x.mp3", bytes.NewReader(readFile(t, mp3)), h)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(out, `"code":"duplicate"`) {
		t.Errorf("duplicate: got %d %s", resp.StatusCode, out)
	}
	// A PNG: unsupported_audio, in French by default.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	resp, out = env.do(nil, "POST", "/api/v1/shows/lvel/episodes?name=x.png", bytes.NewReader(png), h)
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(out, `"code":"unsupported_audio"`) || !strings.Contains(out, "une image PNG") {
		t.Errorf("png: got %d %s", resp.StatusCode, out)
	}

	patch := func(body, rev string) (*http.Response, string) {
		hh := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/json"}
		if rev != "" {
			hh["If-Match"] = `"` + rev + `"`
		}
		return env.do(nil, "PATCH", base, strings.NewReader(body), hh)
	}
	resp, out = patch(`{"title":"Les communs","season":2,"chapters":[{"start":0,"title":"Intro"},{"start":1,"title":"Suite"}]}`, ep.Revision)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, `"title":"Les communs"`) {
		t.Fatalf("patch: got %d %s", resp.StatusCode, out)
	}
	for _, tc := range []struct {
		name, body, rev string
		status          int
		code            string
	}{
		{"stale revision", `{"title":"x"}`, ep.Revision, http.StatusConflict, "conflict"},
		{"bad JSON", `{"title":`, "", http.StatusBadRequest, "bad_request"},
		{"unknown field", `{"titel":"x"}`, "", http.StatusBadRequest, "bad_request"},
		{"empty title", `{"title":" "}`, "", http.StatusBadRequest, "invalid"},
		{"too large", `{"notes":"` + strings.Repeat("x", 2<<20) + `"}`, "", http.StatusRequestEntityTooLarge, "too_large"},
	} {
		resp, out := patch(tc.body, tc.rev)
		if resp.StatusCode != tc.status || !strings.Contains(out, `"code":"`+tc.code+`"`) {
			t.Errorf("%s: got %d %.200s, want %d %s", tc.name, resp.StatusCode, out, tc.status, tc.code)
		}
	}

	resp, out = env.do(nil, "POST", base+"/schedule", strings.NewReader(`{"at":"2999-01-01T09:30:00+01:00"}`), auth)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, `"status":"scheduled"`) {
		t.Errorf("schedule: got %d %s", resp.StatusCode, out)
	}
	resp, out = env.do(nil, "POST", base+"/publish", nil, auth)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, `"status":"published"`) {
		t.Fatalf("publish: got %d %s", resp.StatusCode, out)
	}
	resp, out = env.do(nil, "GET", "/api/v1/shows/lvel/episodes?status=published", nil, auth)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, ep.ID) {
		t.Errorf("list published: got %d %s", resp.StatusCode, out)
	}
	resp, out = env.do(nil, "GET", "/lvel/feed.xml", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, "<title>Les communs</title>") {
		t.Errorf("feed after publish: got %d %.500s", resp.StatusCode, out)
	}
	resp, out = env.do(nil, "POST", base+"/unpublish", nil, auth)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, `"status":"draft"`) {
		t.Errorf("unpublish: got %d %s", resp.StatusCode, out)
	}
	resp, _ = env.do(nil, "DELETE", base, nil, auth)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: got %d", resp.StatusCode)
	}
	resp, out = env.do(nil, "GET", base, nil, auth)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(out, `"code":"not_found"`) {
		t.Errorf("get after delete: got %d %s", resp.StatusCode, out)
	}
	if keys := env.objects("shows/lvel/media/"); len(keys) > 0 {
		t.Errorf("media left after delete: %v", keys)
	}
}

var revisionField = regexp.MustCompile(`name="revision" value="([^"]*)"`)

func TestStudioEpisodeForm(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	alice := env.login("alice")

	// A PNG is refused in plain French, on the upload page.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	body, h := multipartBody(t, "photo.png", png)
	resp, out := env.do(alice, "POST", "/studio/lvel/upload", body, h)
	want := "Ce fichier n&#39;est pas un enregistrement audio reconnu (il ressemble à une image PNG)."
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(out, want) {
		t.Errorf("png upload: got %d, want 415 with %q\n%.2000s", resp.StatusCode, want, out)
	}

	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Tags: map[string]string{"title": "Les <b>communs</b>", "date": "2021-03-05"}})
	body, h = multipartBody(t, "communs.mp3", readFile(t, mp3))
	resp, out = env.do(alice, "POST", "/studio/lvel/upload", body, h)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: got %d %.1000s", resp.StatusCode, out)
	}
	edit := resp.Header.Get("Location")
	resp, out = env.do(alice, "GET", edit, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, `value="Les &lt;b&gt;communs&lt;/b&gt;"`) || !strings.Contains(out, `value="2021-03-05T`) {
		t.Fatalf("edit page: got %d, want the form prefilled from the tags, escaped\n%.3000s", resp.StatusCode, out)
	}
	rev := revisionField.FindStringSubmatch(out)[1]
	path := strings.TrimSuffix(edit, "?uploaded=1")

	// Preview renders the notes, stores nothing.
	body, h = form("revision", rev, "title", "Les communs", "notes", "**gras** <script>alert(1)</script>", "action", "preview")
	resp, out = env.do(alice, "POST", path, body, h)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, "<strong>gras</strong>") || strings.Contains(out, "<script>alert") {
		t.Errorf("preview: got %d, want the rendered, sanitised notes\n%.3000s", resp.StatusCode, out)
	}
	// A bad value keeps what was typed.
	body, h = form("revision", rev, "title", "Les communs", "theme", "Gardé", "chapters", "pas une heure", "action", "save")
	resp, out = env.do(alice, "POST", path, body, h)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, `value="Gardé"`) || !strings.Contains(out, "form-error") {
		t.Errorf("bad chapters: got %d, want 400 with the typed theme kept\n%.3000s", resp.StatusCode, out)
	}
	// Save and publish.
	body, h = form("revision", rev, "title", "Les communs", "theme", "Communs", "hosts", "Alice, Quentin", "guests", "Bob",
		"chapters", "0:00 Intro\n0:01 Suite https://picasoft.net", "type", "full", "season", "1", "number", "3", "action", "publish")
	resp, out = env.do(alice, "POST", path, body, h)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: got %d %.2000s", resp.StatusCode, out)
	}
	id := path[strings.LastIndex(path, "/")+1:]
	e, _ := env.svc.Episode("lvel", id)
	if e.Status(env.svc.Now()) != episodes.Published || e.Theme != "Communs" || len(e.Persons) != 3 || e.Persons[2].Role != "guest" || len(e.Chapters) != 2 || e.Chapters[1].URL != "https://picasoft.net" || e.Number != 3 {
		t.Errorf("after publish: got %+v", e)
	}
	// The old revision is stale now: 409, typed values kept.
	body, h = form("revision", rev, "title", "Titre tapé", "action", "save")
	resp, out = env.do(alice, "POST", path, body, h)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(out, "Quelqu&#39;un d&#39;autre a modifié cet épisode") || !strings.Contains(out, `value="Titre tapé"`) {
		t.Errorf("stale form: got %d, want 409 with the conflict message and the typed title\n%.3000s", resp.StatusCode, out)
	}
	if resp, out := env.do(nil, "GET", "/lvel/"+e.Slug, nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(out, "Les communs") {
		t.Errorf("public page /lvel/%s: got %d", e.Slug, resp.StatusCode)
	}
	// Delete asks first (a page that works without JS), then deletes.
	resp, out = env.do(alice, "GET", path+"/delete", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, "Oui, supprimer") {
		t.Errorf("delete confirmation: got %d", resp.StatusCode)
	}
	cur, _ := env.svc.Episode("lvel", id)
	body, h = form("revision", cur.Revision)
	if resp, _ := env.do(alice, "POST", path+"/delete", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("delete: got %d, want 303", resp.StatusCode)
	}
	if _, err := env.svc.Episode("lvel", id); err == nil {
		t.Errorf("episode still there after delete")
	}
	// English on request.
	_, out = env.do(alice, "GET", "/studio/lvel/", nil, map[string]string{"Accept-Language": "en-GB,en"})
	if !strings.Contains(out, "Upload a recording") {
		t.Errorf("English studio page lacks its English title")
	}
}

func TestStudioSettingsAndReplace(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	root := env.login("root")
	follower := `{"actor":"https://mastodon.example/users/bob","inbox":"https://mastodon.example/users/bob/inbox"}`
	if _, err := env.store.Put(t.Context(), "shows/lvel/followers/bob.json", strings.NewReader(follower), int64(len(follower)), "application/json"); err != nil {
		t.Fatal(err)
	}
	_, out := env.do(root, "GET", "/studio/lvel/settings", nil, nil)
	if !strings.Contains(out, "<code>@lvel@"+env.srv.Listener.Addr().String()+"</code> · 1 abonné") ||
		!strings.Contains(out, `name="fediverse" type="checkbox" value="1" checked`) {
		t.Errorf("settings page lacks the fediverse handle, the follower count or the ticked box:\n%.4000s", out)
	}
	rev := revisionField.FindStringSubmatch(out)[1]
	body, h := form("revision", rev, "title", "La Voix est Libre", "owner_email", "pas une adresse", "language", "fr", "type", "episodic")
	resp, out := env.do(root, "POST", "/studio/lvel/settings", body, h)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, `value="pas une adresse"`) || !strings.Contains(out, "e-mail du propriétaire » : « pas une adresse » n&#39;est pas une adresse e-mail") {
		t.Errorf("bad e-mail: got %d, want 400 with the typed value kept and the reason in French\n%.2000s", resp.StatusCode, out)
	}
	body, h = form("revision", rev, "title", "La Voix est Libre", "owner_email", "radio@picasoft.net", "language", "fr", "type", "episodic",
		"categories", "Technology\nSociety & Culture/Documentary", "hosts", "Alice, Quentin", "air_day", "5", "air_time", "09:30",
		"station", "Graf'hit 94.9 FM", "semesters", "1", "funding_url", "https://picasoft.net/dons",
		"hashtags", "#Picasoft, logiciel_libre") // no "fediverse": the box is unticked
	if resp, out := env.do(root, "POST", "/studio/lvel/settings", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: got %d %.1000s", resp.StatusCode, out)
	}
	sh, _ := env.svc.Show("lvel")
	if sh.Title != "La Voix est Libre" || sh.Owner.Email != "radio@picasoft.net" || len(sh.Categories) != 2 || sh.Categories[1].Sub != "Documentary" ||
		len(sh.Hosts) != 2 || sh.AirSlot == nil || sh.AirSlot.Weekday != 5 || sh.AirSlot.Minute != 30 || !sh.SeasonsAreSemesters || sh.Funding == nil ||
		!sh.FediverseOff || strings.Join(sh.Hashtags, " ") != "Picasoft logiciel_libre" {
		t.Errorf("settings saved: got %+v", sh)
	}
	_, out = env.do(root, "GET", "/studio/lvel/settings", nil, nil)
	if !strings.Contains(out, `<option value="5" selected>vendredi</option>`) || !strings.Contains(out, "Society &amp; Culture/Documentary") ||
		!strings.Contains(out, `value="Picasoft logiciel_libre"`) || strings.Contains(out, `name="fediverse" type="checkbox" value="1" checked`) {
		t.Errorf("settings page does not show what was saved:\n%.3000s", out)
	}
	body, h = form("revision", sh.Revision, "title", "La Voix est Libre", "language", "fr", "type", "episodic", "categories", "Cuisine")
	if resp, out := env.do(root, "POST", "/studio/lvel/settings", body, h); resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, "Cuisine") {
		t.Errorf("unknown category: got %d, want 400 naming it", resp.StatusCode)
	}
	body, h = form("revision", rev, "title", "Périmé", "language", "fr", "type", "episodic")
	if resp, _ := env.do(root, "POST", "/studio/lvel/settings", body, h); resp.StatusCode != http.StatusConflict {
		t.Errorf("stale settings: got %d, want 409", resp.StatusCode)
	}

	id := env.upload(t, "alice", "lvel")
	before, _ := env.svc.Episode("lvel", id)
	alice := env.login("alice")
	other := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3, Frequency: 880})
	body, h = multipartBody(t, "v2.mp3", readFile(t, other), "revision", before.Revision)
	resp, out = env.do(alice, "POST", "/studio/lvel/"+id+"/replace", body, h)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replace: got %d %.1000s", resp.StatusCode, out)
	}
	after, _ := env.svc.Episode("lvel", id)
	if after.Media.Key == before.Media.Key || after.Media.Duration < before.Media.Duration {
		t.Errorf("replace: media %s (%v) -> %s (%v), want the new recording", before.Media.Key, before.Media.Duration, after.Media.Key, after.Media.Duration)
	}
	body, h = multipartBody(t, "v2.mp3", readFile(t, other), "revision", before.Revision)
	if resp, _ := env.do(alice, "POST", "/studio/lvel/"+id+"/replace", body, h); resp.StatusCode != http.StatusConflict {
		t.Errorf("replace with a stale revision: got %d, want 409", resp.StatusCode)
	}
}

// TestNoSecretsInLogs checks that passwords, tokens and session cookies
// never reach the log, even at debug level and on failures.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	alice := env.login("alice")
	u, _ := url.Parse(env.srv.URL)
	var session string
	for _, c := range alice.Jar.Cookies(u) {
		session = c.Value
	}
	body, h := form("login", "alice", "password", "wrong password secret")
	env.do(nil, "POST", "/studio/login", body, h)
	env.do(alice, "GET", "/studio/lvel/", nil, nil)
	env.do(nil, "GET", "/api/v1/shows?token="+env.tokens["alice"], nil, map[string]string{"Authorization": "Bearer " + env.tokens["alice"]})
	env.do(nil, "GET", "/api/v1/shows", nil, map[string]string{"Authorization": "Bearer " + env.tokens["bob"] + "x"})
	logs := env.logs.String()
	if !strings.Contains(logs, "host signed in") {
		t.Fatalf("the log lacks the sign-in line:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"password": testPassword, "wrong password": "wrong password secret", "session": session,
		"alice's token": env.tokens["alice"], "bob's token": env.tokens["bob"],
	} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
}

// TestStudioLiveSettings: the settings form saves the live stream, its
// type, slot length and skipped dates, shows them again, and refuses a
// stream that is not http(s) and a date that is not one.
func TestStudioLiveSettings(t *testing.T) {
	env := newStudioEnv(t, 0)
	root := env.login("root")
	_, out := env.do(root, "GET", "/studio/lvel/settings", nil, nil)
	rev := revisionField.FindStringSubmatch(out)[1]
	base := []string{"revision", rev, "title", "Émission lvel", "language", "fr", "type", "episodic", "air_day", "5", "air_time", "09:30", "station", "Graf'hit"}
	body, h := form(append(base, "live_url", "https://stream.grafhit.test/live.mp3", "live_minutes", "50", "skip_dates", "2020-12-25\n2020-11-11 2020-12-25")...)
	if resp, out := env.do(root, "POST", "/studio/lvel/settings", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save live settings: got %d %.1000s", resp.StatusCode, out)
	}
	sh, _ := env.svc.Show("lvel")
	if l := sh.Live; l == nil || l.URL != "https://stream.grafhit.test/live.mp3" || l.Minutes != 50 || strings.Join(l.Skip, " ") != "2020-11-11 2020-12-25" {
		t.Errorf("live saved: got %+v", sh.Live)
	}
	_, out = env.do(root, "GET", "/studio/lvel/settings", nil, nil)
	if !strings.Contains(out, `value="https://stream.grafhit.test/live.mp3"`) || !strings.Contains(out, "2020-11-11\n2020-12-25</textarea>") || !strings.Contains(out, `value="50"`) {
		t.Errorf("the settings page does not show the live settings:\n%.4000s", out)
	}
	for _, bad := range [][]string{
		{"live_url", "javascript:alert(1)"},
		{"live_url", "https://stream.grafhit.test/", "skip_dates", "Noël"},
		{"live_url", "https://stream.grafhit.test/", "live_minutes", "beaucoup"},
	} {
		body, h = form(append(append([]string{"revision", sh.Revision}, base[2:]...), bad...)...)
		resp, out := env.do(root, "POST", "/studio/lvel/settings", body, h)
		if resp.StatusCode != http.StatusBadRequest || !regexp.MustCompile(`Valeur refusée pour « (adresse du direct|dates sans émission|durée du créneau) »`).MatchString(out) {
			t.Errorf("%v: got %d, want 400 naming the live field\n%.2000s", bad, resp.StatusCode, out)
		}
	}
	body, h = form(append([]string{"revision", sh.Revision}, base[2:]...)...)
	if resp, out := env.do(root, "POST", "/studio/lvel/settings", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove the live stream: got %d %.1000s", resp.StatusCode, out)
	}
	if sh, _ := env.svc.Show("lvel"); sh.Live != nil || sh.AirSlot == nil || sh.AirSlot.Station != "Graf'hit" {
		t.Errorf("after emptying the stream: got live %+v, air slot %+v", sh.Live, sh.AirSlot)
	}
}
