package web

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// byteRange is a span of an object: start and length in bytes.
type byteRange struct{ start, length int64 }

// objectReader is an io.ReadSeeker over a stored object for
// http.ServeContent: Seek only moves the offset; the first Read after a
// Seek opens the store with Get(offset, length), so a range request reads
// just its bytes from S3 and never the whole object. length is the end of
// the planned range the offset falls in (see plan), else the rest of the
// object. Reads continue on the open stream while the offset follows it,
// or moves forward by at most readGap within it.
// A stream that ends early gives io.ErrUnexpectedEOF.
//
// It is not safe for concurrent use. Close closes the open stream.
type objectReader struct {
	// ctx is the request's: io.Reader's Read takes none, so the reader
	// carries the context of the one request it serves, like
	// http.Request does.
	ctx  context.Context
	get  func(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	key  string
	size int64
	// plan are the ranges the request is expected to read, to bound each
	// Get; a read outside them is still served.
	plan []byteRange

	off int64 // the offset of the next Read
	rc  io.ReadCloser
	// rcOff is the offset of rc's next byte, rcEnd the offset where it
	// ends.
	rcOff, rcEnd int64
}

// Range limits. RFC 9110 §14.2 lets a server coalesce ranges that overlap
// (or are close), and ignore a Range header with more ranges than it
// cares to serve.
const (
	// maxRanges is the most parts a multipart answer has; a Range header
	// asking more (after coalescing) gets the whole object.
	maxRanges = 8
	// readGap is the largest gap read from the store and dropped to serve
	// two ranges with one store request.
	readGap = 256 << 10
)

// Seek sets the offset of the next Read, relative to the start, the
// current offset or the end. Seeking before the start is an error;
// seeking past the end is allowed (Read then gives io.EOF).
func (r *objectReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return r.off, fmt.Errorf("seek object %q: bad whence %d", r.key, whence)
	}
	if abs < 0 {
		return r.off, fmt.Errorf("seek object %q: negative offset %d", r.key, abs)
	}
	r.off = abs
	return abs, nil
}

// Read reads from the current offset, opening the object there first
// unless the open stream is already at it.
func (r *objectReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.rc != nil && r.off > r.rcOff && r.off < r.rcEnd && r.off-r.rcOff <= readGap {
		// A seek a little forward on the open stream (the next range of a
		// coalesced plan): drop the gap rather than open the store again.
		n, err := io.CopyN(io.Discard, r.rc, r.off-r.rcOff)
		r.rcOff += n
		if err != nil {
			r.closeStream()
		}
	}
	if r.rc == nil || r.rcOff != r.off || r.rcOff >= r.rcEnd {
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	if max := r.rcEnd - r.rcOff; int64(len(p)) > max {
		p = p[:max]
	}
	n, err := r.rc.Read(p)
	r.off += int64(n)
	r.rcOff += int64(n)
	if err == io.EOF {
		if r.rcOff < r.rcEnd {
			return n, fmt.Errorf("read object %q: stream ended at %d, want %d: %w", r.key, r.rcOff, r.rcEnd, io.ErrUnexpectedEOF)
		}
		err = nil
	}
	if err == nil && r.rcOff >= r.rcEnd {
		r.closeStream()
	}
	return n, err
}

// open opens a stream at r.off up to the end of its planned range.
func (r *objectReader) open() error {
	r.closeStream()
	end := r.size
	for _, br := range r.plan {
		if r.off >= br.start && r.off < br.start+br.length {
			end = min(r.size, br.start+br.length)
			break
		}
	}
	rc, err := r.get(r.ctx, r.key, r.off, end-r.off)
	if err != nil {
		return fmt.Errorf("open object %q at %d: %w", r.key, r.off, err)
	}
	r.rc, r.rcOff, r.rcEnd = rc, r.off, end
	return nil
}

func (r *objectReader) closeStream() {
	if r.rc != nil {
		r.rc.Close()
		r.rc = nil
	}
}

// Close closes the open stream, if any.
func (r *objectReader) Close() error {
	r.closeStream()
	return nil
}

// coalesce sorts rs and merges the ranges that overlap or are at most gap
// bytes apart.
func coalesce(rs []byteRange, gap int64) []byteRange {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b byteRange) int { return cmp.Compare(a.start, b.start) })
	var out []byteRange
	for _, r := range rs {
		if n := len(out); n > 0 && r.start <= out[n-1].start+out[n-1].length+gap {
			last := &out[n-1]
			last.length = max(last.length, r.start+r.length-last.start)
			continue
		}
		out = append(out, r)
	}
	return out
}

// tidyRange is the Range header to serve instead of header for an object
// of size bytes: its satisfiable ranges sorted, the overlapping and
// adjacent ones merged, or "" (serve the whole object) when more than
// maxRanges parts remain. A header planRanges cannot read is returned as
// it is, for http.ServeContent to answer (416, or the whole object).
func tidyRange(header string, size int64) string {
	rs := planRanges(header, size)
	if len(rs) == 0 {
		return header
	}
	rs = coalesce(rs, 0)
	if len(rs) > maxRanges {
		return ""
	}
	var b strings.Builder
	b.WriteString("bytes=")
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d-%d", r.start, r.start+r.length-1)
	}
	return b.String()
}

// planRanges reads a Range header ("bytes=0-1, 5-, -500") against an
// object of size bytes, as net/http will serve it: the ranges it names,
// clipped to the object. It returns nil when the header is absent,
// malformed or satisfiable by none: the plan is only a hint to bound
// reads, http.ServeContent decides what is sent.
func planRanges(header string, size int64) []byteRange {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok || size <= 0 {
		return nil
	}
	var out []byteRange
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, ok := strings.Cut(part, "-")
		if !ok {
			return nil
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var br byteRange
		if first == "" {
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n <= 0 {
				return nil
			}
			n = min(n, size)
			br = byteRange{size - n, n}
		} else {
			i, err := strconv.ParseInt(first, 10, 64)
			if err != nil || i < 0 {
				return nil
			}
			if i >= size {
				continue
			}
			j := size - 1
			if last != "" {
				if j, err = strconv.ParseInt(last, 10, 64); err != nil || j < i {
					return nil
				}
				j = min(j, size-1)
			}
			br = byteRange{i, j - i + 1}
		}
		out = append(out, br)
	}
	return out
}
