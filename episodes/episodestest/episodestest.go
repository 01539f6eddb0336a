// Package episodestest makes real recordings for the tests of the packages
// that use episodes: short tones encoded by ffmpeg, with tags.
package episodestest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// NeedTool returns the path of the program name (ffmpeg, ffprobe,
// icecast2...). Without it the test is skipped, or fails when the CI
// variable is set: make deps installs every program the tests use.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI (make deps installs it): %v", name, err)
		}
		t.Skipf("%s not found, skipping: %v", name, err)
	}
	return p
}

// FFmpeg returns the path of ffmpeg, as NeedTool.
func FFmpeg(t testing.TB) string {
	t.Helper()
	return NeedTool(t, "ffmpeg")
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
// its path. The file is t's own: tests may change or remove it.
func Make(t testing.TB, r Recording) string {
	t.Helper()
	data := Bytes(t, r)
	if r.Format == "" {
		r.Format = "bin"
	}
	path := filepath.Join(t.TempDir(), "recording."+r.Format)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// made caches the bytes of the recordings made by this test binary, by
// Recording: ffmpeg runs once for each, whatever the number of tests.
var made sync.Map // string -> *madeRecording

type madeRecording struct {
	once sync.Once
	data []byte
	err  error
}

// Bytes returns the bytes of the recording, made by ffmpeg on first use
// and shared afterwards: callers must not change the slice.
func Bytes(t testing.TB, r Recording) []byte {
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
	keys := make([]string, 0, len(r.Tags))
	for k := range r.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	id := fmt.Sprintf("%s %g %d", r.Format, r.Seconds, r.Frequency)
	for _, k := range keys {
		id += fmt.Sprintf(" %q=%q", k, r.Tags[k])
	}
	v, _ := made.LoadOrStore(id, &madeRecording{})
	m := v.(*madeRecording)
	m.once.Do(func() {
		rate := 44100
		if r.Format == "opus" {
			rate = 48000
		}
		dir, err := os.MkdirTemp("", "episodestest-")
		if err != nil {
			m.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "recording."+r.Format)
		args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=%d:duration=%g", r.Frequency, rate, r.Seconds)}
		for _, k := range keys {
			args = append(args, "-metadata", k+"="+r.Tags[k])
		}
		args = append(args, codec...)
		args = append(args, path)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			m.err = fmt.Errorf("ffmpeg %v: %v\n%s", args, err, out)
			return
		}
		m.data, m.err = os.ReadFile(path)
	})
	if m.err != nil {
		t.Fatalf("episodestest: %v", m.err)
	}
	return m.data
}

// BigMP3 writes an MP3 of about size bytes into a new temporary folder of
// t: a 10-second 320 kb/s tone without tags or Xing header, repeated (MP3
// frames concatenate), for tests of large uploads.
func BigMP3(t testing.TB, size int) string {
	t.Helper()
	bin := FFmpeg(t)
	dir := t.TempDir()
	unit := filepath.Join(dir, "unit.mp3")
	out, err := exec.Command(bin, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", "sine=frequency=330:duration=10", "-c:a", "libmp3lame", "-b:a", "320k",
		"-write_xing", "0", "-id3v2_version", "0", "-map_metadata", "-1", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	frames, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.mp3")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for written := 0; written < size; written += len(frames) {
		if _, err := f.Write(frames); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return big
}
