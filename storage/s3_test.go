package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestS3Restart stops the server under a store: Ping and writes fail, and
// the same store works again once the server is back.
func TestS3Restart(t *testing.T) {
	m := storagetest.StartMinIO(t)
	s := m.NewS3(t)
	put(t, s, "before.json", "{}")
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	m.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := s.Ping(ctx)
	if err == nil {
		t.Fatal("Ping on a stopped server: got nil error")
	}
	if !strings.Contains(err.Error(), m.Endpoint()) {
		t.Errorf("Ping on a stopped server: got %q, want the endpoint %s named", err, m.Endpoint())
	}
	t.Logf("Ping on a stopped server: %v", err)

	m.Start()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	if got, _ := get(t, s, "before.json"); got != "{}" {
		t.Errorf("Get after restart: got %q, want %q", got, "{}")
	}
	put(t, s, "after.json", "[]")
}

func TestNewS3Config(t *testing.T) {
	good := storage.S3Config{Endpoint: "127.0.0.1:9000", Bucket: "antenne", AccessKey: "k", SecretKey: "s"}
	tests := []struct {
		name string
		edit func(*storage.S3Config)
		want string
	}{
		{"no endpoint", func(c *storage.S3Config) { c.Endpoint = "" }, "endpoint is empty"},
		{"scheme", func(c *storage.S3Config) { c.Endpoint = "https://s3.example.org" }, "without scheme"},
		{"path", func(c *storage.S3Config) { c.Endpoint = "s3.example.org/antenne" }, "without scheme or path"},
		{"no bucket", func(c *storage.S3Config) { c.Bucket = "" }, "bucket"},
		{"bad bucket", func(c *storage.S3Config) { c.Bucket = "Antenne_Podcasts" }, "bucket"},
		{"small parts", func(c *storage.S3Config) { c.PartSize = 1 << 20 }, "part size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := storage.NewS3(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	if _, err := storage.NewS3(t.Context(), good); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestS3MissingBucket(t *testing.T) {
	cfg := storagetest.S3Config(t)
	cfg.Bucket = storagetest.BucketName()
	s, err := storage.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Ping(t.Context())
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Ping on a missing bucket: got %v, want it to say the bucket does not exist", err)
	}
	// A missing bucket is a configuration error, not a missing key.
	if _, err := s.Stat(t.Context(), "a.json"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat in a missing bucket: got %v, want an error that is not fs.ErrNotExist", err)
	}
}
