package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/picasoft/antenne/storage/storagetest"
)

// TestObjectRoutes checks HEAD and Range on every object route (media,
// originals, images), on each store.
func TestObjectRoutes(t *testing.T) {
	t.Parallel()
	forStores(t, siteOptions{}, func(t *testing.T, f *fixture) {
		sh, err := f.svc.Show(f.show)
		if err != nil {
			t.Fatal(err)
		}
		routes := []struct{ name, key string }{
			{"media mp3", f.mp3.Media.Key},
			{"media m4a", f.m4a.Media.Key},
			{"originals", f.wav.Original.Key},
			{"images", sh.Artwork.Key},
			{"transcripts", f.mp3.Transcript.Key},
		}
		for _, r := range routes {
			t.Run(r.name, func(t *testing.T) {
				path := objectPath(r.key)
				want := f.object(r.key)
				size := len(want)
				info, err := f.store.Stat(context.Background(), r.key)
				if err != nil {
					t.Fatal(err)
				}

				resp, body := f.do("HEAD", path)
				if resp.StatusCode != 200 || len(body) != 0 {
					t.Errorf("HEAD: got %d with %d bytes, want 200 and no body", resp.StatusCode, len(body))
				}
				headers := map[string]string{
					"Content-Length": strconv.Itoa(size),
					"Content-Type":   info.ContentType,
					"Accept-Ranges":  "bytes",
					"ETag":           `"` + info.ETag + `"`,
					"Cache-Control":  "public, max-age=31536000, immutable",
				}
				for h, w := range headers {
					if got := resp.Header.Get(h); got != w {
						t.Errorf("HEAD %s: got %q, want %q", h, got, w)
					}
				}
				if resp.Header.Get("Last-Modified") == "" {
					t.Error("HEAD: no Last-Modified")
				}

				ranges := []struct {
					header string
					status int
					want   []byte
				}{
					{"", 200, want},
					{"bytes=0-1", 206, want[:2]},
					{"bytes=-3", 206, want[size-3:]},
					{"bytes=10-", 206, want[10:]},
					{fmt.Sprintf("bytes=%d-%d", size-5, size+100), 206, want[size-5:]},
					{fmt.Sprintf("bytes=%d-", size), 416, nil},
					{fmt.Sprintf("bytes=%d-%d", size+10, size+20), 416, nil},
				}
				for _, rg := range ranges {
					var hs []string
					if rg.header != "" {
						hs = append(hs, "Range: "+rg.header)
					}
					resp, body := f.do("GET", path, hs...)
					if resp.StatusCode != rg.status {
						t.Errorf("Range %q: got %d, want %d", rg.header, resp.StatusCode, rg.status)
						continue
					}
					if rg.status == 416 {
						if cr := resp.Header.Get("Content-Range"); cr != "bytes */"+strconv.Itoa(size) {
							t.Errorf("Range %q: got Content-Range %q, want bytes */%d", rg.header, cr, size)
						}
						continue
					}
					if !bytes.Equal(body, rg.want) {
						t.Errorf("Range %q: got %d bytes, want %d (the stored ones)", rg.header, len(body), len(rg.want))
					}
				}

				// Two ranges: a multipart/byteranges answer.
				resp, body = f.do("GET", path, "Range: bytes=0-1,4-6")
				if resp.StatusCode != 206 {
					t.Fatalf("two ranges: got %d, want 206", resp.StatusCode)
				}
				mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
				if err != nil || mt != "multipart/byteranges" {
					t.Fatalf("two ranges: got Content-Type %q, want multipart/byteranges", resp.Header.Get("Content-Type"))
				}
				mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
				for i, w := range [][]byte{want[0:2], want[4:7]} {
					part, err := mr.NextPart()
					if err != nil {
						t.Fatalf("two ranges, part %d: %v", i, err)
					}
					got, _ := io.ReadAll(part)
					if !bytes.Equal(got, w) {
						t.Errorf("two ranges, part %d: got %x, want %x", i, got, w)
					}
				}

				// If-Range with another ETag: the whole object.
				resp, body = f.do("GET", path, "Range: bytes=0-1", `If-Range: "stale"`)
				if resp.StatusCode != 200 || !bytes.Equal(body, want) {
					t.Errorf("stale If-Range: got %d with %d bytes, want 200 and all %d", resp.StatusCode, len(body), size)
				}
				resp, body = f.do("GET", path, "Range: bytes=0-1", "If-Range: "+headers["ETag"])
				if resp.StatusCode != 206 || len(body) != 2 {
					t.Errorf("current If-Range: got %d with %d bytes, want 206 and 2", resp.StatusCode, len(body))
				}
				resp, _ = f.do("GET", path, "If-None-Match: "+headers["ETag"])
				if resp.StatusCode != 304 {
					t.Errorf("If-None-Match: got %d, want 304", resp.StatusCode)
				}
			})
		}

		t.Run("not public", func(t *testing.T) {
			for _, path := range []string{
				objectPath(f.draft.Media.Key),
				objectPath(f.scheduled.Media.Key),
				"/lvel/media/nothing.mp3",
				"/lvel/media/..%2fepisodes%2f" + f.mp3.ID + ".json",
				"/lvel/episodes/" + f.mp3.ID + ".json",
				"/other/media/x.mp3",
			} {
				for _, m := range []string{"GET", "HEAD"} {
					if resp, _ := f.do(m, path); resp.StatusCode != http.StatusNotFound {
						t.Errorf("%s %s: got %d, want 404", m, path, resp.StatusCode)
					}
				}
			}
		})
	})
}

// TestMediaRedirect: with a media URL, object requests are redirected to
// the bucket while the feed keeps antenne's URLs.
func TestMediaRedirect(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Dir(t), siteOptions{mediaURL: "https://s3.example/antenne/"})
	resp, _ := f.do("GET", objectPath(f.mp3.Media.Key))
	if got, want := resp.Header.Get("Location"), "https://s3.example/antenne/"+f.mp3.Media.Key; resp.StatusCode != http.StatusFound || got != want {
		t.Errorf("media: got %d to %q, want 302 to %q", resp.StatusCode, got, want)
	}
	if resp, _ := f.do("GET", objectPath(f.draft.Media.Key)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("draft media: got %d, want 404 (no redirect)", resp.StatusCode)
	}
	_, body := f.do("GET", "/lvel/feed.xml")
	for _, it := range parseRSS(t, body).Channel.Items {
		if !strings.HasPrefix(it.Enclosure.URL, f.srv.URL+"/lvel/media/") {
			t.Errorf("enclosure %q: want it under antenne's own URL %s", it.Enclosure.URL, f.srv.URL)
		}
	}
	resp, _ = f.do("GET", "/lvel/"+f.mp3.Slug)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "media-src 'self' https://s3.example;") {
		t.Errorf("CSP %q: want the media origin allowed for audio", csp)
	}
}

// TestObjectReader checks the lazy ReadSeeker: each Read after a Seek
// opens the store exactly there, bounded by the planned range, and reads
// continue on the open stream.
func TestObjectReader(t *testing.T) {
	t.Parallel()
	data := []byte("0123456789abcdefghij")
	type open struct{ off, length int64 }
	var opens []open
	newReader := func(plan []byteRange) *objectReader {
		opens = nil
		return &objectReader{
			ctx:  context.Background(),
			key:  "k",
			size: int64(len(data)),
			plan: plan,
			get: func(_ context.Context, _ string, off, length int64) (io.ReadCloser, error) {
				opens = append(opens, open{off, length})
				return io.NopCloser(bytes.NewReader(data[off : off+length])), nil
			},
		}
	}

	r := newReader(nil)
	if n, err := r.Seek(0, io.SeekEnd); n != 20 || err != nil {
		t.Fatalf("Seek end: got %d, %v; want 20", n, err)
	}
	if len(opens) != 0 {
		t.Errorf("Seek opened the store: %v", opens)
	}
	r.Seek(5, io.SeekStart)
	got, err := io.ReadAll(r)
	if err != nil || string(got) != string(data[5:]) {
		t.Errorf("read from 5: got %q, %v", got, err)
	}
	if len(opens) != 1 || opens[0] != (open{5, 15}) {
		t.Errorf("opens: got %v, want one at 5 for 15 bytes", opens)
	}

	r = newReader([]byteRange{{2, 3}, {10, 4}})
	for _, c := range []struct {
		off  int64
		n    int
		want string
	}{{2, 3, "234"}, {10, 4, "abcd"}, {0, 20, string(data)}} {
		r.Seek(c.off, io.SeekStart)
		buf := make([]byte, c.n)
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != c.want {
			t.Errorf("at %d: got %q, %v; want %q", c.off, buf, err, c.want)
		}
	}
	want := []open{{2, 3}, {10, 4}, {0, 20}}
	if fmt.Sprint(opens) != fmt.Sprint(want) {
		t.Errorf("opens: got %v, want %v", opens, want)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek before the start: no error")
	}
	r.Seek(25, io.SeekStart)
	if n, err := r.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("read past the end: got %d, %v; want 0, EOF", n, err)
	}

	// A stream shorter than promised is an error, not a silent EOF.
	short := &objectReader{ctx: context.Background(), key: "k", size: 20,
		get: func(context.Context, string, int64, int64) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("012")), nil
		}}
	if _, err := io.ReadAll(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short stream: got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestPlanRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string
	}{
		{"", "[]"},
		{"bytes=0-1", "[{0 2}]"},
		{"bytes=-3", "[{7 3}]"},
		{"bytes=-30", "[{0 10}]"},
		{"bytes=5-", "[{5 5}]"},
		{"bytes=0-1, 4-6", "[{0 2} {4 3}]"},
		{"bytes=8-100", "[{8 2}]"},
		{"bytes=10-", "[]"},
		{"bytes=3-1", "[]"},
		{"items=0-1", "[]"},
		{"bytes=x-1", "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(planRanges(tt.header, 10)); got != tt.want {
			t.Errorf("planRanges(%q, 10): got %s, want %s", tt.header, got, tt.want)
		}
	}
}
