package audio

import (
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"
)

// id3Chapters reads the CHAP frames that dhowden/tag leaves as raw bytes
// (keys "CHAP", "CHAP_0", "CHAP_1"...): the start and end times and the
// TIT2 subframe. See https://id3.org/id3v2-chapters-1.0. synchsafe is true
// for ID3v2.4, whose frame sizes are synchsafe integers.
//
// When a top-level CTOC frame lists the chapters, only those are kept:
// other CHAP frames belong to nested tables of contents.
func id3Chapters(raw map[string]any, synchsafe bool) []Chapter {
	var toc map[string]bool
	for k, v := range raw {
		if b, ok := v.([]byte); ok && (k == "CTOC" || strings.HasPrefix(k, "CTOC_")) {
			if ids, top := parseCTOC(b); top {
				toc = make(map[string]bool, len(ids))
				for _, id := range ids {
					toc[id] = true
				}
			}
		}
	}
	var out []Chapter
	for k, v := range raw {
		if k != "CHAP" && !strings.HasPrefix(k, "CHAP_") {
			continue
		}
		b, ok := v.([]byte)
		if !ok {
			continue
		}
		if toc != nil && !toc[cString(b)] {
			continue
		}
		if c, ok := parseCHAP(b, synchsafe); ok {
			out = append(out, c)
		}
	}
	sortChapters(out)
	return out
}

// parseCTOC returns the child element IDs of a CTOC frame and whether it
// is the top-level table of contents.
func parseCTOC(b []byte) (ids []string, top bool) {
	i := len(cString(b)) + 1
	if i+2 > len(b) {
		return nil, false
	}
	top = b[i]&2 != 0
	n := int(b[i+1])
	rest := b[i+2:]
	for range n {
		if len(rest) == 0 {
			break
		}
		id := cString(rest)
		ids = append(ids, id)
		rest = rest[min(len(rest), len(id)+1):]
	}
	return ids, top
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// parseCHAP parses the body of a CHAP frame.
func parseCHAP(b []byte, synchsafe bool) (Chapter, bool) {
	i := 0
	for i < len(b) && b[i] != 0 {
		i++
	}
	i++ // element ID and its NUL
	if i+16 > len(b) {
		return Chapter{}, false
	}
	c := Chapter{
		Start: time.Duration(binary.BigEndian.Uint32(b[i:])) * time.Millisecond,
		End:   time.Duration(binary.BigEndian.Uint32(b[i+4:])) * time.Millisecond,
	}
	if c.End < c.Start || binary.BigEndian.Uint32(b[i+4:]) == 0xffffffff {
		c.End = 0
	}
	sub := b[i+16:]
	c.Title, c.URL = chapterSubframes(sub, synchsafe)
	if c.Title == "" && synchsafe {
		// Some writers use plain sizes in ID3v2.4 subframes.
		c.Title, c.URL = chapterSubframes(sub, false)
	}
	return c, true
}

// chapterSubframes reads the TIT2 and WXXX subframes of a CHAP frame.
func chapterSubframes(b []byte, synchsafe bool) (title, url string) {
	for len(b) >= 10 {
		id := string(b[:4])
		var n int
		if synchsafe {
			n = int(b[4]&0x7f)<<21 | int(b[5]&0x7f)<<14 | int(b[6]&0x7f)<<7 | int(b[7]&0x7f)
		} else {
			n = int(binary.BigEndian.Uint32(b[4:]))
		}
		if n < 0 || n > len(b)-10 {
			return title, url
		}
		body := b[10 : 10+n]
		switch id {
		case "TIT2":
			if len(body) > 0 && title == "" {
				title = cleanTag(decodeID3Text(body[0], body[1:]))
			}
		case "WXXX":
			// encoding, description (NUL-terminated in that encoding), URL
			// in ISO-8859-1.
			if len(body) > 1 {
				rest := body[1:]
				term := []byte{0}
				if body[0] == 1 || body[0] == 2 {
					term = []byte{0, 0}
				}
				for j := 0; j+len(term) <= len(rest); j += len(term) {
					if string(rest[j:j+len(term)]) == string(term) {
						url = cleanTag(string(rest[j+len(term):]))
						break
					}
				}
			}
		}
		b = b[10+n:]
	}
	return title, url
}

// decodeID3Text decodes an ID3v2 text value in the given encoding byte:
// 0 ISO-8859-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8.
func decodeID3Text(enc byte, b []byte) string {
	switch enc {
	case 0:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	case 1, 2:
		be := enc == 2
		if len(b) >= 2 {
			switch {
			case b[0] == 0xff && b[1] == 0xfe:
				be, b = false, b[2:]
			case b[0] == 0xfe && b[1] == 0xff:
				be, b = true, b[2:]
			}
		}
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			var x uint16
			if be {
				x = binary.BigEndian.Uint16(b[i:])
			} else {
				x = binary.LittleEndian.Uint16(b[i:])
			}
			if x == 0 {
				break
			}
			u = append(u, x)
		}
		return string(utf16.Decode(u))
	default:
		return string(b)
	}
}
