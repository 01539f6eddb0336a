package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/accounts"
)

// TestSetupLinkSecret: the first-run address's token appears in the log
// only on the line that gives the address, never in the access log or an
// error line, whatever is sent to it (the page, a refused form, a
// cross-site post, the setup itself); and a setup post after an admin
// made by the CLI (another replica, the server's cache not refreshed) is
// refused.
func TestSetupLinkSecret(t *testing.T) {
	store := storagetest.Dir(t)
	svc := episodes.NewService(store, episodes.Options{TempDir: t.TempDir()})
	hosts := accounts.New(store, svc, nil)
	var logs storagetest.LogBuffer
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	base := "http://" + srv.Listener.Addr().String()
	links, err := feed.NewLinks(base, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(web.Config{Catalog: svc, Accounts: hosts, Store: store, Links: links,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	setup := func() (string, string) {
		t.Helper()
		s.LogSetupURL(t.Context())
		all := setupURLInLog.FindAllStringSubmatch(logs.String(), -1)
		if len(all) == 0 {
			t.Fatalf("no setup address in the log:\n%s", logs.String())
		}
		u := all[len(all)-1][1]
		return u, u[strings.LastIndex(u, "/")+1:]
	}
	setupURL, token := setup()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(values string, header ...string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", setupURL, strings.NewReader(values))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if resp, err := client.Get(setupURL); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the setup page: %v %v", resp.StatusCode, err)
	}
	if got := post("login=root&password=une+phrase&password2=autre+phrase"); got != http.StatusBadRequest {
		t.Errorf("two passwords that differ: got %d, want 400", got)
	}
	if got := post("login=root&password=une+phrase&password2=une+phrase", "Sec-Fetch-Site", "cross-site"); got != http.StatusForbidden {
		t.Errorf("a cross-site post: got %d, want 403", got)
	}

	// An admin made by the CLI, on another replica: the server's cache
	// does not know it yet.
	cli := accounts.New(store, svc, nil)
	if _, err := cli.AddHost(t.Context(), accounts.Host{Login: "root", Admin: true}, "admin password"); err != nil {
		t.Fatal(err)
	}
	if got := post("login=mallory&password=une+phrase&password2=une+phrase"); got != http.StatusNotFound {
		t.Errorf("a setup after the CLI's admin: got %d, want 404", got)
	}
	if _, err := hosts.Host("mallory"); err == nil {
		t.Error("a second admin was made by the setup link")
	}
	// Without an admin again, the next start's link makes one.
	if err := cli.RemoveHost(t.Context(), "root"); err != nil {
		t.Fatal(err)
	}
	var spent string
	spent, token = token, ""
	setupURL, token = setup()
	if token == spent {
		t.Fatal("the next start logged the spent link again")
	}
	if got := post("login=quentin&password=une+phrase&password2=une+phrase"); got != http.StatusSeeOther {
		t.Errorf("the setup: got %d, want 303", got)
	}
	for line := range strings.Lines(logs.String()) {
		if (strings.Contains(line, token) || strings.Contains(line, spent)) && !strings.Contains(line, "setup_url=") {
			t.Errorf("the setup token is in a log line:\n%s", line)
		}
	}
	if !strings.Contains(logs.String(), "path=/studio/setup/…") {
		t.Errorf("the setup requests are not in the access log:\n%s", logs.String())
	}
}
