package audio_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// meterRecording is a recording made by ffmpeg for the meter's tests.
type meterRecording struct {
	name     string
	rate     int
	channels int
	// source is an ffmpeg lavfi graph giving the signal at rate with
	// channels, codec how the file is encoded.
	source string
	codec  []string
}

// Signals built from ffmpeg's sources, with expressions inside quotes so
// that their commas stay theirs.
const (
	// speechEnvelope shapes syllables of 2.5 per second into phrases of
	// five seconds separated by two of near silence.
	speechEnvelope = "(0.1+0.9*pow(abs(sin(2*PI*2.5*t)),3))*lt(mod(t,7),5)"
	// chords is a dense, slowly moving music-like mix.
	chordsLeft  = "0.22*sin(2*PI*110*t)+0.18*sin(2*PI*277.2*t)+0.15*sin(2*PI*329.6*t+2*sin(2*PI*0.5*t))+0.08*sin(2*PI*1760*t)*(0.6+0.4*sin(2*PI*0.2*t))+0.12*(random(0)-0.5)"
	chordsRight = "0.2*sin(2*PI*164.8*t)+0.18*sin(2*PI*220*t)+0.14*sin(2*PI*440*t+3*sin(2*PI*0.3*t))+0.06*sin(2*PI*3520*t)*(0.5+0.5*sin(2*PI*0.13*t))+0.12*(random(1)-0.5)"
)

func speech(rate, seconds int, seed int, gain string) string {
	return fmt.Sprintf("anoisesrc=color=pink:sample_rate=%d:amplitude=0.6:duration=%d:seed=%d,aeval='val(0)*%s':c=same,volume=%s",
		rate, seconds, seed, speechEnvelope, gain)
}

func meterRecordings() []meterRecording {
	wav24 := []string{"-c:a", "pcm_s24le"}
	wav16 := []string{"-c:a", "pcm_s16le"} // clips what goes over 0 dBFS
	flac := []string{"-c:a", "flac"}
	return []meterRecording{
		{"speech mono 48k", 48000, 1, speech(48000, 45, 1, "0dB"), wav24},
		{"speech stereo 44.1k", 44100, 2,
			fmt.Sprintf("anoisesrc=color=pink:sample_rate=44100:amplitude=0.6:duration=40:seed=2,aeval='val(0)*%s|0.5*val(0)*%s':c=stereo",
				speechEnvelope, speechEnvelope), flac},
		{"quiet speech mono 44.1k", 44100, 1, speech(44100, 30, 3, "-30dB"), wav24},
		{"music stereo 48k", 48000, 2,
			fmt.Sprintf("aevalsrc='%s|%s':s=48000:d=40", chordsLeft, chordsRight), flac},
		{"music mono 44.1k", 44100, 1,
			fmt.Sprintf("aevalsrc='%s':s=44100:d=40,volume=-6dB", chordsLeft), wav24},
		{"sine sweep mono 48k", 48000, 1,
			"aevalsrc='0.3*sin(2*PI*20*20/log(1000)*(exp(t*log(1000)/20)-1))':s=48000:d=20", wav24},
		{"sine sweep stereo 44.1k", 44100, 2,
			"aevalsrc='0.3*sin(2*PI*20*20/log(1000)*(exp(t*log(1000)/20)-1))|0.2*sin(2*PI*1000*t)':s=44100:d=20", flac},
		{"silence-heavy mono 48k", 48000, 1,
			fmt.Sprintf("anoisesrc=color=brown:sample_rate=48000:amplitude=0.5:duration=60:seed=4,aeval='val(0)*lt(mod(t,12),1.5)+0.0002*(random(0)-0.5)':c=same"), wav24},
		{"clipped speech mono 48k", 48000, 1, speech(48000, 30, 5, "18dB"), wav16},
		{"clipped music stereo 44.1k", 44100, 2,
			fmt.Sprintf("aevalsrc='%s|%s':s=44100:d=30,volume=12dB", chordsLeft, chordsRight), wav16},
	}
}

var (
	summaryI    = regexp.MustCompile(`I:\s+(-?[0-9.]+|-inf) LUFS`)
	summaryLRA  = regexp.MustCompile(`LRA:\s+(-?[0-9.]+) LU\b`)
	summaryPeak = regexp.MustCompile(`Peak:\s+(-?[0-9.]+|-inf) dBFS`)
)

// ebur128 measures the first audio stream of path with ffmpeg's ebur128
// filter and reads its summary: integrated loudness, loudness range and
// true peak.
func ebur128(t testing.TB, path string) (integrated, lra, peak float64) {
	t.Helper()
	bin := episodestest.FFmpeg(t)
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
	return last(summaryI), last(summaryLRA), last(summaryPeak)
}

// meterFile decodes path with ffmpeg to float32 PCM at its own rate and
// measures it with a Meter.
func meterFile(t *testing.T, bin, path string, rate, channels int) *audio.Meter {
	t.Helper()
	m, err := audio.NewMeter(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
		"-f", "f32le", "-ac", strconv.Itoa(channels), "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pcm, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(m, pcm); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("decode %s: %v\n%s", path, err, stderr.Bytes())
	}
	return m
}

// TestMeterAgreesWithFFmpeg measures recordings of every kind the service
// meets with the meter and with ffmpeg's ebur128 filter: integrated
// loudness and range must agree within 0.2 LU, true peak within 0.3 dB.
func TestMeterAgreesWithFFmpeg(t *testing.T) {
	bin := episodestest.FFmpeg(t)
	dir := t.TempDir()
	for i, r := range meterRecordings() {
		t.Run(r.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("%d.%s", i, map[bool]string{true: "flac", false: "wav"}[r.codec[1] == "flac"]))
			args := append([]string{"-f", "lavfi", "-i", r.source, "-ar", strconv.Itoa(r.rate), "-ac", strconv.Itoa(r.channels)}, r.codec...)
			audio.FFmpeg(t, append(args, path)...)
			wantI, wantLRA, wantPeak := ebur128(t, path)
			m := meterFile(t, bin, path, r.rate, r.channels)
			gotI, gotLRA, gotPeak := m.Integrated(), m.Range(), m.TruePeak()
			t.Logf("integrated %.2f LUFS (ffmpeg %.1f), range %.2f LU (ffmpeg %.1f), true peak %.2f dBTP (ffmpeg %.1f), sample peak %.2f dBFS",
				gotI, wantI, gotLRA, wantLRA, gotPeak, wantPeak, m.SamplePeak())
			if math.Abs(gotI-wantI) > 0.2 {
				t.Errorf("integrated loudness: got %.2f LUFS, want %.1f (ffmpeg) within 0.2", gotI, wantI)
			}
			if math.Abs(gotLRA-wantLRA) > 0.2 {
				t.Errorf("loudness range: got %.2f LU, want %.1f (ffmpeg) within 0.2", gotLRA, wantLRA)
			}
			if math.Abs(gotPeak-wantPeak) > 0.3 {
				t.Errorf("true peak: got %.2f dBTP, want %.1f (ffmpeg) within 0.3", gotPeak, wantPeak)
			}
		})
	}
}

// pcm encodes samples as little-endian float32.
func pcm(samples []float64) []byte {
	b := make([]byte, 4*len(samples))
	for i, v := range samples {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(v)))
	}
	return b
}

// sine returns seconds of a sine of the given frequency, amplitude and
// phase (radians) at rate, on channels identical channels, interleaved.
func sine(rate, channels int, seconds, freq, amplitude, phase float64) []float64 {
	n := int(seconds * float64(rate))
	s := make([]float64, 0, n*channels)
	for i := range n {
		v := amplitude * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)+phase)
		for range channels {
			s = append(s, v)
		}
	}
	return s
}

// dBFS is the amplitude of a sine at level dB under full scale.
func dBFS(level float64) float64 { return math.Pow(10, level/20) }

func measure(t *testing.T, rate, channels int, samples []float64) *audio.Meter {
	t.Helper()
	m, err := audio.NewMeter(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	m.Write(pcm(samples))
	return m
}

// tone is a stereo 1 kHz sine at level dBFS for seconds, a part of an EBU
// test signal.
type tone struct{ seconds, level float64 }

// TestMeterEBUCases runs test signals of EBU Tech 3341 and 3342 (stereo
// 1 kHz sines) whose expected values the standards give, at 48 kHz, and
// the first of each at other rates: the K-weighting is derived per rate.
func TestMeterEBUCases(t *testing.T) {
	cases := []struct {
		name                 string
		tones                []tone
		integrated, lra, tol float64
	}{
		// Tech 3341 case 1: -23 dBFS gives -23 LUFS.
		{"3341-1", []tone{{20, -23}}, -23, 0, 0.1},
		// Tech 3341 case 3: the quiet parts fall under the relative gate.
		{"3341-3", []tone{{10, -36}, {60, -23}, {10, -36}}, -23, math.NaN(), 0.1},
		// Tech 3341 case 5: -26, -20, -26 dBFS give -23 LUFS.
		{"3341-5", []tone{{20, -26}, {20.1, -20}, {20, -26}}, -23, math.NaN(), 0.1},
		// Tech 3342 cases 1 to 3: LRA 10, 5 and 20 LU (+/- 1).
		{"3342-1", []tone{{20, -20}, {20, -30}}, math.NaN(), 10, 1},
		{"3342-2", []tone{{20, -20}, {20, -15}}, math.NaN(), 5, 1},
		{"3342-3", []tone{{20, -40}, {20, -20}}, math.NaN(), 20, 1},
		// Tech 3342 case 4: -50 dBFS falls under the range's relative gate.
		{"3342-4", []tone{{20, -50}, {20, -35}, {20, -20}, {20, -35}, {20, -50}}, math.NaN(), 15, 1},
	}
	// Under the race detector, which makes the meter some fifty times
	// slower, the signals are cut to a quarter (the gates see proportions)
	// and case 3342-4, whose 3 s transitions would then weigh too much in
	// its percentiles, is left out: `make test` runs this test again
	// without -race, and with it the whole signals and case 3342-4.
	scale := 1.0
	if raceDetector {
		scale = 0.25
	}
	for _, rate := range []int{48000, 44100, 32000, 96000} {
		for i, c := range cases {
			if rate != 48000 && i != 0 && i != 3 || raceDetector && c.name == "3342-4" {
				continue
			}
			m, err := audio.NewMeter(rate, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, tn := range c.tones {
				// A second at a time: a whole signal would take hundreds of
				// megabytes under the race detector.
				seconds := tn.seconds * scale
				for s := 0.0; s < seconds; s++ {
					m.Write(pcm(sine(rate, 2, min(1, seconds-s), 1000, dBFS(tn.level), 2*math.Pi*1000*s)))
				}
			}
			if got := m.Integrated(); !math.IsNaN(c.integrated) && math.Abs(got-c.integrated) > c.tol {
				t.Errorf("%s at %d Hz: integrated: got %.2f LUFS, want %.0f +/- %.1f", c.name, rate, got, c.integrated, c.tol)
			}
			if got := m.Range(); !math.IsNaN(c.lra) && math.Abs(got-c.lra) > c.tol {
				t.Errorf("%s at %d Hz: range: got %.2f LU, want %.0f +/- %.1f", c.name, rate, got, c.lra, c.tol)
			}
		}
	}
}

// TestMeterTruePeak checks the oversampling on a sine at a quarter of the
// rate sampled 45 degrees off its crests (Tech 3341 case 15's idea): the
// samples sit 3 dB under the true peak. In stereo, the other channel is a
// quieter tone, before or after the peaking one.
func TestMeterTruePeak(t *testing.T) {
	peaking := sine(48000, 1, 2, 12000, 0.5, math.Pi/4)
	for i := range 4800 { // fade in: a sudden start would ring over the peak
		peaking[i] *= (1 - math.Cos(math.Pi*float64(i)/4800)) / 2
	}
	quiet := sine(48000, 1, 2, 1000, 0.2, 0)
	stereo := func(l, r []float64) []float64 {
		s := make([]float64, 0, 2*len(l))
		for i := range l {
			s = append(s, l[i], r[i])
		}
		return s
	}
	want := 20 * math.Log10(0.5)
	for _, c := range []struct {
		name     string
		channels int
		samples  []float64
	}{
		{"mono", 1, peaking},
		{"left", 2, stereo(peaking, quiet)},
		{"right", 2, stereo(quiet, peaking)},
	} {
		m := measure(t, 48000, c.channels, c.samples)
		if got := m.SamplePeak(); math.Abs(got-(want-3.01)) > 0.05 {
			t.Errorf("%s: sample peak: got %.2f dBFS, want %.2f", c.name, got, want-3.01)
		}
		if got := m.TruePeak(); math.Abs(got-want) > 0.05 {
			t.Errorf("%s: true peak: got %.2f dBTP, want %.2f +/- 0.05", c.name, got, want)
		}
	}
}

// TestMeterSilence: digital silence and non-finite samples have no
// loudness, no range and no peak.
func TestMeterSilence(t *testing.T) {
	s := make([]float64, 48000*5)
	for i := range s {
		if i%3 == 0 {
			s[i] = math.NaN()
		}
	}
	m := measure(t, 48000, 1, s)
	if i, r, p := m.Integrated(), m.Range(), m.TruePeak(); !math.IsInf(i, -1) || r != 0 || !math.IsInf(p, -1) {
		t.Errorf("got integrated %v, range %v, true peak %v; want -Inf, 0, -Inf", i, r, p)
	}
	if m.Frames() != int64(len(s)) {
		t.Errorf("frames: got %d, want %d", m.Frames(), len(s))
	}
}

// TestMeterWritesSplitAnywhere: frames split across writes of any size
// give the same results as one write.
func TestMeterWritesSplitAnywhere(t *testing.T) {
	var s []float64
	for i, level := range []float64{-30, -18, -24, -40, -12} {
		s = append(s, sine(44100, 2, 0.9, 300+200*float64(i), dBFS(level), 0)...)
	}
	whole := measure(t, 44100, 2, s)
	b := pcm(s)
	for _, size := range []int{3, 8, 4095} {
		m, _ := audio.NewMeter(44100, 2)
		for p := b; len(p) > 0; {
			k := min(size, len(p))
			m.Write(p[:k])
			p = p[k:]
		}
		if m.Integrated() != whole.Integrated() || m.Range() != whole.Range() || m.TruePeak() != whole.TruePeak() ||
			m.Frames() != whole.Frames() {
			t.Errorf("writes of %d bytes: got %v %v %v %d, want %v %v %v %d", size,
				m.Integrated(), m.Range(), m.TruePeak(), m.Frames(),
				whole.Integrated(), whole.Range(), whole.TruePeak(), whole.Frames())
		}
	}
}

// TestMeterBoundedMemory: writing allocates nothing, however long the
// recording.
func TestMeterBoundedMemory(t *testing.T) {
	m, _ := audio.NewMeter(48000, 1)
	b := pcm(sine(48000, 1, 1, 440, 0.3, 0))
	if a := testing.AllocsPerRun(10, func() { m.Write(b) }); a != 0 {
		t.Errorf("Write: got %.0f allocations per second of audio, want 0", a)
	}
}

func TestNewMeterRejects(t *testing.T) {
	for _, c := range [][2]int{{48000, 0}, {48000, 3}, {48000, 8}, {0, 1}, {1000, 2}, {1 << 30, 2}} {
		if _, err := audio.NewMeter(c[0], c[1]); err == nil {
			t.Errorf("NewMeter(%d, %d): got no error, want one", c[0], c[1])
		}
	}
}

// speechPCM is a minute of speech-like mono PCM at 48 kHz: noise shaped into
// syllables and phrases with pauses, peaks well above its loudness.
func speechPCM() []byte {
	const rate = 48000
	s := make([]float64, 60*rate)
	seed := uint32(1)
	var lp float64
	for i := range s {
		seed = seed*1664525 + 1013904223
		white := float64(int32(seed)) / (1 << 31)
		lp += 0.2 * (white - lp) // a little low-passed, like a voice
		t := float64(i) / rate
		env := math.Pow(math.Abs(math.Sin(2*math.Pi*2.5*t)), 3)
		if math.Mod(t, 7) > 5 {
			env = 0.01
		}
		s[i] = 0.9 * lp * env
	}
	return pcm(s)
}

// BenchmarkMeter45Minutes measures 45 minutes of 48 kHz PCM; one op is the
// 45 minutes. The target, for speech-like mono (issue 12's Mumble
// recording), is well under 1.5 s of CPU. A stereo sine, near its peak all
// along, is the dearest case: the true-peak filter seldom skips a window.
func BenchmarkMeter45Minutes(b *testing.B) {
	for _, c := range []struct {
		name     string
		channels int
		minute   func() []byte
	}{
		{"speech-mono", 1, speechPCM},
		{"sine-stereo", 2, func() []byte { return pcm(sine(48000, 2, 60, 440, 0.5, 0)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			minute := c.minute()
			b.SetBytes(45 * int64(len(minute)))
			defer reportCPU(b)()
			for b.Loop() {
				m, _ := audio.NewMeter(48000, c.channels)
				for range 45 {
					m.Write(minute)
				}
				m.Loudness()
			}
		})
	}
}

// reportCPU adds the CPU seconds per op to a benchmark's figures: on a
// shared machine they say more than the wall time. Call the function it
// returns when the loop is done.
func reportCPU(b *testing.B) func() {
	var start syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &start)
	return func() {
		var end syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &end)
		cpu := time.Duration(end.Utime.Nano() - start.Utime.Nano() + end.Stime.Nano() - start.Stime.Nano())
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	}
}
