package audio_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// TestFFmpegCheck: Check names the ffmpeg it found and its version, and
// says ErrMissing for a path with no ffmpeg or a program that is not one.
func TestFFmpegCheck(t *testing.T) {
	bin := episodestest.FFmpeg(t)
	path, version, err := ffmpeg.New(bin, 1).Check(t.Context())
	if err != nil || path != bin || !strings.HasPrefix(version, "ffmpeg version ") {
		t.Errorf("Check() = %q, %q, %v; want %q and its version", path, version, err, bin)
	}

	_, _, err = ffmpeg.New(filepath.Join(t.TempDir(), "ffmpeg"), 1).Check(t.Context())
	if !errors.Is(err, ffmpeg.ErrMissing) {
		t.Errorf("no ffmpeg: got %v, want ErrMissing", err)
	}

	impostor := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(impostor, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err = ffmpeg.New(impostor, 1).Check(t.Context()); !errors.Is(err, ffmpeg.ErrMissing) {
		t.Errorf("a program that is not ffmpeg: got %v, want ErrMissing", err)
	}
}
