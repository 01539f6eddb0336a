package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/web"
)

var serveCommand = command{
	name:    "serve",
	summary: "serve the feed, the media, the pages and the studio over HTTP",
	usage: `usage: antenne serve [FLAGS]

Serves antenne over HTTP until SIGINT or SIGTERM, then lets the requests in
flight finish (up to ANTENNE_SHUTDOWN_GRACE). With no S3 endpoint set, the
catalog and the media live in the local folder ANTENNE_DATA_DIR (./data).

Every setting is an environment variable; the flag beside it overrides it:
` + settingsHelp(),
	run: runServe,
}

// Server timeouts. Uploads and media downloads can take long on a slow
// line, so the whole-request bounds are generous; the header bound is short
// to shed slow clients early.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Minute
	writeTimeout      = 30 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags("serve")
	cfg, err := loadConfig(fs, e.getenv, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("serve: unexpected argument %q (see `antenne help serve`)", fs.Arg(0))
	}
	log := newLogger(cfg, e.stderr)

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	links, err := links(cfg)
	if err != nil {
		return err
	}
	catalog := episodes.NewService(store, episodes.Options{FFmpeg: cfg.FFmpeg})
	// A store that is away at start is no reason not to serve: /readyz
	// says so and the refresh loop loads the catalog when it comes back.
	if err := catalog.Load(ctx); err != nil {
		log.Error("load the catalog", "err", err)
	}
	go catalog.Run(ctx, func(err error) { log.Warn("catalog upkeep", "err", err) })

	srv, err := web.New(web.Config{
		Catalog:        catalog,
		Store:          store,
		Links:          links,
		MediaURL:       mediaURL(cfg),
		MaxUpload:      cfg.MaxUpload,
		Version:        version(),
		TrustedProxies: cfg.TrustedProxies,
		Ready:          store.Ping,
		Logger:         log,
	})
	if err != nil {
		return usageErrorf("ANTENNE_TRUSTED_PROXIES: %v", err)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usageErrorf("ANTENNE_ADDR: cannot listen on %s: %v", cfg.Addr, err)
	}
	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("antenne listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "version", version())

	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("stopping: waiting for requests in flight", "grace", cfg.ShutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		httpServer.Close()
		return fmt.Errorf("stop within %s: %w", cfg.ShutdownGrace, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// blobStore is the store as cmd sees it: what episodes needs, plus a
// reachability check for /readyz.
type blobStore interface {
	episodes.Blobs
	Ping(ctx context.Context) error
}

var (
	_ blobStore = (*storage.Dir)(nil)
	_ blobStore = (*storage.S3)(nil)
)

// openStore opens the store the configuration names: S3 when an endpoint
// is set, else the local folder.
func openStore(ctx context.Context, cfg *config, log *slog.Logger) (blobStore, error) {
	if cfg.S3.Endpoint == "" {
		dir, err := storage.NewDir(cfg.DataDir)
		if err != nil {
			return nil, usageErrorf("ANTENNE_DATA_DIR: %v", err)
		}
		log.Info("store: local folder", "dir", cfg.DataDir)
		return dir, nil
	}
	s3, err := storage.NewS3(ctx, storage.S3Config{
		Endpoint:     cfg.S3.Endpoint,
		Bucket:       cfg.S3.Bucket,
		Region:       cfg.S3.Region,
		AccessKey:    cfg.S3.AccessKey,
		SecretKey:    cfg.S3.SecretKey,
		Secure:       cfg.S3.Secure,
		PathStyle:    cfg.S3.PathStyle,
		CreateBucket: cfg.S3.CreateBucket,
	})
	if err != nil {
		return nil, fmt.Errorf("open S3 bucket %q at %s (check ANTENNE_S3_*): %w", cfg.S3.Bucket, cfg.S3.Endpoint, err)
	}
	log.Info("store: S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, "secure", cfg.S3.Secure)
	return s3, nil
}

// links is the public URL scheme the configuration gives. Media URLs stay
// under the base URL even when ANTENNE_MEDIA_URL is set: the feed keeps
// antenne's stable URLs, and antenne redirects them to the media base URL
// (see web.Config.MediaURL), so that moving the bucket never changes a URL
// podcast apps know.
func links(cfg *config) (feed.Links, error) {
	l, err := feed.NewLinks(cfg.BaseURL.String(), "")
	if err != nil {
		return l, usageErrorf("ANTENNE_BASE_URL: %v", err)
	}
	return l, nil
}

// mediaURL is ANTENNE_MEDIA_URL, "" when unset.
func mediaURL(cfg *config) string {
	if cfg.MediaURL == nil {
		return ""
	}
	return cfg.MediaURL.String()
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
