package web

import (
	"bytes"
	"net/http"
	"strings"

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
	fb, err := s.feedOf(p)
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", feed.ContentType)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	body, etag := fb.plain, fb.etag
	if acceptsGzip(c.Request.Header.Get("Accept-Encoding")) {
		body, etag = fb.gz, fb.etagGz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(c.Writer, c.Request, "", fb.modified, bytes.NewReader(body))
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
