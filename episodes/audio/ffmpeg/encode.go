package ffmpeg

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
)

// encode writes src as MP3 to dst levelled by plan, and measures the MP3:
// one ffmpeg decodes src to PCM, an audio.Leveler applies the plan in Go,
// a second ffmpeg encodes the PCM it is given (taking tags, chapters and
// cover from src), a third decodes the MP3 as it is written, measured by
// an audio.Meter. The three run at once.
func encode(ctx context.Context, bin, src string, p *audio.ProbeResult, dst string, out pcmFormat, bitrate int, plan audio.Leveling, maxDuration time.Duration, progress func(float64)) (*audio.Loudness, error) {
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err // a file left there would be read as the MP3
	}
	// ffmpeg keeps Ogg comments on the audio stream, other tags on the file.
	metadata := "1"
	if p.Format == audio.FormatOgg || p.Format == audio.FormatOpus {
		metadata = "1:s:a:0"
	}
	args := append(rawArgs(out), "-i", "pipe:0", "-i", src, "-map", "0:a")
	if !p.Video {
		// The cover, which ffmpeg shows as a one-picture video stream.
		args = append(args, "-map", "1:v:0?", "-c:v", "copy", "-disposition:v", "attached_pic")
	}
	args = append(args, "-map_metadata", metadata, "-map_chapters", "1",
		"-c:a", "libmp3lame", "-b:a", strconv.Itoa(bitrate),
		"-id3v2_version", "3", "-f", "mp3", dst)
	encoder, err := startChild(ctx, bin, p.Duration, args, true, false)
	if err != nil {
		return nil, err
	}
	decoder, err := startChild(ctx, bin, p.Duration, decodeArgs(src, out), false, true)
	if err != nil {
		encoder.stop()
		encoder.wait()
		return nil, err
	}
	checker, err := startChild(ctx, bin, p.Duration, append([]string{"-f", "mp3"}, decodeArgs("pipe:0", out)...), true, true)
	if err != nil {
		encoder.stop()
		decoder.stop()
		firstCause(encoder.wait(), decoder.wait())
		return nil, err
	}
	m, err := audio.NewMeter(out.rate, out.channels)
	if err != nil {
		return nil, err
	}
	// The check: the MP3 read as ffmpeg writes it, decoded, measured.
	encoded, stopFollowing := make(chan struct{}), make(chan struct{})
	checked := make(chan error, 1)
	go func() {
		followed := make(chan error, 1)
		go func() {
			err := follow(dst, checker.stdin, encoded, stopFollowing)
			checker.stdin.Close()
			followed <- err
		}()
		_, rerr := io.Copy(m, checker.stdout)
		if rerr != nil {
			checker.stop()
		}
		checked <- firstCause(checker.wait(), <-followed, rerr)
	}()
	lv, err := audio.NewLeveler(encoder.stdin, out.rate, out.channels, plan)
	if err == nil {
		err = tooLong(copyReporting(lv, decoder.stdout, pcmBytes(p.Duration, out), pcmLimit(maxDuration, out), progress), maxDuration)
		if cerr := lv.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		decoder.stop()
		encoder.stop()
	}
	encoder.stdin.Close()
	err = firstCause(decoder.wait(), encoder.wait(), err)
	if err != nil {
		close(stopFollowing)
		checker.stop()
		<-checked
		return nil, err
	}
	close(encoded)
	if err := <-checked; err != nil {
		return nil, fmt.Errorf("measure the MP3: %w", err)
	}
	return m.Loudness(), nil
}

// rawArgs describe PCM of format f as ffmpeg's input.
func rawArgs(f pcmFormat) []string {
	return []string{"-f", "f32le", "-ar", strconv.Itoa(f.rate), "-ac", strconv.Itoa(f.channels)}
}

// pcmBytes is the size of duration of PCM of format f.
func pcmBytes(d time.Duration, f pcmFormat) float64 {
	return d.Seconds() * float64(f.rate*f.channels*4)
}

// follow copies the file at path to w as it grows, until done is closed
// and everything is copied, or stop is closed.
func follow(path string, w io.Writer, done, stop <-chan struct{}) error {
	var f *os.File
	for f == nil {
		var err error
		f, err = os.Open(path)
		switch {
		case err == nil:
		case !errors.Is(err, fs.ErrNotExist):
			return err
		default:
			select {
			case <-done:
				return fmt.Errorf("ffmpeg wrote no %s", path)
			case <-stop:
				return errStopped
			case <-time.After(followEvery):
			}
		}
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	finished := false
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
			continue
		case err != io.EOF:
			return err
		case finished:
			return nil
		}
		select {
		case <-done:
			finished = true // read to the end once more
		case <-stop:
			return errStopped
		case <-time.After(followEvery):
		}
	}
}

// followEvery is how often follow looks for more of the file.
const followEvery = 20 * time.Millisecond

// errPastLimit: the decoded audio passed Runner.MaxDuration.
var errPastLimit = errors.New("past the limit")

// tooLong turns errPastLimit into the *TooLongError of maxDuration.
func tooLong(err error, maxDuration time.Duration) error {
	if errors.Is(err, errPastLimit) {
		return &TooLongError{Limit: maxDuration}
	}
	return err
}

// pcmLimit is the size of maxDuration of PCM of format f; 0 when
// maxDuration is 0.
func pcmLimit(maxDuration time.Duration, f pcmFormat) int64 {
	return int64(pcmBytes(maxDuration, f))
}

// copyReporting copies src to dst, telling progress the fraction of total
// bytes copied every 1 %. Past limit bytes (when not 0) it stops with
// errPastLimit.
func copyReporting(dst io.Writer, src io.Reader, total float64, limit int64, progress func(float64)) error {
	buf := make([]byte, 256<<10)
	var copied, reported float64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
			copied += float64(n)
			if limit > 0 && copied > float64(limit) {
				return errPastLimit
			}
			if done := copied / max(total, 1); done >= reported+0.01 {
				progress(done)
				reported = done
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// encoderFormat is what the MP3 encoder's change of level depends on.
type encoderFormat struct {
	pcmFormat
	bitrate int
}

// Calibration signal: a 1 kHz sine at -20 dBFS, calibrationSeconds long,
// measured over its middle second.
const (
	calibrationSeconds = 3
	calibrationLevel   = 0.1
	maxEncoderGain     = 3 // dB: more is no encoder of ours
)

// encoderGain is the change of level (dB) the MP3 encoder makes at bitrate
// on PCM of format f: libmp3lame lowers it by 0.45 dB at the bitrates of
// speech, which would otherwise take that much off every MP3's loudness.
// It is measured once per format and Runner, on a sine encoded and decoded.
func (t *Runner) encoderGain(ctx context.Context, bin string, f pcmFormat, bitrate int) (float64, error) {
	key := encoderFormat{f, bitrate}
	t.mu.Lock()
	g, ok := t.gains[key]
	t.mu.Unlock()
	if ok {
		return g, nil
	}
	frames := calibrationSeconds * f.rate
	in := make([]byte, 0, 4*f.channels*frames)
	for i := range frames {
		v := float32(calibrationLevel * math.Sin(2*math.Pi*1000*float64(i)/float64(f.rate)))
		for range f.channels {
			in = binary.LittleEndian.AppendUint32(in, math.Float32bits(v))
		}
	}
	mp3, err := pipeThrough(ctx, bin, append(rawArgs(f), "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", strconv.Itoa(bitrate), "-f", "mp3", "pipe:1"), in)
	if err != nil {
		return 0, err
	}
	pcm, err := pipeThrough(ctx, bin, append([]string{"-f", "mp3"}, decodeArgs("pipe:0", f)...), mp3)
	if err != nil {
		return 0, err
	}
	// The middle second: away from the encoder's delay and the ends.
	from, to := 4*f.channels*f.rate, 4*f.channels*2*f.rate
	if len(pcm) < to {
		return 0, fmt.Errorf("the encoder gave %d bytes of PCM for %d", len(pcm), len(in))
	}
	g = 20 * math.Log10(rms(pcm[from:to])/rms(in[from:to]))
	if !(math.Abs(g) <= maxEncoderGain) {
		return 0, fmt.Errorf("the encoder changes the level by %.2f dB", g)
	}
	t.mu.Lock()
	if t.gains == nil {
		t.gains = map[encoderFormat]float64{}
	}
	t.gains[key] = g
	t.mu.Unlock()
	return g, nil
}

// rms is the root mean square of float32 PCM.
func rms(pcm []byte) float64 {
	var sum float64
	n := len(pcm) / 4
	for i := range n {
		v := float64(math.Float32frombits(binary.LittleEndian.Uint32(pcm[4*i:])))
		sum += v * v
	}
	return math.Sqrt(sum / float64(max(n, 1)))
}

// pipeThrough runs ffmpeg with args on the bytes in (nil: none, ffmpeg
// reads no standard input) and returns its output, for small inputs and
// outputs.
func pipeThrough(ctx context.Context, bin string, args []string, in []byte) ([]byte, error) {
	c, err := startChild(ctx, bin, trialSeconds*time.Second, args, in != nil, true)
	if err != nil {
		return nil, err
	}
	written := make(chan error, 1)
	if in == nil {
		written <- nil
	} else {
		go func() {
			_, err := c.stdin.Write(in)
			c.stdin.Close()
			written <- err
		}()
	}
	out, rerr := io.ReadAll(io.LimitReader(c.stdout, 64<<20))
	werr := <-written
	if err := firstCause(c.wait(), rerr, werr); err != nil {
		return nil, err
	}
	return out, nil
}

// trial levels by plan and encodes trialSeconds of src from at seconds,
// in memory, and returns the true peak of the MP3 (dBTP).
func trial(ctx context.Context, bin, src string, p *audio.ProbeResult, at float64, out pcmFormat, bitrate int, plan audio.Leveling) (float64, error) {
	seek := []string{"-ss", strconv.FormatFloat(at, 'f', 3, 64), "-t", strconv.Itoa(trialSeconds)}
	pcm, err := pipeThrough(ctx, bin, append(seek, decodeArgs(src, out)...), nil)
	if err != nil {
		return 0, err
	}
	var levelled bytes.Buffer
	lv, err := audio.NewLeveler(&levelled, out.rate, out.channels, plan)
	if err != nil {
		return 0, err
	}
	lv.Write(pcm)
	if err := lv.Close(); err != nil {
		return 0, err
	}
	mp3, err := pipeThrough(ctx, bin, append(rawArgs(out), "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", strconv.Itoa(bitrate), "-f", "mp3", "pipe:1"), levelled.Bytes())
	if err != nil {
		return 0, err
	}
	decoded, err := pipeThrough(ctx, bin, append([]string{"-f", "mp3"}, decodeArgs("pipe:0", out)...), mp3)
	if err != nil {
		return 0, err
	}
	m, err := audio.NewMeter(out.rate, out.channels)
	if err != nil {
		return 0, err
	}
	m.Write(decoded)
	return m.TruePeak(), nil
}
