package web

import (
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/listens"
)

// metrics are the Prometheus metrics web records, served at /metrics.
type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	bytes     *prometheus.CounterVec
	uploads   *prometheus.CounterVec
	feedCache *prometheus.CounterVec
	feedHits  prometheus.Counter
	feedMiss  prometheus.Counter
	// perRoute caches the children of the vectors by route, method and
	// status: looking them up by label values hashes and locks on every
	// request, which shows on the feed's hot path.
	perRoute sync.Map // routeKey -> *routeMetrics
}

type routeKey struct {
	route, method string
	status        int
}

type routeMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
	bytes    prometheus.Counter
}

// newMetrics registers web's metrics on reg, with the catalog's size read
// from catalog, and the listen counter's figures from counter (when not
// nil), at each scrape.
func newMetrics(reg prometheus.Registerer, catalog *episodes.Service, counter *listens.Counter) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "antenne_http_requests_total",
			Help: "HTTP requests answered, by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "antenne_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60},
		}, []string{"route"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "antenne_http_response_bytes_total",
			Help: "Bytes of response bodies sent, by route.",
		}, []string{"route"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "antenne_uploads_total",
			Help: "Recordings uploaded, by result: ok, refused (bad input) or failed.",
		}, []string{"result"}),
		feedCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "antenne_feed_cache_total",
			Help: "Feed requests by cache result: hit or miss (built).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.latency, m.bytes, m.uploads, m.feedCache)
	for _, result := range []string{uploadOK, uploadRefused, uploadFailed} {
		m.uploads.WithLabelValues(result) // shown at 0 before the first upload
	}
	m.feedHits, m.feedMiss = m.feedCache.WithLabelValues("hit"), m.feedCache.WithLabelValues("miss")
	if catalog != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "antenne_catalog_shows",
				Help: "Shows in the catalog.",
			}, func() float64 { return float64(len(catalog.Shows())) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "antenne_catalog_episodes",
				Help: "Episodes in the catalog, all statuses.",
			}, func() float64 { return float64(catalog.EpisodeCount()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "antenne_ingest_jobs_queued",
				Help: "Recordings waiting for a worker of any replica, as this replica last saw them.",
			}, func() float64 { return float64(catalog.JobStats().Queued) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "antenne_ingest_jobs_running",
				Help: "Recordings this replica processes now.",
			}, func() float64 { return float64(catalog.JobStats().Running) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "antenne_ingest_jobs_done_total",
				Help: "Recordings this replica processed.",
			}, func() float64 { return float64(catalog.JobStats().Done) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "antenne_ingest_jobs_failed_total",
				Help: "Recordings whose processing failed on this replica.",
			}, func() float64 { return float64(catalog.JobStats().Failed) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "antenne_ingest_processing_seconds_total",
				Help: "Time this replica spent processing recordings.",
			}, func() float64 { return catalog.JobStats().Seconds }),
		)
	}
	if counter != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "antenne_listens_counted_total",
				Help: "Listens counted by this process since it started (see web/listens).",
			}, func() float64 { return float64(counter.Counted()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "antenne_listens_untracked_today",
				Help: "(Episode, listener) pairs of the current UTC day forgotten because the day's pairs were at their cap.",
			}, func() float64 { return float64(counter.Dropped()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "antenne_listens_capped_today",
				Help: "Listens of the current UTC day not counted because their address had counted its cap for the episode.",
			}, func() float64 { return float64(counter.Capped()) }),
		)
	}
	return m
}

// The results of antenne_uploads_total.
const (
	uploadOK      = "ok"      // stored: 201, or 202 while it is processed
	uploadRefused = "refused" // the client's mistake (4xx): not audio, too large, a duplicate...
	uploadFailed  = "failed"  // antenne's or the store's failure (5xx), or the client went away
)

// countUpload counts an upload of the studio or the API by its outcome,
// err being what receiving it returned.
func (m *metrics) countUpload(err error) {
	result := uploadOK
	switch {
	case err == nil:
	case problemOf(err).Status < http.StatusInternalServerError:
		result = uploadRefused
	default:
		result = uploadFailed
	}
	m.uploads.WithLabelValues(result).Inc()
}

// observe records one request once it is answered.
func (m *metrics) observe(c *gin.Context, route string, status int, elapsed time.Duration) {
	key := routeKey{route, c.Request.Method, status}
	rm, ok := m.perRoute.Load(key)
	if !ok {
		rm, _ = m.perRoute.LoadOrStore(key, &routeMetrics{
			requests: m.requests.WithLabelValues(route, key.method, strconv.Itoa(key.status)),
			latency:  m.latency.WithLabelValues(route),
			bytes:    m.bytes.WithLabelValues(route),
		})
	}
	r := rm.(*routeMetrics)
	r.requests.Inc()
	r.latency.Observe(elapsed.Seconds())
	if n := c.Writer.Size(); n > 0 {
		r.bytes.Add(float64(n))
	}
}

// serveMetrics answers /metrics in the Prometheus text format.
func (s *Server) serveMetrics(g prometheus.Gatherer) gin.HandlerFunc {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	allowed := s.cfg.MetricsAllowed
	if len(allowed) == 0 {
		allowed = loopback
	}
	return func(c *gin.Context) {
		if !addrIn(c.ClientIP(), allowed) {
			c.String(http.StatusForbidden, "metrics are served only to the networks of ANTENNE_METRICS_ALLOWED\n")
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// loopback is where metrics are served when no network is configured.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// addrIn reports whether the address ip (as gin's ClientIP gives it) is in
// one of the networks.
func addrIn(ip string, networks []netip.Prefix) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, n := range networks {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
