// Package ffmpeg runs ffmpeg, the one child process antenne starts, to
// make recordings podcast-ready: decode, measure, encode to MP3 at the
// podcast loudness. It bounds how many run at once.
package ffmpeg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
	// MaxDuration, when not zero, is the longest audio a transcode
	// decodes (ANTENNE_MAX_DURATION): counted on the decoded samples, not
	// on what the headers say, so ffmpeg is stopped as soon as it passes
	// (a *TooLongError).
	MaxDuration time.Duration

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
// stays mono, more than two channels are mixed to stereo; tags, chapters
// and cover are kept. Loudness is brought to TargetLoudness with a true
// peak at most TargetTruePeak, in three passes of ffmpeg, each bounded in
// time: decode to PCM measured in Go (audio.Meter), encode once with the
// gain (and a limiter only when the gain would push the peaks over the
// ceiling), decode the MP3 to check it; a result off target is encoded
// once more with the gain and the ceiling corrected. It returns the
// loudness of src and of dst. dst is removed on failure.
func (t *Runner) Transcode(ctx context.Context, src string, p *audio.ProbeResult, dst string, progress func(done float64)) (before, after *audio.Loudness, err error) {
	bin, err := t.ffmpegPath()
	if err != nil {
		return nil, nil, fmt.Errorf("transcode %s (%s): %w", src, p.Format, err)
	}
	release, err := t.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	defer func() {
		if err != nil {
			os.Remove(dst)
		}
	}()
	report := newProgress(progress)
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
	// Measured as it will be encoded: same channels, same rate.
	out := pcmFormat{rate: mp3Rate(p.SampleRate), channels: channels}
	before, err = measure(ctx, bin, src, out, p.Duration, t.MaxDuration, report.span([2]float64{0, 0.1}))
	if err != nil {
		return nil, nil, fmt.Errorf("transcode %s: measure loudness: %w", src, err)
	}
	if math.IsInf(before.Integrated, -1) {
		return nil, nil, fmt.Errorf("transcode %s: %w", src, ErrSilent)
	}
	enc := encoding{gain: TargetLoudness - before.Integrated, ceiling: limiterCeiling}
	if over := before.TruePeak + enc.gain - enc.ceiling; over > 0 {
		// The limiter takes some loudness away, the more the further it
		// has to bring the peaks down; the check corrects the estimate.
		enc.gain += min(limiterLoss*over, 1)
	}
	// Of the progress, the measure takes 10 %, the encode 75 %, the check
	// 12 %; a second encode and check, when needed, the last 3 %.
	type span = [2]float64
	tries := []struct{ encode, check span }{{span{0.1, 0.85}, span{0.85, 0.97}}, {span{0.97, 0.995}, span{0.995, 1}}}
	for try, spans := range tries {
		limit := before.TruePeak+enc.gain > enc.ceiling
		if err := encode(ctx, bin, src, p, dst, out, bitrate, enc, limit, report.span(spans.encode)); err != nil {
			return nil, nil, fmt.Errorf("transcode %s to MP3: %w", src, err)
		}
		after, err = measure(ctx, bin, dst, out, p.Duration, t.MaxDuration, report.span(spans.check))
		if err != nil {
			return nil, nil, fmt.Errorf("transcode %s: measure loudness of the MP3: %w", src, err)
		}
		miss := TargetLoudness - after.Integrated
		over := after.TruePeak - (TargetTruePeak - peakMargin)
		if math.Abs(miss) <= loudnessAim && over <= 0 {
			break
		}
		if try == len(tries)-1 {
			if math.Abs(miss) <= 1 && after.TruePeak <= TargetTruePeak {
				break // on target, if not on aim
			}
			return nil, nil, fmt.Errorf("transcode %s: the MP3 measures %.1f LUFS, true peak %.1f dBTP, want %g LUFS and at most %g dBTP",
				src, after.Integrated, after.TruePeak, TargetLoudness, TargetTruePeak)
		}
		enc.gain += miss
		if over > 0 {
			enc.ceiling -= over + 0.5
		}
	}
	report(1)
	return before, after, nil
}

// Loudness aims. The limiter's ceiling is well under TargetTruePeak: it
// limits samples, and the peaks between samples and the MP3 encoder add up
// to 2 dB to them on dense audio.
const (
	limiterCeiling = -3.5 // dBFS, the first try's
	limiterLoss    = 0.1  // LU of loudness lost per dB the limiter takes off the peaks, roughly
	peakMargin     = 0.1  // dB kept under TargetTruePeak for the difference between meters
	loudnessAim    = 0.75 // LU: further from TargetLoudness, the MP3 is encoded again
)

// ErrSilent is returned when a recording has nothing loud enough to
// measure (no 400 ms over -70 LUFS): it cannot be brought to the podcast
// loudness.
var ErrSilent = errors.New("the recording is silent: there is nothing to normalise")

// encoding is how loud to make the MP3.
type encoding struct {
	gain    float64 // dB
	ceiling float64 // dBFS, the limiter's
}

// pcmFormat is the PCM a recording is measured and encoded in.
type pcmFormat struct{ rate, channels int }

// encode writes src as MP3 to dst with the gain, and the limiter when
// limit is set.
func encode(ctx context.Context, bin, src string, p *audio.ProbeResult, dst string, out pcmFormat, bitrate int, enc encoding, limit bool, progress func(float64)) error {
	filter := fmt.Sprintf("volume=%.2fdB", enc.gain)
	if limit {
		// latency=true: the output keeps the input's timing and length.
		// A short release takes less loudness away from speech.
		filter += fmt.Sprintf(",alimiter=limit=%.4f:level=false:latency=true:attack=5:release=10", math.Pow(10, enc.ceiling/20))
	}
	// ffmpeg keeps Ogg comments on the audio stream, other tags on the file.
	metadata := "0"
	if p.Format == audio.FormatOgg || p.Format == audio.FormatOpus {
		metadata = "0:s:a:0"
	}
	args := []string{"-y", "-i", src, "-map", "0:a:0"} // -y: a second try overwrites the first
	if !p.Video {
		// The cover, which ffmpeg shows as a one-picture video stream.
		args = append(args, "-map", "0:v:0?", "-c:v", "copy", "-disposition:v", "attached_pic")
	}
	args = append(args, "-map_metadata", metadata, "-map_chapters", "0",
		"-af", filter, "-ar", strconv.Itoa(out.rate), "-ac", strconv.Itoa(out.channels),
		"-c:a", "libmp3lame", "-b:a", strconv.Itoa(bitrate),
		"-id3v2_version", "3", "-f", "mp3", dst)
	return run(ctx, bin, p.Duration, args, progress)
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

// TooLongError: the decoded audio of a recording passed
// Runner.MaxDuration, whatever its headers said; ffmpeg was stopped there.
type TooLongError struct {
	Limit time.Duration
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("the decoded recording lasts more than %s (ANTENNE_MAX_DURATION)", e.Limit)
}

// measure decodes the first audio stream of path to PCM in ffmpeg and
// measures it with an audio.Meter as it comes through the pipe. Past
// maxDuration (when not zero) of decoded audio it stops ffmpeg and
// returns a *TooLongError.
func measure(ctx context.Context, bin, path string, f pcmFormat, duration, maxDuration time.Duration, progress func(float64)) (*audio.Loudness, error) {
	m, err := audio.NewMeter(f.rate, f.channels)
	if err != nil {
		return nil, err
	}
	args := []string{"-i", path, "-map", "0:a:0", "-ac", strconv.Itoa(f.channels), "-ar", strconv.Itoa(f.rate), "-f", "f32le", "pipe:1"}
	total := float64(duration) / float64(time.Second) * float64(f.rate)
	err = runChild(ctx, bin, duration, args, func(out io.Reader) error {
		buf := make([]byte, 256<<10)
		var reported float64
		maxFrames := int64(maxDuration.Seconds() * float64(f.rate))
		for {
			n, err := out.Read(buf)
			m.Write(buf[:n])
			if maxDuration > 0 && m.Frames() > maxFrames {
				return &TooLongError{Limit: maxDuration}
			}
			// Every 1 %, not every read: the caller may store it.
			if done := float64(m.Frames()) / max(total, 1); done >= reported+0.01 {
				progress(done)
				reported = done
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return m.Loudness(), nil
}

// run runs ffmpeg with args, feeding progress with the fraction of
// duration encoded so far from ffmpeg's -progress output.
func run(ctx context.Context, bin string, duration time.Duration, args []string, progress func(float64)) error {
	args = append([]string{"-progress", "pipe:1"}, args...)
	return runChild(ctx, bin, duration, args, func(out io.Reader) error {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "out_time_us="); ok && duration > 0 {
				if us, err := strconv.ParseInt(v, 10, 64); err == nil {
					progress(float64(time.Duration(us)*time.Microsecond) / float64(duration))
				}
			}
		}
		return sc.Err()
	})
}

// Bounds of one ffmpeg run: its time, a multiple of the recording's
// duration, and the end of its error output kept for messages.
const (
	childTimeBase    = 2 * time.Minute
	childTimePerTime = 2 // seconds of ffmpeg per second of audio, at most
	stderrKept       = 16 << 10
)

// runChild runs ffmpeg with args and hands its standard output to read,
// which must read it to the end. Cancelling ctx, or the run outlasting
// its bound for a recording of duration, kills ffmpeg.
func runChild(ctx context.Context, bin string, duration time.Duration, args []string, read func(io.Reader) error) error {
	limit := childTimeBase + childTimePerTime*duration
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	full := append([]string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"}, args...)
	cmd := exec.CommandContext(cctx, bin, full...)
	dieWithParent(cmd)
	cmd.WaitDelay = 5 * time.Second
	stderr := &tailBuffer{max: stderrKept}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	readErr := read(out)
	var tooLong *TooLongError
	if errors.As(readErr, &tooLong) {
		cancel() // no need to decode the rest
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case tooLong != nil:
		return tooLong
	case cctx.Err() != nil:
		return fmt.Errorf("ffmpeg took more than %v, stopped", limit.Round(time.Second))
	case err != nil:
		return fmt.Errorf("ffmpeg: %w: %s", err, lastLines(stderr.Bytes(), 5))
	case readErr != nil:
		return fmt.Errorf("read ffmpeg's output: %w", readErr)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it, at most twice max in
// memory.
type tailBuffer struct {
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

// Bytes is the end of what was written.
func (b *tailBuffer) Bytes() []byte { return b.buf[max(0, len(b.buf)-b.max):] }

// newProgress returns a reporter of the whole work's progress that never
// goes back, whose span({from, to}) maps a pass's own fraction, 0 to 1,
// onto [from, to] of the whole.
func newProgress(report func(float64)) progressReporter {
	if report == nil {
		report = func(float64) {}
	}
	var last float64
	return func(done float64) {
		if done > last {
			last = done
			report(done)
		}
	}
}

type progressReporter func(done float64)

func (r progressReporter) span(fromTo [2]float64) func(float64) {
	from, to := fromTo[0], fromTo[1]
	return func(f float64) { r(from + (to-from)*min(max(f, 0), 1)) }
}

// lastLines is the end of ffmpeg's error output, for error messages.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
