package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/accounts"
)

func browserRun(t *testing.T, ctx context.Context) func(step string, actions ...chromedp.Action) {
	return func(step string, actions ...chromedp.Action) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Run(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
}

var setupURLInLog = regexp.MustCompile(`setup_url=(\S+)`)

// TestBrowserFirstRun starts from an empty data folder: the login page
// says how to start, the setup address read from the log creates the
// admin and the first show, the admin lands in the studio of that show,
// and the address answers 404 once used.
func TestBrowserFirstRun(t *testing.T) {
	ctx := newBrowser(t)
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
	s, err := web.New(web.Config{Catalog: svc, Accounts: hosts, Store: store, Links: links, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	s.LogSetupURL(t.Context())
	m := setupURLInLog.FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no setup address in the log:\n%s", logs.String())
	}
	setupURL := m[1]
	if !strings.HasPrefix(setupURL, base+"/studio/setup/") {
		t.Fatalf("setup address %q is not under %s/studio/setup/", setupURL, base)
	}
	if resp, err := http.Get(base + "/studio/setup/not-the-token"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a wrong setup token: got %v %v, want 404", resp.StatusCode, err)
	}

	run := browserRun(t, ctx)
	var hint string
	run("login page",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}),
		chromedp.Navigate(base+"/studio/login"),
		chromedp.Text("#first-run", &hint, chromedp.ByID),
	)
	for _, want := range []string{"Premier démarrage", "antenne hosts add NOM --admin", "First run", "antenne hosts add NAME --admin"} {
		if !strings.Contains(hint, want) {
			t.Errorf("the login page's first-run hint lacks %q:\n%s", want, hint)
		}
	}
	artwork := filepath.Join(t.TempDir(), "pochette.png")
	if err := os.WriteFile(artwork, web.SquarePNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	var heading, checklist string
	run("setup",
		chromedp.Navigate(setupURL),
		chromedp.WaitVisible("#setup-form", chromedp.ByID),
		chromedp.SendKeys("#login", "quentin", chromedp.ByID),
		chromedp.SendKeys("#name", "Quentin", chromedp.ByID),
		chromedp.SendKeys("#password", "une phrase de passe", chromedp.ByID),
		chromedp.SendKeys("#password2", "une phrase de passe", chromedp.ByID),
		chromedp.SendKeys("#title", "La Voix est Libre", chromedp.ByID),
		chromedp.SendKeys("#slug", "lvel", chromedp.ByID),
		chromedp.SetValue("#air_day", "5", chromedp.ByID),
		chromedp.SetValue("#air_time", "09:30", chromedp.ByID),
		chromedp.SendKeys("#station", "Graf'hit", chromedp.ByID),
		chromedp.SetUploadFiles("#artwork", []string{artwork}, chromedp.ByID),
		chromedp.SetValue("#category", "Technology", chromedp.ByID),
		chromedp.Click(`#setup-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#upload", chromedp.ByID),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.Text("#checklist", &checklist, chromedp.ByID),
	)
	if heading != "La Voix est Libre" {
		t.Errorf("after setup: got the page %q, want the studio of the new show", heading)
	}
	// The checklist follows: artwork and category are there, the rest
	// is missing, each with why Apple or Spotify need it.
	var items map[string]string
	run("checklist", chromedp.Evaluate(`Object.fromEntries([...document.querySelectorAll("#checklist li")].map(li => [li.dataset.item, li.className]))`, &items))
	want := map[string]string{"artwork": "ok", "category": "ok", "owner_email": "missing", "author": "missing", "description": "missing", "language": "ok"}
	for k, v := range want {
		if items[k] != v {
			t.Errorf("checklist item %s: got %q, want %q (all: %v)", k, items[k], v, items)
		}
	}
	if !strings.Contains(checklist, "Apple Podcasts et Spotify y envoient le code") {
		t.Errorf("the checklist does not say why the owner's e-mail is needed:\n%s", checklist)
	}
	h, err := hosts.Host("quentin")
	if err != nil || !h.Admin || h.Name != "Quentin" {
		t.Errorf("admin: got %+v, %v", h, err)
	}
	sh, err := svc.Show("lvel")
	if err != nil || sh.AirSlot == nil || sh.AirSlot.Weekday != time.Friday || sh.AirSlot.Hour != 9 || sh.AirSlot.Minute != 30 || sh.AirSlot.Station != "Graf'hit" ||
		sh.Artwork == nil || sh.Artwork.Width != 1400 || len(sh.Categories) != 1 || sh.Categories[0].Name != "Technology" {
		t.Errorf("show: got %+v, %v", sh, err)
	}
	resp, err := http.Get(setupURL)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the used setup address: got %v %v, want 404", resp.StatusCode, err)
	}
	resp, err = http.Get(base + "/studio/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), "Premier démarrage") {
		t.Errorf("the login page still speaks of the first run")
	}
}

// TestBrowserHosts: an admin adds a host from the hosts page; that host
// signs in with the temporary password, must choose a new one, then
// reaches the studio; the admin disables the account; the host can no
// longer sign in.
func TestBrowserHosts(t *testing.T) {
	ctx := newBrowser(t)
	env := newStudioEnv(t, 0)
	base := env.srv.URL
	run := browserRun(t, ctx)
	signIn := func(login, password string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/studio/login"),
			chromedp.WaitVisible("#login", chromedp.ByID),
			chromedp.SendKeys("#login", login, chromedp.ByID),
			chromedp.SendKeys("#password", password, chromedp.ByID),
			chromedp.Submit("#password", chromedp.ByID),
		}
	}
	// The hosts page has a #login field too (adding a host): wait for the
	// sign-in form itself, or the next navigation interrupts the sign-out.
	signOut := chromedp.Tasks{chromedp.Click(`nav.studio-nav button`, chromedp.ByQuery), chromedp.WaitVisible(`form[action="/studio/login"] #login`, chromedp.ByQuery)}
	var notice, rows string
	run("the admin adds carol",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}),
		signIn("root", testPassword),
		chromedp.WaitVisible(`a[href="/studio/hosts"]`, chromedp.ByQuery),
		chromedp.Click(`a[href="/studio/hosts"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#add-host", chromedp.ByID),
		chromedp.SendKeys("#add-host #login", "carol", chromedp.ByQuery),
		chromedp.SendKeys("#add-host #name", "Carol", chromedp.ByQuery),
		chromedp.SendKeys("#add-host #password", "provisoire-123", chromedp.ByQuery),
		chromedp.Click("#show-lvel", chromedp.ByID),
		chromedp.Click(`#add-host button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.form-notice`, chromedp.ByQuery),
		chromedp.Text(`p.form-notice`, &notice, chromedp.ByQuery),
		chromedp.Text(`table.hosts`, &rows, chromedp.ByQuery),
		signOut,
	)
	if notice != "Compte ajouté." || !strings.Contains(rows, "carol") || !strings.Contains(rows, "Doit changer son mot de passe") {
		t.Errorf("after adding: notice %q, table %q", notice, rows)
	}
	var must, heading string
	run("carol signs in and chooses her password",
		signIn("carol", "provisoire-123"),
		chromedp.WaitVisible("#password-form", chromedp.ByID),
		chromedp.Text(`p.form-notice`, &must, chromedp.ByQuery),
		chromedp.SendKeys("#current", "provisoire-123", chromedp.ByID),
		chromedp.SendKeys("#password", "le mot de carol", chromedp.ByID),
		chromedp.SendKeys("#password2", "le mot de carol", chromedp.ByID),
		chromedp.Click(`#password-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#notice", chromedp.ByID),
	)
	run("carol in the studio",
		chromedp.Navigate(base+"/studio/"),
		chromedp.WaitVisible("#upload", chromedp.ByID),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
	)
	run("carol signs out", signOut)
	if !strings.Contains(must, "choisissez-en un nouveau") || heading != "Émission lvel" {
		t.Errorf("carol: got notice %q then page %q, want the reset notice then her show's studio", must, heading)
	}
	var saved string
	run("the admin disables carol",
		signIn("root", testPassword),
		chromedp.WaitVisible(`a[href="/studio/hosts"]`, chromedp.ByQuery),
		chromedp.Navigate(base+"/studio/hosts/carol"),
		chromedp.WaitVisible("#host-form", chromedp.ByID),
		chromedp.Click("#disabled", chromedp.ByID),
		chromedp.Click(`#host-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.form-notice`, chromedp.ByQuery),
		chromedp.Text(`p.form-notice`, &saved, chromedp.ByQuery),
		signOut,
	)
	if saved != "Compte enregistré." {
		t.Errorf("disable: got notice %q", saved)
	}
	var refused string
	run("carol cannot sign in",
		signIn("carol", "le mot de carol"),
		chromedp.WaitVisible(`p.form-error`, chromedp.ByQuery),
		chromedp.Text(`p.form-error`, &refused, chromedp.ByQuery),
	)
	if refused != "Identifiant ou mot de passe incorrect." {
		t.Errorf("disabled carol: got %q, want the wrong-credentials message", refused)
	}
	if h, err := env.hosts.Host("carol"); err != nil || !h.Disabled || h.MustChangePassword || len(h.Shows) != 1 {
		t.Errorf("carol's account: got %+v, %v", h, err)
	}
}
