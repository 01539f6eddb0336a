package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ErrUnsupportedAudio is wrapped by every error that refuses a file as a
// recording: not audio at all, audio in a format antenne does not read, or
// audio too damaged to measure. The error is an *UnsupportedAudioError that
// says what the file looks like.
var ErrUnsupportedAudio = errors.New("not a supported audio recording")

// Format is an audio container antenne reads.
type Format string

// Formats, as sniffed from the bytes.
const (
	FormatMP3  Format = "mp3"
	FormatM4A  Format = "m4a"  // MP4 audio (AAC, ALAC)
	FormatFLAC Format = "flac" // native FLAC
	FormatOgg  Format = "ogg"  // Ogg Vorbis
	FormatOpus Format = "opus" // Ogg Opus
	FormatWAV  Format = "wav"  // RIFF WAVE, PCM or float
)

// MIMEType is the media type of the format, as a feed enclosure names it.
func (f Format) MIMEType() string {
	switch f {
	case FormatMP3:
		return "audio/mpeg"
	case FormatM4A:
		return "audio/mp4"
	case FormatFLAC:
		return "audio/flac"
	case FormatOgg:
		return "audio/ogg"
	case FormatOpus:
		return "audio/ogg; codecs=opus"
	case FormatWAV:
		return "audio/wav"
	}
	return "application/octet-stream"
}

// Ext is the usual file extension of the format, without the dot.
func (f Format) Ext() string {
	if f == "" {
		return "bin"
	}
	return string(f)
}

// FileKind is what a refused file looks like. The web layer translates it
// for hosts; the values are stable.
type FileKind string

// File kinds of refused files.
const (
	KindEmpty    FileKind = "empty"     // zero bytes
	KindPNG      FileKind = "png"       // a PNG image
	KindJPEG     FileKind = "jpeg"      // a JPEG image
	KindGIF      FileKind = "gif"       // a GIF image
	KindWebP     FileKind = "webp"      // a WebP image
	KindPDF      FileKind = "pdf"       // a PDF document
	KindZIP      FileKind = "zip"       // a ZIP archive (also .docx, .odt...)
	KindHTML     FileKind = "html"      // a web page
	KindText     FileKind = "text"      // plain text
	KindVideo    FileKind = "video"     // an MP4/QuickTime file without a sound track
	KindMatroska FileKind = "matroska"  // Matroska or WebM
	KindAIFF     FileKind = "aiff"      // AIFF audio, not read by antenne
	KindOggOther FileKind = "ogg_other" // Ogg with a codec other than Vorbis or Opus
	KindDamaged  FileKind = "damaged"   // starts like a supported format but is truncated or corrupt
	KindUnknown  FileKind = "unknown"   // nothing recognisable
)

var kindDescriptions = map[FileKind]string{
	KindEmpty:    "an empty file",
	KindPNG:      "a PNG image",
	KindJPEG:     "a JPEG image",
	KindGIF:      "a GIF image",
	KindWebP:     "a WebP image",
	KindPDF:      "a PDF document",
	KindZIP:      "a ZIP archive or office document",
	KindHTML:     "a web page (HTML)",
	KindText:     "a text file",
	KindVideo:    "a video without sound",
	KindMatroska: "a Matroska/WebM file",
	KindAIFF:     "an AIFF recording, which antenne does not read",
	KindOggOther: "an Ogg file whose codec is neither Vorbis nor Opus",
	KindDamaged:  "a damaged or incomplete recording",
	KindUnknown:  "nothing antenne recognises",
}

// Describe is the English description of the kind: "a PNG image".
func (k FileKind) Describe() string {
	if d, ok := kindDescriptions[k]; ok {
		return d
	}
	return string(k)
}

// UnsupportedAudioError refuses a file. It wraps ErrUnsupportedAudio.
type UnsupportedAudioError struct {
	Kind FileKind
	// Format is set when the file starts like that format but cannot be
	// read (Kind is then KindDamaged).
	Format Format
	// Reason is an English detail, e.g. "the ID3 tag claims 2.0 GB".
	Reason string
	// Key names the reason for a translation ("cut", "id3_frames"...);
	// Args are its values, in the order Reason shows them. Key is empty
	// for the rarer reasons, told in English only.
	Key  string
	Args []any
}

func (e *UnsupportedAudioError) Error() string {
	msg := "not a supported audio recording: it looks like " + e.Kind.Describe()
	if e.Format != "" {
		msg += " (" + string(e.Format) + ")"
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrUnsupportedAudio) true.
func (e *UnsupportedAudioError) Unwrap() error { return ErrUnsupportedAudio }

// damaged is the error for a file of format f that cannot be read, for a
// reason told in English only.
func damaged(f Format, format string, args ...any) error {
	return damagedFor(f, "", format, args...)
}

// damagedFor is the error for a file of format f that cannot be read, for
// a reason a host can be told in their language: key and args name it for
// a translation (Key, Args).
func damagedFor(f Format, key, format string, args ...any) error {
	return &UnsupportedAudioError{Kind: KindDamaged, Format: f, Reason: fmt.Sprintf(format, args...), Key: key, Args: args}
}

// sniffHead is how many bytes sniffing looks at after any ID3v2 tag.
const sniffHead = 4096

// Sniff tells the format of the recording in r (size bytes) from its
// bytes. A file that is not a supported recording gives an
// *UnsupportedAudioError; read errors are returned wrapped.
func Sniff(r io.ReaderAt, size int64) (Format, error) {
	if size <= 0 {
		return "", &UnsupportedAudioError{Kind: KindEmpty}
	}
	head, err := readAtMost(r, 0, sniffHead, size)
	if err != nil {
		return "", fmt.Errorf("sniff: %w", err)
	}
	if id3, ok := id3v2Size(head); ok {
		if id3 > size {
			return "", damagedFor(FormatMP3, "id3_too_big", "the ID3 tag claims %d bytes, more than the %d bytes of the file", id3, size)
		}
		// Whatever follows an ID3v2 tag is sniffed as if the file began there.
		after, err := readAtMost(r, id3, sniffHead, size)
		if err != nil {
			return "", fmt.Errorf("sniff: %w", err)
		}
		switch {
		case len(after) == 0:
			return "", damaged(FormatMP3, "an ID3 tag without audio")
		case bytes.HasPrefix(after, []byte("fLaC")):
			return FormatFLAC, nil
		}
		if _, _, ok := findMP3Sync(r, id3, size); ok {
			return FormatMP3, nil
		}
		return "", damaged(FormatMP3, "no MPEG audio frame after the ID3 tag")
	}
	switch {
	case bytes.HasPrefix(head, []byte("fLaC")):
		return FormatFLAC, nil
	case bytes.HasPrefix(head, []byte("OggS")):
		return sniffOgg(head)
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return FormatWAV, nil
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return FormatM4A, nil // a video without sound is refused by the MP4 parser
	}
	if _, _, ok := findMP3Sync(r, 0, size); ok {
		return FormatMP3, nil
	}
	// A file cut within its first bytes still shows the start of a magic.
	for magic, f := range map[string]Format{"ID3": FormatMP3, "fLaC": FormatFLAC, "OggS": FormatOgg, "RIFF": FormatWAV} {
		if len(head) < len(magic) && bytes.HasPrefix([]byte(magic), head) {
			return "", damagedFor(f, "cut", "the file is cut after %d bytes", len(head))
		}
	}
	if len(head) >= 4 && len(head) < 12 && string(head[:4]) == "RIFF" {
		return "", damagedFor(FormatWAV, "cut", "the file is cut after %d bytes", len(head))
	}
	return "", &UnsupportedAudioError{Kind: lookalike(head)}
}

func sniffOgg(head []byte) (Format, error) {
	// The first page holds the codec's identification packet.
	if len(head) < 28 {
		return "", damaged(FormatOgg, "a truncated first page")
	}
	n := int(head[26])
	if len(head) < 27+n {
		return "", damaged(FormatOgg, "a truncated first page")
	}
	p := head[27+n:]
	switch {
	case bytes.HasPrefix(p, []byte("\x01vorbis")):
		return FormatOgg, nil
	case bytes.HasPrefix(p, []byte("OpusHead")):
		return FormatOpus, nil
	}
	return "", &UnsupportedAudioError{Kind: KindOggOther}
}

// lookalike names what head looks like, for files that are not audio.
func lookalike(head []byte) FileKind {
	has := func(s string) bool { return bytes.HasPrefix(head, []byte(s)) }
	switch {
	case len(head) == 0:
		return KindEmpty
	case has("\x89PNG\r\n\x1a\n"):
		return KindPNG
	case has("\xff\xd8\xff"):
		return KindJPEG
	case has("GIF87a"), has("GIF89a"):
		return KindGIF
	case len(head) >= 12 && has("RIFF") && string(head[8:12]) == "WEBP":
		return KindWebP
	case has("%PDF-"):
		return KindPDF
	case has("PK\x03\x04"):
		return KindZIP
	case has("\x1a\x45\xdf\xa3"):
		return KindMatroska
	case len(head) >= 12 && has("FORM") && (string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC"):
		return KindAIFF
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	lower := bytes.ToLower(trimmed[:min(len(trimmed), 64)])
	if bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")) {
		return KindHTML
	}
	if looksLikeText(head) {
		return KindText
	}
	return KindUnknown
}

// looksLikeText reports whether b is UTF-8 text without control characters
// other than whitespace. A rune cut at the end of b is accepted.
func looksLikeText(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:]) {
				return true
			}
			return false
		}
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\f' {
			return false
		}
		if r == 0x7f {
			return false
		}
		i += n
	}
	return true
}

// id3v2Size returns the total size of the ID3v2 tag that starts head,
// header and footer included.
func id3v2Size(head []byte) (int64, bool) {
	if len(head) < 10 || string(head[:3]) != "ID3" || head[3] < 2 || head[3] > 4 || head[4] == 0xff {
		return 0, false
	}
	for _, b := range head[6:10] {
		if b&0x80 != 0 {
			return 0, false
		}
	}
	n := int64(head[6])<<21 | int64(head[7])<<14 | int64(head[8])<<7 | int64(head[9])
	n += 10
	if head[5]&0x10 != 0 {
		n += 10 // footer
	}
	return n, true
}

// readAtMost reads up to n bytes at off, fewer at the end of the file.
func readAtMost(r io.ReaderAt, off int64, n int, size int64) ([]byte, error) {
	if off >= size {
		return nil, nil
	}
	n = int(min(int64(n), size-off))
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got == n {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return b[:got], nil
	}
	return nil, err
}
