package web

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picasoft/antenne/episodes"
)

// metrics are the Prometheus metrics web records, served at /metrics.
type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	bytes     *prometheus.CounterVec
	uploads   *prometheus.CounterVec
	feedCache *prometheus.CounterVec
}

// newMetrics registers web's metrics on reg, with the catalog's size read
// from catalog at each scrape.
func newMetrics(reg prometheus.Registerer, catalog *episodes.Service) *metrics {
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
		)
	}
	return m
}

// observe records one request once it is answered.
func (m *metrics) observe(c *gin.Context, route string, elapsed time.Duration) {
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
	if n := c.Writer.Size(); n > 0 {
		m.bytes.WithLabelValues(route).Add(float64(n))
	}
}

// serveMetrics answers /metrics in the Prometheus text format.
func (s *Server) serveMetrics(g prometheus.Gatherer) gin.HandlerFunc {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}
