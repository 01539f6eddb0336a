package web

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
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
		if s.mediaURL != "" {
			c.Header("Cache-Control", "public, max-age=3600")
			c.Redirect(http.StatusFound, s.mediaURL+"/shows/"+url.PathEscape(show)+"/"+dir+"/"+url.PathEscape(c.Param("file")))
			return
		}
		s.streamObject(c, key, hint)
	}
}

// streamObject serves the object at key; hint is its size as the catalog
// recorded it (0: unknown), used to plan the reads of a range request.
func (s *Server) streamObject(c *gin.Context, key string, hint int64) {
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
	var info episodes.ObjectInfo
	var err error
	if c.Request.Method == http.MethodHead {
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
	h := c.Writer.Header()
	ctype := info.ContentType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	if info.ETag != "" {
		h.Set("ETag", `"`+info.ETag+`"`)
	}
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(c.Writer, c.Request, "", info.ModTime, r)
}

// openFirst opens the stream of the first byte range the request will
// read (the whole object without a Range header) and returns the object's
// description. A planned range the store refuses (the catalog's size was
// wrong) falls back to a Stat: ServeContent then answers from the real
// size.
func (s *Server) openFirst(c *gin.Context, r *objectReader, hint int64) (episodes.ObjectInfo, error) {
	ctx := c.Request.Context()
	first := byteRange{0, -1}
	if c.GetHeader("Range") != "" && hint > 0 {
		r.plan = planRanges(c.GetHeader("Range"), hint)
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
