package episodes

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

var (
	ebur128I    = regexp.MustCompile(`I:\s+(-?[0-9.]+|-inf) LUFS`)
	ebur128Peak = regexp.MustCompile(`Peak:\s+(-?[0-9.]+|-inf) dBFS`)
)

// ebur128 measures a file's integrated loudness and true peak with
// ffmpeg's ebur128 filter.
func ebur128(t testing.TB, path string) (lufs, peak float64) {
	t.Helper()
	bin := needTool(t, "ffmpeg")
	out, err := exec.Command(bin, "-hide_banner", "-nostdin", "-nostats", "-i", path, "-map", "0:a:0",
		"-af", "ebur128=peak=true", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ebur128 %s: %v\n%s", path, err, out)
	}
	last := func(re *regexp.Regexp) float64 {
		m := re.FindAllSubmatch(out, -1)
		if m == nil {
			t.Fatalf("ebur128 %s: no %v in\n%s", path, re, out)
		}
		v, err := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
		if err != nil {
			t.Fatalf("ebur128 %s: %v", path, err)
		}
		return v
	}
	return last(ebur128I), last(ebur128Peak)
}

// checkPodcastMP3 checks a transcoded recording against its source.
func checkPodcastMP3(t testing.TB, src string, orig *ProbeResult, got *Prepared) {
	t.Helper()
	if !got.Transcoded || got.Podcast.Format != FormatMP3 {
		t.Fatalf("got transcoded %v to %s, want an MP3", got.Transcoded, got.Podcast.Format)
	}
	if got.Podcast.Channels != orig.Channels {
		t.Errorf("channels: got %d, want %d", got.Podcast.Channels, orig.Channels)
	}
	wantRate := 128000
	if orig.Channels == 1 {
		wantRate = 96000
	}
	if got.Podcast.Bitrate != wantRate {
		t.Errorf("bitrate: got %d, want %d", got.Podcast.Bitrate, wantRate)
	}
	in, out := decodedDuration(t, src), decodedDuration(t, got.Path)
	if d := out - in; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("decoded duration: got %v, want %v (the input's) within 50ms", out, in)
	}
	if d := got.Podcast.Duration - in; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("probed duration: got %v, want %v within 50ms", got.Podcast.Duration, in)
	}
	lufs, peak := ebur128(t, got.Path)
	if lufs < TargetLoudness-1 || lufs > TargetLoudness+1 {
		t.Errorf("integrated loudness: got %.1f LUFS, want %.0f +/- 1", lufs, TargetLoudness)
	}
	if peak > TargetTruePeak {
		t.Errorf("true peak: got %.1f dBTP, want <= %.0f", peak, TargetTruePeak)
	}
	if got.LoudnessBefore == nil || got.LoudnessAfter == nil {
		t.Fatalf("loudness before, after: got %v, %v, want both", got.LoudnessBefore, got.LoudnessAfter)
	}
	if a := got.LoudnessAfter.Integrated; a < TargetLoudness-1 || a > TargetLoudness+1 {
		t.Errorf("reported loudness after: got %.1f, want %.0f +/- 1", a, TargetLoudness)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("original: %v, want it kept", err)
	}
}

func TestPrepareTranscodes(t *testing.T) {
	for _, f := range fixtures(t) {
		if !f.transcode {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			orig, err := Probe(t.Context(), f.path)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var steps []float64
			tr := &Transcoder{Progress: func(x float64) { mu.Lock(); steps = append(steps, x); mu.Unlock() }}
			got, err := tr.Prepare(t.Context(), f.path, t.TempDir())
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			checkPodcastMP3(t, f.path, orig, got)
			if f.tagged {
				if got.Podcast.Title != wantTags.Title || got.Podcast.Date != wantTags.Date || got.Podcast.Track != wantTags.Track {
					t.Errorf("tags: got %q %q %d, want %q %q %d", got.Podcast.Title, got.Podcast.Date, got.Podcast.Track,
						wantTags.Title, wantTags.Date, wantTags.Track)
				}
			}
			if f.cover && got.Podcast.Picture == nil {
				t.Errorf("cover: got none, want the original's")
			}
			if f.chapters && len(got.Podcast.Chapters) != len(wantChapters) {
				t.Errorf("chapters: got %d, want %d", len(got.Podcast.Chapters), len(wantChapters))
			}
			for i := 1; i < len(steps); i++ {
				if steps[i] < steps[i-1] {
					t.Fatalf("progress went back: %v", steps)
				}
			}
			if len(steps) == 0 || steps[len(steps)-1] != 1 {
				t.Errorf("progress: got %v, want it to end at 1", steps)
			}
		})
	}
}

func TestPreparePodcastReadyAsIs(t *testing.T) {
	for _, name := range []string{"cbr-info.mp3", "faststart.m4a"} {
		f := fixtureNamed(t, name)
		// A missing ffmpeg does not matter for MP3 and M4A.
		tr := &Transcoder{FFmpeg: filepath.Join(t.TempDir(), "no-ffmpeg")}
		got, err := tr.Prepare(t.Context(), f.path, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Transcoded || got.Path != f.path || got.Podcast != got.Original {
			t.Errorf("%s: got transcoded %v at %s, want the original as is", name, got.Transcoded, got.Path)
		}
	}
}

func TestPrepareWithoutFFmpeg(t *testing.T) {
	f := fixtureNamed(t, "tagged.flac")
	tr := &Transcoder{FFmpeg: filepath.Join(t.TempDir(), "no-ffmpeg")}
	_, err := tr.Prepare(t.Context(), f.path, t.TempDir())
	if !errors.Is(err, ErrFFmpegMissing) {
		t.Fatalf("got %v, want ErrFFmpegMissing", err)
	}
}

func TestPrepareCancel(t *testing.T) {
	f := fixtureNamed(t, "Mixdown.wav")
	ctx, cancel := context.WithCancel(t.Context())
	dir := t.TempDir()
	tr := &Transcoder{Progress: func(x float64) {
		if x > 0.3 {
			cancel()
		}
	}}
	_, err := tr.Prepare(ctx, f.path, dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("got %d files left in the output folder, want none", len(entries))
	}
}

// speechLike is an ffmpeg source whose loudness varies like a voice over
// a noise floor, seconds long, at 48 kHz.
func speechLike(seconds int) string {
	return "aevalsrc=0.4*sin(2*PI*220*t)*(0.5+0.5*sin(2*PI*0.3*t))+0.05*random(0):s=48000:d=" + strconv.Itoa(seconds)
}

// mumbleMixdown writes a Mumble-like recording: plain PCM WAV, 24-bit
// mono 48 kHz.
func mumbleMixdown(t testing.TB, path string, seconds int) {
	t.Helper()
	raw := path + ".raw"
	ffmpeg(t, "-f", "lavfi", "-i", speechLike(seconds), "-f", "s24le", "-c:a", "pcm_s24le", raw)
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(raw)
	if err := os.WriteFile(path, wavFile(1, 48000, 24, data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTranscodeMixdown transcodes three minutes of a Mumble-like
// recording; BenchmarkTranscode45Min does the same with 45 minutes.
func TestTranscodeMixdown(t *testing.T) {
	needTool(t, "ffmpeg")
	dir := t.TempDir()
	src := filepath.Join(dir, "Mixdown.wav")
	mumbleMixdown(t, src, 180)
	orig, err := Probe(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Transcoder{}).Prepare(t.Context(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(got.Path) != dir {
		t.Errorf("output: got %s, want it beside the original in %s", got.Path, dir)
	}
	checkPodcastMP3(t, src, orig, got)
}

// TestPrepareVideo extracts the sound of an MP4 video into an MP3.
func TestPrepareVideo(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "video.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=duration=3:size=64x64:rate=10", "-f", "lavfi", "-i", speechLike(3),
		"-c:v", "mpeg4", "-c:a", "aac", "-ac", "1", src)
	orig, err := Probe(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !orig.Video || !orig.NeedsTranscode() {
		t.Fatalf("got video %v, needs transcode %v, want both true", orig.Video, orig.NeedsTranscode())
	}
	got, err := (&Transcoder{}).Prepare(t.Context(), src, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkPodcastMP3(t, src, orig, got)
}
