package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/fetch"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/accounts"
	"github.com/picasoft/antenne/web/federation"
	"github.com/picasoft/antenne/web/listens"
	"github.com/picasoft/antenne/web/websub"
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
	// fetchTimeout and fetchMaxBytes bound what the fediverse makes antenne
	// fetch (remote actors and keys) and every delivery.
	fetchTimeout  = 30 * time.Second
	fetchMaxBytes = 1 << 20
	// accountsRefresh is how soon a host added, changed or removed by
	// another replica (or the CLI) is seen here.
	accountsRefresh = 5 * time.Second
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

	opened, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	reg := newRegistry()
	storeErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "antenne_store_errors_total",
		Help: "Failed calls to the store (S3 or local folder), by operation.",
	}, []string{"op"})
	refreshErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "antenne_catalog_refresh_errors_total",
		Help: "Failed loads, refreshes or sweeps of the catalog; meanwhile the last copy is served.",
	})
	reg.MustRegister(storeErrors, refreshErrors)
	store := storage.Observe(opened, func(op string, err error) { storeErrors.WithLabelValues(op).Inc() })

	links, err := links(cfg)
	if err != nil {
		return err
	}
	transcoder := ffmpeg.New(cfg.FFmpeg, cfg.IngestWorkers)
	transcoder.MaxDuration = cfg.MaxDuration // counted on the decoded audio too
	ffmpegMissing := !checkFFmpeg(ctx, transcoder, log)
	catalog := episodes.NewService(store, episodes.Options{Transcoder: loggedTranscoder{transcoder, log}, MaxDuration: cfg.MaxDuration})
	// A store that is away at start is no reason not to serve: /readyz
	// says so and the refresh loop loads the catalog when it comes back.
	if err := catalog.Load(ctx); err != nil {
		refreshErrors.Inc()
		log.Error("load the catalog: pages and feeds answer 503 until the store can be read", "err", withStoreAdvice(err))
	}
	// Every background loop is joined before serve returns: none writes
	// to the store after the process says it stopped.
	var loops sync.WaitGroup
	loopCtx, stopLoops := context.WithCancel(ctx)
	defer loops.Wait()
	defer stopLoops()
	loops.Go(func() {
		catalog.Run(loopCtx, func(err error) {
			refreshErrors.Inc()
			log.Warn("catalog upkeep failed: serving the last copy", "err", withStoreAdvice(err))
		})
	})
	// Jobs stop when serve returns, letting go of their leases first, so
	// that another replica takes them over at once.
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		catalog.RunJobs(jobsCtx, cfg.IngestWorkers, func(err error) {
			log.Warn("ingest job", "err", err)
		})
	}()
	defer func() { stopJobs(); <-jobsDone }()

	counter, err := listens.New(listens.Options{Store: store, Replica: replicaName()})
	if err != nil {
		return err
	}
	loops.Go(func() {
		counter.Run(loopCtx, func(err error) { log.Warn("store the listen counts: kept for the next try", "err", err) })
	})

	hosts := accounts.New(store, catalog, nil)
	if err := hosts.Refresh(ctx); err != nil {
		log.Error("load the host accounts", "err", withStoreAdvice(err))
	}
	loops.Go(func() {
		hosts.Run(loopCtx, accountsRefresh, func(err error) {
			refreshErrors.Inc()
			log.Warn("host accounts refresh failed: using the last copy", "err", withStoreAdvice(err))
		})
	})

	fed, err := federation.New(federation.Config{
		Catalog: catalog,
		Store:   store,
		Links:   links,
		// Signed requests are never redirected: a redirect would carry a
		// signature made for another URL.
		Client:   fetch.NewClient(fetch.Options{AllowPrivate: cfg.FetchAllowPrivate, Timeout: fetchTimeout, MaxBytes: fetchMaxBytes, MaxRedirects: -1}),
		Logger:   log,
		Software: version(),
	})
	if err != nil {
		return err
	}
	loops.Go(func() { fed.Run(loopCtx) })

	srv, err := web.New(web.Config{
		Catalog:         catalog,
		Accounts:        hosts,
		Store:           store,
		Links:           links,
		MediaURL:        mediaURL(cfg),
		MaxUpload:       cfg.MaxUpload,
		BodyIdleTimeout: cfg.BodyIdle,
		Version:         version(),
		TrustedProxies:  cfg.TrustedProxies,
		MetricsAllowed:  cfg.MetricsAllowed,
		Ready:           func(ctx context.Context) error { return withStoreAdvice(store.Ping(ctx)) },
		Logger:          log,
		Metrics:         reg,
		SessionKey:      cfg.SessionKey,
		Listens:         counter,
		LogIPs:          cfg.LogIPs,
		Federation:      fed,
		WebSubHubs:      cfg.WebSubHubs,
		FFmpegMissing:   ffmpegMissing,
	})
	if err != nil {
		return fmt.Errorf("start the web server: %w", err)
	}

	pinger, err := websub.New(websub.Config{
		Hubs:    cfg.WebSubHubs,
		FeedURL: links.Feed,
		Store:   store,
		Client:  fetch.NewClient(fetch.Options{AllowPrivate: cfg.FetchAllowPrivate, Timeout: fetchTimeout, MaxBytes: fetchMaxBytes}),
		Logger:  log,
	})
	if err != nil {
		return usageErrorf("ANTENNE_WEBSUB_HUBS: %v", err)
	}
	loops.Go(func() { pinger.Run(loopCtx, srv.FeedVersions) })
	loops.Go(func() { srv.WarmFeeds(loopCtx) })

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usageErrorf("ANTENNE_ADDR: cannot listen on %s: %v", cfg.Addr, err)
	}
	// Only once it can serve: a start that fails leaves the store as it was.
	srv.LogSetupURL(ctx)
	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ConnContext:       web.ConnContext,
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
	// The grace may be spent by a long request: the last counts get their
	// own bound.
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancelFlush()
	if err := counter.Flush(flushCtx); err != nil {
		log.Error("store the last listen counts", "err", err)
	}
	log.Info("stopped")
	return nil
}

// checkFFmpeg logs the ffmpeg antenne will use (path and version), or
// warns that there is none, and reports whether there is one. Without
// it, MP3 and M4A uploads still work; recordings to convert fail.
func checkFFmpeg(ctx context.Context, t *ffmpeg.Runner, log *slog.Logger) bool {
	path, version, err := t.Check(ctx)
	if err != nil {
		log.Warn("ffmpeg missing: recordings to convert (WAV, FLAC, Ogg, Opus) will fail until ffmpeg is installed (Debian: apt install ffmpeg) or ANTENNE_FFMPEG names it; MP3 and M4A uploads work", "err", err)
		return false
	}
	log.Info("ffmpeg found", "path", path, "version", version)
	return true
}

// replicaName names this process's shard of listen counts: the host name
// (a container's is its own), kept to letters, digits, dots and dashes.
// Two processes with one name are safe (conditional writes), only slower.
func replicaName() string {
	h, _ := os.Hostname()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, h)
	if strings.Trim(name, ".-") == "" {
		return "" // the counter draws a random name
	}
	return name
}

// The stores must satisfy what the coordination layer declares it needs.
var _ bucket.Store = storage.Store(nil)

// openStore opens the store the configuration names: S3 when an endpoint
// is set, else the local folder.
func openStore(ctx context.Context, cfg *config, log *slog.Logger) (storage.Store, error) {
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
		return nil, fmt.Errorf("open S3 bucket %q at %s (check ANTENNE_S3_*): %w", cfg.S3.Bucket, cfg.S3.Endpoint, withStoreAdvice(err))
	}
	log.Info("store: S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, "secure", cfg.S3.Secure)
	return s3, nil
}

// newRegistry is the Prometheus registry of the process, with the Go
// runtime's and the process's metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
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

// loggedTranscoder logs each transcode of an ingest job with the job's
// episode and lease (the fault tests count them: one per lease at most).
type loggedTranscoder struct {
	episodes.Transcoder
	log *slog.Logger
}

// EncodeOpus makes the Opus version through the wrapped Transcoder
// (episodes.OpusEncoder), which the wrapping would hide otherwise.
func (t loggedTranscoder) EncodeOpus(ctx context.Context, src string, p *audio.ProbeResult, dst string, gainDB float64) error {
	enc, ok := t.Transcoder.(episodes.OpusEncoder)
	if !ok {
		return errors.New("this transcoder makes no Opus version")
	}
	return enc.EncodeOpus(ctx, src, p, dst, gainDB)
}

func (t loggedTranscoder) Prepare(ctx context.Context, path, dir string, progress func(done float64)) (*audio.Prepared, error) {
	if job, ok := episodes.JobOf(ctx); ok {
		t.log.InfoContext(ctx, "transcode", "show", job.Show, "episode_id", job.Episode, "lease", job.Lease)
	}
	return t.Transcoder.Prepare(ctx, path, dir, progress)
}
