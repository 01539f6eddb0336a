package web

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/accounts"
	"github.com/picasoft/antenne/web/listens"
)

// site is antenne's web server over a real catalog on a real store,
// listening on 127.0.0.1.
type site struct {
	t     testing.TB
	srv   *httptest.Server
	web   *Server
	svc   *episodes.Service
	store storagetest.Store
	clock *episodestest.Clock
	links feed.Links
	show  string
	// hosts are the site's host accounts (studio and API).
	hosts *accounts.Service
	// inflight counts the requests being handled, so that a test can wait
	// for a handler to finish after its client went away.
	inflight sync.WaitGroup
}

// siteOptions shape newSite.
type siteOptions struct {
	mediaURL string
	logs     io.Writer
	// listens, when set, makes a counter on the site's clock.
	listens bool
	// trustedProxies are given to web.Config.TrustedProxies.
	trustedProxies []string
	// logIPs is web.Config.LogIPs.
	logIPs bool
	// smallBuffers gives each accepted connection a small send buffer,
	// so that what the server writes is close to what the client reads.
	smallBuffers bool
}

// newSite starts a web server on store with one show, "lvel", and no
// episode. Its links point at the server itself.
func newSite(t testing.TB, store storagetest.Store, o siteOptions) *site {
	t.Helper()
	clock := episodestest.NewClock()
	svc := episodes.NewService(store, episodes.Options{Now: clock.Now, TempDir: t.TempDir()})
	var handler http.Handler
	var ready sync.WaitGroup
	ready.Add(1)
	st := &site{t: t, svc: svc, store: store, clock: clock, show: "lvel"}
	srv := httptest.NewUnstartedServer(st.tracked(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		handler.ServeHTTP(w, r)
	})))
	if o.smallBuffers {
		srv.Listener = smallBufferListener{srv.Listener}
	}
	srv.Config.ConnContext = ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	links, err := feed.NewLinks(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.CreateShow(ctx, episodes.Show{
		Slug:        "lvel",
		Title:       "La Voix est Libre",
		Description: "L'émission de Picasoft sur Graf'hit.",
		Author:      "Picasoft",
		Owner:       episodes.Owner{Name: "Picasoft", Email: "radio@picasoft.net"},
		Categories:  []episodes.Category{{Name: "Technology"}},
		AirSlot:     &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit 94.9 FM"},
	}, links.Feed("lvel")); err != nil {
		t.Fatal(err)
	}
	logs := o.logs
	if logs == nil {
		logs = io.Discard
	}
	var counter *listens.Counter
	if o.listens {
		if counter, err = listens.New(listens.Options{Store: store, Now: clock.Now}); err != nil {
			t.Fatal(err)
		}
	}
	st.hosts = accounts.New(store, svc, clock.Now)
	w, err := New(Config{
		Accounts:       st.hosts,
		Catalog:        svc,
		Store:          store,
		Links:          links,
		MediaURL:       o.mediaURL,
		Version:        "test",
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		Listens:        counter,
		TrustedProxies: o.trustedProxies,
		LogIPs:         o.logIPs,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = w.Handler()
	ready.Done()
	st.srv, st.web, st.links = srv, w, links
	return st
}

// tracked wraps h so that st.inflight counts the requests it handles.
func (st *site) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.inflight.Add(1)
		defer st.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

// smallBufferListener sets a 16 KiB send buffer on each connection.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// publish ingests a recording of format (mp3, m4a, wav...) as a new
// episode published at the site's current time minus ago. publishAt zero
// (ago < 0) makes a draft.
func (s *site) ingest(format string, freq int, up episodes.Upload) *episodes.Episode {
	s.t.Helper()
	b := episodestest.Bytes(s.t, episodestest.Recording{Format: format, Frequency: freq, Seconds: 2})
	up.Show = s.show
	up.Name = "recording." + format
	up.Body = bytes.NewReader(b)
	e, err := s.svc.Ingest(context.Background(), up)
	if err != nil {
		s.t.Fatalf("ingest %s: %v", format, err)
	}
	return e
}

// get sends a request with headers ("Name: value") and returns the
// response with its body read.
func (s *site) do(method, path string, headers ...string) (*http.Response, []byte) {
	s.t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = s.srv.URL + path
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{
		// Keep redirects and encodings as the server sends them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableCompression: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

// object reads a stored object whole.
func (s *site) object(key string) []byte {
	s.t.Helper()
	rc, _, err := s.store.Get(context.Background(), key, 0, -1)
	if err != nil {
		s.t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// squarePNG is a valid show artwork: a 1400x1400 PNG.
func squarePNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1400, 1400))
	for i := range 1400 {
		img.Set(i, i, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
