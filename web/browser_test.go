package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// chromium is the browser the tests drive: Debian's, headless.
const chromium = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile, or skips
// the test when there is none (fails it under CI).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium
	if _, err := os.Stat(path); err != nil {
		path = episodestest.NeedTool(t, "chromium")
	}
	// Chromium's helper processes may still write its profile for a moment
	// after it is killed: remove the folder last, retrying, rather than
	// through t.TempDir, whose cleanup fails on a folder that is not empty.
	profile, err := os.MkdirTemp("", "antenne-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s left behind", profile)
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// requestLog records the URL of every request the page makes.
type requestLog struct {
	mu   sync.Mutex
	on   bool
	urls []string
}

func (l *requestLog) listen(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			l.mu.Lock()
			if l.on {
				l.urls = append(l.urls, e.Request.URL)
			}
			l.mu.Unlock()
		}
	})
}

func (l *requestLog) record(on bool) {
	l.mu.Lock()
	l.on = on
	l.mu.Unlock()
}

func (l *requestLog) foreign(host string) (all, foreign []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, raw := range l.urls {
		all = append(all, raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Host != host) {
			foreign = append(foreign, raw)
		}
	}
	return all, foreign
}

// TestBrowserPublish drives Chromium through what a host does each week:
// sign in, upload a recording (watching the progress), check the form
// prefilled from the tags, edit, publish; then what a listener does: open
// the public page and play. With ANTENNE_SCREENSHOTS=DIR it also saves
// screenshots of the pages at desktop and phone widths (make screenshots).
func TestBrowserPublish(t *testing.T) {
	ctx := newBrowser(t)
	env := newStudioEnv(t, 0)
	base := env.srv.URL
	host := strings.TrimPrefix(base, "http://")
	// A show as a host sets it up: its colour, its air slot, a host.
	if _, err := env.svc.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error {
		sh.Title, sh.Accent = "La Voix est Libre", "#7a1f5c"
		sh.Description = "L'émission de Picasoft sur les libertés numériques, chaque vendredi à 9h30 sur Graf'hit."
		sh.AirSlot = &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit 94.9 FM"}
		sh.Hosts = []episodes.Person{{Name: "Alice", Role: episodes.RoleHost}, {Name: "Quentin", Role: episodes.RoleHost}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("ANTENNE_SCREENSHOTS")
	shoot := func(name string) {
		if shots == "" {
			return
		}
		t.Helper()
		for _, size := range []struct {
			name   string
			w, h   int64
			mobile bool
		}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
			var png []byte
			err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h, func(p *emulation.SetDeviceMetricsOverrideParams, tp *emulation.SetTouchEmulationEnabledParams) {
					p.Mobile, p.DeviceScaleFactor = size.mobile, 1
					tp.Enabled = size.mobile
				}),
				chromedp.Sleep(100*time.Millisecond),
				chromedp.FullScreenshot(&png, 100),
			)
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(shots, name+"-"+size.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900))
	}
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	var reqs requestLog
	reqs.listen(ctx)
	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Run(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	// One minute of audio, sent through a throttled connection, so that
	// the progress bar has time to show.
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 60, Tags: map[string]string{"title": "Les communs numériques", "date": "2021-03-05"}})
	// A French-speaking host's browser.
	run("sign in",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}),
		chromedp.Navigate(base+"/studio/login"),
	)
	shoot("studio-login")
	run("sign in",
		chromedp.SendKeys("#login", "alice", chromedp.ByID),
		chromedp.SendKeys("#password", testPassword, chromedp.ByID),
		chromedp.Submit("#password", chromedp.ByID),
		chromedp.WaitVisible("#upload", chromedp.ByID),
	)
	shoot("studio-show-empty")

	var progress string
	var value float64
	run("upload",
		network.EmulateNetworkConditions(false, 0, 1e6, 150e3),
		chromedp.SetUploadFiles("#file", []string{mp3}, chromedp.ByID),
		chromedp.Click(`#upload button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#progress", chromedp.ByID),
		chromedp.Poll(`document.getElementById("progress-bar").value > 5`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Text("#progress-text", &progress, chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("progress-bar").value`, &value),
	)
	if !strings.Contains(progress, "envoyés") || !strings.Contains(progress, "encore") {
		t.Errorf("progress text: got %q, want bytes sent and time left", progress)
	}
	shoot("studio-upload-progress")
	var title, aired string
	run("prefilled form",
		chromedp.WaitVisible("#title", chromedp.ByID),
		network.EmulateNetworkConditions(false, 0, -1, -1),
		chromedp.Value("#title", &title, chromedp.ByID),
		chromedp.Value("#aired", &aired, chromedp.ByID),
	)
	if title != "Les communs numériques" || !strings.HasPrefix(aired, "2021-03-05") {
		t.Errorf("prefilled form: got title %q, aired %q; want the tags'", title, aired)
	}
	shoot("studio-episode")
	run("edit and publish",
		chromedp.SetValue("#theme", "Communs", chromedp.ByID),
		chromedp.SetValue("#notes", "Avec **Alice** et [Picasoft](https://picasoft.net).", chromedp.ByID),
		chromedp.SetValue("#hosts", "Alice, Quentin", chromedp.ByID),
		chromedp.SetValue("#chapters", "0:00 Introduction\n0:20 Les communs\n0:40 Conclusion", chromedp.ByID),
		chromedp.Click(`button[value=publish]`, chromedp.ByQuery),
		chromedp.WaitVisible(".form-notice", chromedp.ByQuery),
	)
	// The notice may already be on the page from the upload: wait for the
	// publication itself rather than trust it.
	var eps []*episodes.Episode
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if eps, _ = env.svc.Episodes("lvel", episodes.ListOptions{Status: episodes.Published}); len(eps) > 0 {
			break
		}
	}
	if len(eps) != 1 || eps[0].Theme != "Communs" || len(eps[0].Chapters) != 3 {
		t.Fatalf("published episodes: got %d %+v", len(eps), eps)
	}
	ep := eps[0]
	run("show list", chromedp.Navigate(base+"/studio/lvel/"), chromedp.WaitVisible("table.episodes", chromedp.ByQuery))
	shoot("studio-show")

	// A wrong file gets the French message, in the page.
	bad := filepath.Join(t.TempDir(), "affiche.png")
	os.WriteFile(bad, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2000)...), 0o644)
	var msg string
	run("wrong file",
		chromedp.SetUploadFiles("#file", []string{bad}, chromedp.ByID),
		chromedp.Click(`#upload button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#upload-error", chromedp.ByID),
		chromedp.Text("#upload-error", &msg, chromedp.ByID),
	)
	if want := "Ce fichier n'est pas un enregistrement audio reconnu (il ressemble à une image PNG)."; !strings.Contains(msg, want) {
		t.Errorf("wrong file: got %q, want %q", msg, want)
	}
	shoot("studio-upload-error")

	// The listener's side: nothing but antenne is contacted.
	reqs.record(true)
	var played float64
	run("public episode page",
		chromedp.Navigate(base+"/lvel/"+ep.Slug),
		chromedp.WaitVisible("#player", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("player").play(); true`, nil),
		chromedp.Poll(`document.getElementById("player").currentTime > 1`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate(`document.getElementById("player").currentTime`, &played),
	)
	if played <= 1 {
		t.Errorf("player: currentTime %v, want it advancing past 1 s", played)
	}
	run("pause", chromedp.Evaluate(`document.getElementById("player").pause(); true`, nil))
	shoot("public-episode")
	var showText string
	run("public show page",
		chromedp.Navigate(base+"/lvel/"),
		chromedp.Text("main", &showText, chromedp.ByQuery),
	)
	if !strings.Contains(showText, ep.Title) {
		t.Errorf("show page does not list %q:\n%s", ep.Title, showText)
	}
	shoot("public-show")
	run("embed", chromedp.Navigate(base+"/lvel/"+ep.Slug+"/embed"), chromedp.WaitVisible("#player", chromedp.ByID))
	shoot("public-embed")
	reqs.record(false)
	all, foreign := reqs.foreign(host)
	if len(all) < 3 {
		t.Errorf("recorded only %d requests on the public pages: %v", len(all), all)
	}
	if len(foreign) > 0 {
		t.Errorf("the public pages contacted other hosts than %s: %v", host, foreign)
	}

	// And the feed has it.
	resp, feedXML := env.do(nil, "GET", "/lvel/feed.xml", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(feedXML, "<title>"+ep.Title+"</title>") || !strings.Contains(feedXML, ep.Media.Key[strings.LastIndex(ep.Media.Key, "/")+1:]) {
		t.Errorf("feed: got %d, want the episode and its media:\n%.1500s", resp.StatusCode, feedXML)
	}
	if shots != "" {
		// The settings, as an admin sees them.
		run("settings",
			chromedp.Navigate(base+"/studio/lvel/"),
			chromedp.Click(`nav.studio-nav button`, chromedp.ByQuery),
			chromedp.WaitVisible("#login", chromedp.ByID),
			chromedp.SendKeys("#login", "root", chromedp.ByID),
			chromedp.SendKeys("#password", testPassword, chromedp.ByID),
			chromedp.Submit("#password", chromedp.ByID),
			chromedp.WaitVisible(".studio-nav", chromedp.ByQuery),
			chromedp.Navigate(base+"/studio/lvel/settings"),
			chromedp.WaitVisible("#checklist", chromedp.ByID),
		)
		shoot("studio-settings")
		t.Log(fmt.Sprintf("screenshots in %s", shots))
	}
}

// TestBrowserProcessingProgress uploads a Mumble recording from the studio
// with "publish when ready" ticked: the episode page shows the processing
// (waiting, then its percentage) and then the published episode, without a
// reload.
func TestBrowserProcessingProgress(t *testing.T) {
	ctx := newBrowser(t)
	// The transcoding waits, a third done, until the page has shown it:
	// however fast the machine, the test sees the percentage.
	gate := &gatedTranscoder{Transcoder: ffmpeg.New("", 1), shown: make(chan struct{})}
	env := newStudioEnvJobs(t, episodes.Options{TempDir: t.TempDir(), JobScanInterval: 100 * time.Millisecond, Transcoder: gate})
	jobs, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { env.svc.RunJobs(jobs, 1, nil) })
	t.Cleanup(func() { stop(); wg.Wait() })
	base := env.srv.URL
	run := func(step string, timeout time.Duration, actions ...chromedp.Action) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := chromedp.Run(tctx, actions...); err != nil {
			t.Fatalf("%s: %v\n%s", step, err, env.logs.String())
		}
	}
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 30, Tags: map[string]string{"title": "Le fédivers"}})
	run("sign in", 30*time.Second,
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}),
		chromedp.Navigate(base+"/studio/login"),
		chromedp.SendKeys("#login", "alice", chromedp.ByID),
		chromedp.SendKeys("#password", testPassword, chromedp.ByID),
		chromedp.Submit("#password", chromedp.ByID),
		chromedp.WaitVisible("#upload", chromedp.ByID),
	)
	var running string
	run("upload and follow the processing", 2*time.Minute,
		chromedp.SetUploadFiles("#file", []string{wav}, chromedp.ByID),
		chromedp.Click("#publish", chromedp.ByID),
		chromedp.Click(`#upload button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#status[data-progress]", chromedp.ByQuery),
		// Marks this page: a reload would lose the mark.
		chromedp.Evaluate(`window.sameLoad = true`, nil),
		chromedp.Poll(`/^Traitement \d+/.test(document.getElementById("status").textContent)`, nil, chromedp.WithPollingTimeout(90*time.Second)),
		chromedp.Text("#status", &running, chromedp.ByID),
	)
	close(gate.shown)
	var published string
	var sameLoad bool
	run("published without a reload", 3*time.Minute,
		chromedp.Poll(`document.getElementById("status").textContent === "Publié"`, nil, chromedp.WithPollingTimeout(170*time.Second)),
		chromedp.Text("#status", &published, chromedp.ByID),
		chromedp.Evaluate(`window.sameLoad === true && !!document.querySelector("a.public")`, &sameLoad),
	)
	if !sameLoad {
		t.Errorf("the page was reloaded, or shows no link to the published episode")
	}
	t.Logf("studio showed %q, then %q", running, published)
	eps, _ := env.svc.Episodes("lvel", episodes.ListOptions{Status: episodes.Published})
	if len(eps) != 1 || eps[0].Title != "Le fédivers" || eps[0].Media.Type != "audio/mpeg" {
		t.Errorf("published episodes: got %+v", eps)
	}
}

// gatedTranscoder is the real transcoder, told a third of the work is done
// before it starts, and held there until shown is closed.
type gatedTranscoder struct {
	episodes.Transcoder
	shown chan struct{}
}

func (g *gatedTranscoder) Prepare(ctx context.Context, path, dir string, progress func(done float64)) (*audio.Prepared, error) {
	if progress != nil {
		progress(1.0 / 3)
	}
	select {
	case <-g.shown:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Transcoder.Prepare(ctx, path, dir, progress)
}
