package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// logRequests writes one line per request: method, route, status, bytes
// and duration. The query string is left out: it may carry tokens.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	if !s.log.Enabled(c.Request.Context(), level) {
		// Skip building the attributes (ClientIP parses headers).
		return
	}
	s.log.Log(c.Request.Context(), level, "request",
		"method", c.Request.Method,
		"route", route,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"bytes", c.Writer.Size(),
		"duration", time.Since(start),
		"client", c.ClientIP(),
	)
}

// recoverPanics turns a panic in a handler into a 500 and a log line with
// the cause, so that one bad request never takes the process down.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "handler panicked", "panic", v, "path", c.Request.URL.Path)
			c.AbortWithStatus(http.StatusInternalServerError)
		}
	}()
	c.Next()
}
