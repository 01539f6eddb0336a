package audio

import (
	"encoding/binary"
	"fmt"
	"io"
)

// wavInfoTags are the RIFF INFO fields antenne reads, by chunk ID.
var wavInfoTags = map[string]string{
	"INAM": "title",
	"IART": "artist",
	"IPRD": "album",
	"ICRD": "date",
	"ICMT": "comment",
	"IGNR": "genre",
	"ITRK": "track",
	"IPRT": "track",
}

// maxWAVChunks bounds the chunks read before the audio data.
const maxWAVChunks = 1024

// ParseWAV measures a RIFF WAVE file from its fmt and data chunks. A data
// chunk that claims more than the file holds (an interrupted recording)
// counts what is there.
func ParseWAV(r io.ReaderAt, size int64) (AudioInfo, error) {
	info, _, err := parseWAV(r, size)
	return info, err
}

// parseWAV also returns the LIST/INFO tags, keyed as in wavInfoTags.
func parseWAV(r io.ReaderAt, size int64) (AudioInfo, map[string]string, error) {
	head, err := readAtMost(r, 0, 12, size)
	if err != nil {
		return AudioInfo{}, nil, fmt.Errorf("read WAV: %w", err)
	}
	if len(head) < 12 || string(head[:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return AudioInfo{}, nil, damaged(FormatWAV, "no RIFF WAVE header")
	}
	var (
		info       AudioInfo
		tags       map[string]string
		blockAlign int
		haveFmt    bool
		dataBytes  int64 = -1
	)
	off := int64(12)
	hdr := make([]byte, 8)
	for i := 0; i < maxWAVChunks && off+8 <= size; i++ {
		if _, err := r.ReadAt(hdr, off); err != nil {
			return AudioInfo{}, nil, fmt.Errorf("read WAV chunk: %w", err)
		}
		id := string(hdr[:4])
		n := int64(binary.LittleEndian.Uint32(hdr[4:]))
		body := off + 8
		switch id {
		case "fmt ":
			b, err := readAtMost(r, body, int(min(n, 64)), size)
			if err != nil {
				return AudioInfo{}, nil, fmt.Errorf("read WAV fmt: %w", err)
			}
			if len(b) < 16 {
				return AudioInfo{}, nil, damaged(FormatWAV, "a cut fmt chunk")
			}
			tag := binary.LittleEndian.Uint16(b)
			info.Channels = int(binary.LittleEndian.Uint16(b[2:]))
			info.SampleRate = int(binary.LittleEndian.Uint32(b[4:]))
			blockAlign = int(binary.LittleEndian.Uint16(b[12:]))
			info.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:]))
			if tag == 0xfffe && len(b) >= 26 { // WAVE_FORMAT_EXTENSIBLE
				tag = binary.LittleEndian.Uint16(b[24:])
			}
			info.Codec = wavCodec(tag, info.BitsPerSample)
			haveFmt = true
		case "LIST":
			if n >= 4 && n <= 1<<20 && tags == nil {
				b, err := readAtMost(r, body, int(n), size)
				if err != nil {
					return AudioInfo{}, nil, fmt.Errorf("read WAV LIST: %w", err)
				}
				if len(b) >= 4 && string(b[:4]) == "INFO" {
					tags = parseRIFFInfo(b[4:])
				}
			}
		case "data":
			dataBytes = n
			if n == 0 || n == 0xffffffff || body+n > size {
				// An unfinished recording: the data runs to the end.
				dataBytes = size - body
				info.Truncated = n != 0 && n != 0xffffffff
			}
		}
		off = body + n + n&1
		if id == "data" && (n == 0xffffffff || body+n > size) {
			break
		}
	}
	if !haveFmt {
		return AudioInfo{}, nil, damaged(FormatWAV, "no fmt chunk")
	}
	if dataBytes < 0 {
		return AudioInfo{}, nil, damaged(FormatWAV, "no data chunk")
	}
	if info.Channels == 0 || info.SampleRate == 0 {
		return AudioInfo{}, nil, damaged(FormatWAV, "%d channels at %d Hz", info.Channels, info.SampleRate)
	}
	if blockAlign == 0 {
		blockAlign = info.Channels * ((info.BitsPerSample + 7) / 8)
	}
	if blockAlign <= 0 {
		return AudioInfo{}, nil, damaged(FormatWAV, "a zero block size")
	}
	info.Duration = samplesDuration(dataBytes/int64(blockAlign), info.SampleRate)
	info.Bitrate = info.SampleRate * blockAlign * 8
	return info, tags, nil
}

// wavCodec names a WAVE format tag as ffmpeg does.
func wavCodec(tag uint16, bits int) string {
	switch tag {
	case 1:
		if bits == 8 {
			return "pcm_u8"
		}
		return fmt.Sprintf("pcm_s%dle", bits)
	case 3:
		return fmt.Sprintf("pcm_f%dle", bits)
	case 6:
		return "pcm_alaw"
	case 7:
		return "pcm_mulaw"
	}
	return fmt.Sprintf("wav-0x%04x", tag)
}

// parseRIFFInfo reads the subchunks of a LIST/INFO chunk.
func parseRIFFInfo(b []byte) map[string]string {
	tags := make(map[string]string)
	for len(b) >= 8 {
		id := string(b[:4])
		n := int(binary.LittleEndian.Uint32(b[4:]))
		if n > len(b)-8 {
			n = len(b) - 8
		}
		if key, ok := wavInfoTags[id]; ok && tags[key] == "" {
			tags[key] = cleanTag(string(b[8 : 8+n]))
		}
		b = b[min(len(b), 8+n+n&1):]
	}
	return tags
}
