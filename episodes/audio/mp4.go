package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// maxMoov bounds the movie header read into memory. A podcast's moov is a
// few hundred KiB of sample tables plus its cover art.
const maxMoov = 32 << 20

// boxes calls fn for each ISO BMFF box in b, with its type and payload, until
// fn returns false. A box that claims more than b holds stops the walk.
// See ISO/IEC 14496-12, 4.2.
func boxes(b []byte, fn func(typ string, payload []byte) bool) {
	for len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return
		}
		if !fn(typ, b[hdr:size]) {
			return
		}
		b = b[size:]
	}
}

// child returns the payload of the first box of type typ in b.
func child(b []byte, path ...string) []byte {
	for _, typ := range path {
		var found []byte
		boxes(b, func(t string, p []byte) bool {
			if t == typ {
				found = p
				return false
			}
			return true
		})
		if found == nil {
			return nil
		}
		b = found
	}
	return b
}

// mp4Track is what ParseMP4 reads of the sound track.
type mp4Track struct {
	timescale  uint32
	duration   uint64 // mdhd, in timescale units
	codec      string
	channels   int
	sampleRate int
	stbl       []byte
	elst       []byte
}

// readMoov finds the moov box of an MP4 file, at its start or its end, and
// reads it into memory.
func readMoov(r io.ReaderAt, size int64) ([]byte, error) {
	var off int64
	hdr := make([]byte, 16)
	for off+8 <= size {
		if _, err := r.ReadAt(hdr[:8], off); err != nil {
			return nil, fmt.Errorf("read MP4 box at %d: %w", off, err)
		}
		n := int64(binary.BigEndian.Uint32(hdr))
		typ := string(hdr[4:8])
		h := int64(8)
		switch n {
		case 0:
			n = size - off
		case 1:
			if off+16 > size {
				return nil, damaged(FormatM4A, "a truncated box header")
			}
			if _, err := r.ReadAt(hdr[8:16], off+8); err != nil {
				return nil, fmt.Errorf("read MP4 box at %d: %w", off, err)
			}
			n, h = int64(binary.BigEndian.Uint64(hdr[8:])), 16
		}
		if n < h {
			return nil, damaged(FormatM4A, "a box of %d bytes at %d", n, off)
		}
		if typ == "moov" {
			if n > size-off {
				return nil, damaged(FormatM4A, "the movie header is cut (the file is truncated)")
			}
			if n-h > maxMoov {
				return nil, damaged(FormatM4A, "a movie header of %d bytes", n)
			}
			moov := make([]byte, n-h)
			if _, err := r.ReadAt(moov, off+h); err != nil {
				return nil, fmt.Errorf("read MP4 moov: %w", err)
			}
			return moov, nil
		}
		if n > size-off {
			break
		}
		off += n
	}
	return nil, damagedFor(FormatM4A, "unfinished", "no movie header (moov): the file is truncated or not finished")
}

// ParseMP4 measures the sound track of an MP4/M4A file from its movie
// header: duration (mdhd and the edit list; samples beyond the end of a
// truncated file do not count), codec, sample rate and channels (stsd).
func ParseMP4(r io.ReaderAt, size int64) (AudioInfo, error) {
	moov, err := readMoov(r, size)
	if err != nil {
		return AudioInfo{}, err
	}
	return parseMoov(moov, size)
}

func parseMoov(moov []byte, size int64) (AudioInfo, error) {
	var movieScale uint32
	if mvhd := child(moov, "mvhd"); len(mvhd) >= 20 {
		if mvhd[0] == 1 && len(mvhd) >= 28 {
			movieScale = binary.BigEndian.Uint32(mvhd[20:])
		} else {
			movieScale = binary.BigEndian.Uint32(mvhd[12:])
		}
	}
	var tr *mp4Track
	sawTrack, video := false, false
	boxes(moov, func(typ string, trak []byte) bool {
		if typ != "trak" {
			return true
		}
		sawTrack = true
		mdia := child(trak, "mdia")
		hdlr := child(mdia, "hdlr")
		if len(hdlr) >= 12 && string(hdlr[8:12]) == "vide" {
			video = true
		}
		if len(hdlr) < 12 || string(hdlr[8:12]) != "soun" || tr != nil {
			return true
		}
		t := &mp4Track{stbl: child(mdia, "minf", "stbl"), elst: child(trak, "edts", "elst")}
		if mdhd := child(mdia, "mdhd"); len(mdhd) >= 20 {
			if mdhd[0] == 1 && len(mdhd) >= 32 {
				t.timescale = binary.BigEndian.Uint32(mdhd[20:])
				t.duration = binary.BigEndian.Uint64(mdhd[24:])
			} else {
				t.timescale = binary.BigEndian.Uint32(mdhd[12:])
				t.duration = uint64(binary.BigEndian.Uint32(mdhd[16:]))
			}
		}
		parseStsd(child(t.stbl, "stsd"), t)
		tr = t
		return true
	})
	if tr == nil {
		if sawTrack {
			return AudioInfo{}, &UnsupportedAudioError{Kind: KindVideo}
		}
		return AudioInfo{}, damaged(FormatM4A, "no track")
	}
	if tr.timescale == 0 {
		return AudioInfo{}, damaged(FormatM4A, "the sound track has no time scale")
	}
	info := AudioInfo{Codec: tr.codec, Channels: tr.channels, SampleRate: tr.sampleRate, Video: video}
	if info.SampleRate == 0 {
		info.SampleRate = int(tr.timescale)
	}

	samples := mp4Samples(tr.stbl)
	total, played, bytes, ok := samples.playable(size)
	media := tr.duration
	if ok && total > 0 {
		media = total
	}
	// The edit list trims the encoder's priming samples, as players do.
	var skip uint64
	var segment uint64
	if e := tr.elst; len(e) >= 8 && binary.BigEndian.Uint32(e[4:]) >= 1 {
		if e[0] == 1 && len(e) >= 28 {
			segment, skip = binary.BigEndian.Uint64(e[8:]), binary.BigEndian.Uint64(e[16:])
		} else if len(e) >= 20 {
			segment, skip = uint64(binary.BigEndian.Uint32(e[8:])), uint64(binary.BigEndian.Uint32(e[12:]))
		}
		if int64(skip) < 0 || skip == 0xffffffff {
			skip = 0
		}
	}
	end := media
	if ok && played < total {
		end = played
		info.Truncated = true
	}
	if skip > end {
		skip = end
	}
	d := ticks(end-skip, tr.timescale)
	if segment > 0 && movieScale > 0 && !info.Truncated {
		d = min(d, ticks(segment, movieScale))
	}
	info.Duration = d
	if ok {
		info.Bitrate = bitrateOf(int64(bytes), info.Duration)
	}
	return info, nil
}

// ticks converts n units of a time scale to a duration.
func ticks(n uint64, scale uint32) time.Duration {
	if scale == 0 {
		return 0
	}
	s := uint64(scale)
	if n/s >= maxSeconds {
		return maxSeconds * time.Second
	}
	return time.Duration(n/s)*time.Second + time.Duration(n%s)*time.Second/time.Duration(s)
}

// parseStsd reads the codec, channels and sample rate of the first sample
// entry.
func parseStsd(stsd []byte, t *mp4Track) {
	if len(stsd) < 8 {
		return
	}
	boxes(stsd[8:], func(typ string, e []byte) bool {
		switch typ {
		case "mp4a":
			t.codec = "aac"
		case "alac":
			t.codec = "alac"
		case "Opus":
			t.codec = "opus"
		case "fLaC":
			t.codec = "flac"
		case "ac-3":
			t.codec = "ac3"
		case "ec-3":
			t.codec = "eac3"
		case ".mp3":
			t.codec = "mp3"
		default:
			t.codec = typ
		}
		// SoundSampleEntry: 6 reserved, data reference (2), version (2),
		// revision (2), vendor (4), channels (2), sample size (2),
		// compression id (2), packet size (2), rate (16.16).
		if len(e) < 28 {
			return false
		}
		t.channels = int(binary.BigEndian.Uint16(e[16:]))
		t.sampleRate = int(binary.BigEndian.Uint32(e[24:]) >> 16)
		rest := e[28:]
		switch binary.BigEndian.Uint16(e[8:]) {
		case 1:
			rest = e[min(len(e), 44):]
		case 2:
			rest = e[min(len(e), 64):]
		}
		if typ == "mp4a" {
			if esds := child(rest, "esds"); len(esds) > 4 {
				if c, ch := esdsCodec(esds[4:]); c != "" {
					t.codec = c
					if ch > 0 {
						// The sample entry's channel count is a template
						// value (2) in ISO files; the decoder config is right.
						t.channels = ch
					}
				}
			}
		}
		return false
	})
}

// esdsCodec names the codec of an ES descriptor (ISO/IEC 14496-1, 7.2.6)
// and gives the channel configuration of its AudioSpecificConfig (ISO/IEC
// 14496-3, 1.6.2.1), 0 when unknown.
func esdsCodec(b []byte) (string, int) {
	oti := -1
	aot := 0
	channels := 0
	var walk func(b []byte)
	walk = func(b []byte) {
		for len(b) >= 2 {
			tag := b[0]
			n, i := 0, 1
			for ; i < 5 && i < len(b); i++ {
				n = n<<7 | int(b[i]&0x7f)
				if b[i]&0x80 == 0 {
					i++
					break
				}
			}
			if n > len(b)-i {
				n = len(b) - i
			}
			body := b[i : i+n]
			switch tag {
			case 0x03: // ES_Descriptor
				if len(body) < 3 {
					return
				}
				flags := body[2]
				p := 3
				if flags&0x80 != 0 {
					p += 2
				}
				if flags&0x40 != 0 && p < len(body) {
					p += 1 + int(body[p])
				}
				if flags&0x20 != 0 {
					p += 2
				}
				if p <= len(body) {
					walk(body[p:])
				}
			case 0x04: // DecoderConfigDescriptor
				if len(body) >= 13 {
					oti = int(body[0])
					walk(body[13:])
				}
			case 0x05: // AudioSpecificConfig
				if len(body) >= 2 {
					// 5 bits object type, 4 bits frequency index (then 24
					// bits of frequency when it is 15), 4 bits channels.
					bits := uint64(0)
					for k := 0; k < 8; k++ {
						bits <<= 8
						if k < len(body) {
							bits |= uint64(body[k])
						}
					}
					pos := 0
					read := func(n int) int {
						v := int(bits >> (64 - pos - n) & (1<<n - 1))
						pos += n
						return v
					}
					aot = read(5)
					if aot == 31 {
						aot = 32 + read(6)
					}
					if read(4) == 15 {
						read(24)
					}
					channels = read(4)
					if channels == 7 {
						channels = 8
					} else if channels > 7 {
						channels = 0
					}
				}
			}
			b = b[i+n:]
		}
	}
	walk(b)
	switch oti {
	case 0x40, 0x66, 0x67, 0x68:
		switch aot {
		case 5:
			return "he-aac", channels
		case 29:
			return "he-aac-v2", channels
		}
		return "aac", channels
	case 0x69, 0x6b:
		return "mp3", 0
	case -1:
		return "", 0
	}
	return fmt.Sprintf("mp4a-%02x", oti), 0
}

// mp4SampleTables are the sample tables of a track (ISO/IEC 14496-12, 8.6
// and 8.7).
type mp4SampleTables struct {
	stts, stsz, stsc, stco []byte
	co64                   bool
}

func mp4Samples(stbl []byte) mp4SampleTables {
	t := mp4SampleTables{
		stts: child(stbl, "stts"),
		stsz: child(stbl, "stsz"),
		stsc: child(stbl, "stsc"),
		stco: child(stbl, "stco"),
	}
	if t.stco == nil {
		t.stco, t.co64 = child(stbl, "co64"), true
	}
	return t
}

// playable returns the duration of all samples and of those whose bytes
// lie within the file's size (in media time units), and the bytes of the
// latter. ok is false when the tables are missing or inconsistent.
func (t mp4SampleTables) playable(size int64) (total, played, bytes uint64, ok bool) {
	if len(t.stts) < 8 || len(t.stsz) < 12 || len(t.stsc) < 8 || len(t.stco) < 8 {
		return 0, 0, 0, false
	}
	fixed := binary.BigEndian.Uint32(t.stsz[4:])
	nSamples := uint64(binary.BigEndian.Uint32(t.stsz[8:]))
	if nSamples > 1<<25 || fixed == 0 && uint64(len(t.stsz)-12)/4 < nSamples {
		return 0, 0, 0, false
	}
	sampleSize := func(i uint64) uint64 {
		if fixed != 0 {
			return uint64(fixed)
		}
		return uint64(binary.BigEndian.Uint32(t.stsz[12+4*i:]))
	}
	nChunks := uint64(binary.BigEndian.Uint32(t.stco[4:]))
	w := uint64(4)
	if t.co64 {
		w = 8
	}
	if uint64(len(t.stco)-8)/w < nChunks {
		return 0, 0, 0, false
	}
	chunkOffset := func(i uint64) uint64 {
		if t.co64 {
			return binary.BigEndian.Uint64(t.stco[8+8*i:])
		}
		return uint64(binary.BigEndian.Uint32(t.stco[8+4*i:]))
	}
	nRuns := uint64(binary.BigEndian.Uint32(t.stsc[4:]))
	if uint64(len(t.stsc)-8)/12 < nRuns || nRuns == 0 {
		return 0, 0, 0, false
	}
	// Count the samples that lie whole within the file, chunk by chunk.
	var whole uint64
	sample := uint64(0)
	cut := false
	for run := uint64(0); run < nRuns && !cut && sample < nSamples; run++ {
		e := t.stsc[8+12*run:]
		first := uint64(binary.BigEndian.Uint32(e)) - 1
		per := uint64(binary.BigEndian.Uint32(e[4:]))
		last := nChunks
		if run+1 < nRuns {
			last = uint64(binary.BigEndian.Uint32(t.stsc[8+12*(run+1):])) - 1
		}
		if first >= nChunks || last > nChunks || first > last || per == 0 {
			return 0, 0, 0, false
		}
		for c := first; c < last && !cut && sample < nSamples; c++ {
			off := chunkOffset(c)
			for k := uint64(0); k < per && sample < nSamples; k++ {
				sz := sampleSize(sample)
				off += sz
				if off > uint64(size) {
					cut = true
					break
				}
				bytes += sz
				sample++
				whole++
			}
		}
	}
	// Durations from the time-to-sample table.
	nEntries := uint64(binary.BigEndian.Uint32(t.stts[4:]))
	if uint64(len(t.stts)-8)/8 < nEntries {
		return 0, 0, 0, false
	}
	var count uint64
	for i := uint64(0); i < nEntries; i++ {
		n := uint64(binary.BigEndian.Uint32(t.stts[8+8*i:]))
		d := uint64(binary.BigEndian.Uint32(t.stts[12+8*i:]))
		if count < whole {
			played += min(n, whole-count) * d
		}
		count += n
		total += n * d
	}
	return total, played, bytes, true
}
