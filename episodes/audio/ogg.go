package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// oggPage is one parsed Ogg page (RFC 3533, section 6).
type oggPage struct {
	granule uint64
	serial  uint32
	length  int // header and body
	body    []byte
}

// parseOggPage parses the page at the start of b and checks its CRC.
func parseOggPage(b []byte) (oggPage, bool) {
	if len(b) < 27 || string(b[:4]) != "OggS" || b[4] != 0 {
		return oggPage{}, false
	}
	n := int(b[26])
	if len(b) < 27+n {
		return oggPage{}, false
	}
	bodyLen := 0
	for _, s := range b[27 : 27+n] {
		bodyLen += int(s)
	}
	total := 27 + n + bodyLen
	if len(b) < total {
		return oggPage{}, false
	}
	var c uint32
	for i, x := range b[:total] {
		if i >= 22 && i < 26 {
			x = 0 // the CRC field counts as zero
		}
		c = c<<8 ^ oggCRCTable[byte(c>>24)^x]
	}
	if c != binary.LittleEndian.Uint32(b[22:]) {
		return oggPage{}, false
	}
	return oggPage{
		granule: binary.LittleEndian.Uint64(b[6:]),
		serial:  binary.LittleEndian.Uint32(b[14:]),
		length:  total,
		body:    b[27+n : total],
	}, true
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// maxOggPage is the largest possible Ogg page.
const maxOggPage = 27 + 255 + 255*255

// ParseOgg measures an Ogg Vorbis or Opus file: codec parameters from the
// identification header, duration from the granule position of the last
// whole page (less Opus's pre-skip). A truncated file measures what it
// holds.
func ParseOgg(r io.ReaderAt, size int64) (AudioInfo, error) {
	first, err := readAtMost(r, 0, maxOggPage, size)
	if err != nil {
		return AudioInfo{}, fmt.Errorf("read Ogg: %w", err)
	}
	p, ok := parseOggPage(first)
	if !ok {
		return AudioInfo{}, damaged(FormatOgg, "the first page is invalid or cut")
	}
	var info AudioInfo
	var preSkip uint64
	rate := 0
	b := p.body
	switch {
	case bytes.HasPrefix(b, []byte("\x01vorbis")) && len(b) >= 30:
		info.Codec = "vorbis"
		info.Channels = int(b[11])
		rate = int(binary.LittleEndian.Uint32(b[12:]))
		info.SampleRate = rate
	case bytes.HasPrefix(b, []byte("OpusHead")) && len(b) >= 19:
		info.Codec = "opus"
		info.Channels = int(b[9])
		preSkip = uint64(binary.LittleEndian.Uint16(b[10:]))
		rate = 48000 // Opus granule positions count 48 kHz samples
		info.SampleRate = rate
	default:
		return AudioInfo{}, &UnsupportedAudioError{Kind: KindOggOther}
	}
	if rate <= 0 || info.Channels == 0 {
		return AudioInfo{}, damaged(FormatOgg, "an invalid identification header")
	}
	granule, ok, err := lastOggGranule(r, size, p.serial)
	if err != nil {
		return AudioInfo{}, err
	}
	if !ok {
		return AudioInfo{}, damaged(FormatOgg, "no whole audio page")
	}
	if granule > preSkip {
		info.Duration = samplesDuration(int64(granule-preSkip), rate)
	}
	info.Bitrate = bitrateOf(size, info.Duration)
	return info, nil
}

// lastOggGranule finds the last whole page of the stream serial that has a
// granule position, looking back from the end of the file.
func lastOggGranule(r io.ReaderAt, size int64, serial uint32) (uint64, bool, error) {
	for end := size; end > 0; {
		from := max(0, end-2*maxOggPage)
		b, err := readAtMost(r, from, int(size-from), size)
		if err != nil {
			return 0, false, fmt.Errorf("read Ogg pages: %w", err)
		}
		limit := int(end - from)
		for i := limit - 4; i >= 0; i-- {
			if b[i] != 'O' || string(b[i:i+4]) != "OggS" {
				continue
			}
			p, ok := parseOggPage(b[i:])
			if ok && p.serial == serial && p.granule != ^uint64(0) {
				return p.granule, true, nil
			}
		}
		if from == 0 || size-from > 16*maxOggPage {
			break // a long stretch without a page: give up
		}
		end = from + 4
	}
	return 0, false, nil
}
