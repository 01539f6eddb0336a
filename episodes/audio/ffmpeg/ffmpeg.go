// Package ffmpeg runs ffmpeg, the one child process antenne starts, to
// make recordings podcast-ready: decode, measure, encode to MP3 at the
// podcast loudness. It bounds how many run at once.
package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
)

// ErrMissing is returned when a recording needs transcoding and ffmpeg
// cannot be found. MP3 and M4A recordings never need it.
var ErrMissing = errors.New("ffmpeg is needed to convert this recording to MP3 but was not found: install ffmpeg (Debian: apt install ffmpeg) or set ANTENNE_FFMPEG to its path")

// Loudness targets of the podcast-ready MP3 (EBU R128 as podcast apps
// expect it). The true peak aimed at leaves room for the MP3 encoder's
// overshoot so that the file stays at or under -1 dBTP.
const (
	TargetLoudness = -16.0 // LUFS integrated
	TargetTruePeak = -1.0  // dBTP, the most the MP3 may reach
	loudnormPeak   = -2.0  // dBTP asked of loudnorm
	loudnormRange  = 11.0  // LU
)

// Runner turns recordings that podcast apps do not play into MP3 with
// ffmpeg. At most Workers transcodes run at once; the others wait their
// turn (or their context). The zero value finds ffmpeg on PATH, uses the
// default bitrates and does not bound concurrency. A Runner is safe for
// concurrent use; do not change its fields once it is in use.
type Runner struct {
	// Path is the path of ffmpeg; empty looks for "ffmpeg" on PATH.
	Path string
	// MonoBitrate and StereoBitrate are the MP3 bitrates in bits per
	// second; zero means 96 kb/s and 128 kb/s.
	MonoBitrate, StereoBitrate int

	slots chan struct{}
}

// New returns a Runner of the ffmpeg at path (empty: found on PATH) that
// runs at most workers transcodes at once (at least one).
func New(path string, workers int) *Runner {
	return &Runner{Path: path, slots: make(chan struct{}, max(workers, 1))}
}

// acquire takes a transcoding slot, waiting for one to free up; release
// gives it back.
func (t *Runner) acquire(ctx context.Context) (release func(), err error) {
	if t.slots == nil {
		return func() {}, nil
	}
	select {
	case t.slots <- struct{}{}:
		return func() { <-t.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ffmpegPath resolves the ffmpeg binary or returns ErrMissing.
func (t *Runner) ffmpegPath() (string, error) {
	name := t.Path
	if name == "" {
		name = "ffmpeg"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrMissing, err)
	}
	return p, nil
}

// Prepare probes the recording at path and, unless it is MP3 or AAC,
// transcodes it to a loudness-normalised MP3 in dir (beside the original
// when dir is empty), which keeps the original file. progress, when not
// nil, is called with the fraction of the work done, from 0 to 1.
// Cancelling ctx stops ffmpeg and removes its partial output.
func (t *Runner) Prepare(ctx context.Context, path, dir string, progress func(done float64)) (*audio.Prepared, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	orig, err := audio.Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	if !orig.NeedsTranscode() {
		progress(1)
		return &audio.Prepared{Original: orig, Podcast: orig, Path: path}, nil
	}
	if dir == "" {
		dir = filepath.Dir(path)
	}
	base := filepath.Base(path)
	out := filepath.Join(dir, strings.TrimSuffix(base, filepath.Ext(base))+".mp3")
	if out == path || filepath.Clean(out) == filepath.Clean(path) {
		out = strings.TrimSuffix(out, ".mp3") + "-podcast.mp3"
	}
	before, after, err := t.Transcode(ctx, path, orig, out, progress)
	if err != nil {
		return nil, err
	}
	mp3, err := audio.Probe(ctx, out)
	if err != nil {
		os.Remove(out)
		return nil, fmt.Errorf("probe transcoded %s: %w", out, err)
	}
	return &audio.Prepared{Original: orig, Podcast: mp3, Path: out, Transcoded: true, LoudnessBefore: before, LoudnessAfter: after}, nil
}

// Transcode writes the recording at src (probed as p) to dst as MP3: mono
// stays mono, more than two channels are mixed to stereo; loudness is
// normalised in two passes of ffmpeg's loudnorm to TargetLoudness with a
// true peak under TargetTruePeak; tags, chapters and cover are kept. It
// returns the loudness of src and of dst. dst is removed on failure.
func (t *Runner) Transcode(ctx context.Context, src string, p *audio.ProbeResult, dst string, progress func(done float64)) (before, after *audio.Loudness, err error) {
	if progress == nil {
		progress = func(float64) {}
	}
	bin, err := t.ffmpegPath()
	if err != nil {
		return nil, nil, fmt.Errorf("transcode %s (%s): %w", src, p.Format, err)
	}
	release, err := t.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	total := p.Duration
	// Three passes over the audio: measure, encode, measure the result.
	step := func(i int) func(time.Duration) {
		return func(d time.Duration) {
			f := float64(d) / float64(max(total, 1))
			progress((float64(i) + min(max(f, 0), 1)) / 3)
		}
	}
	m, err := measureLoudness(ctx, bin, src, step(0))
	if err != nil {
		return nil, nil, fmt.Errorf("transcode %s: measure loudness: %w", src, err)
	}
	channels, bitrate := 2, t.StereoBitrate
	if bitrate == 0 {
		bitrate = 128000
	}
	if p.Channels == 1 {
		channels, bitrate = 1, t.MonoBitrate
		if bitrate == 0 {
			bitrate = 96000
		}
	}
	filter := fmt.Sprintf("loudnorm=I=%g:TP=%g:LRA=%g:measured_I=%s:measured_TP=%s:measured_LRA=%s:measured_thresh=%s:offset=%s:linear=true:print_format=summary",
		TargetLoudness, loudnormPeak, loudnormRange, m.InputI, m.InputTP, m.InputLRA, m.InputThresh, m.TargetOffset)
	// ffmpeg keeps Ogg comments on the audio stream, other tags on the file.
	metadata := "0"
	if p.Format == audio.FormatOgg || p.Format == audio.FormatOpus {
		metadata = "0:s:a:0"
	}
	args := []string{"-i", src, "-map", "0:a:0"}
	if !p.Video {
		// The cover, which ffmpeg shows as a one-picture video stream.
		args = append(args, "-map", "0:v:0?", "-c:v", "copy", "-disposition:v", "attached_pic")
	}
	args = append(args, "-map_metadata", metadata, "-map_chapters", "0",
		"-af", filter, "-ar", strconv.Itoa(mp3Rate(p.SampleRate)), "-ac", strconv.Itoa(channels),
		"-c:a", "libmp3lame", "-b:a", strconv.Itoa(bitrate),
		"-id3v2_version", "3", "-f", "mp3", dst)
	if _, err := runFFmpeg(ctx, bin, args, step(1)); err != nil {
		os.Remove(dst)
		return nil, nil, fmt.Errorf("transcode %s to MP3: %w", src, err)
	}
	a, err := measureLoudness(ctx, bin, dst, step(2))
	if err != nil {
		os.Remove(dst)
		return nil, nil, fmt.Errorf("transcode %s: measure loudness of the MP3: %w", src, err)
	}
	progress(1)
	return m.loudness(), a.loudness(), nil
}

// mp3Rate is the MP3 sample rate closest to a recording's rate.
func mp3Rate(rate int) int {
	switch rate {
	case 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000:
		return rate
	}
	if rate > 48000 && rate%48000 == 0 {
		return 48000
	}
	return 44100
}

// loudnormStats is the JSON loudnorm prints with print_format=json.
type loudnormStats struct {
	InputI       string `json:"input_i"`
	InputTP      string `json:"input_tp"`
	InputLRA     string `json:"input_lra"`
	InputThresh  string `json:"input_thresh"`
	TargetOffset string `json:"target_offset"`
}

func (s *loudnormStats) loudness() *audio.Loudness {
	f := func(v string) float64 {
		x, _ := strconv.ParseFloat(v, 64)
		return x
	}
	return &audio.Loudness{Integrated: f(s.InputI), TruePeak: f(s.InputTP), Range: f(s.InputLRA)}
}

// measureLoudness runs loudnorm's analysis pass over path.
func measureLoudness(ctx context.Context, bin, path string, progress func(time.Duration)) (*loudnormStats, error) {
	filter := fmt.Sprintf("loudnorm=I=%g:TP=%g:LRA=%g:print_format=json", TargetLoudness, loudnormPeak, loudnormRange)
	stderr, err := runFFmpeg(ctx, bin, []string{"-i", path, "-map", "0:a:0", "-af", filter, "-f", "null", "-"}, progress)
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(stderr, '{')
	j := bytes.LastIndexByte(stderr, '}')
	if i < 0 || j < i {
		return nil, fmt.Errorf("no loudnorm statistics in ffmpeg's output")
	}
	var s loudnormStats
	if err := json.Unmarshal(stderr[i:j+1], &s); err != nil {
		return nil, fmt.Errorf("read loudnorm statistics: %w", err)
	}
	for _, v := range []string{s.InputI, s.InputTP, s.InputLRA, s.InputThresh, s.TargetOffset} {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			// -inf for silence: loudnorm cannot normalise it.
			return nil, fmt.Errorf("loudnorm statistics %+v: the recording is silent or unreadable", s)
		}
	}
	return &s, nil
}

// runFFmpeg runs ffmpeg with args and returns its stderr. ffmpeg's
// -progress output feeds progress with the time encoded so far. Cancelling
// ctx kills ffmpeg.
func runFFmpeg(ctx context.Context, bin string, args []string, progress func(time.Duration)) ([]byte, error) {
	full := append([]string{"-hide_banner", "-nostdin", "-nostats", "-y", "-progress", "pipe:1"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "out_time_us="); ok && progress != nil {
			if us, err := strconv.ParseInt(v, 10, 64); err == nil {
				progress(time.Duration(us) * time.Microsecond)
			}
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %w: %s", err, lastLines(stderr.Bytes(), 5))
	}
	return stderr.Bytes(), nil
}

// lastLines is the end of ffmpeg's error output, for error messages.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
