package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// The tests of ingest jobs (issue 12) against antenne serving over a
// private MinIO, with real ffmpeg.

// uploadRaw posts the file at path as a raw body and returns the status
// and the episode answered.
func (f *faultSite) uploadRaw(url, path, query string) (int, apiEpisode) {
	f.t.Helper()
	file, err := os.Open(path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/shows/lvel/episodes?name="+filepath.Base(path)+query, file)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "audio/wav")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("upload %s: %v", path, err)
	}
	defer resp.Body.Close()
	var ep apiEpisode
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &ep); err != nil {
		f.t.Fatalf("upload %s: %d %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, ep
}

// apiEpisode is what these tests read of the API's episode.
type apiEpisode struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Processing struct {
		State    string `json:"state"`
		Progress int    `json:"progress"`
		Error    *struct {
			Code, Message string
		} `json:"error"`
	} `json:"processing"`
	Media struct {
		URL string `json:"url"`
	} `json:"media"`
}

// episode reads an episode through the API of the antenne at url.
func (f *faultSite) episode(url, id string) apiEpisode {
	f.t.Helper()
	code, b, _ := get(f.t, url+"/api/v1/shows/lvel/episodes/"+id, "Authorization", "Bearer "+f.token)
	var ep apiEpisode
	if code != http.StatusOK || json.Unmarshal(b, &ep) != nil {
		f.t.Fatalf("GET episode %s: %d %s", id, code, b)
	}
	return ep
}

// waitState waits until the processing of the episode is in state want
// (done or failed) as the antenne at url tells.
func (f *faultSite) waitState(url, id, want string, within time.Duration) apiEpisode {
	f.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ep := f.episode(url, id)
		if ep.Processing.State == want {
			return ep
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("episode %s: processing %+v after %v, want %s", id, ep.Processing, within, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// keys lists the keys of the bucket under prefix.
func (f *faultSite) keys(prefix string) []string {
	f.t.Helper()
	var keys []string
	for info, err := range f.store.List(f.t.Context(), prefix) {
		if err != nil {
			f.t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

// metric reads the value of a metric without labels from /metrics.
func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	_, b, _ := get(t, url+"/metrics")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s at %s/metrics", name, url)
	return 0
}

// wav makes a Mumble-like recording (24-bit mono 48 kHz WAV) of seconds.
func wav(t *testing.T, seconds float64, freq int) string {
	return episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: seconds, Frequency: freq})
}

// loudness measures the file with ffmpeg's ebur128 filter: integrated
// loudness (LUFS) and true peak (dBTP).
func loudness(t *testing.T, path string) (integrated, truePeak float64) {
	t.Helper()
	out, err := exec.Command(episodestest.FFmpeg(t), "-hide_banner", "-nostdin", "-nostats", "-i", path,
		"-af", "ebur128=peak=true", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg ebur128: %v\n%s", err, out)
	}
	summary := string(out[bytes.LastIndex(out, []byte("Summary:")):])
	i := regexp.MustCompile(`I:\s+(-?[\d.]+) LUFS`).FindStringSubmatch(summary)
	p := regexp.MustCompile(`Peak:\s+(-?[\d.]+) dBFS`).FindStringSubmatch(summary)
	if i == nil || p == nil {
		t.Fatalf("no loudness in ffmpeg's summary:\n%s", summary)
	}
	integrated, _ = strconv.ParseFloat(i[1], 64)
	truePeak, _ = strconv.ParseFloat(p[1], 64)
	return integrated, truePeak
}

// TestUploadClientLeaves sends a recording through the API and closes the
// connection right after the last byte of the body: the episode is
// published a little later, loudness-normalised, and the request is
// logged as 499, not 200.
func TestUploadClientLeaves(t *testing.T) {
	f := newFaultSite(t)
	f.vars["ANTENNE_INGEST_WORKERS"] = "1"
	s := startServe(t, f.vars)
	rec := wav(t, 180, 440)
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/shows/lvel/episodes?name=mumble.wav HTTP/1.1\r\nHost: antenne\r\nAuthorization: Bearer %s\r\nContent-Type: audio/wav\r\nContent-Length: %d\r\n\r\n", f.token, len(data))
	if _, err := conn.Write(data); err != nil {
		t.Fatal(err)
	}
	conn.Close() // the client leaves without reading the answer

	store := f.store
	svc := episodes.NewService(store, episodes.Options{})
	var e *episodes.Episode
	deadline := time.Now().Add(8 * time.Minute)
	for e == nil || e.Status(svc.Now()) != episodes.Published {
		if time.Now().After(deadline) {
			t.Fatalf("the episode is not published 8 min after the upload: %+v\n%s", e, s.stderr)
		}
		time.Sleep(500 * time.Millisecond)
		if err := svc.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		if eps, _ := svc.Episodes("lvel", episodes.ListOptions{}); len(eps) == 1 {
			e = eps[0]
		}
	}
	rc, _, err := store.Get(t.Context(), e.Media.Key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	mp3 := filepath.Join(t.TempDir(), "published.mp3")
	out, _ := os.Create(mp3)
	io.Copy(out, rc)
	rc.Close()
	out.Close()
	i, tp := loudness(t, mp3)
	if i < -17 || i > -15 {
		t.Errorf("integrated loudness of the MP3: got %.1f LUFS, want -16 ±1", i)
	}
	if tp > -1 {
		t.Errorf("true peak of the MP3: got %.1f dBTP, want <= -1", tp)
	}
	t.Logf("published MP3: %.1f LUFS, true peak %.1f dBTP", i, tp)
	logged := regexp.MustCompile(`msg=request method=POST route=/api/v1/shows/:show/episodes \S+ status=(\d+)`).FindStringSubmatch(s.stderr.String())
	if logged == nil || logged[1] != "499" {
		t.Errorf("the upload whose client left is logged with status %v, want 499:\n%s", logged, s.stderr)
	}
	f.consistent()
}

// ffmpegChildren lists the pids of the ffmpeg processes whose parent is
// pid, from /proc.
func ffmpegChildren(pid int) []int {
	var kids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 || s[open+1:close] != "ffmpeg" {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == pid {
			kids = append(kids, child)
		}
	}
	return kids
}

// TestJobSurvivesKill SIGKILLs antenne while it converts a recording, then
// starts it again: the job is taken over once its lease expires and
// completes once; nothing is lost or duplicated.
func TestJobSurvivesKill(t *testing.T) {
	f := newFaultSite(t)
	rec := wav(t, 120, 500)
	first := f.serve(t, "ANTENNE_INGEST_WORKERS=1")
	url, cmd, log := first.url, first.cmd, first.log
	code, ep := f.uploadRaw(url, rec, "")
	if code != http.StatusAccepted || ep.Status != "processing" {
		t.Fatalf("upload: got %d %+v, want 202 processing", code, ep)
	}
	// Kill once ffmpeg runs for the job.
	deadline := time.Now().Add(time.Minute)
	for len(ffmpegChildren(cmd.Process.Pid)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no ffmpeg started within a minute:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	kids := ffmpegChildren(cmd.Process.Pid)
	cmd.Process.Kill()
	cmd.Wait()
	// ffmpeg dies with antenne (parent-death signal), even by SIGKILL.
	gone := func(pid int) bool {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		return i > 0 && i+2 < len(s) && s[i+2] == 'Z' // a zombie is dead, awaiting its reaper
	}
	for _, k := range kids {
		deadline := time.Now().Add(20 * time.Second)
		for !gone(k) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !gone(k) {
			t.Errorf("ffmpeg %d outlived the antenne that started it", k)
			syscall.Kill(k, syscall.SIGKILL)
		}
	}
	if got := f.keys("shows/lvel/jobs/"); len(got) != 1 {
		t.Fatalf("job documents after the kill: got %v, want the one of the job", got)
	}

	restarted := f.serve(t, "ANTENNE_INGEST_WORKERS=1")
	url, log = restarted.url, restarted.log
	done := f.waitState(url, ep.ID, "done", 8*time.Minute)
	if done.Status != "published" {
		t.Errorf("after the restart: status %s, want published", done.Status)
	}
	// The job goes on after publication with the Opus version.
	if n := waitMetric(t, url, "antenne_ingest_jobs_done_total", 1, 2*time.Minute); n != 1 {
		t.Errorf("jobs done by the restarted antenne: got %v, want 1", n)
	}
	for prefix, want := range map[string]int{"shows/lvel/episodes/": 1, "shows/lvel/media/": 2, "shows/lvel/originals/": 1, "shows/lvel/jobs/": 0} {
		if got := f.keys(prefix); len(got) != want {
			t.Errorf("%s: got %v, want %d objects", prefix, got, want)
		}
	}
	t.Logf("restarted antenne:\n%s", log)
	f.consistent()
}

// TestJobsOnTwoReplicas queues six recordings on one of two replicas of one
// bucket: each is processed exactly once, and both replicas ran some (the
// one they were uploaded to has a single worker, busy with the first
// while the others wait in the bucket for any replica).
func TestJobsOnTwoReplicas(t *testing.T) {
	f := newFaultSite(t)
	var recs []string
	for i := range 6 {
		recs = append(recs, wav(t, 20, 300+40*i))
	}
	a := f.serve(t, "ANTENNE_INGEST_WORKERS=1").url
	b := f.serve(t, "ANTENNE_INGEST_WORKERS=1").url
	var ids []string
	for _, rec := range recs {
		code, ep := f.uploadRaw(a, rec, "&draft=true")
		if code != http.StatusAccepted {
			t.Fatalf("upload: got %d, want 202", code)
		}
		ids = append(ids, ep.ID)
	}
	for _, id := range ids {
		if ep := f.waitState(a, id, "done", 6*time.Minute); ep.Status != "draft" {
			t.Errorf("episode %s: status %s, want draft as asked", id, ep.Status)
		}
	}
	// Jobs go on after publication with the Opus versions.
	deadline := time.Now().Add(2 * time.Minute)
	da, db := metric(t, a, "antenne_ingest_jobs_done_total"), metric(t, b, "antenne_ingest_jobs_done_total")
	for da+db < 6 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		da, db = metric(t, a, "antenne_ingest_jobs_done_total"), metric(t, b, "antenne_ingest_jobs_done_total")
	}
	if da+db != 6 {
		t.Errorf("jobs done: %v by a, %v by b; want 6 in all", da, db)
	}
	if da == 0 || db == 0 {
		t.Errorf("jobs done: %v by a, %v by b; want both replicas to have run some", da, db)
	}
	if fa, fb := metric(t, a, "antenne_ingest_jobs_failed_total"), metric(t, b, "antenne_ingest_jobs_failed_total"); fa+fb != 0 {
		t.Errorf("jobs failed: %v by a, %v by b; want none", fa, fb)
	}
	t.Logf("jobs done: %v by a, %v by b", da, db)
	if got := f.keys("shows/lvel/media/"); len(got) != 12 {
		t.Errorf("media objects: got %d, want 12 (6 MP3, 6 Opus)", len(got))
	}
	f.consistent()
}

// waitMetric polls the metric of the antenne at url until it reaches
// want or timeout passes, and returns its last value.
func waitMetric(t *testing.T, url, name string, want float64, timeout time.Duration) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	n := metric(t, url, name)
	for n < want && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		n = metric(t, url, name)
	}
	return n
}

// TestEightConcurrentUploads sends eight 2-minute recordings at once to
// an antenne with two ingest workers: never more ffmpeg processes than two
// conversions run (ffmpeg.ProcessesPerSlot each), all eight published,
// and /healthz and the feed answer meanwhile. (Ten minutes each took a
// quarter of an hour under -race since the leveler runs in Go: the bound
// is the same with shorter recordings.)
func TestEightConcurrentUploads(t *testing.T) {
	const workers = 2
	f := newFaultSite(t)
	var recs []string
	for i := range 8 {
		recs = append(recs, wav(t, 120, 200+60*i))
	}
	antenne := f.serve(t, "ANTENNE_INGEST_WORKERS="+strconv.Itoa(workers))
	url, cmd, log := antenne.url, antenne.cmd, antenne.log

	stop := make(chan struct{})
	var watchers sync.WaitGroup
	stopWatching := sync.OnceFunc(func() { close(stop); watchers.Wait() })
	defer stopWatching() // before antenne stops, even when the test fails
	var mu sync.Mutex
	most, slowest := 0, time.Duration(0)
	watchers.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			n := len(ffmpegChildren(cmd.Process.Pid))
			mu.Lock()
			most = max(most, n)
			mu.Unlock()
		}
	})
	watchers.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			for _, path := range []string{"/healthz", "/lvel/feed.xml"} {
				start := time.Now()
				resp, err := http.Get(url + path)
				if err != nil {
					t.Errorf("GET %s while processing: %v", path, err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s while processing: %d", path, resp.StatusCode)
				}
				mu.Lock()
				slowest = max(slowest, time.Since(start))
				mu.Unlock()
			}
		}
	})

	ids := make([]string, len(recs))
	var uploads sync.WaitGroup
	for i, rec := range recs {
		uploads.Go(func() {
			code, ep := f.uploadRaw(url, rec, "")
			if code != http.StatusAccepted {
				t.Errorf("upload %d: got %d, want 202", i, code)
			}
			ids[i] = ep.ID
		})
	}
	uploads.Wait()
	// 16 minutes of audio to convert: minutes of CPU under -race.
	deadline := time.Now().Add(20 * time.Minute)
	for _, id := range ids {
		if id == "" {
			continue
		}
		if ep := f.waitState(url, id, "done", time.Until(deadline)); ep.Status != "published" {
			t.Errorf("episode %s: status %s, want published", id, ep.Status)
		}
	}
	stopWatching()
	if most > workers*ffmpeg.ProcessesPerSlot {
		t.Errorf("ffmpeg processes at once: got %d, want at most %d per ANTENNE_INGEST_WORKERS=%d", most, ffmpeg.ProcessesPerSlot, workers)
	}
	if most == 0 {
		t.Errorf("no ffmpeg process seen: the watcher saw nothing\n%s", log)
	}
	t.Logf("at most %d ffmpeg processes; slowest /healthz or feed answer %v", most, slowest)
	// One MP3 per upload, and at most one Opus version each (made after
	// publication: the last ones may still be on their way).
	var mp3s, opus int
	for _, k := range f.keys("shows/lvel/media/") {
		switch {
		case strings.HasSuffix(k, ".mp3"):
			mp3s++
		case strings.HasSuffix(k, ".opus"):
			opus++
		}
	}
	if mp3s != 8 || opus > 8 {
		t.Errorf("media objects: got %d MP3 and %d Opus, want 8 MP3 and at most 8 Opus", mp3s, opus)
	}
}
