package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/feed"
)

// serveFeed answers GET|HEAD /<show>/feed.xml with the show's RSS feed.
//
// The feed is built once per catalog version and count of published
// episodes (publicShow), then served from memory: plain, or gzipped when
// the client accepts it (both copies are kept). Each copy has a strong
// ETag (a hash of the plain bytes, "-gz" added for the gzipped one) and
// Last-Modified is the latest change of the show's data, so conditional
// requests get 304 (If-None-Match first, else If-Modified-Since).
// Clients revalidate every 5 minutes; any site may read it (CORS), for web
// podcast players.
func (s *Server) serveFeed(c *gin.Context) {
	p, err := s.publicShow(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	fb, built, err := s.feedOf(p)
	if s.metrics != nil {
		result := "hit"
		if built {
			result = "miss"
		}
		s.metrics.feedCache.WithLabelValues(result).Inc()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// Constant values are shared read-only slices and keys are
	// canonical: this is the most frequent request antenne answers.
	h := c.Writer.Header()
	gz := acceptsGzip(c.Request.Header.Get("Accept-Encoding"))
	body, etag := fb.plain, fb.etagV
	if gz {
		body, etag = fb.gz, fb.etagGzV
	}
	h["Etag"] = etag
	h["Vary"] = varyEncoding
	h["Cache-Control"] = feedCacheControl
	ranged := c.Request.Header.Get("Range") != ""
	if !ranged && notModified(c.Request, etag[0], fb.modified) {
		writeNotModified(c.Writer)
		return
	}
	h["Content-Type"] = feedContentType
	h["Access-Control-Allow-Origin"] = anyOrigin
	if gz {
		h["Content-Encoding"] = gzipEncoding
	}
	if ranged {
		http.ServeContent(c.Writer, c.Request, "", fb.modified, bytes.NewReader(body))
		return
	}
	// Without http.ServeContent, which copies through a fresh 32 KiB
	// buffer per request: the cached bytes are written as they are.
	h["Last-Modified"] = fb.lastModified
	h["Accept-Ranges"] = acceptRanges
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	c.Writer.WriteHeader(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		c.Writer.Write(body)
	}
}

// Header values of the feed, shared by every response.
var (
	varyEncoding     = []string{"Accept-Encoding"}
	feedCacheControl = []string{"public, max-age=300"}
	feedContentType  = []string{feed.ContentType}
	anyOrigin        = []string{"*"}
	gzipEncoding     = []string{"gzip"}
	acceptRanges     = []string{"bytes"}
)

// notModified reports whether a GET or HEAD with these validators gets a
// 304: If-None-Match when present (weak comparison, "*" matches), else
// If-Modified-Since at or after the last modification.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for tag := range strings.SplitSeq(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.Truncate(time.Second).After(t)
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

// notModifiedHeaders are the fields a 304 carries (RFC 9110, section
// 15.4.5): the cache keeps the other headers of the response it holds.
// X-Request-Id stays, for tracing.
var notModifiedHeaders = map[string]bool{"Cache-Control": true, "Etag": true, "Vary": true, "Expires": true, "Content-Location": true, "Date": true, "X-Request-Id": true}

// writeNotModified answers 304 with only the fields RFC 9110 lists, so
// that the most frequent answer of all (podcast apps polling a feed that
// did not change) is also the smallest.
func writeNotModified(w http.ResponseWriter) {
	h := w.Header()
	for k := range h {
		if !notModifiedHeaders[k] {
			delete(h, k)
		}
	}
	w.WriteHeader(http.StatusNotModified)
}
