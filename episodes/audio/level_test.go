package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// level plans the levelling of pcm (mono, 48 kHz) to target and ceiling,
// applies it, and returns the plan and the meter of the result.
func level(t *testing.T, pcm []byte, target, ceiling float64, writeSize int) (audio.Leveling, *audio.Meter, int) {
	t.Helper()
	m, _ := audio.NewMeter(48000, 1)
	m.RecordLevels()
	m.Write(pcm)
	plan, err := m.Plan(target, ceiling)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	lv, err := audio.NewLeveler(&out, 48000, 1, plan)
	if err != nil {
		t.Fatal(err)
	}
	for p := pcm; len(p) > 0; {
		k := min(writeSize, len(p))
		lv.Write(p[:k])
		p = p[k:]
	}
	if err := lv.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := audio.NewMeter(48000, 1)
	after.Write(out.Bytes())
	return plan, after, out.Len()
}

// TestLevelRightFirstTime: the plan the meter makes gives the loudness
// asked once applied, with the true peak at most the ceiling, whether the
// gain alone does it or the limiter must hold the peaks; the prediction of
// what the limiter takes off is within 0.15 LU.
func TestLevelRightFirstTime(t *testing.T) {
	speech := speechPCM()
	quiet := scaled(speech, 0.1) // the gain to -16 LUFS pushes its peaks 7 dB over -2 dBTP
	for _, c := range []struct {
		name    string
		pcm     []byte
		ceiling float64
		limit   bool
	}{
		{"gain only", speech, 2, false},
		{"limited", quiet, -2, true},
		{"limited hard", quiet, -5, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, size := range []int{1 << 20, 4093} {
				plan, after, n := level(t, c.pcm, -16, c.ceiling, size)
				got, peak := after.Integrated(), after.TruePeak()
				t.Logf("%v, expected %.2f LUFS: got %.2f LUFS, %.2f dBTP", plan, plan.Expected, got, peak)
				if plan.Limit != c.limit {
					t.Errorf("plan limits: got %v, want %v", plan.Limit, c.limit)
				}
				if math.Abs(got-(-16)) > 0.15 {
					t.Errorf("loudness: got %.2f LUFS, want -16 +/- 0.15", got)
				}
				if peak > c.ceiling+0.05 {
					t.Errorf("true peak: got %.2f dBTP, want at most %.1f", peak, c.ceiling)
				}
				if n != len(c.pcm) {
					t.Errorf("frames: got %d bytes, want %d", n, len(c.pcm))
				}
			}
		})
	}
}

// scaled is float32 PCM times gain.
func scaled(p []byte, gain float64) []byte {
	s := make([]float64, len(p)/4)
	for i := range s {
		s[i] = gain * float64(math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:])))
	}
	return pcm(s)
}

func TestPlanSilent(t *testing.T) {
	m, _ := audio.NewMeter(48000, 1)
	m.RecordLevels()
	m.Write(make([]byte, 4*48000*3))
	if _, err := m.Plan(-16, -2); !errors.Is(err, audio.ErrSilent) {
		t.Fatalf("got %v, want ErrSilent", err)
	}
}

// BenchmarkLeveler45Minutes levels 45 minutes of speech-like mono PCM at
// 48 kHz; one op is the 45 minutes. "gain" only amplifies; "limit" pushes
// the peaks 6 dB over the ceiling, so that the limiter works on most
// syllables.
func BenchmarkLeveler45Minutes(b *testing.B) {
	minute := speechPCM()
	m, _ := audio.NewMeter(48000, 1)
	m.Write(minute)
	peak := m.TruePeak()
	for _, c := range []struct {
		name string
		plan audio.Leveling
	}{
		{"gain", audio.Leveling{Gain: -1 - peak - 1, Ceiling: -1}},
		{"limit", audio.Leveling{Gain: -1 - peak + 6, Limit: true, Ceiling: -1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(45 * int64(len(minute)))
			defer reportCPU(b)()
			for b.Loop() {
				lv, err := audio.NewLeveler(io.Discard, 48000, 1, c.plan)
				if err != nil {
					b.Fatal(err)
				}
				for range 45 {
					lv.Write(minute)
				}
				lv.Close()
			}
		})
	}
}

// TestWAVMeterAgrees: a WAV measured from its bytes as they arrive, in
// writes of any size, measures as its PCM decoded by ffmpeg does; what it
// does not measure (not a WAV, more than two channels) gives no meter.
func TestWAVMeterAgrees(t *testing.T) {
	bin := episodestest.FFmpeg(t)
	dir := t.TempDir()
	source := speech(48000, 20, 9, "-6dB")
	for _, c := range []struct {
		name     string
		channels int
		args     []string
		measured bool
	}{
		{"s16 mono", 1, []string{"-c:a", "pcm_s16le"}, true},
		{"s24 stereo", 2, []string{"-c:a", "pcm_s24le"}, true},
		{"f32 mono", 1, []string{"-c:a", "pcm_f32le"}, true},
		{"s32 stereo extensible", 2, []string{"-c:a", "pcm_s32le", "-rf64", "never", "-write_bext", "1"}, true},
		{"5.1", 6, []string{"-c:a", "pcm_s16le"}, false},
		{"flac", 1, []string{"-c:a", "flac", "-f", "flac"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".wav")
			args := append([]string{"-f", "lavfi", "-i", source, "-ac", strconv.Itoa(c.channels)}, c.args...)
			audio.FFmpeg(t, append(args, path)...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{7, 65537} {
				w := audio.NewWAVMeter()
				for p := data; len(p) > 0; {
					k := min(size, len(p))
					w.Write(p[:k])
					p = p[k:]
				}
				got := w.Meter()
				if !c.measured {
					if got != nil {
						t.Fatalf("writes of %d: got a meter, want none", size)
					}
					continue
				}
				if got == nil {
					t.Fatalf("writes of %d: got no meter", size)
				}
				want := meterFile(t, bin, path, 48000, c.channels)
				if math.Abs(got.Integrated()-want.Integrated()) > 0.01 || math.Abs(got.TruePeak()-want.TruePeak()) > 0.01 || got.Frames() != want.Frames() {
					t.Errorf("writes of %d: got %.3f LUFS %.3f dBTP %d frames, want %.3f %.3f %d (ffmpeg's PCM)", size,
						got.Integrated(), got.TruePeak(), got.Frames(), want.Integrated(), want.TruePeak(), want.Frames())
				}
			}
		})
	}
}
