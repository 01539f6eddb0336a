package audio

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/episodestest"
)

// benchFile generates a long recording with ffmpeg once and keeps it in
// the system's temporary folder, keyed by the ffmpeg arguments, so that
// later runs of the benchmarks reuse it.
func benchFile(b *testing.B, ext string, args ...string) string {
	b.Helper()
	episodestest.NeedTool(b, "ffmpeg")
	sum := sha256.Sum256([]byte(strings.Join(args, "\x00")))
	dir := filepath.Join(os.TempDir(), "antenne-bench")
	path := filepath.Join(dir, hex.EncodeToString(sum[:8])+"."+ext)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".part." + ext
	ffmpeg(b, append(args, tmp)...)
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

const fortyFiveMinutes = "2700"

// BenchmarkProbeVsFFprobe compares, on 45-minute files, antenne's probe
// (tags and duration, without the SHA-256) with `ffprobe -show_format`,
// and reports both times and their ratio (target: at most 0.5).
func BenchmarkProbeVsFFprobe(b *testing.B) {
	ffprobe := episodestest.NeedTool(b, "ffprobe")
	src := []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=" + fortyFiveMinutes,
		"-metadata", "title=Les communs", "-metadata", "artist=La Voix est Libre", "-metadata", "date=2020-10-02"}
	files := []struct {
		name, ext string
		args      []string
	}{
		{"mp3-cbr-noxing", "mp3", append(append([]string{}, src...), "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0")},
		{"m4a", "m4a", append(append([]string{}, src...), "-ac", "2", "-c:a", "aac", "-b:a", "128k")},
		{"flac", "flac", append(append([]string{}, src...), "-c:a", "flac")},
	}
	for _, f := range files {
		path := benchFile(b, f.ext, f.args...)
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs() // ours only: ffprobe is another process
			var ours, theirs time.Duration
			for b.Loop() {
				t0 := time.Now()
				fh, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				st, err := fh.Stat()
				if err != nil {
					b.Fatal(err)
				}
				p, err := ProbeReader(fh, st.Size())
				fh.Close()
				if err != nil {
					b.Fatal(err)
				}
				if p.Title == "" || p.Duration < 2699*time.Second {
					b.Fatalf("got title %q, duration %v", p.Title, p.Duration)
				}
				t1 := time.Now()
				out, err := exec.Command(ffprobe, "-v", "error", "-show_format", path).CombinedOutput()
				if err != nil {
					b.Fatalf("ffprobe: %v\n%s", err, out)
				}
				ours += t1.Sub(t0)
				theirs += time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(ours.Nanoseconds())/n, "antenne-ns/op")
			b.ReportMetric(float64(theirs.Nanoseconds())/n, "ffprobe-ns/op")
			b.ReportMetric(float64(ours)/float64(theirs), "ratio")
		})
	}
}
