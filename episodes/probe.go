package episodes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"
)

// ProbeResult is what antenne reads from a recording: its format, the
// technical facts measured from its headers, its tags, and its identity.
type ProbeResult struct {
	Format Format
	AudioInfo
	Tags
	Size   int64  // bytes
	SHA256 string // hex, of the whole file
}

// NeedsTranscode reports whether the recording must be converted to MP3
// before podcast apps can play it: every format but MP3 and AAC in MP4
// audio (an MP4 video gets its sound extracted).
func (p *ProbeResult) NeedsTranscode() bool {
	switch p.Format {
	case FormatMP3:
		return false
	case FormatM4A:
		return p.Video || p.Codec != "aac" && p.Codec != "he-aac" && p.Codec != "he-aac-v2"
	}
	return true
}

// Media describes the recording as stored media; Key and SourceName are
// left to the caller.
func (p *ProbeResult) Media() Media {
	return Media{
		Type:     p.Format.MIMEType(),
		Size:     p.Size,
		Duration: p.Duration,
		Bitrate:  p.Bitrate,
		SHA256:   p.SHA256,
	}
}

// Probe reads the recording at path: format, duration and codec facts,
// tags, size and SHA-256. A file that is not a supported recording gives an
// error wrapping ErrUnsupportedAudio (an *UnsupportedAudioError).
func Probe(ctx context.Context, path string) (*ProbeResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("probe %s: not a regular file", path)
	}
	p, err := ProbeReader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: io.NewSectionReader(f, 0, st.Size())}); err != nil {
		return nil, fmt.Errorf("probe %s: hash: %w", path, err)
	}
	p.SHA256 = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// ProbeReader reads the recording in r (size bytes) like Probe, without
// the SHA-256. Memory stays bounded whatever the input: headers and tags
// are read with size caps, audio frames are streamed.
func ProbeReader(r io.ReaderAt, size int64) (*ProbeResult, error) {
	format, err := Sniff(r, size)
	if err != nil {
		return nil, err
	}
	p := &ProbeResult{Format: format, Size: size}
	var (
		moov []byte
		flac flacMeta
		riff map[string]string
	)
	switch format {
	case FormatMP3:
		p.AudioInfo, err = ParseMP3(r, size)
	case FormatM4A:
		moov, err = readMoov(r, size)
		if err == nil {
			p.AudioInfo, err = parseMoov(moov, size)
		}
	case FormatFLAC:
		p.AudioInfo, flac, err = parseFLAC(r, size, true)
	case FormatOgg, FormatOpus:
		p.AudioInfo, err = ParseOgg(r, size)
	case FormatWAV:
		p.AudioInfo, riff, err = parseWAV(r, size)
	}
	if err != nil {
		return nil, err
	}
	if p.Duration <= 0 {
		return nil, damaged(format, "no audio")
	}
	p.Tags = readTags(r, size, format, moov, flac, riff)
	return p, nil
}

// ctxReader stops reading when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// EpisodeFields are the editable fields of an episode that a recording's
// tags suggest; the host may change any of them.
type EpisodeFields struct {
	Title    string
	Notes    string    // show notes, from the comment or description
	AiredAt  time.Time // zero when the tags have no usable date
	Number   int       // episode number, from the track number
	Artwork  *Picture
	Chapters []Chapter
}

// dateLayouts are the tag date forms understood, most precise first.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02",
	"2006-01",
	"2006",
}

// FieldsFromTags maps tags to episode fields. Dates without a zone are in
// loc (UTC when nil); a bare year or month gives its first day. Chapters
// without an end end where the next starts, the last at duration.
func FieldsFromTags(t Tags, duration time.Duration, loc *time.Location) EpisodeFields {
	if loc == nil {
		loc = time.UTC
	}
	f := EpisodeFields{
		Title:   t.Title,
		Notes:   t.Comment,
		Number:  t.Track,
		Artwork: t.Picture,
	}
	if t.Title == "" && t.Album != "" {
		f.Title = t.Album
	}
	for _, layout := range dateLayouts {
		if d, err := time.ParseInLocation(layout, t.Date, loc); err == nil && d.Year() > 1900 {
			f.AiredAt = d
			break
		}
	}
	for i, c := range t.Chapters {
		if c.End == 0 {
			if i+1 < len(t.Chapters) {
				c.End = t.Chapters[i+1].Start
			} else if duration > c.Start {
				c.End = duration
			}
		}
		f.Chapters = append(f.Chapters, c)
	}
	return f
}
