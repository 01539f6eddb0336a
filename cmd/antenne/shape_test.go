package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// The operator-facing checks of issue 14: errors mapped by their cause,
// secrets from files, /metrics only to allowed networks.

// TestStalledUploadIs408 sends an upload whose body stops arriving: the
// client is told 408 (its own connection, not the store, failed) and the
// log has no ERROR line.
func TestStalledUploadIs408(t *testing.T) {
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	c.ok("hosts", "add", "alice", "--show", "lvel", "--password", "correct horse")
	words := strings.Fields(c.ok("hosts", "token", "create", "alice"))
	token := words[len(words)-1]
	s := startServe(t, map[string]string{
		"ANTENNE_DATA_DIR":          c.vars["ANTENNE_DATA_DIR"],
		"ANTENNE_BODY_IDLE_TIMEOUT": "1s",
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A raw body: the API spools it straight to a file, reading until the
	// client stalls.
	fmt.Fprintf(conn, "POST /api/v1/shows/lvel/episodes?title=Cale HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: audio/mpeg\r\nContent-Length: 10000000\r\n\r\n", token)
	conn.Write(make([]byte, 64<<10))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v\n%s", err, s.stderr)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled upload: got %d, want 408\n%s", resp.StatusCode, s.stderr)
	}
	time.Sleep(200 * time.Millisecond) // the request's log line
	if log := s.stderr.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("a stalled client logged an error:\n%s", log)
	}
}

// TestStoppedStoreIs503InFrench stops MinIO under a running antenne: an
// edit in the studio's language is refused with 503 and a French message.
func TestStoppedStoreIs503InFrench(t *testing.T) {
	m := storagetest.StartMinIO(t)
	cfg := m.Config()
	c := newCLI(t)
	c.vars["ANTENNE_S3_ENDPOINT"] = cfg.Endpoint
	c.vars["ANTENNE_S3_ACCESS_KEY"] = cfg.AccessKey
	c.vars["ANTENNE_S3_SECRET_KEY"] = cfg.SecretKey
	c.vars["ANTENNE_S3_BUCKET"] = "antenne"
	c.vars["ANTENNE_S3_PATH_STYLE"] = "true"
	c.vars["ANTENNE_S3_SECURE"] = "false"
	c.vars["ANTENNE_S3_CREATE_BUCKET"] = "true"
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	c.ok("hosts", "add", "alice", "--show", "lvel", "--password", "correct horse")
	words := strings.Fields(c.ok("hosts", "token", "create", "alice"))
	token := words[len(words)-1]
	s := startServe(t, c.vars)
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2})
	f, err := os.Open(mp3)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/shows/lvel/episodes?title=Avant&draft=true", f)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ep struct{ ID, Revision string }
	json.NewDecoder(resp.Body).Decode(&ep)
	resp.Body.Close()
	if resp.StatusCode >= 300 || ep.ID == "" {
		t.Fatalf("upload: got %d, episode %+v", resp.StatusCode, ep)
	}

	m.Stop()
	req, _ = http.NewRequest(http.MethodPatch, s.url+"/api/v1/shows/lvel/episodes/"+ep.ID, strings.NewReader(`{"title":"Sans stockage"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "fr")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "stockage est indisponible") {
		t.Errorf("edit with the store stopped: got %d %s, want 503 in French", resp.StatusCode, body)
	}
}

// TestSecretsFromFiles reads the S3 secret and the session key from files
// (ANTENNE_*_FILE): antenne works, and neither secret reaches the log or
// the process's command line.
func TestSecretsFromFiles(t *testing.T) {
	m := storagetest.StartMinIO(t)
	cfg := m.Config()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "s3-secret")
	keyFile := filepath.Join(dir, "session-key")
	sessionKey := "0123456789abcdef0123456789abcdef-session-key-from-a-file"
	if err := os.WriteFile(secretFile, []byte(cfg.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(sessionKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real process (TestMain runs main), so that its command line is
	// what ps shows.
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(),
		"ANTENNE_TEST_RUN_MAIN=1",
		"ANTENNE_ADDR=127.0.0.1:0",
		"ANTENNE_S3_ENDPOINT="+cfg.Endpoint,
		"ANTENNE_S3_ACCESS_KEY="+cfg.AccessKey,
		"ANTENNE_S3_SECRET_KEY_FILE="+secretFile,
		"ANTENNE_S3_BUCKET=antenne",
		"ANTENNE_S3_PATH_STYLE=true",
		"ANTENNE_S3_SECURE=false",
		"ANTENNE_S3_CREATE_BUCKET=true",
		"ANTENNE_SESSION_KEY_FILE="+keyFile,
		"ANTENNE_LOG_LEVEL=debug",
	)
	var log storagetest.LogBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var url string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(log.String()); m != nil && url == "" {
			url = "http://" + m[1]
		}
		if url == "" {
			// not listening yet
		} else if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("antenne with secrets from files never got ready:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"S3 secret": cfg.SecretKey, "session key": sessionKey} {
		if strings.Contains(string(cmdline), secret) {
			t.Errorf("the %s is on the command line", name)
		}
		if strings.Contains(log.String(), secret) {
			t.Errorf("the %s is in the log:\n%s", name, log.String())
		}
	}
	// Both set: refused, naming both.
	var out strings.Builder
	err = run(t.Context(), []string{"serve"}, &env{stdout: &out, stderr: &out, getenv: envFrom(map[string]string{
		"ANTENNE_SESSION_KEY": sessionKey, "ANTENNE_SESSION_KEY_FILE": keyFile,
	})})
	if code := report(err, &out); code != 2 || !strings.Contains(out.String(), "ANTENNE_SESSION_KEY_FILE") {
		t.Errorf("both a secret and its file: got exit %d, %q; want 2 naming the variables", code, out.String())
	}
	// The help never shows a secret's value.
	out.Reset()
	run(t.Context(), []string{"help", "serve"}, &env{stdout: &out, stderr: &out, getenv: envFrom(map[string]string{"ANTENNE_SESSION_KEY": sessionKey})})
	if strings.Contains(out.String(), sessionKey) {
		t.Errorf("antenne help serve shows the session key:\n%s", out.String())
	}
}

// TestMetricsAllowedNetworks serves /metrics to loopback by default and to
// nobody else; ANTENNE_METRICS_ALLOWED opens it to other networks.
func TestMetricsAllowedNetworks(t *testing.T) {
	s := startServe(t, map[string]string{
		"ANTENNE_DATA_DIR":        t.TempDir(),
		"ANTENNE_TRUSTED_PROXIES": "127.0.0.1",
	})
	get := func(from string) int {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/metrics", nil)
		if from != "" {
			req.Header.Set("X-Forwarded-For", from)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(""); got != http.StatusOK {
		t.Errorf("/metrics from loopback: got %d, want 200", got)
	}
	if got := get("203.0.113.7"); got != http.StatusForbidden {
		t.Errorf("/metrics from 203.0.113.7: got %d, want 403", got)
	}
	open := startServe(t, map[string]string{
		"ANTENNE_DATA_DIR":        t.TempDir(),
		"ANTENNE_TRUSTED_PROXIES": "127.0.0.1",
		"ANTENNE_METRICS_ALLOWED": "203.0.113.0/24",
	})
	s = open
	if got := get("203.0.113.7"); got != http.StatusOK {
		t.Errorf("/metrics from an allowed network: got %d, want 200", got)
	}
	if got := get("198.51.100.1"); got != http.StatusForbidden {
		t.Errorf("/metrics from another network: got %d, want 403", got)
	}
}
