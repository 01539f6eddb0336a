// Command loadtest drives a running antenne the way a busy day would, on
// 127.0.0.1 and for a bounded time: podcast apps polling the feed with
// conditional GETs, listeners downloading media with ranges, hosts
// uploading and editing episodes through the API. Then it checks that
// nothing was lost: every acknowledged upload is in the catalog exactly
// once with byte-identical media, and no request got a 5xx.
//
// Run it through `make loadtest` (bench/loadtest.sh), which starts MinIO
// and antenne for it.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		base        = flag.String("url", "http://127.0.0.1:8080", "antenne's base URL")
		token       = flag.String("token", "", "API token of a host of the show")
		show        = flag.String("show", "load", "show slug")
		duration    = flag.Duration("duration", 60*time.Second, "how long the load lasts")
		readers     = flag.Int("feed-readers", 200, "concurrent feed readers")
		downloaders = flag.Int("downloaders", 50, "concurrent media downloaders")
		uploaders   = flag.Int("uploaders", 10, "concurrent hosts uploading and editing")
	)
	flag.Parse()
	if *token == "" {
		fmt.Fprintln(os.Stderr, "loadtest: -token is required")
		os.Exit(2)
	}
	l := &load{base: strings.TrimRight(*base, "/"), token: *token, show: *show,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}}
	if err := l.run(*duration, *readers, *downloaders, *uploaders); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type load struct {
	base, token, show string
	client            *http.Client
	unit              []byte // an MP3 without tags: uploads append a unique ID3v1 tag

	mu        sync.Mutex
	statuses  map[string]map[int]int // kind -> status -> count
	feedTimes []time.Duration
	acked     map[string]string // episode id -> SHA-256 of the bytes uploaded
	media     map[string][]byte // media URL -> bytes, for the downloaders
	errs      []string
	uploads   atomic.Int64
}

func (l *load) run(d time.Duration, readers, downloaders, uploaders int) error {
	l.statuses, l.acked, l.media = map[string]map[int]int{}, map[string]string{}, map[string][]byte{}
	if err := l.makeUnit(); err != nil {
		return err
	}
	// A few episodes first, so that there is something to download.
	for i := range 5 {
		if _, err := l.upload(context.Background(), fmt.Sprintf("seed %d", i)); err != nil {
			return fmt.Errorf("seed upload: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() { l.readFeed(ctx) })
	}
	for range downloaders {
		wg.Go(func() { l.download(ctx) })
	}
	for i := range uploaders {
		wg.Go(func() { l.uploadAndEdit(ctx, i) })
	}
	start := time.Now()
	wg.Wait()
	elapsed := time.Since(start)
	return l.report(elapsed)
}

// makeUnit encodes three seconds of tone with ffmpeg.
func (l *load) makeUnit() error {
	dir, err := os.MkdirTemp("", "antenne-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "unit.mp3")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", "sine=frequency=440:duration=3", "-c:a", "libmp3lame", "-b:a", "64k",
		"-id3v2_version", "0", "-write_xing", "0", "-map_metadata", "-1", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	l.unit, err = os.ReadFile(path)
	return err
}

// recording is the unit with an ID3v1 tag naming it: unique bytes.
func (l *load) recording(title string) []byte {
	tag := make([]byte, 128)
	copy(tag, "TAG")
	copy(tag[3:33], title)
	copy(tag[33:63], "antenne loadtest")
	tag[127] = 255
	return append(slices.Clip(l.unit), tag...)
}

func (l *load) count(kind string, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.statuses[kind] == nil {
		l.statuses[kind] = map[int]int{}
	}
	l.statuses[kind][status]++
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 50 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

// do sends req and counts its status under kind; transport errors count
// as status 0, except when ctx ended.
func (l *load) do(ctx context.Context, kind string, req *http.Request) (*http.Response, []byte, error) {
	resp, err := l.client.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() == nil {
			l.count(kind, 0)
			l.fail("%s %s: %v", req.Method, req.URL.Path, err)
		}
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil && ctx.Err() == nil {
		l.fail("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	l.count(kind, resp.StatusCode)
	return resp, body, err
}

func (l *load) readFeed(ctx context.Context) {
	etag := ""
	for ctx.Err() == nil {
		req, _ := http.NewRequest(http.MethodGet, l.base+"/"+l.show+"/feed.xml", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		start := time.Now()
		resp, _, err := l.do(ctx, "feed", req)
		if err != nil {
			continue
		}
		took := time.Since(start)
		l.mu.Lock()
		l.feedTimes = append(l.feedTimes, took)
		l.mu.Unlock()
		if resp.StatusCode == http.StatusOK {
			etag = resp.Header.Get("ETag")
		}
		time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
	}
}

func (l *load) download(ctx context.Context) {
	for ctx.Err() == nil {
		l.mu.Lock()
		urls := make([]string, 0, len(l.media))
		for u := range l.media {
			urls = append(urls, u)
		}
		l.mu.Unlock()
		if len(urls) == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		slices.Sort(urls)
		u := urls[rand.IntN(len(urls))]
		l.mu.Lock()
		want := l.media[u]
		l.mu.Unlock()
		from := rand.IntN(len(want))
		to := from + rand.IntN(len(want)-from)
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
		resp, body, err := l.do(ctx, "media", req)
		if err != nil {
			continue
		}
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[from:to+1]) {
			l.fail("range %d-%d of %s: status %d, %d bytes, want 206 and the stored bytes", from, to, u, resp.StatusCode, len(body))
		}
	}
}

type episodeJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Revision string `json:"revision"`
	Media    struct {
		URL    string `json:"url"`
		SHA256 string `json:"sha256"`
	} `json:"media"`
}

// upload sends one recording through the API and returns the episode.
func (l *load) upload(ctx context.Context, title string) (*episodeJSON, error) {
	data := l.recording(title)
	req, _ := http.NewRequest(http.MethodPost, l.base+"/api/v1/shows/"+l.show+"/episodes?title="+strings.ReplaceAll(title, " ", "+"), bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "audio/mpeg")
	resp, body, err := l.do(ctx, "upload", req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("upload %q: status %d: %s", title, resp.StatusCode, body)
	}
	var e episodeJSON
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("upload %q: %w", title, err)
	}
	sum := sha256.Sum256(data)
	l.uploads.Add(1)
	l.mu.Lock()
	l.acked[e.ID] = hex.EncodeToString(sum[:])
	l.media[e.Media.URL] = data
	l.mu.Unlock()
	return &e, nil
}

func (l *load) uploadAndEdit(ctx context.Context, host int) {
	for n := 0; ctx.Err() == nil; n++ {
		e, err := l.upload(ctx, fmt.Sprintf("host %d upload %d", host, n))
		if err != nil {
			if ctx.Err() == nil {
				l.fail("%v", err)
			}
			continue
		}
		patch := strings.NewReader(`{"title": "host ` + fmt.Sprint(host) + ` upload ` + fmt.Sprint(n) + ` (edited)"}`)
		req, _ := http.NewRequest(http.MethodPatch, l.base+"/api/v1/shows/"+l.show+"/episodes/"+e.ID, patch)
		req.Header.Set("Authorization", "Bearer "+l.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", e.Revision)
		if resp, body, err := l.do(ctx, "edit", req); err == nil && resp.StatusCode != http.StatusOK {
			l.fail("edit %s: status %d: %s", e.ID, resp.StatusCode, body)
		}
	}
}

// report checks the invariants and prints the figures.
func (l *load) report(elapsed time.Duration) error {
	var problems []string
	req, _ := http.NewRequest(http.MethodGet, l.base+"/api/v1/shows/"+l.show+"/episodes", nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, body, err := l.do(context.Background(), "check", req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("list episodes after the load: %v %s", err, body)
	}
	var listed []episodeJSON
	if err := json.Unmarshal(body, &listed); err != nil {
		var wrapped struct {
			Episodes []episodeJSON `json:"episodes"`
		}
		if err2 := json.Unmarshal(body, &wrapped); err2 != nil {
			return fmt.Errorf("list episodes: %w", err)
		}
		listed = wrapped.Episodes
	}
	seen := map[string]int{}
	for _, e := range listed {
		seen[e.ID]++
	}
	for id, sum := range l.acked {
		switch seen[id] {
		case 0:
			problems = append(problems, "acknowledged upload "+id+" is not in the catalog")
			continue
		case 1:
		default:
			problems = append(problems, fmt.Sprintf("upload %s is listed %d times", id, seen[id]))
		}
		for _, e := range listed {
			if e.ID != id {
				continue
			}
			r, err := l.client.Get(e.Media.URL)
			if err != nil {
				problems = append(problems, fmt.Sprintf("download %s: %v", e.Media.URL, err))
				break
			}
			h := sha256.New()
			io.Copy(h, r.Body)
			r.Body.Close()
			if got := hex.EncodeToString(h.Sum(nil)); got != sum {
				problems = append(problems, fmt.Sprintf("media of %s differ from the upload", id))
			}
			break
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Printf("load: %v, %d acknowledged uploads\n", elapsed.Round(time.Second), len(l.acked))
	fives := 0
	for _, kind := range []string{"feed", "media", "upload", "edit"} {
		total := 0
		var parts []string
		codes := make([]int, 0, len(l.statuses[kind]))
		for code := range l.statuses[kind] {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		for _, code := range codes {
			n := l.statuses[kind][code]
			total += n
			parts = append(parts, fmt.Sprintf("%d: %d", code, n))
			if code >= 500 || code == 0 {
				fives += n
			}
		}
		fmt.Printf("%-7s %7d requests, %6.0f/s  (%s)\n", kind, total, float64(total)/elapsed.Seconds(), strings.Join(parts, ", "))
	}
	slices.Sort(l.feedTimes)
	if n := len(l.feedTimes); n > 0 {
		fmt.Printf("feed latency: p50 %v, p99 %v, max %v\n", l.feedTimes[n/2].Round(time.Microsecond),
			l.feedTimes[n*99/100].Round(time.Microsecond), l.feedTimes[n-1].Round(time.Microsecond))
	}
	if fives > 0 {
		problems = append(problems, fmt.Sprintf("%d requests got a 5xx or no answer", fives))
	}
	for _, e := range l.errs {
		fmt.Println("error:", e)
	}
	if len(problems) > 0 || len(l.errs) > 0 {
		for _, p := range problems {
			fmt.Println("LOST:", p)
		}
		return errors.New("the load broke an invariant")
	}
	fmt.Println("ok: nothing lost, no 5xx, every media byte-identical")
	return nil
}
