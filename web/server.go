package web

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/web/accounts"
	"github.com/picasoft/antenne/web/federation"
	"github.com/picasoft/antenne/web/listens"
)

// DefaultMaxUpload is the largest upload accepted when Config.MaxUpload is
// zero (ANTENNE_MAX_UPLOAD unset): 2 GiB, some hours of WAV.
const DefaultMaxUpload = 2 << 30

// Config is what the web layer needs to know of the deployment and the
// services it serves.
type Config struct {
	// Catalog is the catalog of shows and episodes (required to serve
	// anything but the health checks).
	Catalog *episodes.Service
	// Accounts are the hosts who may sign in to the studio and the API
	// (required to serve the studio).
	Accounts *accounts.Service
	// Store reads the objects (media, artwork) to serve them.
	Store bucket.Store
	// Links builds every public URL (ANTENNE_BASE_URL). Build it without
	// a media URL, so that the feed keeps antenne's stable media URLs
	// whatever the deployment.
	Links feed.Links
	// MediaURL is the public base URL of the bucket (ANTENNE_MEDIA_URL),
	// e.g. https://s3.example/antenne. When set, requests for objects
	// (media, originals, images, transcripts) are answered with a 302 to
	// MediaURL/<key> (the bucket layout: shows/<show>/media/<file>)
	// instead of being served. Empty: antenne serves them.
	MediaURL string
	// MaxUpload is the largest upload accepted, in bytes; 0 means
	// DefaultMaxUpload.
	MaxUpload int64
	// BodyIdleTimeout fails a request whose body sends nothing for that
	// long (slow clients); 0 leaves only the server's ReadTimeout.
	BodyIdleTimeout time.Duration
	// Version is antenne's version, for the feed's generator.
	Version string
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For header is believed. Empty: none is, and the client
	// address is the connection's.
	TrustedProxies []string
	// MetricsAllowed are the networks /metrics answers to (others get
	// 403); empty: loopback only. The client address is the connection's,
	// or X-Forwarded-For's behind TrustedProxies.
	MetricsAllowed []netip.Prefix
	// Ready reports whether the store can be reached; /readyz calls it.
	Ready func(context.Context) error
	// SessionKey signs the studio's session cookies
	// (ANTENNE_SESSION_KEY). Empty: a key kept in the store
	// (secrets/session-key) is used, created by the first replica.
	SessionKey []byte
	// Listens counts the listens of episodes on the media route; nil
	// counts nothing. Its figures are shown in the studio and the API.
	Listens *listens.Counter
	// LogIPs puts the client's address in the access log
	// (ANTENNE_LOG_IPS, for debugging). Off: no line has an address.
	LogIPs bool
	// Logger receives one line per request and the errors the user does
	// not see.
	Logger *slog.Logger
	// WebSubHubs are the WebSub hubs the feeds announce
	// (ANTENNE_WEBSUB_HUBS); see package websub for the pings.
	WebSubHubs []string
	// Federation is the shows' fediverse presence (ActivityPub actors,
	// WebFinger, NodeInfo); nil serves none of it.
	Federation *federation.Service
	// FFmpegMissing shows a banner on the studio's pages: recordings to
	// convert will fail until ffmpeg is installed (the start's check
	// found none).
	FFmpegMissing bool
	// Metrics receives web's metrics and is served at /metrics with what
	// else was registered on it (store errors, Go runtime...). A private
	// registry when nil.
	Metrics *prometheus.Registry
}

// Server holds the routes and their dependencies. Its Handler is safe for
// concurrent use.
type Server struct {
	cfg     Config
	engine  *gin.Engine
	log     *slog.Logger
	ready   func(context.Context) error
	metrics *metrics
	// storeDown remembers the last /readyz verdict so that a change of
	// state is logged once, not at every probe.
	storeDown atomic.Bool
	// pages are the parsed HTML templates (templates.go).
	pages pages
	// csp and cspFramable are the Content-Security-Policy values of
	// ordinary responses and of the embeddable player (security.go).
	csp, cspFramable string
	cspValue         []string
	// mediaURL is Config.MediaURL without trailing slash.
	mediaURL string
	// shows caches what the public sees of each show, its feed included
	// (public_cache.go).
	shows *showCache
	// transcripts are the parsed transcripts the episode pages show.
	transcripts transcriptCache
	// key is the session key read from the store (auth.go), nil until
	// read.
	key atomic.Pointer[[]byte]
	// loginByIP and loginByAccount slow down password guessing.
	loginByIP, loginByAccount *limiters
}

// New builds the server. It fails only on a configuration mistake, such as
// a trusted proxy that is not an address.
func New(cfg Config) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg:    cfg,
		engine: gin.New(),
		log:    cfg.Logger,
		ready:  cfg.Ready,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = slog.New(requestIDHandler{s.log.Handler()})
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg, cfg.Catalog, cfg.Listens)
	if err := s.engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("set trusted proxies: %w", err)
	}
	tmpl, err := fs.Sub(templateFS, "templates")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if s.pages, err = parsePages(tmpl); err != nil {
		return nil, err
	}
	if cfg.MediaURL != "" {
		u, err := url.Parse(cfg.MediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("media URL %q is not an absolute http(s) URL", cfg.MediaURL)
		}
		s.mediaURL = strings.TrimRight(cfg.MediaURL, "/")
	}
	s.csp = contentSecurityPolicy(origin(s.mediaURL), "'none'")
	s.cspFramable = contentSecurityPolicy(origin(s.mediaURL), "*")
	s.cspValue = []string{s.csp}
	s.shows = newShowCache()
	s.loginByIP = newLimiters(ipEvery, ipBurst)
	s.loginByAccount = newLimiters(accountEvery, accountBurst)
	s.engine.Use(s.logRequests, s.recoverPanics, s.securityHeaders, watchBody(cfg.BodyIdleTimeout), s.needCatalog)
	if strings.HasPrefix(cfg.Links.Base(), "https:") {
		s.engine.Use(func(c *gin.Context) { c.Set(httpsSiteKey, true) })
	}
	s.engine.NoRoute(s.notFound)
	s.routes()
	get(s.engine, "/metrics", s.serveMetrics(reg))
	return s, nil
}

// Handler is the http.Handler to serve. State-changing requests from
// other sites are refused (403) before they reach a route.
func (s *Server) Handler() http.Handler {
	return oneLeadingSlash(s.crossOriginGuard(s.engine.Handler()))
}

// oneLeadingSlash makes the path of every request start with exactly one
// slash, and drops X-Forwarded-Prefix (antenne's links come from its base
// URL), before gin sees them: gin builds the Location of its trailing
// slash redirect from them, and a path such as /%2fevil.example/
// (//evil.example/ once decoded) would send the browser to another host.
// With one leading slash every redirect gin makes stays on this site.
func oneLeadingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("X-Forwarded-Prefix")
		if p := r.URL.Path; strings.HasPrefix(p, "//") {
			u := *r.URL
			u.Path = "/" + strings.TrimLeft(p, "/")
			u.RawPath = ""
			r2 := *r
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// routes registers every route. The public site (pages, feeds, media,
// exports) is in public.go, the hosts' studio in studio.go, the JSON API in
// api.go.
func (s *Server) routes() {
	get(s.engine, "/healthz", s.healthz)
	get(s.engine, "/readyz", s.readyz)
	if s.cfg.Catalog != nil {
		s.studioRoutes()
		s.apiRoutes()
	}
	if f := s.cfg.Federation; f != nil {
		h := gin.WrapH(f)
		for _, r := range federation.Routes {
			if r.Method == http.MethodGet {
				get(s.engine, r.Path, h)
			} else {
				s.engine.Handle(r.Method, r.Path, h)
			}
		}
	}
	s.publicRoutes()
}

// get registers h for GET and HEAD: gin does not answer HEAD for a GET
// route by itself.
func get(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}

// needCatalog answers 503 (store unavailable, with Retry-After) while the
// catalog could not be read from the store yet: an empty catalog would say
// that no show and no page exists (404) and the studio would fail on
// every step, whereas the store is only away or refused the credentials.
// The health checks, the metrics and the static files answer anyway.
func (s *Server) needCatalog(c *gin.Context) {
	if s.cfg.Catalog == nil || !s.cfg.Catalog.NotLoaded() {
		return
	}
	switch p := c.Request.URL.Path; {
	case p == "/healthz", p == "/readyz", p == "/metrics", strings.HasPrefix(p, "/static/"):
		return
	}
	s.answerProblem(c, storeUnavailableProblem)
}

// healthz answers 200 while the process serves requests.
func (s *Server) healthz(c *gin.Context) {
	c.String(http.StatusOK, "ok\n")
}

// readyzTimeout bounds the store check so that a probe never hangs.
const readyzTimeout = 3 * time.Second

// readyz answers 200 when the store can be reached, 503 otherwise.
func (s *Server) readyz(c *gin.Context) {
	if s.ready == nil {
		c.String(http.StatusOK, "ok\n")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyzTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		if !s.storeDown.Swap(true) {
			s.log.ErrorContext(ctx, "store unreachable", "err", err)
		}
		c.String(http.StatusServiceUnavailable, "store unreachable\n")
		return
	}
	if s.storeDown.Swap(false) {
		s.log.InfoContext(ctx, "store reachable again")
	}
	c.String(http.StatusOK, "ok\n")
}
