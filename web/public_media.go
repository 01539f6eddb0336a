package web

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/web/listens"
)

// serveObject answers GET|HEAD /<show>/<dir>/<file> for a stored object
// (dir is media, originals, images or transcripts).
//
// Only the objects the public may see are served: the show's artwork and
// the media, originals, artwork and transcripts of published episodes.
// Any other key (a draft's media, a scheduled episode's) is a 404, as is
// a name that is not a plain file name.
//
// When Config.MediaURL is set the answer is a 302 to MediaURL/<key>.
// Otherwise the exact bytes are served with http.ServeContent: Range
// (206, multipart ranges, 416), If-Range, conditional requests, HEAD,
// Content-Length, the stored Content-Type, ETag and Last-Modified, and
// Cache-Control immutable for a year: a stored object never changes, a
// new recording gets a new key. The object is streamed, ranges read from
// the store only their bytes (objectReader); a GET opens the first range
// at once, which also gives the headers, so it costs the store one request.
// A Range header is first tidied (tidyRange: sorted, coalesced, at most
// maxRanges parts, else the whole object) and its ranges are read with one
// store request for each group less than readGap apart: a header of
// thousands of ranges costs a handful of requests.
//
// Requests for an episode's media are counted (Config.Listens): the bytes
// actually sent, or the redirect when MediaURL is set.
func (s *Server) serveObject(dir string) gin.HandlerFunc {
	return func(c *gin.Context) {
		show := c.Param("show")
		key, err := feed.ObjectKey(show, dir, c.Param("file"))
		if err != nil {
			s.notFound(c)
			return
		}
		p, err := s.publicShow(show)
		if err != nil {
			s.fail(c, err)
			return
		}
		hint, ok := p.objects[key]
		if !ok {
			s.notFound(c)
			return
		}
		if dir == feed.DirTranscripts {
			// Players on other sites read transcripts (podcast:transcript).
			c.Header("Access-Control-Allow-Origin", "*")
		}
		listen := s.countListen(c, p, key)
		if s.mediaURL != "" {
			c.Header("Cache-Control", "public, max-age=3600")
			c.Redirect(http.StatusFound, s.mediaURL+"/shows/"+url.PathEscape(show)+"/"+dir+"/"+url.PathEscape(c.Param("file")))
			return
		}
		s.streamObject(c, key, hint, listen)
	}
}

// countListen starts counting a GET of an episode's media: it returns the
// mediaListen to tell the bytes sent, or nil when the object is not an
// episode's media, counting is off or the request is not a GET. With
// MediaURL set the request counts at once, at the redirect, and nil is
// returned.
func (s *Server) countListen(c *gin.Context, p *publicShow, key string) *mediaListen {
	e := p.media[key]
	if e == nil || s.cfg.Listens == nil || c.Request.Method != http.MethodGet {
		return nil
	}
	m := listens.Media{Show: e.Show, Episode: e.ID, Size: e.Media.Size, Duration: e.Media.Duration, Bitrate: e.Media.Bitrate}
	ip, ua, rng := c.ClientIP(), c.GetHeader("User-Agent"), c.GetHeader("Range")
	if s.mediaURL != "" {
		s.cfg.Listens.Redirected(ip, ua, rng, m)
		return nil
	}
	l := s.cfg.Listens.Start(ip, ua, rng, m)
	if l == nil {
		return nil
	}
	ml := &mediaListen{Listen: l, acks: ackCounter{connOf(c.Request.Context())}}
	ml.start, ml.known = ml.acks.acked()
	return ml
}

// mediaListen is a listens.Listen that also follows the connection's
// acknowledgements: how many bytes the client's system acknowledged since
// the request began, sampled before each read of the object (the connection
// may be closed by the time the response ends).
type mediaListen struct {
	*listens.Listen
	acks  ackCounter
	start int64
	known bool

	mu    sync.Mutex
	acked int64 // the latest sample, less start
}

// Track is listens.Listen.Track over a reader that samples the
// acknowledgements first; rs itself for a nil *mediaListen.
func (l *mediaListen) Track(rs io.ReadSeeker) io.ReadSeeker {
	if l == nil {
		return rs
	}
	if l.known {
		rs = ackSampler{rs, l}
	}
	return l.Listen.Track(rs)
}

func (l *mediaListen) sample() {
	if n, ok := l.acks.acked(); ok {
		l.mu.Lock()
		l.acked = max(l.acked, n-l.start)
		l.mu.Unlock()
	}
}

// ackSampler samples its mediaListen's acknowledgements before each read:
// the copy loops read again only once the previous bytes are written.
type ackSampler struct {
	io.ReadSeeker
	l *mediaListen
}

func (a ackSampler) Read(p []byte) (int, error) {
	a.l.sample()
	return a.ReadSeeker.Read(p)
}

// Done ends the request. A response cut short counts only the bytes the
// client acknowledged, when the system tells them: a client that reads a
// few kilobytes and hangs up leaves megabytes written into the socket
// buffers, which it never read. (The count includes the response's
// headers, a few hundred bytes.)
func (l *mediaListen) Done(complete bool) {
	if l == nil {
		return
	}
	if !complete && l.known {
		l.sample()
		l.mu.Lock()
		acked := l.acked
		l.mu.Unlock()
		l.Listen.DoneAcked(acked)
		return
	}
	l.Listen.Done(complete)
}

// streamObject serves the object at key; hint is its size as the catalog
// recorded it (0: unknown), used to plan the reads of a range request.
// listen, when not nil, is told the bytes sent.
func (s *Server) streamObject(c *gin.Context, key string, hint int64, listen *mediaListen) {
	ctx := c.Request.Context()
	store := s.cfg.Store
	r := &objectReader{
		ctx: ctx,
		key: key,
		get: func(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
			rc, _, err := store.Get(ctx, key, offset, length)
			return rc, err
		},
	}
	defer r.Close()
	var info bucket.ObjectInfo
	var err error
	h := c.Request.Header
	if rng := h.Get("Range"); rng != "" && hint > 0 {
		setRange(h, tidyRange(rng, hint))
	}
	if c.Request.Method == http.MethodHead || h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
		// No body, or probably none (a revalidation of an object that
		// never changes): describe it, open it only if it is read.
		info, err = store.Stat(ctx, key)
	} else {
		info, err = s.openFirst(c, r, hint)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	r.size = info.Size
	if r.rc != nil {
		r.rcEnd = min(r.rcEnd, info.Size)
	}
	if rng := h.Get("Range"); rng != "" && (info.Size != hint || r.plan == nil) {
		// The catalog's size was unknown or wrong, or the object was not
		// opened: plan with the real one.
		setRange(h, tidyRange(rng, info.Size))
		r.plan = coalesce(planRanges(h.Get("Range"), info.Size), readGap)
	}
	hdr := c.Writer.Header()
	ctype := servedType(key, info.ContentType)
	hdr.Set("Content-Type", ctype)
	if info.ETag != "" {
		hdr.Set("ETag", `"`+info.ETag+`"`)
	}
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("Access-Control-Allow-Origin", "*")
	if listen != nil {
		// Counting sees what antenne writes: ask a reverse proxy (nginx
		// honours this header) not to read the whole file ahead of the
		// listener.
		hdr.Set("X-Accel-Buffering", "no")
	}
	req := c.Request
	if req.Header.Get("Range") != "" || req.Header.Get("If-Match") != "" || req.Header.Get("If-Unmodified-Since") != "" {
		http.ServeContent(c.Writer, req, "", info.ModTime, listen.Track(r))
		listen.Done(bodyComplete(c))
		return
	}
	// A whole download, the common case: the same answer as ServeContent
	// but copied with a large pooled buffer (ServeContent allocates 32 KiB
	// per request and makes a system call per 32 KiB).
	if !info.ModTime.IsZero() {
		hdr.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	if notModified(req, hdr.Get("ETag"), info.ModTime) {
		writeNotModified(c.Writer)
		return
	}
	hdr.Set("Accept-Ranges", "bytes")
	hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	c.Writer.WriteHeader(http.StatusOK)
	if req.Method == http.MethodHead {
		return
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(onlyWriter{c.Writer}, io.LimitReader(listen.Track(r), info.Size), *buf)
	listen.Done(err == nil && n == info.Size)
	if err != nil || n != info.Size {
		// The status is sent: the client sees a short body and the
		// connection closes. Say why in the log.
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "stream object", "key", key, "sent", n, "size", info.Size, "err", err)
		}
	}
}

// servedType is the Content-Type an object is served with: the stored
// one, except that a transcript of a type transcripts may not have (HTML
// stored before antenne refused it) is served as plain text, so that it
// is never a page of the site. Every answer has
// X-Content-Type-Options: nosniff (securityHeaders).
func servedType(key, stored string) string {
	if _, dir, _, err := feed.SplitKey(key); err == nil && dir == feed.DirTranscripts {
		if t, _, _ := mime.ParseMediaType(stored); !episodes.IsTranscriptType(t) {
			return "text/plain; charset=utf-8"
		}
	}
	if stored == "" {
		return "application/octet-stream"
	}
	return stored
}

// setRange replaces the request's Range header with v, or removes it when
// v is "".
func setRange(h http.Header, v string) {
	if v == "" {
		h.Del("Range")
		return
	}
	h.Set("Range", v)
}

// bodyComplete reports whether the response's body was written whole:
// as many bytes as its Content-Length.
func bodyComplete(c *gin.Context) bool {
	n, err := strconv.ParseInt(c.Writer.Header().Get("Content-Length"), 10, 64)
	return err == nil && int64(c.Writer.Size()) == n
}

// copyBuffers are the buffers of whole downloads.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// onlyWriter hides the ReadFrom of the response writer, so that
// io.CopyBuffer uses the large buffer it is given.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// openFirst opens the stream of the first byte range the request will
// read (the whole object without a Range header) and returns the object's
// description. A planned range the store refuses (the catalog's size was
// wrong) falls back to a Stat: ServeContent then answers from the real
// size.
func (s *Server) openFirst(c *gin.Context, r *objectReader, hint int64) (bucket.ObjectInfo, error) {
	ctx := c.Request.Context()
	first := byteRange{0, -1}
	if c.GetHeader("Range") != "" && hint > 0 {
		r.plan = coalesce(planRanges(c.GetHeader("Range"), hint), readGap)
		if len(r.plan) > 0 {
			first = r.plan[0]
		}
	}
	rc, info, err := s.cfg.Store.Get(ctx, r.key, first.start, first.length)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return info, err
		}
		r.plan = nil
		return s.cfg.Store.Stat(ctx, r.key)
	}
	end := info.Size
	if first.length >= 0 {
		end = first.start + first.length
	}
	r.rc, r.off, r.rcOff, r.rcEnd = rc, first.start, first.start, end
	return info, nil
}
