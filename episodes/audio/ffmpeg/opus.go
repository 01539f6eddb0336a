package ffmpeg

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/picasoft/antenne/episodes/audio"
)

// OpusBitrate is the bitrate of the small Opus version of a recording:
// mono at 48 kb/s (constrained VBR, so that the size is predictable), where
// Opus speech sounds better than the MP3 at twice the rate.
const OpusBitrate = 48000

// EncodeOpus writes the recording at src (probed as p) to dst as Ogg Opus,
// mono, OpusBitrate, with gainDB applied (the gain that brought the MP3 to
// TargetLoudness) and the MP3's limiter, so that both versions sound as
// loud. It takes a transcoding slot like Transcode, is bounded in time the
// same way, and removes dst on failure.
func (t *Runner) EncodeOpus(ctx context.Context, src string, p *audio.ProbeResult, dst string, gainDB float64) (err error) {
	bin, err := t.ffmpegPath()
	if err != nil {
		return fmt.Errorf("encode %s to Opus: %w", src, err)
	}
	release, err := t.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	defer func() {
		if err != nil {
			os.Remove(dst)
		}
	}()
	filter := fmt.Sprintf("volume=%.2fdB,alimiter=limit=%.4f:level=false:latency=true:attack=5:release=10", gainDB, math.Pow(10, limiterCeiling/20))
	args := []string{"-y", "-i", src, "-map", "0:a:0", "-map_metadata", "-1",
		"-af", filter, "-ac", "1", "-ar", "48000",
		"-c:a", "libopus", "-b:a", strconv.Itoa(OpusBitrate), "-vbr", "constrained", "-f", "ogg", dst}
	c, err := startChild(ctx, bin, p.Duration, args, false, false)
	if err == nil {
		err = c.wait()
	}
	if err != nil {
		return fmt.Errorf("encode %s to Opus: %w", src, err)
	}
	return nil
}
