package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
)

// faultSite is antenne serving a show over a private MinIO that the test
// may stop and restart, with a host's API token.
type faultSite struct {
	t     *testing.T
	minio *storagetest.MinIO
	vars  map[string]string
	cli   *cli
	token string
	store storage.Store
	// onLine, when set, is told every line the children of serve print,
	// with the child's URL.
	onLine func(child, line string)
}

func newFaultSite(t *testing.T) *faultSite {
	t.Helper()
	m := storagetest.StartMinIO(t)
	cfg := m.Config()
	vars := map[string]string{
		"ANTENNE_S3_ENDPOINT":      cfg.Endpoint,
		"ANTENNE_S3_ACCESS_KEY":    cfg.AccessKey,
		"ANTENNE_S3_SECRET_KEY":    cfg.SecretKey,
		"ANTENNE_S3_SECURE":        "false",
		"ANTENNE_S3_PATH_STYLE":    "true",
		"ANTENNE_S3_BUCKET":        "antenne-faults",
		"ANTENNE_S3_CREATE_BUCKET": "true",
	}
	c := &cli{t: t, vars: vars}
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	c.ok("hosts", "add", "alice", "--show", "lvel", "--password", "correct horse battery staple")
	out := strings.Fields(c.ok("hosts", "token", "create", "alice"))
	cfg.Bucket = "antenne-faults"
	store, err := storage.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &faultSite{t: t, minio: m, vars: vars, cli: c, token: out[len(out)-1], store: store}
}

// upload posts body through the API and returns the status and body.
func (f *faultSite) upload(ctx context.Context, url, title string, body io.Reader) (int, string) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/shows/lvel/episodes?title="+title, body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "audio/mpeg")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// consistent checks the invariants of the bucket: every document parses
// and points to whole objects, and after a sweep no orphan remains.
func (f *faultSite) consistent() {
	f.t.Helper()
	svc := episodes.NewService(f.store, episodes.Options{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if err := svc.Load(f.t.Context()); err != nil {
		f.t.Fatalf("load the catalog: %v", err)
	}
	r, err := svc.Check(f.t.Context(), episodes.CheckOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		f.t.Errorf("the bucket is inconsistent: %+v", r.Problems)
	}
	if _, err := svc.Sweep(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	if r, _ := svc.Check(f.t.Context(), episodes.CheckOptions{SkipHashes: true}); !r.OK() {
		f.t.Errorf("after the sweep: problems %+v, orphans %v %v", r.Problems, r.Orphans, r.RecentOrphans)
	}
}

func get(t *testing.T, url string, header ...string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// TestStoreOutage stops MinIO under a running antenne: listeners keep the
// feed and the pages, hosts are told quickly that the storage is away, and
// once MinIO is back everything works again without a restart.
func TestStoreOutage(t *testing.T) {
	t.Parallel()
	f := newFaultSite(t)
	s := startServe(t, f.vars)
	first := episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 440})
	if code, msg := f.upload(t.Context(), s.url, "Avant", openFile(t, first)); code != http.StatusCreated {
		t.Fatalf("upload before the outage: %d %s", code, msg)
	}
	code, feedBefore, _ := get(t, s.url+"/lvel/feed.xml")
	if code != http.StatusOK || !bytes.Contains(feedBefore, []byte("Avant")) {
		t.Fatalf("feed before the outage: %d", code)
	}

	f.minio.Stop()
	code, feedDuring, _ := get(t, s.url+"/lvel/feed.xml")
	if code != http.StatusOK || !bytes.Equal(feedDuring, feedBefore) {
		t.Errorf("feed during the outage: got %d, want 200 and the same bytes", code)
	}
	if code, _, _ := get(t, s.url+"/lvel/"); code != http.StatusOK {
		t.Errorf("show page during the outage: got %d, want 200", code)
	}
	second := episodestest.Make(t, episodestest.Recording{Format: "mp3", Frequency: 550})
	start := time.Now()
	code, msg := f.upload(t.Context(), s.url, "Pendant", openFile(t, second))
	took := time.Since(start)
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "stockage est indisponible") {
		t.Errorf("upload during the outage: got %d %s, want 503 saying the storage is away", code, msg)
	}
	if took > 15*time.Second {
		t.Errorf("upload during the outage took %v: it should fail fast", took)
	}
	if code, _, _ := get(t, s.url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: got %d, want 503", code)
	}

	f.minio.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, _ := get(t, s.url+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not recover within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, msg := f.upload(t.Context(), s.url, "Apres", openFile(t, second)); code != http.StatusCreated {
		t.Errorf("upload after the outage: got %d %s, want 201", code, msg)
	}
	code, feedAfter, _ := get(t, s.url+"/lvel/feed.xml")
	if code != http.StatusOK || !bytes.Contains(feedAfter, []byte("Apres")) {
		t.Errorf("feed after the outage: got %d without the new episode", code)
	}
	if m := body(t, s.url+"/metrics"); !strings.Contains(m, "antenne_store_errors_total") {
		t.Errorf("/metrics does not count the store's failures")
	}
	f.consistent()
}

// slowReader gives its data in small pieces over about d, and calls
// midway once half is read.
type slowReader struct {
	data    []byte
	off     int
	step    time.Duration
	midway  func()
	calledM bool
}

func newSlowReader(data []byte, d time.Duration, midway func()) *slowReader {
	return &slowReader{data: data, step: d / 50, midway: midway}
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	time.Sleep(r.step)
	n := copy(p, r.data[r.off:min(len(r.data), r.off+len(r.data)/50+1)])
	r.off += n
	if !r.calledM && r.off >= len(r.data)/2 && r.midway != nil {
		r.calledM = true
		r.midway()
	}
	return n, nil
}

// TestStoreStopsDuringUpload: MinIO goes away while an upload is being
// received; the upload fails, nothing half-written remains.
func TestStoreStopsDuringUpload(t *testing.T) {
	t.Parallel()
	f := newFaultSite(t)
	s := startServe(t, f.vars)
	rec, err := os.ReadFile(episodestest.BigMP3(t, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	code, body := f.upload(t.Context(), s.url, "Coupe", newSlowReader(rec, 2*time.Second, f.minio.Stop))
	if code < 400 || code >= 600 || code == http.StatusInternalServerError {
		t.Errorf("upload while MinIO stops: got %d %s, want a clear 4xx or 503", code, body)
	}
	f.minio.Start()
	f.consistent()
}

// TestKillServeDuringUpload kills antenne itself (SIGKILL) while it
// receives an upload, starts it again, and checks the bucket.
func TestKillServeDuringUpload(t *testing.T) {
	t.Parallel()
	f := newFaultSite(t)
	rec, err := os.ReadFile(episodestest.BigMP3(t, 16<<20))
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"receiving", "storing"} {
		t.Run(at, func(t *testing.T) {
			antenne := f.serve(t)
			url, cmd := antenne.url, antenne.cmd
			kill := func() { cmd.Process.Kill() }
			var r io.Reader = newSlowReader(rec, 2*time.Second, kill)
			if at == "storing" {
				// The whole body arrives; kill while antenne stores it.
				r = bytes.NewReader(append(rec, []byte(fmt.Sprintf("TAG%-125s", at))...))
				go func() {
					waitForMedia(t, f.store)
					kill()
				}()
			}
			code, _ := f.upload(t.Context(), url, "Tue", r)
			cmd.Wait()
			if code == http.StatusCreated {
				t.Logf("the upload finished before the kill")
			}
			f.consistent()
		})
	}
}

// child is `antenne serve` in a child process: this test binary acting
// as antenne (ANTENNE_TEST_RUN_MAIN).
type child struct {
	url string
	cmd *exec.Cmd
	log *storagetest.LogBuffer
}

// serve starts `antenne serve` in a child process on f's bucket, with f's
// variables then extra ("KEY=value"), on a free port of 127.0.0.1 that is
// also its base URL. It returns once the child is ready; the child is
// stopped with SIGTERM when the test ends, and its log shown if the test
// failed.
func (f *faultSite) serve(t *testing.T, extra ...string) *child {
	t.Helper()
	addr := storagetest.FreeAddr(t)
	c := &child{url: "http://" + addr, cmd: exec.Command(os.Args[0], "serve"), log: &storagetest.LogBuffer{}}
	c.cmd.Env = append(os.Environ(), "ANTENNE_TEST_RUN_MAIN=1", "TMPDIR="+t.TempDir())
	for k, v := range f.vars {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Env = append(c.cmd.Env, "ANTENNE_ADDR="+addr, "ANTENNE_BASE_URL="+c.url)
	c.cmd.Env = append(c.cmd.Env, extra...)
	var out io.Writer = c.log
	if f.onLine != nil {
		lines := &lineWriter{line: func(line string) { f.onLine(c.url, line) }}
		out = io.MultiWriter(c.log, lines)
	}
	c.cmd.Stdout, c.cmd.Stderr = out, out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		c.cmd.Wait()
		if t.Failed() {
			t.Logf("log of antenne at %s:\n%s", c.url, c.log)
		}
	})
	waitReady(t, c.url)
	return c
}

// lineWriter calls line with each whole line written to it. One
// goroutine writes (a child's output).
type lineWriter struct {
	line    func(string)
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func openFile(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("antenne at %s not ready within 30 s", url)
}

// TestSIGTERMDrainsUploads stops antenne while an upload is in flight: the
// upload completes, then antenne exits cleanly.
func TestSIGTERMDrainsUploads(t *testing.T) {
	t.Parallel()
	f := newFaultSite(t)
	s := startServe(t, f.vars)
	rec := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 20})
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	code, body := f.upload(t.Context(), s.url, "Drain", newSlowReader(data, 2*time.Second, func() {
		go func() { stopped <- s.stop() }()
	}))
	if code != http.StatusCreated {
		t.Errorf("upload in flight at SIGTERM: got %d %s, want 201", code, body)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("antenne did not stop")
	}
	f.consistent()
}
