package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/picasoft/antenne/storage/storagetest"
)

// TestServeStoreRefused: with a store that cannot be used (credentials
// refused, TLS asked of a plain endpoint, no bucket, nothing at the
// endpoint), antenne serves, its public pages, feeds and studio answer
// 503 with a French page and Retry-After (not « page n'existe pas » nor
// « Erreur 500 »), and the log names the likely cause in the words of the
// configuration.
func TestServeStoreRefused(t *testing.T) {
	t.Parallel()
	good := storagetest.S3(t) // a bucket that exists
	cfg := storagetest.S3Config(t)
	base := func() map[string]string {
		return map[string]string{
			"ANTENNE_S3_ENDPOINT":   cfg.Endpoint,
			"ANTENNE_S3_ACCESS_KEY": cfg.AccessKey,
			"ANTENNE_S3_SECRET_KEY": cfg.SecretKey,
			"ANTENNE_S3_SECURE":     "false",
			"ANTENNE_S3_PATH_STYLE": "true",
			"ANTENNE_S3_BUCKET":     good.Bucket(),
		}
	}
	for _, tc := range []struct {
		name   string
		change map[string]string
		cause  string
	}{
		{"wrong secret key", map[string]string{"ANTENNE_S3_SECRET_KEY": "not-the-secret"}, "check ANTENNE_S3_ACCESS_KEY and ANTENNE_S3_SECRET_KEY"},
		{"unknown access key", map[string]string{"ANTENNE_S3_ACCESS_KEY": "nobody"}, "check ANTENNE_S3_ACCESS_KEY and ANTENNE_S3_SECRET_KEY"},
		{"TLS to a plain endpoint", map[string]string{"ANTENNE_S3_SECURE": "true"}, "set ANTENNE_S3_SECURE=false"},
		{"no bucket", map[string]string{"ANTENNE_S3_BUCKET": storagetest.BucketName()}, "set ANTENNE_S3_CREATE_BUCKET=true"},
		{"nothing at the endpoint", map[string]string{"ANTENNE_S3_ENDPOINT": storagetest.FreeAddr(t)}, "nothing answers at ANTENNE_S3_ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := base()
			for k, v := range tc.change {
				vars[k] = v
			}
			s := startServe(t, vars)
			for _, path := range []string{"/", "/lvel/", "/lvel/feed.xml", "/lvel/un-episode", "/studio/", "/studio/login", "/api/v1/shows"} {
				resp, err := http.Get(s.url + path)
				if err != nil {
					t.Fatal(err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
					t.Errorf("GET %s: got %d (Retry-After %q), want 503 with a Retry-After\n%s", path, resp.StatusCode, resp.Header.Get("Retry-After"), page)
					continue
				}
				if want := "Le stockage est indisponible"; !strings.HasPrefix(path, "/api/") && !strings.Contains(string(page), want) {
					t.Errorf("GET %s: the page does not say %q:\n%s", path, want, page)
				}
			}
			if got := status(t, http.MethodGet, s.url+"/healthz"); got != http.StatusOK {
				t.Errorf("/healthz: got %d, want 200", got)
			}
			if got := status(t, http.MethodGet, s.url+"/readyz"); got != http.StatusServiceUnavailable {
				t.Errorf("/readyz: got %d, want 503", got)
			}
			metrics := body(t, s.url+"/metrics")
			for _, want := range []string{`antenne_catalog_refresh_errors_total [1-9]`, `antenne_store_errors_total\{op="list"\} [1-9]`} {
				if !regexp.MustCompile(want).MatchString(metrics) {
					t.Errorf("/metrics lacks %s:\n%s", want, metrics)
				}
			}
			if log := s.stderr.String(); !strings.Contains(log, tc.cause) {
				t.Errorf("the log does not name the likely cause (%q):\n%s", tc.cause, log)
			}
		})
	}
}
