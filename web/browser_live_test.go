package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web"
)

// TestBrowserLive opens the show page during its Friday slot, with a real
// Icecast as the station's stream: the page says "En direct sur Graf'hit",
// nothing is asked of the stream's host before the listener presses play,
// and after the click on the player's play button the stream plays
// (currentTime advances).
func TestBrowserLive(t *testing.T) {
	stream := startIcecast(t)
	ctx := newBrowser(t)
	store := storagetest.Dir(t)
	onAir := time.Date(2021, 10, 29, 9, 40, 0, 0, episodes.Paris())
	svc := episodes.NewService(store, episodes.Options{Now: func() time.Time { return onAir }, TempDir: t.TempDir()})
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	base := "http://" + srv.Listener.Addr().String()
	links, err := feed.NewLinks(base, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateShow(t.Context(), episodes.Show{
		Slug: "lvel", Title: "La Voix est Libre",
		AirSlot: &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit"},
		Live:    &episodes.Live{URL: stream},
	}, links.Feed("lvel")); err != nil {
		t.Fatal(err)
	}
	s, err := web.New(web.Config{Catalog: svc, Store: store, Links: links, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	streamHost := strings.TrimPrefix(strings.TrimSuffix(stream, "/live.mp3"), "http://")
	var reqs requestLog
	reqs.listen(ctx)
	run := browserRun(t, ctx)
	reqs.record(true)
	var heading string
	run("open the show page",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}),
		chromedp.Navigate(base+"/lvel/"),
		chromedp.WaitVisible("#live-player", chromedp.ByID),
		chromedp.Text("#live-title", &heading, chromedp.ByID),
		// Give a preloading browser the time to ask.
		chromedp.Sleep(2*time.Second),
	)
	if heading != "En direct sur Graf'hit" {
		t.Errorf("live heading: got %q, want %q", heading, "En direct sur Graf'hit")
	}
	if toStream := requestsTo(&reqs, streamHost); len(toStream) > 0 {
		t.Errorf("before play, the page asked the stream's host: %v", toStream)
	}
	all, _ := reqs.foreign(streamHost)
	if len(all) < 2 {
		t.Errorf("recorded only %d requests: %v", len(all), all)
	}

	// Press the player's play button: the first control at the left of
	// Chromium's audio controls.
	var box []float64
	run("find the player", chromedp.Evaluate(`(() => { const r = document.getElementById("live-player").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, &box))
	var played float64
	run("press play",
		chromedp.MouseClickXY(box[0]+20, box[1]+box[3]/2),
		chromedp.Poll(`document.getElementById("live-player").currentTime > 1`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate(`document.getElementById("live-player").currentTime`, &played),
	)
	if played <= 1 {
		t.Errorf("live player: currentTime %v, want it advancing past 1 s", played)
	}
	if toStream := requestsTo(&reqs, streamHost); len(toStream) == 0 {
		t.Errorf("the player played without asking the stream's host")
	}
	run("pause", chromedp.Evaluate(`document.getElementById("live-player").pause(); true`, nil))
	reqs.record(false)
}

// requestsTo lists the recorded requests to host (host:port).
func requestsTo(l *requestLog, host string) []string {
	var out []string
	all, _ := l.foreign(host)
	for _, raw := range all {
		if u, err := url.Parse(raw); err == nil && u.Host == host {
			out = append(out, raw)
		}
	}
	return out
}
