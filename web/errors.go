package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/accounts"
)

// problem is what the user is told of an error: an HTTP status, a stable
// code for scripts (the JSON API's "code") and a message key of the
// catalogue (i18n.go) with its arguments.
type problem struct {
	Status int
	Code   string
	key    string
	args   []any
	// field is the refused value behind a 400 "invalid": its message is
	// the catalogue's text for its key.
	field *episodes.FieldError
}

// Message is the user's message in lang.
func (p problem) Message(lang string) string {
	if p.field != nil {
		return fieldMessage(lang, p.field)
	}
	args := make([]any, len(p.args))
	for i, a := range p.args {
		switch v := a.(type) {
		case msgKey:
			a = v.in(lang)
		case byteCount:
			a = humanSize(lang, int64(v))
		}
		args[i] = a
	}
	return tr(lang, p.key, args...)
}

// msgKey is an argument of a message that is itself translated: a key of
// the catalogue with its own arguments, and the text to show when the key
// is missing.
type msgKey struct {
	key, fallback string
	args          []any
}

// byteCount is an argument of a message written in the message's
// language by humanSize.
type byteCount int64

func (k msgKey) in(lang string) string {
	if _, ok := lookup(k.key); !ok {
		return k.fallback
	}
	return tr(lang, k.key, k.args...)
}

// fieldMessage is a refused value explained in lang: the field's label
// and the catalogue's text for the error's key ("field.<Field>",
// "invalid.<Key>"), formatted with its Args. A key the catalogue lacks
// shows the English Reason, so that a new rule is never silent.
func fieldMessage(lang string, fe *episodes.FieldError) string {
	label := msgKey{key: "field." + fe.Field, fallback: fe.Field}.in(lang)
	why := msgKey{key: "invalid." + fe.Key, fallback: fe.Reason, args: fe.Args}.in(lang)
	return tr(lang, "error.invalid", label, why)
}

// badRequest is a 400 whose message is detail, a text safe to show (it
// names what the user sent, never an internal state).
func badRequest(detail string) problem {
	return problem{Status: http.StatusBadRequest, Code: "bad_request", key: "error.badrequest", args: []any{detail}}
}

// problemOf maps an error to what the user is told. It is the one place
// where domain, store and HTTP errors become status codes: handlers call
// s.fail, which uses it; forms may call it to show the message inline.
// Internal error text is never part of the message, except a duplicate's
// title and, for a rule the catalogue lacks, a FieldError's English
// Reason.
func problemOf(err error) problem {
	var (
		field    *episodes.FieldError
		dup      *episodes.DuplicateError
		audio    *audio.UnsupportedAudioError
		tooLarge *http.MaxBytesError
		body     *bodyError
		semester *episodes.SemesterError
		script   *episodes.TranscriptError
		store    storeUnavailable
		p        problem
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &body) && body.stalled:
		return problem{Status: http.StatusRequestTimeout, Code: "body_stalled", key: "error.bodystalled"}
	case errors.As(err, &body):
		return problem{Status: http.StatusBadRequest, Code: "body_cut", key: "error.bodycut"}
	case errors.Is(err, episodes.ErrNotFound), errors.Is(err, fs.ErrNotExist), errors.Is(err, feed.ErrNotPublic):
		return problem{Status: http.StatusNotFound, Code: "not_found", key: "error.notfound"}
	case errors.As(err, &script):
		return transcriptProblem(script)
	case errors.As(err, &field):
		return problem{Status: http.StatusBadRequest, Code: "invalid", field: field}
	case errors.As(err, &semester):
		return problem{Status: http.StatusBadRequest, Code: "unknown_semester", key: "error.semester", args: []any{semester.Code}}
	case errors.As(err, &dup):
		return problem{Status: http.StatusConflict, Code: "duplicate", key: "error.duplicate", args: []any{dup.Title}}
	case errors.Is(err, accounts.ErrMustChangePassword):
		return problem{Status: http.StatusForbidden, Code: "must_change_password", key: "error.mustchange"}
	case errors.Is(err, episodes.ErrConflict), errors.Is(err, fs.ErrExist):
		return problem{Status: http.StatusConflict, Code: "conflict", key: "error.conflict"}
	case errors.As(err, &audio):
		return unsupportedProblem(audio)
	case errors.Is(err, ffmpeg.ErrMissing):
		return problem{Status: http.StatusUnsupportedMediaType, Code: "ffmpeg_missing", key: "error.ffmpeg"}
	case errors.Is(err, ffmpeg.ErrSilent):
		return problem{Status: http.StatusUnprocessableEntity, Code: "silent", key: "error.silent"}
	case errors.Is(err, multipart.ErrMessageTooLarge):
		// More parts or headers than Go's form parser takes (1000 parts).
		return badRequest("form of too many parts")
	case errors.As(err, &tooLarge):
		return problem{Status: http.StatusRequestEntityTooLarge, Code: "too_large", key: "error.toolarge", args: []any{byteCount(tooLarge.Limit)}}
	case errors.As(err, &store) && store.StoreUnavailable():
		return storeUnavailableProblem
	case errors.Is(err, context.DeadlineExceeded):
		return problem{Status: http.StatusServiceUnavailable, Code: "timeout", key: "error.timeout"}
	}
	return problem{Status: http.StatusInternalServerError, Code: "internal", key: "error.internal"}
}

// unsupportedProblem tells what a refused file looks like and, when the
// parser said, why it cannot be read: in the catalogue's words for the
// reasons it has ("damaged.<Key>"), else the parser's English Reason, so
// that no reason is silent.
func unsupportedProblem(e *audio.UnsupportedAudioError) problem {
	if e.Kind == audio.KindUnknown && e.Reason == "" {
		// « il ressemble à rien » is no French: the sentence says it whole.
		return problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_audio", key: "error.unsupported.unknown"}
	}
	p := problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_audio", key: "error.unsupported",
		args: []any{msgKey{key: "kind." + string(e.Kind), fallback: e.Kind.Describe()}}}
	if e.Reason != "" {
		p.key = "error.unsupported.why"
		why := msgKey{fallback: e.Reason, args: e.Args}
		if e.Key != "" {
			why.key = "damaged." + e.Key
		}
		p.args = append(p.args, why)
	}
	return p
}

// storeUnavailable is how the store says it cannot be reached or does not
// answer in time (storage.ErrUnavailable): the request may succeed later.
type storeUnavailable interface{ StoreUnavailable() bool }

// Error makes a problem usable as an error, so that a handler can pass one
// to s.fail.
func (p problem) Error() string { return p.Code }

// fail answers the request with the status and message err maps to (see
// problemOf) and logs the cause: at error level for a 5xx, at debug level
// for a 4xx (the user's mistake, not the operator's). A request whose
// client went away is only logged. Requests under /api/ get JSON
// {"error": {"code": ..., "message": ...}}; the others an HTML page in the
// request's language.
func (s *Server) fail(c *gin.Context, err error) {
	ctx := c.Request.Context()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		s.log.DebugContext(ctx, "client went away", "path", loggedPath(c.Request.URL.Path), "err", err)
		c.Abort()
		return
	}
	p := problemOf(err)
	level := slog.LevelDebug
	if p.Status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(ctx, level, "request failed", "path", loggedPath(c.Request.URL.Path), "status", p.Status, "code", p.Code, "err", err)
	s.answerProblem(c, p)
}

// retryAfterUnavailable is the Retry-After of a 503, in seconds: about
// the catalog's refresh period, after which a store back is in use again.
const retryAfterUnavailable = "30"

// storeUnavailableProblem is the answer while the store cannot be used.
var storeUnavailableProblem = problem{Status: http.StatusServiceUnavailable, Code: "store_unavailable", key: "error.unavailable"}

// answerProblem writes p as JSON under /api/, else as an HTML page; a
// 503 says when to come back (Retry-After).
func (s *Server) answerProblem(c *gin.Context, p problem) {
	lang := langOf(c)
	if p.Status == http.StatusServiceUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", retryAfterUnavailable)
	}
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		body := gin.H{"code": p.Code, "message": p.Message(lang)}
		if p.field != nil {
			// Scripts get the stable key and the English reason; people
			// read the translated text in the studio.
			body["message"], body["field"], body["key"] = p.field.Error(), p.field.Field, p.field.Key
		}
		c.AbortWithStatusJSON(p.Status, gin.H{"error": body})
		return
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, p.Status, "error", tr(lang, "error.title"), errorPage{Status: p.Status, Message: p.Message(lang)})
	c.Abort()
}

// errorPage is the view of templates/error.html.
type errorPage struct {
	Status  int
	Message string
}

// notFound answers the friendly 404 page, unless the path is the old URL
// of an imported episode's media (episodes.Service.Redirect): then a 301
// to its URL here, so that links and downloads from the old host keep
// working once its name points to antenne. Only published media are
// redirected.
func (s *Server) notFound(c *gin.Context) {
	if m := c.Request.Method; (m == http.MethodGet || m == http.MethodHead) && s.cfg.Catalog != nil {
		if key, ok := s.cfg.Catalog.Redirect(c.Request.URL.Path); ok {
			if show, _, _, err := feed.SplitKey(key); err == nil {
				if p, err := s.publicShow(show); err == nil {
					if _, public := p.objects[key]; public {
						if u, err := s.cfg.Links.Object(key); err == nil {
							c.Redirect(http.StatusMovedPermanently, u)
							c.Abort()
							return
						}
					}
				}
			}
		}
	}
	s.answerProblem(c, problem{Status: http.StatusNotFound, Code: "not_found", key: "error.notfound"})
}
