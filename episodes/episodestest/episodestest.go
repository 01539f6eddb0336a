// Package episodestest makes real recordings for the tests of the packages
// that use episodes: short tones encoded by ffmpeg, with tags.
package episodestest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// FFmpeg returns the path of ffmpeg. Without it the test is skipped, or
// fails when the CI variable is set.
func FFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ffmpeg is required under CI: %v", err)
		}
		t.Skipf("ffmpeg not found, skipping: %v", err)
	}
	return p
}

// Recording describes a file to make.
type Recording struct {
	// Format is the file's: "mp3", "m4a", "wav" (24-bit mono, like
	// Mumble's), "flac", "ogg" or "opus".
	Format string
	// Seconds of audio; 3 when zero.
	Seconds float64
	// Frequency of the tone in Hz; 440 when zero. Different frequencies
	// give different bytes.
	Frequency int
	// Tags are written as metadata: title, artist, album, date, comment,
	// track...
	Tags map[string]string
}

var codecs = map[string][]string{
	"mp3":  {"-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "3"},
	"m4a":  {"-c:a", "aac", "-b:a", "64k"},
	"wav":  {"-c:a", "pcm_s24le", "-ac", "1", "-ar", "48000"},
	"flac": {"-c:a", "flac"},
	"ogg":  {"-c:a", "libvorbis", "-q:a", "2"},
	"opus": {"-c:a", "libopus", "-b:a", "48k"},
}

// Make writes the recording into a new temporary folder of t and returns
// its path.
func Make(t testing.TB, r Recording) string {
	t.Helper()
	bin := FFmpeg(t)
	codec, ok := codecs[r.Format]
	if !ok {
		t.Fatalf("episodestest: unknown format %q", r.Format)
	}
	if r.Seconds == 0 {
		r.Seconds = 3
	}
	if r.Frequency == 0 {
		r.Frequency = 440
	}
	path := filepath.Join(t.TempDir(), "recording."+r.Format)
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=44100:duration=%g", r.Frequency, r.Seconds)}
	if r.Format == "opus" {
		args[len(args)-1] = fmt.Sprintf("sine=frequency=%d:sample_rate=48000:duration=%g", r.Frequency, r.Seconds)
	}
	keys := make([]string, 0, len(r.Tags))
	for k := range r.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-metadata", k+"="+r.Tags[k])
	}
	args = append(args, codec...)
	args = append(args, path)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return path
}
