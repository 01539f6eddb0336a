// Package ffmpeg runs ffmpeg, the one child process antenne starts, to
// make recordings podcast-ready: decode, measure, encode to MP3 at the
// podcast loudness. It bounds how many run at once.
package ffmpeg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

	mu    sync.Mutex
	gains map[encoderFormat]float64 // encoderGain's measures
}

// New returns a Runner of the ffmpeg at path (empty: found on PATH) that
// runs at most workers transcodes at once (at least one).
func New(path string, workers int) *Runner {
	return &Runner{Path: path, slots: make(chan struct{}, max(workers, 1))}
}

// ProcessesPerSlot is the most ffmpeg processes one transcoding slot runs
// at once: a decoder and an encoder on each side of the Go leveler, and
// the encoder's calibration beside the measure. A Runner of n workers runs
// at most n times as many.
const ProcessesPerSlot = 3

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
	return t.PrepareMeasured(ctx, path, dir, nil, progress)
}

// PrepareMeasured is Prepare given the meter of the recording's PCM, fed
// while it arrived (an audio.WAVMeter's), with its levels recorded: the
// first pass of the transcode is then skipped and only the encode remains.
// A meter of another rate or channels than the encode's, or that did not
// see the whole recording, is ignored: the recording is measured again.
func (t *Runner) PrepareMeasured(ctx context.Context, path, dir string, measured *audio.Meter, progress func(done float64)) (*audio.Prepared, error) {
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
	if measured != nil {
		f, _ := t.outputFormat(orig)
		frames := orig.Duration.Seconds() * float64(f.rate)
		if measured.Rate() != f.rate || measured.Channels() != f.channels || math.Abs(float64(measured.Frames())-frames) > float64(f.rate)/10 {
			measured = nil
		}
	}
	before, after, err := t.transcode(ctx, path, orig, out, measured, progress)
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
// and cover are kept. The level is made right the first time, in Go on the
// PCM that ffmpeg decodes: a first pass measures it (audio.Meter), which
// plans the gain and, when that gain would push the peaks over the
// ceiling, a true-peak limiter whose effect on the loudness the plan
// predicts; when the peaks come near the ceiling, a trial encode of the
// excerpt where they are densest (20 s, in memory) says how much the
// encoder adds to them and lowers the ceiling before the encode; a second
// pass applies the plan (audio.Leveler) and feeds ffmpeg the PCM to
// encode. The MP3 is measured while it is written, as a guard:
// off target (a rare recording whose peaks the encoder pushes back over
// the ceiling), it is encoded once more with the gain and the ceiling
// corrected. It returns the loudness of src and of dst. dst is removed on
// failure.
func (t *Runner) Transcode(ctx context.Context, src string, p *audio.ProbeResult, dst string, progress func(done float64)) (before, after *audio.Loudness, err error) {
	return t.transcode(ctx, src, p, dst, nil, progress)
}

// transcode is Transcode with the first pass already done when measured
// is not nil: a meter fed with the PCM of src at the format outputFormat
// gives, with its levels recorded.
func (t *Runner) transcode(ctx context.Context, src string, p *audio.ProbeResult, dst string, measured *audio.Meter, progress func(done float64)) (before, after *audio.Loudness, err error) {
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
	out, bitrate := t.outputFormat(p)
	// The encoder's own change of level, measured once per format, while
	// the first pass runs.
	calibrated := make(chan error, 1)
	var encoderGain float64
	go func() {
		var err error
		encoderGain, err = t.encoderGain(ctx, bin, out, bitrate)
		calibrated <- err
	}()
	// Of the progress, the measure takes 10 %, the encode the rest.
	encodeFrom := 0.0
	m := measured
	if m == nil {
		encodeFrom = 0.1
		m, err = measure(ctx, bin, src, out, p.Duration, t.MaxDuration, report.span([2]float64{0, encodeFrom}))
		if err != nil {
			<-calibrated
			return nil, nil, fmt.Errorf("transcode %s: measure loudness: %w", src, err)
		}
	}
	if err := <-calibrated; err != nil {
		return nil, nil, fmt.Errorf("transcode %s: calibrate the MP3 encoder: %w", src, err)
	}
	before = m.Loudness()
	// What the PCM must measure so that the MP3 does.
	target, ceiling := TargetLoudness-encoderGain, limiterCeiling-encoderGain
	plan, err := m.Plan(target, ceiling)
	if err != nil {
		return nil, nil, fmt.Errorf("transcode %s: %w", src, err)
	}
	// The encoder adds to the peaks, more on dense noisy sound: a trial
	// encode of the excerpt with the most peaks near the ceiling says by
	// how much, and lowers the ceiling before the encode.
	for range maxTrials {
		at, ok := m.Densest(plan, trialSeconds)
		if !ok {
			break
		}
		peak, err := trial(ctx, bin, src, p, at, out, bitrate, plan)
		if err != nil {
			return nil, nil, fmt.Errorf("transcode %s: trial encode: %w", src, err)
		}
		over := peak - (TargetTruePeak - peakMargin - trialMargin)
		if over <= 0 {
			break
		}
		ceiling -= over
		if plan, err = m.Plan(target, ceiling); err != nil {
			return nil, nil, fmt.Errorf("transcode %s: %w", src, err)
		}
	}
	type span = [2]float64
	tries := []span{{encodeFrom, 0.99}, {0.99, 1}}
	for try, spans := range tries {
		after, err = encode(ctx, bin, src, p, dst, out, bitrate, plan, t.MaxDuration, report.span(spans))
		if err != nil {
			return nil, nil, fmt.Errorf("transcode %s to MP3: %w", src, err)
		}
		miss := TargetLoudness - after.Integrated
		over := after.TruePeak - (TargetTruePeak - peakMargin)
		if math.Abs(miss) <= loudnessAim && over <= 0 {
			break
		}
		if try == len(tries)-1 {
			if math.Abs(miss) <= 2*loudnessAim && after.TruePeak <= TargetTruePeak {
				break // on target, if not on aim
			}
			return nil, nil, fmt.Errorf("transcode %s: the MP3 measures %.1f LUFS, true peak %.1f dBTP, want %g LUFS and at most %g dBTP",
				src, after.Integrated, after.TruePeak, TargetLoudness, TargetTruePeak)
		}
		// The guard: the encoder did more than calibrated; correct once.
		// Its overshoot grows as the limiter works harder (on dense,
		// noisy audio): bring the ceiling down by more than it missed.
		target += miss
		if over > 0 {
			ceiling -= 2*over + 1
		}
		if plan, err = m.Plan(target, ceiling); err != nil {
			return nil, nil, fmt.Errorf("transcode %s: %w", src, err)
		}
	}
	report(1)
	return before, after, nil
}

// Trial encodes: at most maxTrials of trialSeconds each, whose peaks
// must stay trialMargin under the aim: the whole recording has more peaks
// than the excerpt, some higher (on the pink-noise bench signal, 45
// minutes peak 1 dB over their densest 20 s once encoded).
const (
	maxTrials    = 2
	trialSeconds = 20
	trialMargin  = 1.2 // dB
)

// Loudness aims. The limiter holds the true peak of the PCM at
// limiterCeiling: the MP3 encoder adds up to 1 dB to it on dense audio.
const (
	limiterCeiling = -2.0 // dBTP, of the MP3 before the encoder's overshoot
	peakMargin     = 0.1  // dB kept under TargetTruePeak for the difference between meters
	loudnessAim    = 0.4  // LU: further from TargetLoudness, the MP3 is encoded again
)

// ErrSilent is returned when a recording has nothing loud enough to
// measure (no 400 ms over -70 LUFS): it cannot be brought to the podcast
// loudness.
var ErrSilent = audio.ErrSilent

// pcmFormat is the PCM a recording is measured and encoded in.
type pcmFormat struct{ rate, channels int }

// outputFormat is the PCM format and the MP3 bitrate of the recording p
// made podcast-ready: mono stays mono, the rest becomes stereo, at the MP3
// rate closest to its own.
func (t *Runner) outputFormat(p *audio.ProbeResult) (pcmFormat, int) {
	if p.Channels == 1 {
		return pcmFormat{mp3Rate(p.SampleRate), 1}, cmp.Or(t.MonoBitrate, 96000)
	}
	return pcmFormat{mp3Rate(p.SampleRate), 2}, cmp.Or(t.StereoBitrate, 128000)
}

// decodeArgs are the arguments that make ffmpeg decode the first audio
// stream of path to PCM of format f on its standard output.
func decodeArgs(path string, f pcmFormat) []string {
	return []string{"-i", path, "-map", "0:a:0", "-ac", strconv.Itoa(f.channels), "-ar", strconv.Itoa(f.rate), "-f", "f32le", "pipe:1"}
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
// measures it with an audio.Meter (its levels recorded, for Plan) as it
// comes through the pipe. Past maxDuration (when not zero) of decoded
// audio it stops ffmpeg and returns a *TooLongError.
func measure(ctx context.Context, bin, path string, f pcmFormat, duration, maxDuration time.Duration, progress func(float64)) (*audio.Meter, error) {
	m, err := audio.NewMeter(f.rate, f.channels)
	if err != nil {
		return nil, err
	}
	m.RecordLevels()
	c, err := startChild(ctx, bin, duration, decodeArgs(path, f), false, true)
	if err != nil {
		return nil, err
	}
	err = tooLong(copyReporting(m, c.stdout, pcmBytes(duration, f), pcmLimit(maxDuration, f), progress), maxDuration)
	if err != nil {
		c.stop()
	}
	if err := firstCause(c.wait(), err); err != nil {
		return nil, err
	}
	return m, nil
}

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
