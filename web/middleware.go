package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// logRequests gives the request an id (X-Request-Id, echoed in the
// response and in every log line of the request), then writes one line
// per request: method, route, status, bytes and duration, and records the
// request's metrics. The query string is left out: it may carry tokens.
// Nothing about the client is written (no address, no user agent) unless
// Config.LogIPs is set, which adds the address.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	id := requestID(c)
	c.Header("X-Request-Id", id)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey{}, id))
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	if c.Request.Context().Err() != nil {
		// The client went away before the answer was complete: say so
		// as nginx does, whatever the handler wrote.
		status = statusClientClosed
	}
	s.metrics.observe(c, route, status, time.Since(start))
	level := slog.LevelInfo
	if status >= 500 && status != statusClientClosed {
		level = slog.LevelError
	}
	if !s.log.Enabled(c.Request.Context(), level) {
		return
	}
	attrs := []any{
		"method", c.Request.Method,
		"route", route,
		"path", loggedPath(c.Request.URL.Path),
		"status", status,
		"bytes", c.Writer.Size(),
		"duration", time.Since(start),
	}
	attrs = append(attrs, s.clientAttrs(c)...)
	s.log.Log(c.Request.Context(), level, "request", attrs...)
}

// setupPrefix starts the first-run setup address, whose last part is the
// one-time token.
const setupPrefix = "/studio/setup/"

// loggedPath is a request's path as the logs may show it: the setup
// address's token is a credential while no admin exists, so it is cut
// (logs are read by more people, and kept longer, than the address is
// valid). Every log line that names a path takes it from here.
func loggedPath(path string) string {
	if strings.HasPrefix(path, setupPrefix) {
		return setupPrefix + "…"
	}
	return path
}

// clientAttrs are the log attributes naming the client: its address when
// Config.LogIPs is set (debugging), else none. Every log line that would
// name a client takes them from here.
func (s *Server) clientAttrs(c *gin.Context) []any {
	if !s.cfg.LogIPs {
		return nil
	}
	return []any{"client", c.ClientIP()}
}

// recoverPanics turns a panic in a handler into a 500 and a log line with
// the cause, so that one bad request never takes the process down.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "handler panicked", "panic", v, "path", loggedPath(c.Request.URL.Path))
			c.AbortWithStatus(http.StatusInternalServerError)
		}
	}()
	c.Next()
}

// statusClientClosed is what the log and metrics record for a request
// whose client closed the connection before the answer was complete
// (nginx's 499).
const statusClientClosed = 499

type requestIDKey struct{}

// requestID returns the id a trusted proxy gave the request, when it looks
// like one, or a new random one.
func requestID(c *gin.Context) string {
	if id := c.GetHeader("X-Request-Id"); id != "" && len(id) <= 64 && c.ClientIP() != c.RemoteIP() && isToken(id) {
		return id
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// requestIDHandler adds the request id of the context to every record.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// watchBody marks the errors of reading a request body as the client's
// (bodyError), so that a stalled or cut upload is told apart from a store
// that fails (problemOf), whatever layer the error passes through. With
// idle > 0 the body also fails when no byte of it arrives for that long: a
// slow client (slowloris) cannot hold a connection and an upload slot for
// long, while a slow but steady upload of a large recording goes on (each
// read pushes the connection's read deadline idle ahead, past the server's
// ReadTimeout).
func watchBody(idle time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = &bodyReader{ReadCloser: c.Request.Body, rc: http.NewResponseController(c.Writer), idle: idle}
		}
		c.Next()
	}
}

type bodyReader struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	// until, when set, is when the whole body must have arrived
	// (limitBodyTime).
	until time.Time
}

func (r *bodyReader) Read(p []byte) (int, error) {
	var deadline time.Time
	if r.idle > 0 {
		deadline = time.Now().Add(r.idle)
	}
	if !r.until.IsZero() && (deadline.IsZero() || r.until.Before(deadline)) {
		deadline = r.until
	}
	if !deadline.IsZero() {
		// Not every ResponseWriter supports deadlines (httptest's does
		// not); then the server's ReadTimeout is the only bound.
		_ = r.rc.SetReadDeadline(deadline)
	}
	n, err := r.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = &bodyError{err: err, stalled: errors.Is(err, os.ErrDeadlineExceeded)}
		}
	}
	return n, err
}

// limitBodyTime gives the request's whole body d from now to arrive, for
// small forms (the login): a client sending one byte just before each idle
// timeout cannot hold the connection for long. Call it before wrapping
// the body.
func limitBodyTime(c *gin.Context, d time.Duration) {
	until := time.Now().Add(d)
	if r, ok := c.Request.Body.(*bodyReader); ok {
		r.until = until
	}
	_ = http.NewResponseController(c.Writer).SetReadDeadline(until)
}

// bodyError is a failure to read the client's request body: it stalled
// (nothing arrived for the idle timeout) or was cut.
type bodyError struct {
	err     error
	stalled bool
}

func (e *bodyError) Error() string {
	if e.stalled {
		return "request body stalled: " + e.err.Error()
	}
	return "request body cut: " + e.err.Error()
}

func (e *bodyError) Unwrap() error { return e.err }
