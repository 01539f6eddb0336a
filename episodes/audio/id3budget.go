package audio

import "encoding/binary"

// ID3v2 frame budget. dhowden/tag gives a repeated frame the first free
// name of "ID_0", "ID_1"... by trying them in turn, so n copies of one
// frame cost n² steps: a few thousand TXXX or CHAP frames pin a CPU for
// seconds, tens of thousands for minutes. A tag over the budget is refused
// before the library sees it.
const (
	// maxID3Frames is the most frames an ID3v2 tag may have (a tag with a
	// chapter per minute of a 4-hour show has about 250).
	maxID3Frames = 2000
	// maxSameID3Frames is the most frames of one ID (TXXX, CHAP...).
	maxSameID3Frames = 500
)

// checkID3Frames counts the frames of the ID3v2 tag at the start of b
// (its header included) and refuses a tag over the budget. A tag it
// cannot walk to the end (bad sizes) passes: the library stops there too.
func checkID3Frames(b []byte) error {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return nil
	}
	version, flags := b[3], b[5]
	end := min(len(b), 10+int(syncsafe(b[6:10])))
	off := 10
	if flags&0x40 != 0 && version >= 3 && off+4 <= end { // extended header
		switch version {
		case 3:
			off += 4 + int(binary.BigEndian.Uint32(b[off:]))
		default:
			off += int(syncsafe(b[off : off+4]))
		}
	}
	idLen, headLen := 4, 10
	if version == 2 {
		idLen, headLen = 3, 6
	}
	total := 0
	same := map[string]int{}
	for off+headLen <= end && b[off] != 0 {
		id := string(b[off : off+idLen])
		var size int
		switch version {
		case 2:
			size = int(b[off+3])<<16 | int(b[off+4])<<8 | int(b[off+5])
		case 3:
			size = int(binary.BigEndian.Uint32(b[off+4:]))
		default:
			size = int(syncsafe(b[off+4 : off+8]))
		}
		total++
		same[id]++
		if total > maxID3Frames {
			return damagedFor(FormatMP3, "id3_frames", "its ID3 tag has more than %d frames", maxID3Frames)
		}
		if same[id] > maxSameID3Frames {
			return damagedFor(FormatMP3, "id3_same_frames", "its ID3 tag has more than %d %s frames", maxSameID3Frames, id)
		}
		if size < 0 || size > end {
			break
		}
		off += headLen + size
	}
	return nil
}

// syncsafe reads a 28-bit ID3v2 "synchsafe" integer (7 bits a byte).
func syncsafe(b []byte) uint32 {
	return uint32(b[0]&0x7f)<<21 | uint32(b[1]&0x7f)<<14 | uint32(b[2]&0x7f)<<7 | uint32(b[3]&0x7f)
}
