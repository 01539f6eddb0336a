package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes/episodestest"
)

// makeMP3 writes a tagged three-second mono MP3 with ffmpeg.
func makeMP3(t *testing.T) string {
	return episodestest.Make(t, episodestest.Recording{Format: "mp3", Tags: map[string]string{"title": "Les communs", "date": "2020-10-02"}})
}

func runProbeCLI(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var o, e bytes.Buffer
	err := run(t.Context(), append([]string{"probe"}, args...), &env{
		stdin: strings.NewReader(""), stdout: &o, stderr: &e,
		getenv: func(string) string { return "" },
	})
	status = report(err, &e)
	return o.String(), e.String(), status
}

func TestProbeCommandJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mp3 := makeMP3(t)
	png := filepath.Join(dir, "cover.mp3")
	if err := os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, status := runProbeCLI(t, mp3, png, "--json")
	if status != 1 {
		t.Errorf("exit status: got %d, want 1 (a file was refused)", status)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d JSON lines, want 2:\n%s", len(lines), stdout)
	}
	got := lines[0]
	want := map[string]any{
		"file": mp3, "format": "mp3", "codec": "mp3", "duration_seconds": 3.0, "bitrate": 64000.0,
		"sample_rate": 44100.0, "channels": 1.0, "title": "Les communs", "date": "2020-10-02", "transcode": false,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
	if s, _ := got["sha256"].(string); len(s) != 64 {
		t.Errorf("sha256: got %q, want 64 hex digits", s)
	}
	if _, ok := got["error"]; ok {
		t.Errorf("error: got %v, want none", got["error"])
	}
	if lines[1]["kind"] != "png" || !strings.Contains(lines[1]["error"].(string), "PNG image") {
		t.Errorf("refused file: got %v, want kind png and an error naming a PNG image", lines[1])
	}
	if !strings.Contains(stdout, `"duration_seconds":3.000,`) {
		t.Errorf("duration_seconds: want millisecond precision (3.000) in %s", stdout)
	}
}

func TestProbeCommandText(t *testing.T) {
	t.Parallel()
	mp3 := makeMP3(t)
	stdout, stderr, status := runProbeCLI(t, mp3)
	if status != 0 {
		t.Fatalf("exit status: got %d, want 0; stderr: %s", status, stderr)
	}
	for _, want := range []string{"format       mp3", "duration     3.000 s", "title        Les communs", "transcode    no"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestProbeCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp3")
	if err := os.WriteFile(text, []byte("Des notes d'émission, pas du son.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{"no file", nil, 2, "no file given"},
		{"unknown flag", []string{"--bogus", text}, 2, "bogus"},
		{"text file", []string{text}, 1, "looks like a text file"},
		{"missing file", []string{filepath.Join(dir, "absent.mp3")}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, status := runProbeCLI(t, tt.args...)
			if status != tt.wantStatus {
				t.Errorf("exit status: got %d, want %d", status, tt.wantStatus)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantErr)
			}
		})
	}
}
