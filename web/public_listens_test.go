package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/listens"
)

// longEpisode publishes a 90-second MP3 (64 kbit/s, about 720 KB): a
// listen is its tag plus 480 KB.
func (s *site) longEpisode(title string) *episodes.Episode {
	s.t.Helper()
	b, err := os.ReadFile(episodestest.Make(s.t, episodestest.Recording{Format: "mp3", Seconds: 90, Frequency: 330}))
	if err != nil {
		s.t.Fatal(err)
	}
	e, err := s.svc.Ingest(context.Background(), episodes.Upload{
		Show: s.show, Name: "long.mp3", Body: bytes.NewReader(b), Title: title,
		AiredAt: s.clock.Now().Add(-time.Hour), PublishAt: s.clock.Now(),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return e
}

// listener is a podcast app on one address: its requests go through
// 127.0.0.1 (a trusted proxy) with X-Forwarded-For, over a connection
// with a small receive buffer.
type listener struct {
	s      *site
	ip, ua string
}

func (l listener) client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(16 << 10)
			}
			return c, err
		},
	}}
}

// get sends a GET of path with an optional Range; limit < 0 reads the
// whole body, else the client reads limit bytes and hangs up. It returns
// the status and the bytes read, once the server's handler has finished.
func (l listener) get(path, rng string, limit int64) (int, int64) {
	l.s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.s.srv.URL+path, nil)
	if err != nil {
		l.s.t.Fatal(err)
	}
	req.Header.Set("User-Agent", l.ua)
	req.Header.Set("X-Forwarded-For", l.ip)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	c := l.client()
	resp, err := c.Do(req)
	if err != nil {
		l.s.t.Fatalf("GET %s: %v", path, err)
	}
	var r io.Reader = resp.Body
	if limit >= 0 {
		r = io.LimitReader(resp.Body, limit)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		l.s.t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	c.CloseIdleConnections()
	l.s.inflight.Wait()
	return resp.StatusCode, n
}

// counted flushes the site's counter and returns the stored listens of
// day by app.
func (s *site) counted(day string) map[string]int64 {
	s.t.Helper()
	ctx := context.Background()
	c := s.web.cfg.Listens
	if err := c.Flush(ctx); err != nil {
		s.t.Fatal(err)
	}
	rows, err := c.Rows(ctx, day, day)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.App] += r.Count
	}
	return out
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// TestListensCounting drives real downloads through the server and checks
// the counting rules, then that no address or user agent reached the
// bucket or the log.
func TestListensCounting(t *testing.T) {
	for _, st := range storagetest.Stores(t) {
		t.Run(st.Name, func(t *testing.T) {
			var logs storagetest.LogBuffer
			s := newSite(t, st.Store, siteOptions{listens: true, trustedProxies: []string{"127.0.0.1"}, smallBuffers: true, logs: &logs})
			e := s.longEpisode("Vie privée")
			path := objectPath(e.Media.Key)
			size := e.Media.Size
			if th := listens.Threshold(listens.Media{Size: size, Duration: e.Media.Duration, Bitrate: e.Media.Bitrate}); th >= size || th < 400_000 {
				t.Fatalf("threshold %d of a %d-byte file: want a minute of audio, less than the file", th, size)
			}
			day := s.clock.Now().UTC().Format(time.DateOnly)
			antennapod := listener{s, "203.0.113.7", "AntennaPod/3.2.0 (Linux;Android 14) ExoPlayerLib/2.19.1"}
			overcast := listener{s, "203.0.113.7", "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"}
			pocket := listener{s, "198.51.100.23", "PocketCasts/7.52 (iPhone; iOS 17.1)"}
			apple := listener{s, "192.0.2.41", "AppleCoreMedia/1.0.0.20E247 (iPhone; U; CPU OS 16_4_1 like Mac OS X; fr_fr)"}
			gpodder := listener{s, "2001:db8:4:5:6:7:8:9", "gPodder/3.11.1 (+http://gpodder.org/) Linux"}
			gpodderSame64 := listener{s, "2001:db8:4:5:a:b:c:d", gpodder.ua}
			addict := listener{s, "192.0.2.99", "PodcastAddict/v5 (+https://podcastaddict.com/; Android podcast app)"}
			bot := listener{s, "66.249.66.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
			everyone := []listener{antennapod, overcast, pocket, apple, gpodder, gpodderSame64, addict, bot}

			steps := []struct {
				name string
				do   func()
				want int64
			}{
				{"a full download counts 1", func() {
					if code, n := antennapod.get(path, "", -1); code != 200 || n != size {
						t.Fatalf("got %d with %d bytes, want 200 with %d", code, n, size)
					}
				}, 1},
				{"the same client again the same day still 1", func() { antennapod.get(path, "", -1) }, 1},
				{"another user agent on the same address counts", func() { overcast.get(path, "", -1) }, 2},
				{"20 ranged requests covering the file count 1", func() {
					part := (size + 19) / 20
					for i := range int64(20) {
						code, _ := pocket.get(path, fmt.Sprintf("bytes=%d-%d", i*part, min(size, (i+1)*part)-1), -1)
						if code != http.StatusPartialContent {
							t.Fatalf("range %d: got %d, want 206", i, code)
						}
					}
				}, 3},
				{"a bytes=0-1 probe counts 0", func() {
					if code, n := apple.get(path, "bytes=0-1", -1); code != 206 || n != 2 {
						t.Fatalf("probe: got %d with %d bytes, want 206 with 2", code, n)
					}
				}, 3},
				{"a request cut after 10 KB counts 0", func() {
					if _, n := gpodder.get(path, "", 10<<10); n != 10<<10 {
						t.Fatalf("read %d bytes, want 10 KiB", n)
					}
				}, 3},
				{"multipart ranges that miss the minute count 0", func() {
					if code, _ := addict.get(path, "bytes=0-99999,200000-299999", -1); code != 206 {
						t.Fatalf("got %d, want 206", code)
					}
				}, 3},
				{"a known bot counts 0", func() { bot.get(path, "", -1) }, 3},
				{"two addresses of one /64 count once", func() {
					gpodder.get(path, "", -1)
					gpodderSame64.get(path, "", -1)
				}, 4},
				{"the rest of the multipart listener's minute counts", func() { addict.get(path, "bytes=100000-199999,300000-", -1) }, 5},
			}
			for _, step := range steps {
				step.do()
				if got := s.counted(day); total(got) != step.want {
					t.Fatalf("%s: got %v, want %d listens in all", step.name, got, step.want)
				}
			}
			byApp := s.counted(day)
			for app, want := range map[string]int64{"AntennaPod": 1, "Overcast": 1, "Pocket Casts": 1, "gPodder": 1, "Podcast Addict": 1} {
				if byApp[app] != want {
					t.Errorf("%s: got %d listens, want %d (all: %v)", app, byApp[app], want, byApp)
				}
			}

			s.clock.Add(24 * time.Hour)
			next := s.clock.Now().UTC().Format(time.DateOnly)
			antennapod.get(path, "", -1)
			if got := s.counted(next); total(got) != 1 {
				t.Fatalf("next UTC day: got %v, want 1 listen", got)
			}
			if got := s.counted(day); total(got) != 5 {
				t.Fatalf("the first day changed: got %v, want 5 listens", got)
			}
			if n := s.web.cfg.Listens.Counted(); n != 6 {
				t.Errorf("the counter says %d listens counted, want 6", n)
			}

			// Counted answers ask a proxy not to buffer them.
			req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
			req.Header.Set("User-Agent", antennapod.ua)
			req.Header.Set("Range", "bytes=0-99")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Accel-Buffering"); got != "no" {
				t.Errorf("X-Accel-Buffering: got %q, want no", got)
			}

			// Nothing of any listener in the bucket or the log.
			var secrets []string
			for _, l := range everyone {
				secrets = append(secrets, l.ip, l.ua)
			}
			secrets = append(secrets, "2001:db8:4:5")
			bucket := bucketText(t, st.Store)
			if !strings.Contains(bucket, "listens/"+day+"/") {
				t.Fatalf("no shard of %s in the bucket", day)
			}
			for _, sec := range secrets {
				if strings.Contains(bucket, sec) {
					t.Errorf("the bucket holds %q", sec)
				}
				if strings.Contains(logs.String(), sec) {
					t.Errorf("the log holds %q", sec)
				}
			}
			if !strings.Contains(logs.String(), `route=/:show/media/:file`) {
				t.Errorf("the log has no media request: the check above proves nothing\n%s", logs.String())
			}
		})
	}
}

// bucketText is every key and every byte of the store, as one string: for
// the local folder, every file under its data folder; for S3, every
// object of the bucket listed.
func bucketText(t *testing.T, store storagetest.Store) string {
	t.Helper()
	var b strings.Builder
	if d, ok := store.(*storage.Dir); ok {
		err := filepath.WalkDir(d.Path(), func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			b.WriteString(path + "\n")
			b.Write(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	ctx := context.Background()
	for info, err := range store.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		rc, _, err := store.Get(ctx, info.Key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(info.Key + "\n")
		b.Write(data)
	}
	return b.String()
}

// BenchmarkMedia serves a 4 MiB episode, whole and a 64 KiB range,
// through the whole handler from the local store, with listen counting off
// and on (each request from one of 1,000 addresses). Each iteration serves
// one request of each, in alternating order, so that the load of the
// machine weighs on both alike; it reports the time per request of each
// and the throughput ratio on/off (target >= 0.95). bench/listens.sh runs
// it.
func BenchmarkMedia(b *testing.B) {
	store := storagetest.Dir(b)
	off := newSite(b, store, siteOptions{})
	ctx := context.Background()
	const size = 4 << 20
	key := "shows/lvel/media/bench.mp3"
	if _, err := store.Put(ctx, key, bytes.NewReader(bytes.Repeat([]byte{0xAA}, size)), size, "audio/mpeg"); err != nil {
		b.Fatal(err)
	}
	if _, err := off.svc.CreateEpisode(ctx, &episodes.Episode{
		Show: off.show, Title: "Banc d'essai", PublishAt: off.clock.Now().Add(-time.Hour),
		Media: episodes.Media{Key: key, Type: "audio/mpeg", Size: size, Duration: 4 * time.Minute, Bitrate: 128_000},
	}); err != nil {
		b.Fatal(err)
	}
	counter, err := listens.New(listens.Options{Now: off.clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	on, err := New(Config{Catalog: off.svc, Store: store, Links: off.links, Listens: counter})
	if err != nil {
		b.Fatal(err)
	}
	path := objectPath(key)
	for _, rng := range []string{"", "bytes=65536-131071"} {
		name := "whole"
		if rng != "" {
			name = "range"
		}
		b.Run(name, func(b *testing.B) {
			i := 0
			serve := func(h http.Handler) time.Duration {
				req := httptest.NewRequest("GET", path, nil)
				req.RemoteAddr = fmt.Sprintf("203.0.%d.%d:4242", i/250%4, i%250)
				req.Header.Set("User-Agent", "AntennaPod/3.2.0")
				if rng != "" {
					req.Header.Set("Range", rng)
				}
				w := &discardWriter{h: http.Header{}}
				start := time.Now()
				h.ServeHTTP(w, req)
				d := time.Since(start)
				if w.code != 200 && w.code != 206 {
					b.Fatalf("got %d", w.code)
				}
				return d
			}
			var tOff, tOn time.Duration
			hOff, hOn := off.web.Handler(), on.Handler()
			for b.Loop() {
				if i%2 == 0 {
					tOff += serve(hOff)
					tOn += serve(hOn)
				} else {
					tOn += serve(hOn)
					tOff += serve(hOff)
				}
				i++
			}
			b.ReportMetric(float64(tOff.Nanoseconds())/float64(i), "off-ns/req")
			b.ReportMetric(float64(tOn.Nanoseconds())/float64(i), "on-ns/req")
			b.ReportMetric(float64(tOff)/float64(tOn), "on/off")
		})
	}
}

// TestLogIPs: the access log names the client only with LogIPs
// (ANTENNE_LOG_IPS), and never its user agent.
func TestLogIPs(t *testing.T) {
	for _, on := range []bool{false, true} {
		var logs storagetest.LogBuffer
		s := newSite(t, storagetest.Dir(t), siteOptions{logs: &logs, logIPs: on, trustedProxies: []string{"127.0.0.1"}})
		listener{s, "198.51.100.77", "AntennaPod/3.2.0"}.get("/lvel/", "", -1)
		if got := strings.Contains(logs.String(), "198.51.100.77"); got != on {
			t.Errorf("LogIPs %v: the address is in the log: %v\n%s", on, got, logs.String())
		}
		if strings.Contains(logs.String(), "AntennaPod") {
			t.Errorf("LogIPs %v: the user agent is in the log\n%s", on, logs.String())
		}
	}
}

// TestListensAtRedirect: with ANTENNE_MEDIA_URL a GET counts at the 302,
// once per listener and day; HEAD, probes and bots do not count.
func TestListensAtRedirect(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{listens: true, mediaURL: "https://media.example/antenne", trustedProxies: []string{"127.0.0.1"}})
	e := s.ingest("mp3", 440, episodes.Upload{Title: "Les communs", PublishAt: s.clock.Now()})
	path := objectPath(e.Media.Key)
	day := s.clock.Now().UTC().Format(time.DateOnly)
	redirect := func(ip, ua, method, rng string) {
		t.Helper()
		headers := []string{"X-Forwarded-For: " + ip, "User-Agent: " + ua}
		if rng != "" {
			headers = append(headers, "Range: "+rng)
		}
		if resp, _ := s.do(method, path, headers...); resp.StatusCode != http.StatusFound {
			t.Fatalf("%s %s: got %d, want 302", method, path, resp.StatusCode)
		}
	}
	for _, step := range []struct {
		name string
		do   func()
		want int64
	}{
		{"a GET", func() { redirect("203.0.113.1", "AntennaPod/3.2.0", "GET", "") }, 1},
		{"the same again", func() { redirect("203.0.113.1", "AntennaPod/3.2.0", "GET", "bytes=1000-") }, 1},
		{"a HEAD", func() { redirect("203.0.113.2", "AntennaPod/3.2.0", "HEAD", "") }, 1},
		{"a probe", func() {
			redirect("203.0.113.3", "AppleCoreMedia/1.0.0.20E247 (iPhone; U; CPU OS 16_4_1 like Mac OS X; fr_fr)", "GET", "bytes=0-1")
		}, 1},
		{"a bot", func() {
			redirect("66.249.66.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "GET", "")
		}, 1},
		{"another listener", func() { redirect("203.0.113.4", "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "GET", "") }, 2},
	} {
		step.do()
		if got := s.counted(day); total(got) != step.want {
			t.Fatalf("%s: got %v, want %d listens", step.name, got, step.want)
		}
	}
}

// TestListensHangUp: clients that read 4 KiB of a long episode and hang
// up do not count, with the sockets' buffers as the system sizes them
// (megabytes on loopback): antenne counts what the client acknowledged,
// not what it wrote into its buffers. A whole download still counts.
func TestListensHangUp(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{listens: true, trustedProxies: []string{"127.0.0.1"}})
	b, err := os.ReadFile(episodestest.BigMP3(t, 12<<20)) // 5 minutes at 320 kbit/s: a listen is 2.4 MB
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.svc.Ingest(context.Background(), episodes.Upload{
		Show: s.show, Name: "long.mp3", Body: bytes.NewReader(b), Title: "Cinq minutes",
		AiredAt: s.clock.Now().Add(-time.Hour), PublishAt: s.clock.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	path := objectPath(e.Media.Key)
	day := s.clock.Now().UTC().Format(time.DateOnly)
	addr := strings.TrimPrefix(s.srv.URL, "http://")
	for i := range 10 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: AntennaPod/3.%d\r\nX-Forwarded-For: 203.0.113.%d\r\n\r\n", path, addr, i, i+1)
		buf := make([]byte, 4096)
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		s.inflight.Wait()
	}
	if got := s.counted(day); total(got) != 0 {
		t.Fatalf("10 clients that read 4 KiB of a %d-byte file then hung up: got %v, want 0 listens", e.Media.Size, got)
	}
	if code, n := (listener{s, "203.0.113.99", "AntennaPod/3.2.0"}).get(path, "", -1); code != 200 || n != e.Media.Size {
		t.Fatalf("a whole download: got %d with %d bytes", code, n)
	}
	if got := s.counted(day); total(got) != 1 {
		t.Fatalf("a whole download: got %v, want 1 listen", got)
	}
}
