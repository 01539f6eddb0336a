package audio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"
)

// ProbeResult is what antenne reads from a recording: its format, the
// technical facts measured from its headers, its tags, and its identity.
type ProbeResult struct {
	Format Format
	AudioInfo
	Tags
	Size   int64  // bytes
	SHA256 string // hex, of the whole file
}

// NeedsTranscode reports whether the recording must be converted to MP3
// before podcast apps can play it: every format but MP3 and AAC in MP4
// audio (an MP4 video gets its sound extracted).
func (p *ProbeResult) NeedsTranscode() bool {
	switch p.Format {
	case FormatMP3:
		return false
	case FormatM4A:
		return p.Video || p.Codec != "aac" && p.Codec != "he-aac" && p.Codec != "he-aac-v2"
	}
	return true
}

// Probe reads the recording at path: format, duration and codec facts,
// tags, size and SHA-256. A file that is not a supported recording gives an
// error wrapping ErrUnsupportedAudio (an *UnsupportedAudioError).
func Probe(ctx context.Context, path string) (*ProbeResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("probe %s: not a regular file", path)
	}
	p, err := ProbeReader(ReaderAtWithContext(ctx, f), st.Size())
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: io.NewSectionReader(f, 0, st.Size())}); err != nil {
		return nil, fmt.Errorf("probe %s: hash: %w", path, err)
	}
	p.SHA256 = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// maxRecording is the longest recording accepted: longer ones are header
// values gone wrong. The longest an upload may last is the caller's
// choice below it (ANTENNE_MAX_DURATION).
const maxRecording = 1000 * time.Hour

// MinSampleRate is the lowest sample rate accepted, in Hz (telephone
// quality).
const MinSampleRate = 8000

// ProbeReader reads the recording in r (size bytes) like Probe, without
// the SHA-256. Memory stays bounded whatever the input: headers and tags
// are read with size caps, audio frames are streamed.
func ProbeReader(r io.ReaderAt, size int64) (*ProbeResult, error) {
	format, err := Sniff(r, size)
	if err != nil {
		return nil, err
	}
	p := &ProbeResult{Format: format, Size: size}
	var (
		moov []byte
		flac flacMeta
		riff map[string]string
	)
	switch format {
	case FormatMP3:
		p.AudioInfo, err = ParseMP3(r, size)
	case FormatM4A:
		moov, err = readMoov(r, size)
		if err == nil {
			p.AudioInfo, err = parseMoov(moov, size)
		}
	case FormatFLAC:
		p.AudioInfo, flac, err = parseFLAC(r, size, true)
	case FormatOgg, FormatOpus:
		p.AudioInfo, err = ParseOgg(r, size)
	case FormatWAV:
		p.AudioInfo, riff, err = parseWAV(r, size)
	}
	if err != nil {
		return nil, err
	}
	if p.Duration <= 0 {
		return nil, damagedFor(format, "no_audio", "no audio")
	}
	if p.Duration > maxRecording {
		return nil, damaged(format, "its headers claim %.0f hours", p.Duration.Hours())
	}
	if p.SampleRate > 768000 {
		return nil, damaged(format, "a sample rate of %d Hz", p.SampleRate)
	}
	if p.SampleRate < MinSampleRate {
		// A tiny file at 1 kHz holds hours of audio: the work of an
		// upload must be bounded by the audio, not only by its bytes.
		return nil, damagedFor(format, "low_rate", "a sample rate of %d Hz, under the %d Hz antenne accepts", p.SampleRate, MinSampleRate)
	}
	if p.Tags, err = readTags(r, size, format, moov, flac, riff); err != nil {
		return nil, err
	}
	return p, nil
}

// ReaderWithContext returns a reader of r that stops with ctx's error once
// ctx is done: long reads of a recording (hashing, spooling) end when
// their client goes away.
func ReaderWithContext(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

// ReaderAtWithContext returns a ReaderAt of r whose reads fail with ctx's
// error once ctx is done: every parser reads through it, so probing stops
// at its next read when the client leaves or a signal comes.
func ReaderAtWithContext(ctx context.Context, r io.ReaderAt) io.ReaderAt {
	return &ctxReaderAt{ctx: ctx, r: r}
}

type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c *ctxReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(b, off)
}

// ctxReader stops reading when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
