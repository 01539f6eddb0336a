package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// server is `antenne serve` running in-process.
type server struct {
	url    string
	stderr *storagetest.LogBuffer
	stop   func() error
}

var listenLine = regexp.MustCompile(`msg="antenne listening" addr=(\S+)`)

// startServe runs `antenne serve` with vars on a free port of 127.0.0.1
// and waits until it listens.
func startServe(t *testing.T, vars map[string]string) *server {
	t.Helper()
	vars["ANTENNE_ADDR"] = "127.0.0.1:0"
	stderr := &storagetest.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, &env{
			stdin: strings.NewReader(""), stdout: stderr, stderr: stderr,
			getenv: envFrom(vars),
		})
	}()
	s := &server{stderr: stderr}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("serve did not stop within 30 s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenLine.FindStringSubmatch(stderr.String()); m != nil {
			s.url = "http://" + m[1]
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited at start: %v\n%s", err, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen within 30 s:\n%s", stderr)
	return nil
}

func status(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func body(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServeLocalFolderByDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServe(t, map[string]string{"ANTENNE_DATA_DIR": dir})
	for _, path := range []string{"/healthz", "/readyz"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if got := status(t, method, s.url+path); got != http.StatusOK {
				t.Errorf("%s %s: got %d, want 200", method, path, got)
			}
		}
	}
	if got := status(t, http.MethodGet, s.url+"/nothing-here"); got != http.StatusNotFound {
		t.Errorf("GET /nothing-here: got %d, want 404", got)
	}
	metrics := body(t, s.url+"/metrics")
	for _, want := range []string{
		`antenne_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`antenne_http_requests_total{method="HEAD",route="/readyz",status="200"} 1`,
		`antenne_catalog_episodes 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := s.stop(); err != nil {
		t.Errorf("stop: got %v, want a clean stop", err)
	}
	log := s.stderr.String()
	for _, want := range []string{"store: local folder", `route=/healthz`, "request_id=", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestServeReadyzFollowsTheStore stops MinIO under a running antenne:
// /readyz turns 503 with one log line, and 200 again when MinIO is back,
// with no restart.
func TestServeReadyzFollowsTheStore(t *testing.T) {
	t.Parallel()
	m := storagetest.StartMinIO(t)
	m.NewS3(t) // creates a bucket; antenne gets its own below
	cfg := m.Config()
	s := startServe(t, map[string]string{
		"ANTENNE_S3_ENDPOINT":      cfg.Endpoint,
		"ANTENNE_S3_ACCESS_KEY":    cfg.AccessKey,
		"ANTENNE_S3_SECRET_KEY":    cfg.SecretKey,
		"ANTENNE_S3_SECURE":        "false",
		"ANTENNE_S3_PATH_STYLE":    "true",
		"ANTENNE_S3_BUCKET":        "antenne-readyz",
		"ANTENNE_S3_CREATE_BUCKET": "true",
	})
	waitStatus := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		got := 0
		for time.Now().Before(deadline) {
			if got = status(t, http.MethodGet, s.url+"/readyz"); got == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("/readyz: got %d, want %d\n%s", got, want, s.stderr)
	}
	waitStatus(http.StatusOK)
	m.Stop()
	waitStatus(http.StatusServiceUnavailable)
	waitStatus(http.StatusServiceUnavailable)
	if m := body(t, s.url+"/metrics"); !strings.Contains(m, `antenne_store_errors_total{op="ping"}`) {
		t.Errorf("/metrics does not count the store's failures:\n%s", m)
	}
	if got := strings.Count(s.stderr.String(), "store unreachable"); got != 1 {
		t.Errorf("log: got %d lines saying the store is unreachable, want 1:\n%s", got, s.stderr)
	}
	if got := status(t, http.MethodGet, s.url+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz while the store is down: got %d, want 200", got)
	}
	m.Start()
	waitStatus(http.StatusOK)
	if !strings.Contains(s.stderr.String(), "store reachable again") {
		t.Errorf("log does not say the store is back:\n%s", s.stderr)
	}
}

func TestServeBadConfigExits2NamingTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"ANTENNE_BASE_URL": "radio.picasoft.net"}, "ANTENNE_BASE_URL"},
		{map[string]string{"ANTENNE_ADDR": "127.0.0.1:99999"}, "ANTENNE_ADDR"},
		{map[string]string{"ANTENNE_S3_ENDPOINT": "127.0.0.1:1"}, "ANTENNE_S3_ACCESS_KEY"},
		{map[string]string{"ANTENNE_DATA_DIR": "/proc/antenne-cannot-be-here"}, "ANTENNE_DATA_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), []string{"serve"}, &env{stdout: &stderr, stderr: &stderr, getenv: envFrom(tt.vars)})
			code := report(err, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("got exit %d and %q, want exit 2 naming %s", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"help"}, &env{stdout: &out, stderr: &out, getenv: envFrom(nil)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), c.name) {
			t.Errorf("help does not list %s", c.name)
		}
		var usage bytes.Buffer
		if err := run(t.Context(), []string{"help", c.name}, &env{stdout: &usage, stderr: &usage, getenv: envFrom(nil)}); err != nil || !strings.HasPrefix(usage.String(), "usage: antenne "+c.name) {
			t.Errorf("help %s: got %q, %v, want its usage", c.name, usage.String(), err)
		}
	}
	var usage bytes.Buffer
	if err := run(t.Context(), []string{"serve", "--help"}, &env{stdout: &usage, stderr: &usage, getenv: envFrom(nil)}); err != nil || !strings.Contains(usage.String(), "ANTENNE_S3_ENDPOINT") {
		t.Errorf("serve --help: got %q, %v, want the usage with the variables", usage.String(), err)
	}
}

var setupURLLine = regexp.MustCompile(`setup_url=\S+(/studio/setup/\S+)`)

// TestServeFirstRunSetupURL: on an empty data folder `antenne serve` logs
// a setup address that opens the setup page, and the login page says how
// to start; a restart issues a new address and voids the old; once an
// admin exists nothing is logged and the address answers 404.
func TestServeFirstRunSetupURL(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, map[string]string{"ANTENNE_DATA_DIR": dir})
	m := setupURLLine.FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("no setup address in the log:\n%s", s.stderr)
	}
	first := m[1]
	if got := status(t, http.MethodGet, s.url+first); got != http.StatusOK {
		t.Errorf("GET the setup address: got %d, want 200", got)
	}
	if page := body(t, s.url+"/studio/login"); !strings.Contains(page, "Premier démarrage") || !strings.Contains(page, "antenne hosts add NAME --admin") {
		t.Errorf("the login page does not say how to start:\n%s", page)
	}
	s.stop()
	s = startServe(t, map[string]string{"ANTENNE_DATA_DIR": dir})
	m = setupURLLine.FindStringSubmatch(s.stderr.String())
	if m == nil || m[1] == first {
		t.Fatalf("restart: got setup address %q, want a new one", m)
	}
	if got := status(t, http.MethodGet, s.url+first); got != http.StatusNotFound {
		t.Errorf("the previous setup address: got %d, want 404", got)
	}
	s.stop()
	c := &cli{t: t, vars: map[string]string{"ANTENNE_DATA_DIR": dir}}
	c.ok("hosts", "add", "root", "--admin", "--password", "admin password")
	s = startServe(t, map[string]string{"ANTENNE_DATA_DIR": dir})
	if strings.Contains(s.stderr.String(), "setup_url") {
		t.Errorf("with an admin, serve still logs a setup address:\n%s", s.stderr)
	}
	if got := status(t, http.MethodGet, s.url+m[1]); got != http.StatusNotFound {
		t.Errorf("with an admin, the setup address: got %d, want 404", got)
	}
}

// TestServeChecksFFmpeg: antenne logs the ffmpeg it will use at start, or
// warns that there is none and says so on the studio's pages.
func TestServeChecksFFmpeg(t *testing.T) {
	t.Parallel()
	bin := episodestest.FFmpeg(t)
	const banner = "ffmpeg n&#39;est pas installé sur le serveur"

	s := startServe(t, map[string]string{"ANTENNE_DATA_DIR": t.TempDir(), "ANTENNE_FFMPEG": bin})
	if log := s.stderr.String(); !strings.Contains(log, `msg="ffmpeg found" path=`+bin+` version="ffmpeg version `) {
		t.Errorf("log does not name the ffmpeg found:\n%s", log)
	}
	if page := body(t, s.url+"/studio/login"); strings.Contains(page, banner) {
		t.Errorf("the studio warns of a missing ffmpeg while it is there")
	}

	s = startServe(t, map[string]string{"ANTENNE_DATA_DIR": t.TempDir(), "ANTENNE_FFMPEG": filepath.Join(t.TempDir(), "ffmpeg")})
	if log := s.stderr.String(); !strings.Contains(log, `level=WARN msg="ffmpeg missing: recordings to convert`) {
		t.Errorf("log does not warn that ffmpeg is missing:\n%s", log)
	}
	if page := body(t, s.url+"/studio/login"); !strings.Contains(page, banner) {
		t.Errorf("the studio's login page does not say that ffmpeg is missing:\n%s", page)
	}
	if page := body(t, s.url+"/"); strings.Contains(page, banner) {
		t.Errorf("a public page shows the studio's ffmpeg banner")
	}
}

// TestServeJoinsItsLoops: when serve returns, none of its background
// loops (catalog upkeep, jobs, listen counts, accounts, federation,
// pinger, feed warm-up) is still running: nothing writes to the store
// after the process said it stopped. Not parallel: it reads every
// goroutine's stack.
func TestServeJoinsItsLoops(t *testing.T) {
	s := startServe(t, map[string]string{"ANTENNE_DATA_DIR": t.TempDir(), "ANTENNE_WEBSUB_HUBS": "https://hub.example/"})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, loop := range []string{
		"episodes.(*Service).Run(", "episodes.(*Service).RunJobs(", "listens.(*Counter).Run(",
		"accounts.(*Service).Run(", "federation.(*Service).Run(", "websub.(*Pinger).Run(", "web.(*Server).WarmFeeds(",
	} {
		if strings.Contains(stacks, loop) {
			t.Errorf("%s still runs after serve returned", loop)
		}
	}
}
