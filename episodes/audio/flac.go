package audio

import (
	"encoding/binary"
	"fmt"
	"io"
)

// flacMeta is the metadata blocks of a FLAC file that carry tags.
type flacMeta struct {
	comment []byte // VORBIS_COMMENT block body
	picture []byte // first PICTURE block body
}

// maxFLACBlocks bounds the metadata blocks read before the audio.
const maxFLACBlocks = 1024

// ParseFLAC measures a native FLAC file: duration from STREAMINFO's total
// samples, or from the last whole frame when the file is truncated or does
// not know its length. See https://xiph.org/flac/format.html.
func ParseFLAC(r io.ReaderAt, size int64) (AudioInfo, error) {
	info, _, err := parseFLAC(r, size, false)
	return info, err
}

func parseFLAC(r io.ReaderAt, size int64, withTags bool) (AudioInfo, flacMeta, error) {
	var meta flacMeta
	off := int64(0)
	if head, err := readAtMost(r, 0, 10, size); err == nil {
		if n, ok := id3v2Size(head); ok {
			off = n
		}
	}
	magic, err := readAtMost(r, off, 4, size)
	if err != nil {
		return AudioInfo{}, meta, fmt.Errorf("read FLAC: %w", err)
	}
	if string(magic) != "fLaC" {
		return AudioInfo{}, meta, damaged(FormatFLAC, "no fLaC marker")
	}
	off += 4
	var info AudioInfo
	var total uint64
	var minBlock int
	seenInfo := false
	hdr := make([]byte, 4)
	for i := 0; ; i++ {
		if i == maxFLACBlocks {
			return AudioInfo{}, meta, damaged(FormatFLAC, "more than %d metadata blocks", maxFLACBlocks)
		}
		if off+4 > size {
			return AudioInfo{}, meta, damaged(FormatFLAC, "the metadata blocks are cut")
		}
		if _, err := r.ReadAt(hdr, off); err != nil {
			return AudioInfo{}, meta, fmt.Errorf("read FLAC metadata: %w", err)
		}
		last := hdr[0]&0x80 != 0
		typ := hdr[0] & 0x7f
		n := int64(hdr[1])<<16 | int64(hdr[2])<<8 | int64(hdr[3])
		body := off + 4
		if body+n > size {
			return AudioInfo{}, meta, damaged(FormatFLAC, "a metadata block of %d bytes goes past the end of the file", n)
		}
		switch {
		case typ == 0 && n >= 34:
			b, err := readAtMost(r, body, 34, size)
			if err != nil || len(b) < 34 {
				return AudioInfo{}, meta, fmt.Errorf("read FLAC STREAMINFO: %v", err)
			}
			minBlock = int(binary.BigEndian.Uint16(b[0:]))
			x := binary.BigEndian.Uint64(b[10:])
			info.SampleRate = int(x >> 44)
			info.Channels = int(x>>41&7) + 1
			info.BitsPerSample = int(x>>36&31) + 1
			total = x & (1<<36 - 1)
			seenInfo = true
		case withTags && typ == 4 && meta.comment == nil:
			meta.comment, err = readAtMost(r, body, int(n), size)
		case withTags && typ == 6 && meta.picture == nil:
			meta.picture, err = readAtMost(r, body, int(n), size)
		case typ == 127:
			return AudioInfo{}, meta, damaged(FormatFLAC, "an invalid metadata block type")
		}
		if err != nil {
			return AudioInfo{}, meta, fmt.Errorf("read FLAC metadata: %w", err)
		}
		off = body + n
		if last {
			break
		}
	}
	if !seenInfo || info.SampleRate == 0 {
		return AudioInfo{}, meta, damaged(FormatFLAC, "no valid STREAMINFO block")
	}
	info.Codec = "flac"
	// The last frame header tells how much audio the file holds.
	start, block, ok, err := lastFLACFrame(r, off, size, minBlock)
	if err != nil {
		return AudioInfo{}, meta, err
	}
	samples := total
	switch {
	case ok && total > 0 && start+block < total:
		samples = start // the last frame is cut or missing
		info.Truncated = true
	case ok && total == 0:
		samples = start + block
	case !ok && total == 0:
		return AudioInfo{}, meta, damaged(FormatFLAC, "no audio frames")
	}
	info.Duration = samplesDuration(int64(samples), info.SampleRate)
	info.Bitrate = bitrateOf(size-off, info.Duration)
	return info, meta, nil
}

// lastFLACFrame finds the last frame header in the last 64 KiB of the audio
// (from off) and returns its first sample and block size.
func lastFLACFrame(r io.ReaderAt, off, size int64, fixedBlock int) (start, block uint64, ok bool, err error) {
	from := max(off, size-64<<10)
	b, err := readAtMost(r, from, int(size-from), size)
	if err != nil {
		return 0, 0, false, fmt.Errorf("read FLAC frames: %w", err)
	}
	for i := len(b) - 2; i >= 0; i-- {
		if b[i] != 0xff || b[i+1]&0xfe != 0xf8 {
			continue
		}
		if s, n, ok := parseFLACFrameHeader(b[i:], fixedBlock); ok {
			return s, n, true, nil
		}
	}
	return 0, 0, false, nil
}

// parseFLACFrameHeader decodes a frame header and checks its CRC-8.
func parseFLACFrameHeader(b []byte, fixedBlock int) (start, block uint64, ok bool) {
	if len(b) < 6 {
		return 0, 0, false
	}
	variable := b[1]&1 == 1
	bs, sr := b[2]>>4, b[2]&0xf
	if bs == 0 || sr == 15 || b[3]&1 != 0 || (b[3]>>4) > 10 || (b[3]>>1)&7 == 3 {
		return 0, 0, false
	}
	// The frame or sample number, UTF-8 coded (up to 36 bits).
	p := 4
	c := b[p]
	var n uint64
	extra := 0
	switch {
	case c&0x80 == 0:
		n = uint64(c)
	case c&0xe0 == 0xc0:
		n, extra = uint64(c&0x1f), 1
	case c&0xf0 == 0xe0:
		n, extra = uint64(c&0x0f), 2
	case c&0xf8 == 0xf0:
		n, extra = uint64(c&0x07), 3
	case c&0xfc == 0xf8:
		n, extra = uint64(c&0x03), 4
	case c&0xfe == 0xfc:
		n, extra = uint64(c&0x01), 5
	case c == 0xfe:
		n, extra = 0, 6
	default:
		return 0, 0, false
	}
	p++
	for range extra {
		if p >= len(b) || b[p]&0xc0 != 0x80 {
			return 0, 0, false
		}
		n = n<<6 | uint64(b[p]&0x3f)
		p++
	}
	switch {
	case bs == 1:
		block = 192
	case bs <= 5:
		block = 576 << (bs - 2)
	case bs == 6:
		if p+1 > len(b) {
			return 0, 0, false
		}
		block = uint64(b[p]) + 1
		p++
	case bs == 7:
		if p+2 > len(b) {
			return 0, 0, false
		}
		block = uint64(binary.BigEndian.Uint16(b[p:])) + 1
		p += 2
	default:
		block = 256 << (bs - 8)
	}
	switch sr {
	case 12:
		p++
	case 13, 14:
		p += 2
	}
	if p >= len(b) || crc8(b[:p]) != b[p] {
		return 0, 0, false
	}
	if variable {
		return n, block, true
	}
	if fixedBlock == 0 {
		fixedBlock = int(block)
	}
	return n * uint64(fixedBlock), block, true
}

// crc8 is FLAC's frame header CRC (polynomial x^8 + x^2 + x + 1).
func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
	}
	return c
}
