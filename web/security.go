package web

import (
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy builds the Content-Security-Policy of every
// response: everything from antenne itself ('self'), no inline script or
// style, no plugin, no <base>, forms only to antenne, and no framing
// (frameAncestors is "'none'"; the embeddable player uses "*"). When media
// are redirected to another origin (ANTENNE_MEDIA_URL), that origin is
// allowed for audio and images, and nothing else.
func contentSecurityPolicy(mediaOrigin, frameAncestors string) string {
	media := "'self'"
	if mediaOrigin != "" {
		media += " " + mediaOrigin
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src " + media + " data:",
		"media-src " + media,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors " + frameAncestors,
	}, "; ")
}

// allowStream lets the response's page play an audio stream from
// streamURL's origin: that origin is added to media-src only (no image,
// script or connection to it).
func (s *Server) allowStream(c *gin.Context, streamURL string) {
	o := origin(streamURL)
	if o == "" || strings.ContainsAny(o, " ;,'\"*") {
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", strings.Replace(s.csp, "; media-src ", "; media-src "+o+" ", 1))
}

// origin is scheme://host of a URL, "" when raw is empty or not a URL.
func origin(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// securityHeaders is the middleware that sets the security headers of
// every response: a strict Content-Security-Policy, no framing by other
// sites (X-Frame-Options DENY and frame-ancestors 'none'; allowFraming
// lifts both for the embeddable player), no MIME sniffing, and a
// Referrer-Policy that tells other sites nothing of the page a listener
// came from.
func (s *Server) securityHeaders(c *gin.Context) {
	// The keys are canonical and the values shared, read-only slices:
	// this runs on every request, feeds and media included.
	h := c.Writer.Header()
	h["Content-Security-Policy"] = s.cspValue
	h["X-Frame-Options"] = deny
	h["X-Content-Type-Options"] = nosniff
	h["Referrer-Policy"] = sameOrigin
	h["Cross-Origin-Opener-Policy"] = sameOrigin
	c.Next()
}

var (
	deny       = []string{"DENY"}
	nosniff    = []string{"nosniff"}
	sameOrigin = []string{"same-origin"}
)

// allowFraming lets any site frame the response: the embeddable player.
func (s *Server) allowFraming(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", s.cspFramable)
	h.Del("X-Frame-Options")
	h.Del("Cross-Origin-Opener-Policy")
}
