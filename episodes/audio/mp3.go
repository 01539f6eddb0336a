package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// AudioInfo is what the header parsers measure of a recording, without
// decoding it.
type AudioInfo struct {
	Codec      string        // "mp3", "aac", "flac", "vorbis", "opus", "pcm_s24le"...
	Duration   time.Duration // what a player can play
	Bitrate    int           // bits per second, average over the audio
	SampleRate int           // Hz
	Channels   int
	// BitsPerSample is set for lossless formats (FLAC, WAV).
	BitsPerSample int
	// VBR is true for an MP3 whose frames do not all have one bitrate.
	VBR bool
	// MP3Header names the MP3 header the duration came from: "xing",
	// "info", "vbri", or "" when every frame was counted.
	MP3Header string
	// Video is true for an MP4 file with a video track: only its sound
	// is published, converted to MP3.
	Video bool
	// Truncated is true when the file holds less audio than its headers
	// announce; Duration is then what the file holds.
	Truncated bool
}

// MPEG audio layer III frame header, see
// http://www.mp3-tech.org/programmer/frame_header.html
type mp3Frame struct {
	version    int // 1, 2, or 25 for MPEG 2.5
	bitrate    int // bits per second
	sampleRate int
	padding    int
	channels   int
	length     int // bytes, header included
	samples    int // per frame
}

var (
	mp3BitratesV1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	mp3BitratesV2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	mp3Rates      = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}
)

// parseMP3Frame decodes the 4-byte header of a layer III frame. Free-format
// and reserved values are refused.
func parseMP3Frame(b []byte) (mp3Frame, bool) {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return mp3Frame{}, false
	}
	var f mp3Frame
	switch (b[1] >> 3) & 3 {
	case 0:
		f.version = 25
	case 2:
		f.version = 2
	case 3:
		f.version = 1
	default:
		return f, false
	}
	if (b[1]>>1)&3 != 1 { // layer III only
		return f, false
	}
	bi, ri := b[2]>>4, (b[2]>>2)&3
	if bi == 0 || bi == 15 || ri == 3 {
		return f, false
	}
	if f.version == 1 {
		f.bitrate = mp3BitratesV1[bi] * 1000
		f.samples = 1152
	} else {
		f.bitrate = mp3BitratesV2[bi] * 1000
		f.samples = 576
	}
	f.sampleRate = mp3Rates[f.version][ri]
	f.padding = int(b[2]>>1) & 1
	f.channels = 2
	if b[3]>>6 == 3 {
		f.channels = 1
	}
	f.length = f.samples/8*f.bitrate/f.sampleRate + f.padding
	return f, true
}

// sameStream reports whether two frame headers can belong to one stream.
func (f mp3Frame) sameStream(g mp3Frame) bool {
	return f.version == g.version && f.sampleRate == g.sampleRate
}

// mp3SyncWindow is how far past its start a stream's first frame may be
// looked for.
const mp3SyncWindow = 64 << 10

// findMP3Sync finds the first frame at or after start (within
// mp3SyncWindow) that is followed by two more frames of the same stream, or
// by the end of the file.
func findMP3Sync(r io.ReaderAt, start, size int64) (int64, mp3Frame, bool) {
	buf, err := readAtMost(r, start, mp3SyncWindow+3*2900, size)
	if err != nil {
		return 0, mp3Frame{}, false
	}
	limit := min(len(buf), mp3SyncWindow)
	for i := 0; i+4 <= limit; i++ {
		f, ok := parseMP3Frame(buf[i:])
		if !ok {
			continue
		}
		if mp3Chain(buf[i:], f, start+int64(i), size) {
			return start + int64(i), f, true
		}
	}
	return 0, mp3Frame{}, false
}

// mp3Chain checks that the frame f at the start of b (file offset off) is
// followed by two frames of the same stream, or by the end of the file.
func mp3Chain(b []byte, f mp3Frame, off, size int64) bool {
	p := 0
	for range 2 {
		p += f.length
		if off+int64(p) >= size-128 && off+int64(p) <= size {
			return true // the end of the file, or an ID3v1 tag
		}
		g, ok := parseMP3Frame(b[min(p, len(b)):])
		if !ok || !g.sameStream(f) {
			return false
		}
		f = g
	}
	return true
}

// vbrHeader is a Xing/Info or VBRI header in the first frame.
type vbrHeader struct {
	kind             string // "xing", "info", "vbri"
	frames           int64  // audio frames, the header's frame excluded
	bytes            int64  // 0 when absent
	startPad, endPad int    // LAME gapless info, samples
}

// parseVBRHeader looks for a Xing/Info or VBRI header in frame b (a whole
// first frame).
func parseVBRHeader(b []byte, f mp3Frame) (vbrHeader, bool) {
	side := 32
	switch {
	case f.version == 1 && f.channels == 1:
		side = 17
	case f.version != 1 && f.channels == 2:
		side = 17
	case f.version != 1:
		side = 9
	}
	if x := 4 + side; len(b) >= x+8 && (string(b[x:x+4]) == "Xing" || string(b[x:x+4]) == "Info") {
		h := vbrHeader{kind: "xing"}
		if string(b[x:x+4]) == "Info" {
			h.kind = "info"
		}
		flags := binary.BigEndian.Uint32(b[x+4:])
		p := x + 8
		if flags&1 != 0 {
			if len(b) < p+4 {
				return h, false
			}
			h.frames = int64(binary.BigEndian.Uint32(b[p:]))
			p += 4
		}
		if flags&2 != 0 {
			if len(b) < p+4 {
				return h, false
			}
			h.bytes = int64(binary.BigEndian.Uint32(b[p:]))
			p += 4
		}
		if flags&4 != 0 {
			p += 100
		}
		if flags&8 != 0 {
			p += 4
		}
		// LAME tag: encoder version (9 bytes), then 12 bytes, then the
		// encoder delay and padding (12 bits each).
		if len(b) >= p+24 {
			enc := string(b[p : p+4])
			if enc == "LAME" || enc == "Lavf" || enc == "Lavc" || enc == "L3.9" {
				v := int(b[p+21])<<16 | int(b[p+22])<<8 | int(b[p+23])
				h.startPad, h.endPad = v>>12, v&0xfff
			}
		}
		return h, h.frames > 0
	}
	// VBRI is always 32 bytes after the side information of MPEG 1 stereo.
	if x := 36; len(b) >= x+18 && string(b[x:x+4]) == "VBRI" {
		h := vbrHeader{kind: "vbri"}
		h.bytes = int64(binary.BigEndian.Uint32(b[x+10:]))
		h.frames = int64(binary.BigEndian.Uint32(b[x+14:]))
		return h, h.frames > 0
	}
	return vbrHeader{}, false
}

// ParseMP3 measures the MPEG audio stream in r (size bytes): the duration
// from a Xing/Info or VBRI header when the file holds all the bytes it
// announces, else by counting every whole frame (streaming, in constant
// memory).
func ParseMP3(r io.ReaderAt, size int64) (AudioInfo, error) {
	start := int64(0)
	head, err := readAtMost(r, 0, 10, size)
	if err != nil {
		return AudioInfo{}, fmt.Errorf("read MP3: %w", err)
	}
	if n, ok := id3v2Size(head); ok {
		if n > size {
			return AudioInfo{}, damagedFor(FormatMP3, "id3_too_big", "the ID3 tag claims %d bytes, more than the %d bytes of the file", n, size)
		}
		start = n
	}
	end := size
	if size-start >= 128 {
		if t, err := readAtMost(r, size-128, 3, size); err == nil && string(t) == "TAG" {
			end = size - 128
		}
	}
	first, f, ok := findMP3Sync(r, start, end)
	if !ok {
		return AudioInfo{}, damaged(FormatMP3, "no MPEG layer III frames found")
	}
	info := AudioInfo{Codec: "mp3", SampleRate: f.sampleRate, Channels: f.channels}

	frame, err := readAtMost(r, first, f.length, end)
	if err != nil {
		return AudioInfo{}, fmt.Errorf("read MP3: %w", err)
	}
	vbr, hasVBR := parseVBRHeader(frame, f)
	audioStart := first
	if hasVBR {
		audioStart = first + int64(f.length)
		info.MP3Header = vbr.kind
		// Trust the header only when the file holds the bytes it announces
		// (give or take a frame), a truncated file plays less, and as many
		// frames as it announces: a header claiming 999 hours in a few
		// megabytes is a lie, and the frames are counted instead.
		if vbr.bytes > 0 && end-first+int64(f.length) >= vbr.bytes && plausibleFrames(vbr.frames, end-audioStart, f) && framesToEnd(r, audioStart, end, f) {
			samples := vbr.frames*int64(f.samples) - int64(vbr.startPad+vbr.endPad)
			info.Duration = samplesDuration(samples, f.sampleRate)
			info.VBR = vbr.kind != "info"
			audioBytes := min(vbr.bytes, end-first) - int64(f.length)
			info.Bitrate = bitrateOf(audioBytes, info.Duration)
			if !info.VBR {
				info.Bitrate = f.bitrate
			}
			return info, nil
		}
	}
	frames, bytes, cbr, err := scanMP3(r, audioStart, end, f)
	if err != nil {
		return AudioInfo{}, err
	}
	if frames == 0 {
		return AudioInfo{}, damaged(FormatMP3, "no whole MPEG frame")
	}
	samples := frames * int64(f.samples)
	if hasVBR {
		if frames >= vbr.frames {
			samples -= int64(vbr.startPad + vbr.endPad)
		} else {
			samples -= int64(vbr.startPad)
			info.Truncated = true
		}
	}
	info.Duration = samplesDuration(max(samples, 0), f.sampleRate)
	info.VBR = cbr == 0
	if cbr != 0 {
		info.Bitrate = cbr
	} else {
		info.Bitrate = bitrateOf(bytes, info.Duration)
	}
	return info, nil
}

// framesToEnd reports whether the last bytes of the audio (before end)
// are MPEG frames of the stream of f that end exactly at end: a file with
// garbage appended, or cut, gets its frames counted instead.
func framesToEnd(r io.ReaderAt, start, end int64, f mp3Frame) bool {
	from := max(start, end-8<<10)
	b, err := readAtMost(r, from, int(end-from), end)
	if err != nil {
		return false
	}
	for i := 0; i+4 <= len(b); i++ {
		g, ok := parseMP3Frame(b[i:])
		if !ok || !g.sameStream(f) {
			continue
		}
		// Walk the frames from i: they must land exactly on the end.
		p, n := i, 0
		for ok && g.sameStream(f) && p+g.length <= len(b) {
			p += g.length
			n++
			if p == len(b) {
				return n >= 2 || from == start
			}
			g, ok = parseMP3Frame(b[p:])
		}
	}
	return false
}

// plausibleFrames reports whether audioBytes can hold frames frames of the
// stream of f, each at least as long as a frame at the lowest bitrate of
// its MPEG version (32 kbit/s for MPEG 1, 8 kbit/s for MPEG 2 and 2.5),
// give or take a frame.
func plausibleFrames(frames, audioBytes int64, f mp3Frame) bool {
	lowest := int64(mp3BitratesV2[1] * 1000)
	if f.samples == 1152 {
		lowest = int64(mp3BitratesV1[1] * 1000)
	}
	minLen := int64(f.samples) / 8 * lowest / int64(f.sampleRate)
	return frames >= 0 && minLen > 0 && frames-1 <= audioBytes/minLen
}

// scanMP3 counts the whole frames of the stream of f between start and end.
// Bytes that are not frames are skipped: a new frame is accepted after
// them only when it chains to two more. It returns the frame count, their
// bytes, and the common bitrate, or 0 when the bitrate varies.
func scanMP3(r io.ReaderAt, start, end int64, f mp3Frame) (frames, bytes int64, cbr int, err error) {
	// The buffer holds at least the three frames a resync peeks at.
	br := bufio.NewReaderSize(io.NewSectionReader(r, start, end-start), int(min(max(end-start, 16<<10), 256<<10)))
	pos := start
	cbr = -1
	synced := true // start is a frame boundary
	for pos+4 <= end {
		b, err := br.Peek(4)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("read MP3 frames: %w", err)
		}
		g, ok := parseMP3Frame(b)
		ok = ok && g.sameStream(f)
		if ok && !synced {
			// After bytes that are not frames, false syncs hide: check
			// that the frame chains to two more.
			more, _ := br.Peek(3 * 2900)
			ok = mp3Chain(more, g, pos, end)
		}
		if !ok {
			if _, err := br.Discard(1); err != nil {
				return 0, 0, 0, fmt.Errorf("read MP3 frames: %w", err)
			}
			pos++
			synced = false
			continue
		}
		synced = true
		if pos+int64(g.length) > end {
			break // a cut last frame does not play
		}
		if _, err := br.Discard(g.length); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, 0, 0, fmt.Errorf("read MP3 frames: %w", err)
		}
		frames++
		bytes += int64(g.length)
		switch cbr {
		case -1:
			cbr = g.bitrate
		case g.bitrate:
		default:
			cbr = 0
		}
		pos += int64(g.length)
	}
	return frames, bytes, max(cbr, 0), nil
}

// samplesDuration is the duration of n samples at rate Hz.
func samplesDuration(n int64, rate int) time.Duration {
	if rate <= 0 || n <= 0 {
		return 0
	}
	sec := n / int64(rate)
	rem := n % int64(rate)
	if sec >= maxSeconds {
		return maxSeconds * time.Second
	}
	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(rate)
}

// maxSeconds caps computed durations (about 272 years) so that absurd
// header values cannot overflow time.Duration; ProbeReader refuses
// anything near it.
const maxSeconds = 1 << 33

// bitrateOf is the average bitrate of n bytes played in d.
func bitrateOf(n int64, d time.Duration) int {
	if d <= 0 || n <= 0 {
		return 0
	}
	return int(float64(n) * 8 / d.Seconds())
}
