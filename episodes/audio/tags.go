package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dhowden/tag"
)

// Tags is what a recording's metadata says, cleaned of the NULs and spaces
// tag writers leave. Empty fields were absent.
type Tags struct {
	Title   string
	Artist  string
	Album   string
	Date    string // as written: "2020", "2020-10-02", "2020-10-02T09:30"...
	Comment string // comment or description
	Genre   string
	Track   int
	Picture *Picture
	// Chapters come from ID3 CHAP frames, Vorbis CHAPTERxxx comments or an
	// MP4 chpl box, in start order.
	Chapters []Chapter
}

// Chapter marks a point in a recording, as its tags give it. End is zero
// when the tags do not say.
type Chapter struct {
	Start, End time.Duration
	Title, URL string
}

// ChaptersUntil returns the chapters with their ends filled in: a chapter
// without an end ends where the next starts, the last at duration.
func (t Tags) ChaptersUntil(duration time.Duration) []Chapter {
	var list []Chapter
	for i, c := range t.Chapters {
		if c.End == 0 {
			if i+1 < len(t.Chapters) {
				c.End = t.Chapters[i+1].Start
			} else if duration > c.Start {
				c.End = duration
			}
		}
		list = append(list, c)
	}
	return list
}

// Picture is an embedded image.
type Picture struct {
	MIMEType string // image/jpeg, image/png... sniffed from the bytes when possible
	Data     []byte
}

// maxTagBytes bounds the tag bytes handed to dhowden/tag: the library
// trusts the sizes it reads and can allocate gigabytes on a tiny crafted
// file, so it only ever sees an in-memory copy of a bounded region.
const maxTagBytes = 32 << 20

// readTags reads the tags of a recording of format f. A file whose tags
// cannot be read gives empty Tags: tags are a convenience, never a reason
// to refuse a recording, except an ID3v2 tag over the frame budget
// (checkID3Frames), whose error is returned. moov is the MP4 movie header when f is M4A, and
// riff the WAV INFO tags when f is WAV.
func readTags(r io.ReaderAt, size int64, f Format, moov []byte, flac flacMeta, riff map[string]string) (Tags, error) {
	switch f {
	case FormatMP3:
		head, err := readAtMost(r, 0, 10, size)
		if err != nil {
			return Tags{}, nil
		}
		if n, ok := id3v2Size(head); ok && n <= maxTagBytes && n <= size {
			b, err := readAtMost(r, 0, int(n), size)
			if err == nil {
				if err := checkID3Frames(b); err != nil {
					return Tags{}, err
				}
				if m, err := safeRead(func() (tag.Metadata, error) { return tag.ReadID3v2Tags(bytes.NewReader(b)) }); err == nil {
					return tagsFromMetadata(m), nil
				}
			}
		}
		if size >= 128 {
			b, err := readAtMost(r, size-128, 128, size)
			if err == nil && string(b[:3]) == "TAG" {
				if m, err := safeRead(func() (tag.Metadata, error) { return tag.ReadID3v1Tags(bytes.NewReader(b)) }); err == nil {
					return tagsFromMetadata(m), nil
				}
			}
		}
	case FormatFLAC:
		var b bytes.Buffer
		b.WriteString("fLaC")
		block := func(typ byte, body []byte) {
			n := len(body)
			b.Write([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)})
			b.Write(body)
		}
		if flac.comment != nil {
			block(4, flac.comment)
		}
		if flac.picture != nil {
			block(6, flac.picture)
		}
		block(0x81, nil) // an empty last block (padding)
		if m, err := safeRead(func() (tag.Metadata, error) { return tag.ReadFLACTags(bytes.NewReader(b.Bytes())) }); err == nil {
			return tagsFromMetadata(m), nil
		}
	case FormatOgg, FormatOpus:
		sr := io.NewSectionReader(r, 0, min(size, maxTagBytes))
		if m, err := safeRead(func() (tag.Metadata, error) { return tag.ReadOGGTags(sr) }); err == nil {
			return tagsFromMetadata(m), nil
		}
	case FormatM4A:
		var t Tags
		if b := mp4MetaForTags(moov); b != nil {
			if m, err := safeRead(func() (tag.Metadata, error) { return tag.ReadAtoms(bytes.NewReader(b)) }); err == nil {
				t = tagsFromMetadata(m)
			}
		}
		if len(t.Chapters) == 0 {
			t.Chapters = mp4Chapters(child(moov, "udta", "chpl"))
		}
		return t, nil
	case FormatWAV:
		return tagsFromRIFF(riff), nil
	}
	return Tags{}, nil
}

// mp4MetaForTags rebuilds the moov/udta/meta/ilst boxes of an MP4 file as
// a meta box holding only the ilst items, for dhowden/tag. The library
// recurses into every box named moov, udta, meta or ilst, so a crafted file
// of nested boxes would grow its stack without bound: such items are left
// out.
func mp4MetaForTags(moov []byte) []byte {
	meta := child(moov, "udta", "meta")
	if meta == nil {
		meta = child(moov, "meta")
	}
	if len(meta) < 4 {
		return nil
	}
	ilst := child(meta[4:], "ilst")
	if ilst == nil {
		return nil
	}
	var items []byte
	boxes(ilst, func(typ string, payload []byte) bool {
		switch typ {
		case "moov", "udta", "meta", "ilst":
			return true
		}
		items = binary.BigEndian.AppendUint32(items, uint32(8+len(payload)))
		items = append(items, typ...)
		items = append(items, payload...)
		return true
	})
	b := binary.BigEndian.AppendUint32(nil, uint32(8+4+8+len(items)))
	b = append(b, "meta\x00\x00\x00\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(8+len(items)))
	b = append(b, "ilst"...)
	return append(b, items...)
}

// safeRead calls the tag library and turns a panic on malformed input into
// an error.
func safeRead(read func() (tag.Metadata, error)) (m tag.Metadata, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("read tags: malformed tags (%v)", p)
		}
	}()
	return read()
}

// tagsFromMetadata maps what dhowden/tag read to Tags. It reads the date
// and chapters from the raw frames, where the library loses them.
func tagsFromMetadata(m tag.Metadata) Tags {
	raw := m.Raw()
	t := Tags{
		Title:   cleanTag(m.Title()),
		Artist:  cleanTag(m.Artist()),
		Album:   cleanTag(m.Album()),
		Comment: cleanTag(m.Comment()),
		Genre:   cleanTag(m.Genre()),
	}
	t.Track, _ = m.Track()
	if t.Comment == "" {
		t.Comment = rawString(raw, "description")
	}
	if t.Comment == "" {
		// ffmpeg writes an MP3 comment as TXXX:comment.
		for k, v := range raw {
			if c, ok := v.(*tag.Comm); ok && strings.HasPrefix(k, "TXX") &&
				(strings.EqualFold(c.Description, "comment") || strings.EqualFold(c.Description, "description")) {
				t.Comment = cleanTag(c.Text)
				break
			}
		}
	}
	switch m.Format() {
	case tag.ID3v2_4:
		t.Date = rawString(raw, "TDRC")
		if t.Date == "" {
			t.Date = rawString(raw, "TDRL")
		}
	case tag.ID3v2_3:
		t.Date = rawString(raw, "TYER")
		// TDAT is DDMM in ID3v2.3.
		if d := rawString(raw, "TDAT"); len(t.Date) == 4 && len(d) == 4 {
			t.Date += "-" + d[2:] + "-" + d[:2]
		}
	case tag.ID3v2_2:
		t.Date = rawString(raw, "TYE")
	case tag.VORBIS:
		t.Date = rawString(raw, "date")
		if t.Date == "" {
			t.Date = rawString(raw, "year")
		}
	case tag.MP4:
		t.Date = rawString(raw, "\xa9day")
	}
	if t.Date == "" && m.Year() > 1 {
		t.Date = strconv.Itoa(m.Year())
	}
	if p := m.Picture(); p != nil && len(p.Data) > 0 {
		t.Picture = &Picture{MIMEType: imageType(p.Data, p.MIMEType), Data: p.Data}
	}
	switch m.Format() {
	case tag.ID3v2_2, tag.ID3v2_3, tag.ID3v2_4:
		t.Chapters = id3Chapters(raw, m.Format() == tag.ID3v2_4)
	case tag.VORBIS:
		t.Chapters = vorbisChapters(raw)
	}
	return t
}

// tagsFromRIFF maps WAV INFO tags (keyed as in wavInfoTags) to Tags.
func tagsFromRIFF(riff map[string]string) Tags {
	t := Tags{
		Title:   riff["title"],
		Artist:  riff["artist"],
		Album:   riff["album"],
		Date:    riff["date"],
		Comment: riff["comment"],
		Genre:   riff["genre"],
	}
	t.Track = leadingInt(riff["track"])
	return t
}

// rawString is the cleaned string value of a raw tag, if it is a string.
func rawString(raw map[string]any, key string) string {
	switch v := raw[key].(type) {
	case string:
		return cleanTag(v)
	case *tag.Comm:
		return cleanTag(v.Text)
	}
	return ""
}

// cleanTag trims the NULs and white space that tag writers leave.
func cleanTag(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		// A NUL ends a string (or separates ID3v2.4 values: keep the first).
		s = s[:i]
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, ""))
}

// leadingInt parses the number that starts s ("3/12" gives 3).
func leadingInt(s string) int {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, _ := strconv.Atoi(s[:min(i, 9)])
	return n
}

// imageType sniffs the type of an image, falling back on declared.
func imageType(b []byte, declared string) string {
	switch lookalike(b[:min(len(b), 16)]) {
	case KindPNG:
		return "image/png"
	case KindJPEG:
		return "image/jpeg"
	case KindGIF:
		return "image/gif"
	case KindWebP:
		return "image/webp"
	}
	if declared == "" || !strings.Contains(declared, "/") {
		return "application/octet-stream"
	}
	return cleanTag(declared)
}

// vorbisChapters reads CHAPTERxxx=HH:MM:SS.mmm and CHAPTERxxxNAME=title
// comments (https://wiki.xiph.org/Chapter_Extension).
func vorbisChapters(raw map[string]any) []Chapter {
	var out []Chapter
	for k, v := range raw {
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(k, "chapter") || len(k) != len("chapter000") {
			continue
		}
		if _, err := strconv.Atoi(k[7:]); err != nil {
			continue
		}
		start, ok := parseClock(s)
		if !ok {
			continue
		}
		out = append(out, Chapter{Start: start, Title: rawString(raw, k+"name")})
	}
	sortChapters(out)
	return out
}

// parseClock parses HH:MM:SS[.fff].
func parseClock(s string) (time.Duration, bool) {
	s = cleanTag(s)
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil || h < 0 || m < 0 || sec < 0 || h > 1000 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)+0.5), true
}

// mp4Chapters reads a Nero chpl box (start in 100 ns units, then a
// Pascal-string title), which ffmpeg and most taggers write.
func mp4Chapters(b []byte) []Chapter {
	if len(b) < 5 {
		return nil
	}
	p := 4
	if b[0] == 1 {
		p += 4
	}
	if p >= len(b) {
		return nil
	}
	n := int(b[p])
	p++
	var out []Chapter
	for range n {
		if p+9 > len(b) {
			break
		}
		start := binary.BigEndian.Uint64(b[p:])
		l := int(b[p+8])
		p += 9
		if p+l > len(b) {
			break
		}
		if start/10 < uint64(1<<62)/uint64(time.Microsecond) {
			out = append(out, Chapter{Start: time.Duration(start/10) * time.Microsecond, Title: cleanTag(string(b[p : p+l]))})
		}
		p += l
	}
	sortChapters(out)
	return out
}

func sortChapters(c []Chapter) {
	sort.SliceStable(c, func(i, j int) bool { return c[i].Start < c[j].Start })
}
