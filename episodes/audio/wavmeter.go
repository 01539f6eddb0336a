package audio

import (
	"encoding/binary"
	"math"
)

// WAVMeter measures a WAV recording from its bytes as they arrive, so that
// the loudness is known once the last byte is: it reads the RIFF header,
// then turns the samples of the data chunk (PCM of 8 to 32 bits, float of
// 32 or 64) into the PCM a Meter takes, at the file's own rate and
// channels, its levels recorded for Plan. Anything else (not a WAV, more
// than two channels, another codec, a header over 64 KiB) is ignored:
// Meter then returns nil and the caller measures otherwise. Its memory
// does not grow with the recording but for the meter's levels. Write never
// fails. Not safe for concurrent use.
type WAVMeter struct {
	head    []byte // the header read so far, up to the data chunk
	off     bool   // not measured: ignore the rest
	inData  bool   // the data chunk began
	skip    int64  // bytes of a chunk being skipped
	data    int64  // bytes of the data chunk left; -1: up to the end
	align   int    // bytes per frame
	bytes   int    // per sample
	float   bool
	m       *Meter
	carry   []byte // the start of a frame split across writes
	pcm     []byte // float32 PCM for the meter
	written int64
}

// maxWAVHeader bounds the bytes read before the data chunk.
const maxWAVHeader = 64 << 10

// NewWAVMeter returns a meter of a WAV stream.
func NewWAVMeter() *WAVMeter { return &WAVMeter{data: -1} }

// Write measures p, the next bytes of the recording.
func (w *WAVMeter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !w.off {
		switch {
		case w.skip > 0:
			k := min(int64(len(p)), w.skip)
			w.skip -= k
			p = p[k:]
		case !w.inData:
			p = w.header(p)
		case w.data == 0:
			return n, nil // what follows the data chunk
		default:
			k := len(p)
			if w.data > 0 {
				k = int(min(int64(k), w.data))
				w.data -= int64(k)
			}
			w.samples(p[:k])
			p = p[k:]
		}
	}
	return n, nil
}

// header reads the RIFF header from p and returns what is left of p once
// the data chunk begins (or once more bytes are needed: nothing).
func (w *WAVMeter) header(p []byte) []byte {
	need := func(k int) bool { return len(w.head) >= k }
	for {
		// RIFF, size, WAVE, then chunks: id, size, body.
		if len(w.head) < 12 {
			k := min(12-len(w.head), len(p))
			w.head, p = append(w.head, p[:k]...), p[k:]
			if !need(12) {
				return p
			}
			if string(w.head[:4]) != "RIFF" || string(w.head[8:12]) != "WAVE" {
				w.off = true
				return nil
			}
		}
		// The chunks are read one at a time from head[12:]: a chunk's
		// header then, for fmt, its body.
		chunk := w.head[12:]
		if len(chunk) < 8 {
			k := min(8-len(chunk), len(p))
			w.head, p = append(w.head, p[:k]...), p[k:]
			if len(w.head)-12 < 8 {
				return p
			}
			chunk = w.head[12:]
		}
		id, size := string(chunk[:4]), int64(binary.LittleEndian.Uint32(chunk[4:8]))
		switch id {
		case "fmt ":
			body := int(size + size&1)
			if body > maxWAVHeader {
				w.off = true
				return nil
			}
			k := min(8+body-len(chunk), len(p))
			w.head, p = append(w.head, p[:k]...), p[k:]
			if len(w.head)-12 < 8+body {
				return p
			}
			if !w.format(w.head[12+8 : 12+8+int(size)]) {
				w.off = true
				return nil
			}
		case "data":
			if w.align == 0 { // no fmt before the data
				w.off = true
				return nil
			}
			if size != 0 && size != 0xffffffff {
				w.data = size
			}
			w.head, w.inData = nil, true
			return p
		default:
			w.skip = size + size&1
		}
		if len(w.head) > maxWAVHeader {
			w.off = true
			return nil
		}
		w.head = w.head[:12] // the next chunk
		if w.skip > 0 {
			return p
		}
	}
}

// format reads a fmt chunk's body and makes the meter; false when the
// samples are of a kind not measured here.
func (w *WAVMeter) format(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	tag := binary.LittleEndian.Uint16(b)
	channels := int(binary.LittleEndian.Uint16(b[2:]))
	rate := int(binary.LittleEndian.Uint32(b[4:]))
	align := int(binary.LittleEndian.Uint16(b[12:]))
	bits := int(binary.LittleEndian.Uint16(b[14:]))
	if tag == 0xfffe && len(b) >= 26 { // WAVE_FORMAT_EXTENSIBLE
		tag = binary.LittleEndian.Uint16(b[24:])
	}
	bytes := (bits + 7) / 8
	switch {
	case channels != 1 && channels != 2, align != channels*bytes:
		return false
	case tag == 1 && bytes >= 1 && bytes <= 4:
	case tag == 3 && (bytes == 4 || bytes == 8):
		w.float = true
	default:
		return false
	}
	m, err := NewMeter(rate, channels)
	if err != nil {
		return false
	}
	m.RecordLevels()
	w.m, w.align, w.bytes = m, align, bytes
	return true
}

// samples converts whole frames of p (and of the carry) to float32 PCM
// for the meter.
func (w *WAVMeter) samples(p []byte) {
	if len(w.carry) > 0 {
		k := min(w.align-len(w.carry), len(p))
		w.carry, p = append(w.carry, p[:k]...), p[k:]
		if len(w.carry) < w.align {
			return
		}
		w.convert(w.carry)
		w.carry = w.carry[:0]
	}
	whole := len(p) / w.align * w.align
	for off := 0; off < whole; {
		k := min(whole-off, 16<<10/w.align*w.align)
		w.convert(p[off : off+k])
		off += k
	}
	w.carry = append(w.carry, p[whole:]...)
}

// convert measures whole frames.
func (w *WAVMeter) convert(p []byte) {
	w.pcm = w.pcm[:0]
	for i := 0; i+w.bytes <= len(p); i += w.bytes {
		var v float64
		switch {
		case w.float && w.bytes == 4:
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(p[i:])))
		case w.float:
			v = math.Float64frombits(binary.LittleEndian.Uint64(p[i:]))
		case w.bytes == 1:
			v = (float64(p[i]) - 128) / 128
		case w.bytes == 2:
			v = float64(int16(binary.LittleEndian.Uint16(p[i:]))) / (1 << 15)
		case w.bytes == 3:
			v = float64(int32(uint32(p[i])<<8|uint32(p[i+1])<<16|uint32(p[i+2])<<24)) / (1 << 31)
		default:
			v = float64(int32(binary.LittleEndian.Uint32(p[i:]))) / (1 << 31)
		}
		w.pcm = binary.LittleEndian.AppendUint32(w.pcm, math.Float32bits(float32(v)))
	}
	w.m.Write(w.pcm)
}

// Meter is the meter of the whole data chunk, or nil when the stream was
// not measured (see WAVMeter) or ended before its data chunk did.
func (w *WAVMeter) Meter() *Meter {
	if w.off || !w.inData || w.data > 0 {
		return nil
	}
	return w.m
}
