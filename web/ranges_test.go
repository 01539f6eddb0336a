package web

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

// countingStore is a real store that counts its Get calls.
type countingStore struct {
	storagetest.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, bucket.ObjectInfo, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key, offset, length)
}

// TestRangeFlood sends Range headers of thousands of ranges for a media
// file: each answer is sane (206 with the coalesced bytes, or the whole
// object) and costs the store a handful of Get calls, not one per range.
func TestRangeFlood(t *testing.T) {
	store := &countingStore{Store: storagetest.Dir(t)}
	s := newSite(t, store, siteOptions{})
	e := s.ingest("mp3", 440, episodes.Upload{PublishAt: s.clock.Now().Add(-time.Hour)})
	whole := s.object(e.Media.Key)
	size := len(whole)
	if size < 8000 {
		t.Fatalf("media of %d bytes, want 8000 or more", size)
	}
	path := "/" + s.show + "/media/" + strings.TrimPrefix(e.Media.Key, "shows/"+s.show+"/media/")
	ranges := func(n int, at func(i int) (int, int)) string {
		parts := make([]string, n)
		for i := range parts {
			a, b := at(i)
			parts[i] = fmt.Sprintf("%d-%d", a, b)
		}
		return "Range: bytes=" + strings.Join(parts, ",")
	}
	const maxGets = 3
	for _, tc := range []struct {
		name   string
		header string
		status int
		want   []string // the parts' bytes, in order
	}{{
		// Every byte of the first 3000, one by one, in reverse: one
		// part.
		name:   "adjacent ranges",
		header: ranges(3000, func(i int) (int, int) { return 2999 - i, 2999 - i }),
		status: http.StatusPartialContent,
		want:   []string{string(whole[:3000])},
	}, {
		// Every other byte of the first 4000: too many parts, the whole
		// object.
		name:   "close ranges",
		header: ranges(2000, func(i int) (int, int) { return 2 * i, 2 * i }),
		status: http.StatusOK,
		want:   []string{string(whole)},
	}, {
		name:   "the same range again and again",
		header: ranges(5000, func(i int) (int, int) { return 10, 20 }),
		status: http.StatusPartialContent,
		want:   []string{string(whole[10:21])},
	}, {
		// 40 distinct ranges 150 bytes apart, repeated, in reverse: too
		// many parts, the whole object.
		name:   "many parts",
		header: ranges(4000, func(i int) (int, int) { p := 150 * (39 - i%40); return p, p }),
		status: http.StatusOK,
		want:   []string{string(whole)},
	}, {
		// Five ranges 1000 bytes apart, out of order: five parts, sorted,
		// one read.
		name:   "a few parts",
		header: ranges(5, func(i int) (int, int) { p := 1000 * (4 - i); return p, p + 9 }),
		status: http.StatusPartialContent,
		want: []string{string(whole[0:10]), string(whole[1000:1010]), string(whole[2000:2010]),
			string(whole[3000:3010]), string(whole[4000:4010])},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			store.gets.Store(0)
			resp, body := s.do("GET", path, tc.header)
			if n := store.gets.Load(); n > maxGets {
				t.Errorf("%d store Get calls, want at most %d", n, maxGets)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.status)
			}
			var got []string
			mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if mt == "multipart/byteranges" {
				mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
				for {
					p, err := mr.NextPart()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(p)
					got = append(got, string(b))
				}
			} else {
				got = []string{string(body)}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d parts, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("part %d: got %d bytes, want %d (not the stored ones)", i, len(got[i]), len(tc.want[i]))
				}
			}
		})
	}
}

func TestTidyRange(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"bytes=0-1", "bytes=0-1"},
		{"bytes=5-9,0-1", "bytes=0-1,5-9"},
		{"bytes=0-1,1-3,2-2", "bytes=0-3"},
		{"bytes=0-0,1-1,2-5", "bytes=0-5"},
		{"bytes=0-0,50-60", "bytes=0-0,50-60"},
		{"bytes=0-0,500-600", "bytes=0-0,500-600"},
		{"bytes=-10", "bytes=990-999"},
		{"bytes=0-0,200-200,400-400,600-600,800-800,900-900,950-950,990-990,999-999", ""},
		{"bytes=2000-3000", "bytes=2000-3000"}, // unsatisfiable: ServeContent's 416
		{"bytes=x-1", "bytes=x-1"},
	} {
		if got := tidyRange(tc.header, 1000); got != tc.want {
			t.Errorf("tidyRange(%q, 1000) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
