// Package storagetest gives tests real stores: a Dir in a temporary folder
// and an S3 store on a fresh bucket of a real MinIO server, either the one
// `make test` starts (found through environment variables) or a private
// one a test starts and stops itself.
//
// The shared MinIO is found through ANTENNE_TEST_S3_ENDPOINT (host:port),
// ANTENNE_TEST_S3_ACCESS_KEY and ANTENNE_TEST_S3_SECRET_KEY. When they are
// missing a test needing it is skipped, or fails when the CI variable is
// set. The minio binary for private servers is ANTENNE_TEST_MINIO_BIN, else
// minio on PATH, else $(go env GOPATH)/bin/minio.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/picasoft/antenne/storage"
)

// Store is what both stores offer.
type Store = storage.Store

// Named is a store with a name for subtests ("Dir", "S3").
type Named struct {
	Name  string
	Store Store
}

// Stores returns a Dir on a temporary folder and, when the test MinIO is
// configured, an S3 store on a fresh bucket. Without MinIO it logs why S3
// is left out, or fails under CI.
func Stores(t testing.TB) []Named {
	t.Helper()
	stores := []Named{{Name: "Dir", Store: Dir(t)}}
	if cfg, ok := sharedConfig(t); ok {
		stores = append(stores, Named{Name: "S3", Store: newBucket(t, cfg)})
	}
	return stores
}

// Run runs f as the subtests "Dir" and "S3", each with a fresh store. The
// S3 subtest is skipped (or fails under CI) when the test MinIO is not
// configured.
func Run(t *testing.T, f func(t *testing.T, s Store)) {
	t.Helper()
	t.Run("Dir", func(t *testing.T) { f(t, Dir(t)) })
	t.Run("S3", func(t *testing.T) { f(t, S3(t)) })
}

// Dir returns a Dir store on a fresh temporary folder.
func Dir(t testing.TB) *storage.Dir {
	t.Helper()
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// S3 returns an S3 store on a fresh bucket of the shared test MinIO,
// removed with its objects when the test ends. It skips the test when the
// MinIO is not configured, or fails it under CI.
func S3(t testing.TB) *storage.S3 {
	t.Helper()
	cfg, ok := sharedConfig(t)
	if !ok {
		t.Skip("S3 test skipped: " + missingS3)
	}
	return newBucket(t, cfg)
}

// S3Config returns the configuration of the shared test MinIO with no
// bucket set, skipping or failing the test like S3 when it is missing.
func S3Config(t testing.TB) storage.S3Config {
	t.Helper()
	cfg, ok := sharedConfig(t)
	if !ok {
		t.Skip("S3 test skipped: " + missingS3)
	}
	return cfg
}

const missingS3 = "set ANTENNE_TEST_S3_ENDPOINT, ANTENNE_TEST_S3_ACCESS_KEY and ANTENNE_TEST_S3_SECRET_KEY (make test does)"

func sharedConfig(t testing.TB) (storage.S3Config, bool) {
	t.Helper()
	cfg := storage.S3Config{
		Endpoint:  os.Getenv("ANTENNE_TEST_S3_ENDPOINT"),
		AccessKey: os.Getenv("ANTENNE_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ANTENNE_TEST_S3_SECRET_KEY"),
		PathStyle: true,
	}
	if cfg.Endpoint == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MinIO missing under CI: " + missingS3)
		}
		t.Log("S3 store left out: " + missingS3)
		return cfg, false
	}
	return cfg, true
}

// BucketName returns a fresh bucket name.
func BucketName() string {
	var b [8]byte
	rand.Read(b[:])
	return "antenne-test-" + hex.EncodeToString(b[:])
}

// newBucket makes a store on a new bucket and removes the bucket, objects
// included, when the test ends.
func newBucket(t testing.TB, cfg storage.S3Config) *storage.S3 {
	t.Helper()
	cfg.Bucket = BucketName()
	cfg.CreateBucket = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := storage.NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3 on test MinIO %s: %v", cfg.Endpoint, err)
	}
	t.Cleanup(func() { removeBucket(t, cfg) })
	return s
}

// removeBucket drops a test bucket with MinIO's force delete.
func removeBucket(t testing.TB, cfg storage.S3Config) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		t.Errorf("remove test bucket: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.RemoveBucketWithOptions(ctx, cfg.Bucket, minio.RemoveBucketOptions{ForceDelete: true})
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchBucket" {
		t.Logf("remove test bucket %s: %v", cfg.Bucket, err)
	}
}

// MinIO is a private MinIO server on 127.0.0.1 with its data in a
// temporary folder, for tests that stop and restart it. It keeps its port
// and data across Stop and Start.
type MinIO struct {
	t         testing.TB
	bin       string
	dir       string
	addr      string
	accessKey string
	secretKey string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *LogBuffer
}

// StartMinIO starts a private MinIO server and waits until it answers. It
// is killed when the test ends. Without a minio binary the test is
// skipped, or fails under CI.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	bin := minioBinary()
	if bin == "" {
		msg := "no minio binary: set ANTENNE_TEST_MINIO_BIN, put minio on PATH, or go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	m := &MinIO{
		t:         t,
		bin:       bin,
		dir:       t.TempDir(),
		addr:      FreeAddr(t),
		accessKey: "antenne-test",
		secretKey: "antenne-test-secret",
	}
	t.Cleanup(m.Stop)
	m.Start()
	return m
}

// Endpoint is the server's host:port.
func (m *MinIO) Endpoint() string { return m.addr }

// Config is the configuration of an S3 store on this server, bucket unset.
func (m *MinIO) Config() storage.S3Config {
	return storage.S3Config{Endpoint: m.addr, AccessKey: m.accessKey, SecretKey: m.secretKey, PathStyle: true}
}

// NewS3 returns a store on a fresh bucket of this server.
func (m *MinIO) NewS3(t testing.TB) *storage.S3 {
	t.Helper()
	cfg := m.Config()
	cfg.Bucket = BucketName()
	cfg.CreateBucket = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := storage.NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3 on private MinIO %s: %v", m.addr, err)
	}
	return s
}

// Start starts the server if it is stopped and waits until it is ready.
func (m *MinIO) Start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return
	}
	m.log = &LogBuffer{}
	cmd := exec.Command(m.bin, "server", "--quiet", "--address", m.addr, filepath.Join(m.dir, "data"))
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.accessKey,
		"MINIO_ROOT_PASSWORD="+m.secretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	cmd.Stdout = m.log
	cmd.Stderr = m.log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("start minio: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	m.cmd, m.done = cmd, done

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		// Ready by its health check, and past the moment when the S3 API
		// still answers 503 "Server not initialized yet" (an anonymous
		// request then gets its 403).
		if ok := m.answers(client, "/minio/health/ready", http.StatusOK) && m.answers(client, "/", http.StatusForbidden); ok {
			return
		}
		select {
		case <-done:
			m.cmd = nil
			m.t.Fatalf("minio exited at start: %s", m.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("minio not ready on %s after 60 s: %s", m.addr, m.log.String())
		}
	}
}

// answers reports whether GET path gives the status want.
func (m *MinIO) answers(client *http.Client, path string, want int) bool {
	resp, err := client.Get("http://" + m.addr + path)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == want
}

// Stop kills the server and waits for it to exit. Stopping a stopped
// server does nothing.
func (m *MinIO) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	<-m.done
	m.cmd = nil
}

// Log is what the server printed since its last start.
func (m *MinIO) Log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log == nil {
		return ""
	}
	return fmt.Sprintf("%q", m.log.String())
}

func minioBinary() string {
	if bin := os.Getenv("ANTENNE_TEST_MINIO_BIN"); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("minio"); err == nil {
		return bin
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			return ""
		}
		gopath = strings.TrimSpace(string(out))
	}
	for dir := range strings.SplitSeq(gopath, string(os.PathListSeparator)) {
		bin := filepath.Join(dir, "bin", "minio")
		if fi, err := os.Stat(bin); err == nil && !fi.IsDir() {
			return bin
		}
	}
	return ""
}

// FreeAddr returns 127.0.0.1:port for a port that was free a moment ago,
// for the servers the tests start.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// LogBuffer collects what a server under test prints, safe for concurrent
// writes; past 4 MiB it keeps the beginning only, enough to diagnose.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 4<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

// String returns what was written.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
