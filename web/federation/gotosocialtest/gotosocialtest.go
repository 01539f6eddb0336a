// Package gotosocialtest starts a real GoToSocial server on 127.0.0.1 for
// the federation tests, and drives it through its Mastodon client API as a
// person on that server would.
//
// The binary is built once by `make gotosocial` into GOPATH/bin (see
// ../shared/LIBRARIES.md for why it is built from a throw-away module).
// Without it the test is skipped, or fails when the CI variable is set.
package gotosocialtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage/storagetest"
)

// Version is the GoToSocial version the Makefile builds.
const Version = "v0.17.3"

// Server is a GoToSocial process with its own folder (SQLite database,
// media) and port, that can be stopped and started again.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	config string
	// Addr is host:port of its plain HTTP listener on 127.0.0.1.
	Addr string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *storagetest.LogBuffer
}

// New prepares a server (config, folders) without starting it, so that
// accounts can be created first with CreateAccount. It is stopped when
// the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	bin, assets := binary(), moduleDir()
	if bin == "" || assets == "" {
		msg := "no GoToSocial binary or module source: run `make gotosocial` (see ANTENNE_TEST_GOTOSOCIAL_BIN and ANTENNE_TEST_GOTOSOCIAL_DIR)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	addr := storagetest.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cfg := fmt.Sprintf(`log-level: "info"
host: "localhost:%[1]s"
protocol: "http"
bind-address: "127.0.0.1"
port: %[1]s
db-type: "sqlite"
db-address: %[2]q
storage-backend: "local"
storage-local-base-path: %[3]q
web-template-base-dir: %[4]q
web-asset-base-dir: %[5]q
accounts-registration-open: false
instance-languages: ["fr", "en"]
letsencrypt-enabled: false
advanced-rate-limit-requests: 0
advanced-throttling-multiplier: 0
http-client:
  allow-ips: ["127.0.0.0/8"]
  tls-insecure-skip-verify: true
  timeout: "20s"
cache:
  memory-target: "50MiB"
`, port, filepath.Join(dir, "sqlite.db"), filepath.Join(dir, "storage"),
		filepath.Join(assets, "web", "template")+"/", filepath.Join(assets, "web", "assets")+"/")
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, dir: dir, config: config, Addr: addr}
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Host is the host of its accounts' handles, e.g. localhost:34567.
func (s *Server) Host() string { return "localhost:" + strings.Split(s.Addr, ":")[1] }

// CreateAccount creates a confirmed account (before Start: the admin
// commands open the database themselves).
func (s *Server) CreateAccount(username, password string) {
	s.t.Helper()
	s.admin("account", "create", "--username", username, "--email", username+"@example.org", "--password", password)
	s.admin("account", "confirm", "--username", username)
}

func (s *Server) admin(args ...string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"--config-path", s.config, "admin"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("gotosocial admin %v: %v\n%s", args, err, tail(string(out)))
	}
}

// Start starts the server if it is stopped and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	s.log = &storagetest.LogBuffer{}
	cmd := exec.Command(s.bin, "--config-path", s.config, "server", "start")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start gotosocial: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(2 * time.Minute)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := client.Get(s.URL() + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			s.cmd = nil
			s.t.Fatalf("gotosocial exited at start: %s", tail(s.log.String()))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("gotosocial not ready on %s after 2 min: %s", s.Addr, tail(s.log.String()))
		}
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s). Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Log is what the server printed since its last start.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Client is a logged-in user of the server's Mastodon client API.
type Client struct {
	s     *Server
	token string
	http  *http.Client
}

// Login signs username in through the OAuth out-of-band flow (GoToSocial
// has no password grant) and returns a client holding its token.
func (s *Server) Login(username, password string) *Client {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	const oob = "urn:ietf:wg:oauth:2.0:oob"
	var app struct{ ClientID, ClientSecret string }
	appResp := s.do(hc, http.MethodPost, "/api/v1/apps", url.Values{
		"client_name": {"antenne-test"}, "redirect_uris": {oob}, "scopes": {"read write follow"},
	}, "")
	var appJSON struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(appResp, &appJSON); err != nil {
		s.t.Fatalf("register app: %v: %s", err, appResp)
	}
	app.ClientID, app.ClientSecret = appJSON.ClientID, appJSON.ClientSecret
	authorize := "/oauth/authorize?" + url.Values{
		"client_id": {app.ClientID}, "redirect_uri": {oob}, "response_type": {"code"}, "scope": {"read write follow"},
	}.Encode()
	s.do(hc, http.MethodGet, authorize, nil, "")
	s.do(hc, http.MethodPost, "/auth/sign_in", url.Values{"username": {username + "@example.org"}, "password": {password}}, "")
	loc := s.location(hc, http.MethodPost, "/oauth/authorize", url.Values{})
	code := ""
	if u, err := url.Parse(loc); err == nil {
		code = u.Query().Get("code")
	}
	if code == "" {
		s.t.Fatalf("oauth authorize: no code in redirect %q", loc)
	}
	tokResp := s.do(hc, http.MethodPost, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}, "redirect_uri": {oob},
	}, "")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tokResp, &tok); err != nil || tok.AccessToken == "" {
		s.t.Fatalf("oauth token: %v: %s", err, tokResp)
	}
	return &Client{s: s, token: tok.AccessToken, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a form (or nothing) and returns the body of a 2xx or 3xx answer.
func (s *Server) do(hc *http.Client, method, path string, form url.Values, token string) []byte {
	s.t.Helper()
	body, status, _ := s.request(hc, method, path, form, token)
	if status >= 400 {
		s.t.Fatalf("%s %s: HTTP %d: %s", method, path, status, tail(string(body)))
	}
	return body
}

func (s *Server) location(hc *http.Client, method, path string, form url.Values) string {
	s.t.Helper()
	body, status, loc := s.request(hc, method, path, form, "")
	if status/100 != 3 {
		s.t.Fatalf("%s %s: HTTP %d, want a redirect: %s", method, path, status, tail(string(body)))
	}
	return loc
}

func (s *Server) request(hc *http.Client, method, path string, form url.Values, token string) ([]byte, int, string) {
	s.t.Helper()
	var rd io.Reader
	if form != nil && method != http.MethodGet {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return body, resp.StatusCode, resp.Header.Get("Location")
}

// Call calls the client API and decodes its JSON answer into v (when not
// nil). It returns the HTTP status; a transport error fails the test.
func (c *Client) Call(method, path string, form url.Values, v any) int {
	c.s.t.Helper()
	body, status, _ := c.s.request(c.http, method, path, form, c.token)
	if v != nil && status/100 == 2 {
		if err := json.Unmarshal(body, v); err != nil {
			c.s.t.Fatalf("%s %s: %v: %s", method, path, err, tail(string(body)))
		}
	}
	return status
}

// Account is an account as the client API shows it.
type Account struct {
	ID   string `json:"id"`
	Acct string `json:"acct"`
	Bot  bool   `json:"bot"`
}

// Status is a post as the client API shows it.
type Status struct {
	ID              string       `json:"id"`
	URI             string       `json:"uri"`
	URL             string       `json:"url"`
	Content         string       `json:"content"`
	EditedAt        *string      `json:"edited_at"`
	Account         Account      `json:"account"`
	MediaAttachment []Attachment `json:"media_attachments"`
	Tags            []struct {
		Name string `json:"name"`
	} `json:"tags"`
}

// Attachment is a media attachment of a status.
type Attachment struct {
	Type      string `json:"type"`
	URL       string `json:"url"`
	RemoteURL string `json:"remote_url"`
}

// Resolve looks a handle up (@user@host), fetching the account from its
// server, and returns it.
func (c *Client) Resolve(handle string) (Account, int) {
	var res struct {
		Accounts []Account `json:"accounts"`
	}
	status := c.Call(http.MethodGet, "/api/v2/search?"+url.Values{"q": {handle}, "resolve": {"true"}, "type": {"accounts"}}.Encode(), nil, &res)
	if len(res.Accounts) == 0 {
		return Account{}, status
	}
	return res.Accounts[0], status
}

// Following reports whether the user follows the account (the follow was
// accepted) and whether a follow request is pending.
func (c *Client) Following(id string) (following, requested bool) {
	var rels []struct {
		Following bool `json:"following"`
		Requested bool `json:"requested"`
	}
	c.Call(http.MethodGet, "/api/v1/accounts/relationships?id[]="+url.QueryEscape(id), nil, &rels)
	if len(rels) == 0 {
		return false, false
	}
	return rels[0].Following, rels[0].Requested
}

// Home is the user's home timeline, newest first. An answer other than
// 200 is an error: a check that something is absent from the timeline
// must not pass because the timeline could not be read.
func (c *Client) Home() ([]Status, error) {
	var sts []Status
	if status := c.Call(http.MethodGet, "/api/v1/timelines/home?limit=40", nil, &sts); status != http.StatusOK {
		return nil, fmt.Errorf("home timeline: HTTP %d", status)
	}
	return sts, nil
}

func binary() string {
	if bin := os.Getenv("ANTENNE_TEST_GOTOSOCIAL_BIN"); bin != "" {
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
		return ""
	}
	bin := filepath.Join(goEnv("GOPATH"), "bin", "gotosocial")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	return ""
}

// moduleDir is GoToSocial's module source in the module cache: the server
// needs its web templates and assets.
func moduleDir() string {
	dir := os.Getenv("ANTENNE_TEST_GOTOSOCIAL_DIR")
	if dir == "" {
		dir = filepath.Join(goEnv("GOMODCACHE"), "github.com", "superseriousbusiness", "gotosocial@"+Version)
	}
	if _, err := os.Stat(filepath.Join(dir, "web", "template")); err != nil {
		return ""
	}
	return dir
}

func goEnv(name string) string {
	if v := os.Getenv(name); v != "" {
		return strings.Split(v, string(os.PathListSeparator))[0]
	}
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// tail keeps the end of a long log.
func tail(s string) string {
	const n = 6000
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
