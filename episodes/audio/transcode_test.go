package audio_test

// The tests of episodes/audio/ffmpeg live here, beside the fixtures they
// transcode (export_test.go).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
)

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
	in, out := DecodedDuration(t, src), DecodedDuration(t, got.Path)
	if d := out - in; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("decoded duration: got %v, want %v (the input's) within 50ms", out, in)
	}
	if d := got.Podcast.Duration - in; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("probed duration: got %v, want %v within 50ms", got.Podcast.Duration, in)
	}
	lufs, _, peak := ebur128(t, got.Path)
	if lufs < ffmpeg.TargetLoudness-0.5 || lufs > ffmpeg.TargetLoudness+0.5 {
		t.Errorf("integrated loudness: got %.1f LUFS, want %.0f +/- 0.5", lufs, ffmpeg.TargetLoudness)
	}
	if peak > ffmpeg.TargetTruePeak {
		t.Errorf("true peak: got %.1f dBTP, want <= %.0f", peak, ffmpeg.TargetTruePeak)
	}
	if got.LoudnessBefore == nil || got.LoudnessAfter == nil {
		t.Fatalf("loudness before, after: got %v, %v, want both", got.LoudnessBefore, got.LoudnessAfter)
	}
	if a := got.LoudnessAfter.Integrated; a < ffmpeg.TargetLoudness-1 || a > ffmpeg.TargetLoudness+1 {
		t.Errorf("reported loudness after: got %.1f, want %.0f +/- 1", a, ffmpeg.TargetLoudness)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("original: %v, want it kept", err)
	}
}

func TestPrepareTranscodes(t *testing.T) {
	for _, f := range Fixtures(t) {
		if !f.Transcode {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			orig, err := Probe(t.Context(), f.Path)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var steps []float64
			progress := func(x float64) { mu.Lock(); steps = append(steps, x); mu.Unlock() }
			got, err := ffmpeg.New("", 1).Prepare(t.Context(), f.Path, t.TempDir(), progress)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			checkPodcastMP3(t, f.Path, orig, got)
			if f.Tagged {
				if got.Podcast.Title != WantTags.Title || got.Podcast.Date != WantTags.Date || got.Podcast.Track != WantTags.Track {
					t.Errorf("tags: got %q %q %d, want %q %q %d", got.Podcast.Title, got.Podcast.Date, got.Podcast.Track,
						WantTags.Title, WantTags.Date, WantTags.Track)
				}
			}
			if f.Cover && got.Podcast.Picture == nil {
				t.Errorf("cover: got none, want the original's")
			}
			if f.Chapters && len(got.Podcast.Chapters) != len(WantChapters) {
				t.Errorf("chapters: got %d, want %d", len(got.Podcast.Chapters), len(WantChapters))
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
		f := FixtureNamed(t, name)
		// A missing ffmpeg does not matter for MP3 and M4A.
		tr := &ffmpeg.Runner{Path: filepath.Join(t.TempDir(), "no-ffmpeg")}
		got, err := tr.Prepare(t.Context(), f.Path, t.TempDir(), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Transcoded || got.Path != f.Path || got.Podcast != got.Original {
			t.Errorf("%s: got transcoded %v at %s, want the original as is", name, got.Transcoded, got.Path)
		}
	}
}

func TestPrepareWithoutFFmpeg(t *testing.T) {
	f := FixtureNamed(t, "tagged.flac")
	tr := &ffmpeg.Runner{Path: filepath.Join(t.TempDir(), "no-ffmpeg")}
	_, err := tr.Prepare(t.Context(), f.Path, t.TempDir(), nil)
	if !errors.Is(err, ffmpeg.ErrMissing) {
		t.Fatalf("got %v, want ffmpeg.ErrMissing", err)
	}
}

func TestPrepareCancel(t *testing.T) {
	f := FixtureNamed(t, "Mixdown.wav")
	ctx, cancel := context.WithCancel(t.Context())
	dir := t.TempDir()
	tr := &ffmpeg.Runner{}
	progress := func(x float64) {
		if x > 0.3 {
			cancel()
		}
	}
	_, err := tr.Prepare(ctx, f.Path, dir, progress)
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
	FFmpeg(t, "-f", "lavfi", "-i", speechLike(seconds), "-f", "s24le", "-c:a", "pcm_s24le", raw)
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(raw)
	if err := os.WriteFile(path, WAVFile(1, 48000, 24, data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTranscodeMixdown transcodes three minutes of a Mumble-like
// recording; BenchmarkTranscode45Min does the same with 45 minutes.
func TestTranscodeMixdown(t *testing.T) {
	NeedTool(t, "ffmpeg")
	dir := t.TempDir()
	src := filepath.Join(dir, "Mixdown.wav")
	mumbleMixdown(t, src, 180)
	orig, err := Probe(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&ffmpeg.Runner{}).Prepare(t.Context(), src, "", nil)
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
	FFmpeg(t, "-f", "lavfi", "-i", "testsrc=duration=3:size=64x64:rate=10", "-f", "lavfi", "-i", speechLike(3),
		"-c:v", "mpeg4", "-c:a", "aac", "-ac", "1", src)
	orig, err := Probe(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !orig.Video || !orig.NeedsTranscode() {
		t.Fatalf("got video %v, needs transcode %v, want both true", orig.Video, orig.NeedsTranscode())
	}
	got, err := (&ffmpeg.Runner{}).Prepare(t.Context(), src, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkPodcastMP3(t, src, orig, got)
}

// BenchmarkTranscode45Min transcodes a 45-minute Mumble-like recording
// (24-bit mono 48 kHz WAV) and checks the MP3: -16 +/- 1 LUFS, true peak
// at most -1 dBTP, duration within 50 ms of the input. It takes minutes.
func BenchmarkTranscode45Min(b *testing.B) {
	src := BenchFile(b, "wav", "-f", "lavfi", "-i", speechLike(2700), "-ac", "1", "-c:a", "pcm_s24le")
	orig, err := Probe(b.Context(), src)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, err := (&ffmpeg.Runner{}).Prepare(b.Context(), src, b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		checkPodcastMP3(b, src, orig, got)
		lufs, _, peak := ebur128(b, got.Path)
		b.ReportMetric(lufs, "LUFS")
		b.ReportMetric(peak, "dBTP")
		b.ReportMetric(float64(got.Podcast.Duration-orig.Duration)/float64(time.Millisecond), "duration-diff-ms")
		b.StartTimer()
	}
}

// TestTranscodeLimitsPeaks transcodes quiet recordings with loud short
// bursts: the gain to -16 LUFS would put the bursts far over -1 dBTP, so
// the limiter must hold them while the loudness reaches its target.
func TestTranscodeLimitsPeaks(t *testing.T) {
	const bursts = "+0.7*lt(mod(t,3),0.004)*sin(2*PI*1000*t)" // 4 ms at -3 dBFS every 3 s
	for _, c := range []struct{ name, source, codec string }{
		{"speech.wav", fmt.Sprintf("anoisesrc=color=pink:sample_rate=48000:amplitude=0.6:duration=30:seed=7,aeval='0.25*val(0)*%s%s':c=same",
			speechEnvelope, bursts), "pcm_s24le"},
		{"music.flac", fmt.Sprintf("aevalsrc='0.05*(%s)%s|0.05*(%s)%s':s=44100:d=20", chordsLeft, bursts, chordsRight, bursts), "flac"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), c.name)
			FFmpeg(t, "-f", "lavfi", "-i", c.source, "-c:a", c.codec, src)
			orig, err := Probe(t.Context(), src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ffmpeg.New("", 1).Prepare(t.Context(), src, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, a := got.LoudnessBefore, got.LoudnessAfter
			t.Logf("before %.2f LUFS, %.2f dBTP; after %.2f LUFS, %.2f dBTP", b.Integrated, b.TruePeak, a.Integrated, a.TruePeak)
			if gain := ffmpeg.TargetLoudness - b.Integrated; b.TruePeak+gain < 6 {
				t.Fatalf("source: %.1f LUFS, true peak %.1f dBTP: the gain would not push the peaks far over -1 dBTP, a weak test",
					b.Integrated, b.TruePeak)
			}
			checkPodcastMP3(t, src, orig, got)
			if a.TruePeak > ffmpeg.TargetTruePeak {
				t.Errorf("reported true peak after: got %.1f dBTP, want <= %.0f", a.TruePeak, ffmpeg.TargetTruePeak)
			}
		})
	}
}

// TestTranscodeSilence: a silent recording cannot be normalised; it gets
// ErrSilent and leaves no MP3.
func TestTranscodeSilence(t *testing.T) {
	src := filepath.Join(t.TempDir(), "silence.flac")
	FFmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "5", "-c:a", "flac", src)
	dir := t.TempDir()
	_, err := ffmpeg.New("", 1).Prepare(t.Context(), src, dir, nil)
	if !errors.Is(err, ffmpeg.ErrSilent) {
		t.Fatalf("got %v, want ffmpeg.ErrSilent", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("got %d files left in the output folder, want none", len(entries))
	}
}

// TestTranscodeEncodesOnce: the level is right the first time, whether the
// gain alone does it or the limiter must hold the peaks: ffmpeg encodes
// one MP3 (besides the encoder's calibration, once per format, and the
// trial of a 20 s excerpt, which encode to a pipe), and never runs a
// filter of its own on the sound.
func TestTranscodeEncodesOnce(t *testing.T) {
	bin := NeedTool(t, "ffmpeg")
	dir := t.TempDir()
	log := filepath.Join(dir, "ffmpeg.log")
	wrapper := filepath.Join(dir, "ffmpeg")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >>%q\nexec %q \"$@\"\n", log, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	const bursts = "+0.7*lt(mod(t,3),0.004)*sin(2*PI*1000*t)"
	for _, c := range []struct{ name, source, codec string }{
		{"gain.wav", speechLike(60), "pcm_s24le"},
		{"limited.flac", fmt.Sprintf("aevalsrc='0.05*(%s)%s|0.05*(%s)%s':s=44100:d=20", chordsLeft, bursts, chordsRight, bursts), "flac"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(log)
			src := filepath.Join(t.TempDir(), c.name)
			FFmpeg(t, "-f", "lavfi", "-i", c.source, "-c:a", c.codec, src)
			orig, err := Probe(t.Context(), src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ffmpeg.New(wrapper, 1).Prepare(t.Context(), src, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkPodcastMP3(t, src, orig, got)
			calls, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			var encodes int
			for _, call := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
				if strings.Contains(call, " -af ") || strings.Contains(call, " -filter") {
					t.Errorf("ffmpeg filters the sound: %s", call)
				}
				if strings.Contains(call, "libmp3lame") && !strings.HasSuffix(call, "pipe:1") {
					encodes++
				}
			}
			if encodes != 1 {
				t.Errorf("got %d encodes to MP3, want 1:\n%s", encodes, calls)
			}
		})
	}
}

// TestPrepareMeasuredOnlyEncodes: a WAV measured as it arrived
// (audio.WAVMeter) is decoded once, for its encode: the measure pass is
// skipped. Without the meter it is decoded twice.
func TestPrepareMeasuredOnlyEncodes(t *testing.T) {
	bin := NeedTool(t, "ffmpeg")
	dir := t.TempDir()
	log := filepath.Join(dir, "ffmpeg.log")
	wrapper := filepath.Join(dir, "ffmpeg")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >>%q\nexec %q \"$@\"\n", log, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "Mixdown.wav")
	mumbleMixdown(t, src, 60)
	orig, err := Probe(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, measured := range []bool{true, false} {
		os.Remove(log)
		var m *Meter
		if measured {
			w := NewWAVMeter()
			w.Write(data)
			if m = w.Meter(); m == nil {
				t.Fatal("the WAV was not measured")
			}
		}
		got, err := ffmpeg.New(wrapper, 1).PrepareMeasured(t.Context(), src, t.TempDir(), m, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkPodcastMP3(t, src, orig, got)
		calls, _ := os.ReadFile(log)
		var decodes int
		for _, call := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
			if strings.Contains(call, "-i "+src+" ") && !strings.Contains(call, "-ss") && strings.HasSuffix(call, "pipe:1") {
				decodes++
			}
		}
		if want := map[bool]int{true: 1, false: 2}[measured]; decodes != want {
			t.Errorf("measured %v: got %d decodes of the WAV, want %d:\n%s", measured, decodes, want, calls)
		}
	}
}
