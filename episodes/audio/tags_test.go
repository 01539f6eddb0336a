package audio

import (
	"reflect"
	"testing"
	"time"

	"github.com/dhowden/tag"
)

// metadata is a tag.Metadata value as the library would return it.
type metadata struct {
	format  tag.Format
	title   string
	comment string
	year    int
	track   int
	raw     map[string]any
}

func (m metadata) Format() tag.Format     { return m.format }
func (m metadata) FileType() tag.FileType { return tag.MP3 }
func (m metadata) Title() string          { return m.title }
func (m metadata) Album() string          { return "" }
func (m metadata) Artist() string         { return "" }
func (m metadata) AlbumArtist() string    { return "" }
func (m metadata) Composer() string       { return "" }
func (m metadata) Year() int              { return m.year }
func (m metadata) Genre() string          { return "" }
func (m metadata) Track() (int, int)      { return m.track, 0 }
func (m metadata) Disc() (int, int)       { return 0, 0 }
func (m metadata) Picture() *tag.Picture  { return nil }
func (m metadata) Lyrics() string         { return "" }
func (m metadata) Comment() string        { return m.comment }
func (m metadata) Raw() map[string]any    { return m.raw }

func TestTagsFromMetadata(t *testing.T) {
	tests := []struct {
		name string
		in   metadata
		want Tags
	}{
		{"ID3v2.4 full date, NULs and spaces", metadata{format: tag.ID3v2_4, title: " Les communs\x00", year: 0,
			raw: map[string]any{"TDRC": "2020-10-02T09:30\x00"}},
			Tags{Title: "Les communs", Date: "2020-10-02T09:30"}},
		{"ID3v2.3 year and TDAT", metadata{format: tag.ID3v2_3, year: 2020,
			raw: map[string]any{"TYER": "2020", "TDAT": "0210"}},
			Tags{Date: "2020-10-02"}},
		{"Vorbis full date, year 1", metadata{format: tag.VORBIS, year: 1,
			raw: map[string]any{"date": "2021-03-05", "description": "Des notes"}},
			Tags{Date: "2021-03-05", Comment: "Des notes"}},
		{"MP4 date", metadata{format: tag.MP4, year: 2019, track: 4, raw: map[string]any{"\xa9day": "2019-06-01T00:00:00Z"}},
			Tags{Date: "2019-06-01T00:00:00Z", Track: 4}},
		{"ffmpeg's TXXX comment", metadata{format: tag.ID3v2_4,
			raw: map[string]any{"TXXX": &tag.Comm{Description: "comment", Text: "Bonjour\x00"}}},
			Tags{Comment: "Bonjour"}},
		{"year only", metadata{format: tag.ID3v1, year: 1998, raw: map[string]any{}}, Tags{Date: "1998"}},
		{"vorbis chapters", metadata{format: tag.VORBIS, raw: map[string]any{
			"chapter002": "00:01:00.500", "chapter002name": "Deux", "chapter001": "00:00:00.000", "chapter001name": "Un",
			"chapter003": "pas une heure"}},
			Tags{Chapters: []Chapter{{Start: 0, Title: "Un"}, {Start: time.Minute + 500*time.Millisecond, Title: "Deux"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tagsFromMetadata(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseCHAP(t *testing.T) {
	utf16 := "ch1\x00\x00\x00\x03\xe8\x00\x00\x09\xc4\xff\xff\xff\xff\xff\xff\xff\xff" +
		"TIT2\x00\x00\x00\x09\x00\x00\x01\xff\xfeZ\x00o\x00\xe9\x00" +
		"WXXX\x00\x00\x00\x17\x00\x00\x00\x00https://picasoft.net/"
	got, ok := parseCHAP([]byte(utf16), true)
	want := Chapter{Start: time.Second, End: 2500 * time.Millisecond, Title: "Zoé", URL: "https://picasoft.net/"}
	if !ok || got != want {
		t.Errorf("got %+v, %v, want %+v", got, ok, want)
	}
	if _, ok := parseCHAP([]byte("ch1\x00\x00\x00"), true); ok {
		t.Errorf("a cut frame: got ok, want not")
	}
}

func TestID3ChaptersTOC(t *testing.T) {
	chap := func(id string, startMS byte, title string) []byte {
		b := []byte(id + "\x00\x00\x00\x00" + string([]byte{startMS}) + "\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff")
		sub := append([]byte{3}, title...)
		return append(append(b, "TIT2\x00\x00\x00"+string([]byte{byte(len(sub))})+"\x00\x00"...), sub...)
	}
	raw := map[string]any{
		"CHAP":   chap("b", 200, "Deux"),
		"CHAP_0": chap("a", 100, "Un"),
		"CHAP_1": chap("x", 50, "Hors table"),
		"CTOC":   []byte("toc\x00\x03\x02a\x00b\x00"),
	}
	got := id3Chapters(raw, true)
	want := []Chapter{{Start: 100 * time.Millisecond, Title: "Un"}, {Start: 200 * time.Millisecond, Title: "Deux"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	delete(raw, "CTOC")
	if got := id3Chapters(raw, true); len(got) != 3 {
		t.Errorf("without CTOC: got %d chapters, want 3", len(got))
	}
}

func TestParseMP3Frame(t *testing.T) {
	tests := []struct {
		hdr  []byte
		ok   bool
		want mp3Frame
	}{
		{[]byte{0xff, 0xfb, 0x90, 0x64}, true, mp3Frame{version: 1, bitrate: 128000, sampleRate: 44100, channels: 2, length: 417, samples: 1152}},
		{[]byte{0xff, 0xfb, 0x92, 0xc4}, true, mp3Frame{version: 1, bitrate: 128000, sampleRate: 44100, padding: 1, channels: 1, length: 418, samples: 1152}},
		{[]byte{0xff, 0xf3, 0x40, 0xc4}, true, mp3Frame{version: 2, bitrate: 32000, sampleRate: 22050, channels: 1, length: 104, samples: 576}},
		{[]byte{0xff, 0xfd, 0x90, 0x64}, false, mp3Frame{}}, // layer II
		{[]byte{0xff, 0xfb, 0xf0, 0x64}, false, mp3Frame{}}, // bad bitrate
		{[]byte{0xff, 0xfb, 0x9c, 0x64}, false, mp3Frame{}}, // bad rate
		{[]byte{0xff, 0xfb}, false, mp3Frame{}},
	}
	for _, tt := range tests {
		got, ok := parseMP3Frame(tt.hdr)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%x: got %+v, %v, want %+v, %v", tt.hdr, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCleanTag(t *testing.T) {
	for in, want := range map[string]string{
		"  Titre \x00": "Titre",
		"Un\x00Deux":   "Un",
		"\t\n":         "",
		"ok\xff":       "ok",
		"Épisode n°3 ": "Épisode n°3",
	} {
		if got := cleanTag(in); got != want {
			t.Errorf("cleanTag(%q): got %q, want %q", in, got, want)
		}
	}
}
