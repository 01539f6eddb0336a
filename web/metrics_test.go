package web_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/listens"
)

// processMetrics are the documented metrics that `antenne serve`
// registers itself, not web; cmd/antenne's tests move them
// (TestServeReadyzFollowsTheStore, TestServeStoreRefused).
var processMetrics = []string{"antenne_store_errors_total", "antenne_catalog_refresh_errors_total"}

// documentedMetrics are the metric names the Monitoring section of
// docs/production.md lists.
func documentedMetrics(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../docs/production.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Monitoring")
	if !ok {
		t.Fatal("docs/production.md has no Monitoring section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var names []string
	for _, n := range regexp.MustCompile("`(antenne_[a-z_]+)").FindAllStringSubmatch(section, -1) {
		if !slices.Contains(names, n[1]) {
			names = append(names, n[1])
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %v in the Monitoring section", names)
	}
	return names
}

// metricValues sums each family of reg: a counter's or gauge's values,
// a histogram's sample counts, over every label set.
func metricValues(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				out[f.GetName()] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[f.GetName()] += m.Gauge.GetValue()
			case m.Histogram != nil:
				out[f.GetName()] += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

// TestDocumentedMetricsMove: every metric docs/production.md documents
// changes when what it counts happens: uploads (stored, refused), jobs
// (queued and running while held, then done, failed), the feed's cache,
// the catalog's size, listens counted and listeners beyond the day's
// cap, HTTP requests.
func TestDocumentedMetricsMove(t *testing.T) {
	documented := documentedMetrics(t)
	reg := prometheus.NewRegistry()
	counter, err := listens.New(listens.Options{MaxListeners: 1})
	if err != nil {
		t.Fatal(err)
	}
	gate := &failingTranscoder{Transcoder: ffmpeg.New("", 1), open: make(chan struct{})}
	env := newStudioEnvFull(t, 0, episodes.Options{TempDir: t.TempDir(), Transcoder: gate, JobScanInterval: 50 * time.Millisecond},
		func(c *web.Config) { c.Metrics = reg; c.Listens = counter })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { env.svc.RunJobs(ctx, 1, nil) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	before := metricValues(t, reg)
	seen := map[string]float64{} // the most each metric reached
	observe := func() map[string]float64 {
		now := metricValues(t, reg)
		for k, v := range now {
			seen[k] = max(seen[k], v)
		}
		return now
	}
	auth := map[string]string{"Authorization": "Bearer " + env.tokens["alice"]}
	upload := func(name string, data []byte, want int) {
		t.Helper()
		h := map[string]string{"Content-Type": "application/octet-stream"}
		for k, v := range auth {
			h[k] = v
		}
		if resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes?name="+name, bytes.NewReader(data), h); resp.StatusCode != want {
			t.Fatalf("upload %s: got %d, want %d\n%s", name, resp.StatusCode, want, out)
		}
	}

	upload("ep.mp3", episodestest.Bytes(t, episodestest.Recording{Format: "mp3", Seconds: 2, Tags: map[string]string{"title": "En MP3"}}), http.StatusCreated)
	upload("notes.mp3", []byte("pas du son du tout, des notes"), http.StatusUnsupportedMediaType)
	gate.hold.Store(true)
	upload("a.wav", episodestest.Bytes(t, episodestest.Recording{Format: "wav", Seconds: 2, Frequency: 500}), http.StatusAccepted)
	upload("b.wav", episodestest.Bytes(t, episodestest.Recording{Format: "wav", Seconds: 2, Frequency: 600}), http.StatusAccepted)
	// One job held by the gate, the other waiting for the one worker.
	deadline := time.Now().Add(time.Minute)
	for now := observe(); now["antenne_ingest_jobs_running"] < 1 || now["antenne_ingest_jobs_queued"] < 1; now = observe() {
		if time.Now().After(deadline) {
			t.Fatalf("jobs never seen running and queued at once: %v", now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(gate.open)
	for now := observe(); now["antenne_ingest_jobs_done_total"] < 2; now = observe() {
		if time.Now().After(deadline) {
			t.Fatalf("jobs not done within a minute: %v", now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	gate.fail.Store(true)
	upload("c.wav", episodestest.Bytes(t, episodestest.Recording{Format: "wav", Seconds: 2, Frequency: 700}), http.StatusAccepted)
	for now := observe(); now["antenne_ingest_jobs_failed_total"] < 1; now = observe() {
		if time.Now().After(deadline) {
			t.Fatalf("no job failed within a minute: %v", now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := env.svc.CreateShow(t.Context(), episodes.Show{Slug: "troisieme", Title: "Troisième", Description: "Une autre"}, "http://antenne.test/troisieme/feed.xml"); err != nil {
		t.Fatal(err)
	}

	env.do(nil, "GET", "/lvel/feed.xml", nil, nil) // built
	env.do(nil, "GET", "/lvel/feed.xml", nil, nil) // from the cache
	eps, err := env.svc.Episodes("lvel", episodes.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var media string
	for _, e := range eps {
		if e.Title == "En MP3" {
			media = "/lvel/media/" + strings.TrimPrefix(e.Media.Key, "shows/lvel/media/")
		}
	}
	// The first listener counts; the second comes once the day's cap (1
	// pair) is taken by a pair that counted, and is not tracked.
	// (A listen is recorded once the handler ends, which may be just
	// after the client has read the whole answer.)
	for _, l := range []struct{ ua, metric string }{{"AntennaPod/3.4.0", "antenne_listens_counted_total"}, {"PocketCasts/1.0", "antenne_listens_untracked_today"}} {
		ua, metric := l.ua, l.metric
		if resp, _ := env.do(nil, "GET", media, nil, map[string]string{"User-Agent": ua}); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", media, resp.StatusCode)
		}
		for now := observe(); now[metric] < 1; now = observe() {
			if time.Now().After(deadline) {
				t.Fatalf("%s not moved by a listener within a minute: %v", metric, now)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	observe()

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	uploads := map[string]float64{}
	for _, f := range families {
		if f.GetName() == "antenne_uploads_total" {
			for _, m := range f.GetMetric() {
				uploads[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if want := map[string]float64{"ok": 4, "refused": 1, "failed": 0}; !maps.Equal(uploads, want) {
		t.Errorf("antenne_uploads_total by result: got %v, want %v", uploads, want)
	}

	for _, name := range documented {
		if slices.Contains(processMetrics, name) {
			continue
		}
		if _, ok := seen[name]; !ok {
			t.Errorf("%s is documented but not registered by web", name)
			continue
		}
		if seen[name] == before[name] {
			t.Errorf("%s did not move: %v before, at most %v after", name, before[name], seen[name])
		}
	}
}

// failingTranscoder transcodes for real, except that once hold is set it
// holds every call until open is closed, and once fail is set it fails.
type failingTranscoder struct {
	episodes.Transcoder
	open       chan struct{}
	hold, fail atomic.Bool
}

func (f *failingTranscoder) Prepare(ctx context.Context, path, dir string, progress func(done float64)) (*audio.Prepared, error) {
	if f.hold.Load() {
		select {
		case <-f.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail.Load() {
		return nil, errors.New("the test's transcoder fails")
	}
	return f.Transcoder.Prepare(ctx, path, dir, progress)
}
