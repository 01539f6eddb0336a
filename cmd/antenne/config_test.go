package main

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(newFlags("serve"), envFrom(nil), nil)
	if err != nil {
		t.Fatalf("loadConfig with no setting: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", cfg.Addr, ":8080"},
		{"base URL", cfg.BaseURL.String(), "http://localhost:8080"},
		{"data dir", cfg.DataDir, "./data"},
		{"S3 endpoint", cfg.S3.Endpoint, ""},
		{"bucket", cfg.S3.Bucket, "antenne"},
		{"region", cfg.S3.Region, "us-east-1"},
		{"secure", cfg.S3.Secure, true},
		{"max upload", cfg.MaxUpload, int64(2 << 30)},
		{"log level", cfg.LogLevel, slog.LevelInfo},
		{"log format", cfg.LogFormat, "text"},
		{"grace", cfg.ShutdownGrace, 30 * time.Second},
		{"media URL", cfg.MediaURL == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadConfigFlagsOverrideEnv(t *testing.T) {
	t.Parallel()
	env := envFrom(map[string]string{
		"ANTENNE_ADDR":       "127.0.0.1:9000",
		"ANTENNE_MAX_UPLOAD": "500MB",
		"ANTENNE_BASE_URL":   "https://radio.picasoft.net/",
	})
	cfg, err := loadConfig(newFlags("serve"), env, []string{"--addr", "127.0.0.1:9999"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" {
		t.Errorf("addr: got %q, want the flag's 127.0.0.1:9999", cfg.Addr)
	}
	if cfg.MaxUpload != 500_000_000 {
		t.Errorf("max upload: got %d, want 500000000", cfg.MaxUpload)
	}
	if got := cfg.BaseURL.String(); got != "https://radio.picasoft.net" {
		t.Errorf("base URL: got %q, want the trailing slash trimmed", got)
	}
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env   map[string]string
		args  []string
		wants string // the message must contain it
	}{
		{map[string]string{"ANTENNE_ADDR": "8080"}, nil, "ANTENNE_ADDR"},
		{map[string]string{"ANTENNE_BASE_URL": "radio.picasoft.net"}, nil, "ANTENNE_BASE_URL"},
		{map[string]string{"ANTENNE_BASE_URL": "ftp://x"}, nil, "ANTENNE_BASE_URL"},
		{map[string]string{"ANTENNE_S3_ENDPOINT": "http://minio:9000", "ANTENNE_S3_ACCESS_KEY": "a", "ANTENNE_S3_SECRET_KEY": "b"}, nil, "ANTENNE_S3_ENDPOINT"},
		{map[string]string{"ANTENNE_S3_ENDPOINT": "minio:9000"}, nil, "ANTENNE_S3_ACCESS_KEY"},
		{map[string]string{"ANTENNE_S3_BUCKET": "Mon Bucket"}, nil, "ANTENNE_S3_BUCKET"},
		{map[string]string{"ANTENNE_S3_SECURE": "oui"}, nil, "ANTENNE_S3_SECURE"},
		{map[string]string{"ANTENNE_MEDIA_URL": "/media"}, nil, "ANTENNE_MEDIA_URL"},
		{map[string]string{"ANTENNE_MAX_UPLOAD": "deux gigas"}, nil, "ANTENNE_MAX_UPLOAD"},
		{map[string]string{"ANTENNE_MAX_UPLOAD": "-1"}, nil, "ANTENNE_MAX_UPLOAD"},
		{map[string]string{"ANTENNE_LOG_LEVEL": "verbose"}, nil, "ANTENNE_LOG_LEVEL"},
		{map[string]string{"ANTENNE_LOG_FORMAT": "xml"}, nil, "ANTENNE_LOG_FORMAT"},
		{map[string]string{"ANTENNE_TRUSTED_PROXIES": "10.0.0.1, nginx"}, nil, "ANTENNE_TRUSTED_PROXIES"},
		{map[string]string{"ANTENNE_SHUTDOWN_GRACE": "30"}, nil, "ANTENNE_SHUTDOWN_GRACE"},
		{nil, []string{"--max-upload", "lots"}, "--max-upload"},
		{nil, []string{"--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.wants, func(t *testing.T) {
			_, err := loadConfig(newFlags("serve"), envFrom(tt.env), tt.args)
			var u *usageError
			if !errors.As(err, &u) {
				t.Fatalf("got %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.wants) {
				t.Errorf("got %q, want it to name %s", err, tt.wants)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"2GiB", 2 << 30},
		{"2 GiB", 2 << 30},
		{"500MB", 500e6},
		{"64K", 64 << 10},
		{"10B", 10},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0", "GiB", "1.5GiB", "9999999999TiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): got no error, want one", bad)
		}
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	fs := newFlags("probe")
	asJSON := fs.Bool("json", false, "")
	show := fs.String("show", "", "")
	if err := parseFlags(fs, []string{"a.mp3", "--json", "b.mp3", "--show", "lvel", "--", "--c.mp3"}); err != nil {
		t.Fatal(err)
	}
	if !*asJSON || *show != "lvel" {
		t.Errorf("flags: got json=%v show=%q, want true and lvel", *asJSON, *show)
	}
	if got, want := strings.Join(fs.Args(), " "), "a.mp3 b.mp3 --c.mp3"; got != want {
		t.Errorf("arguments: got %q, want %q", got, want)
	}
}
