package audio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// id3Tag is an ID3v2.3 tag of the given frames (ID and body each).
func id3Tag(frames ...[2]string) []byte {
	var body bytes.Buffer
	for _, f := range frames {
		body.WriteString(f[0])
		binary.Write(&body, binary.BigEndian, uint32(len(f[1])))
		body.Write([]byte{0, 0})
		body.WriteString(f[1])
	}
	n := body.Len()
	head := []byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
	return append(head, body.Bytes()...)
}

// bareMP3 is the audio of the bare.mp3 fixture (no tag).
func bareMP3(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtureNamed(t, "bare.mp3").path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestID3FrameBudget gives MP3 files tags of many repeated TXXX and CHAP
// frames (quadratic work inside dhowden/tag): over the budget the file is
// refused with a message naming the frames, under it the tags are read.
func TestID3FrameBudget(t *testing.T) {
	audio := bareMP3(t)
	repeat := func(id string, n int) [][2]string {
		fs := make([][2]string, n)
		for i := range fs {
			fs[i] = [2]string{id, "\x00desc\x00value"}
		}
		return fs
	}
	for _, tc := range []struct {
		name   string
		frames [][2]string
		want   string // "" when accepted
	}{
		{"many TXXX", repeat("TXXX", 20000), "more than 500 TXXX frames"},
		{"many CHAP", repeat("CHAP", 3000), "more than 500 CHAP frames"},
		{"many frames", append(append(repeat("TXXX", 400), repeat("COMM", 400)...), append(append(repeat("PRIV", 400), repeat("GEOB", 400)...), append(repeat("WXXX", 400), repeat("TIT3", 400)...)...)...), "more than 2000 frames"},
		{"a fair tag", append(repeat("TXXX", 300), [2]string{"TIT2", "\x00Le titre"}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := append(id3Tag(tc.frames...), audio...)
			p, err := ProbeReader(bytes.NewReader(file), int64(len(file)))
			if tc.want == "" {
				if err != nil || p.Title != "Le titre" {
					t.Fatalf("got %v, title %q; want the tags read", err, p.Title)
				}
				return
			}
			var ua *UnsupportedAudioError
			if !errors.As(err, &ua) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an UnsupportedAudioError saying %q", err, tc.want)
			}
		})
	}
}

// TestProbeHonoursContext probes with a context already done: it stops at
// once with the context's error.
func TestProbeHonoursContext(t *testing.T) {
	path := fixtureNamed(t, "cbr-info.mp3").path
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Probe(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestLowSampleRateRefused: a WAV at 4 kHz holds much audio in few bytes;
// it is refused, and 8 kHz is accepted.
func TestLowSampleRateRefused(t *testing.T) {
	for _, tc := range []struct {
		rate int
		ok   bool
	}{{1000, false}, {4000, false}, {7999, false}, {8000, true}} {
		file := wavFile(1, tc.rate, 16, make([]byte, 2*tc.rate))
		_, err := ProbeReader(bytes.NewReader(file), int64(len(file)))
		if tc.ok != (err == nil) {
			t.Errorf("%d Hz: got %v, want accepted=%v", tc.rate, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "under the 8000 Hz") {
			t.Errorf("%d Hz: message %q does not say why", tc.rate, err)
		}
	}
}

// TestXingClaimingTooMuch patches the Xing/Info header of an MP3 to claim
// 999 hours: the header is not trusted and the duration is the real one.
func TestXingClaimingTooMuch(t *testing.T) {
	file, err := os.ReadFile(fixtureNamed(t, "cbr-info.mp3").path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(file, []byte("Info"))
	if i < 0 || binary.BigEndian.Uint32(file[i+4:])&1 == 0 {
		t.Fatal("no Info header with a frame count in the fixture")
	}
	frames := uint32(999 * 3600 * 44100 / 1152)
	binary.BigEndian.PutUint32(file[i+8:], frames)
	p, err := ProbeReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Duration - 3*time.Second; d > 100*time.Millisecond || d < -100*time.Millisecond {
		t.Errorf("got %s, want the real 3 s", p.Duration)
	}
}
