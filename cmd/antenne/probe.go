package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
)

var probeCommand = command{
	name:    "probe",
	summary: "show what antenne reads from recordings",
	usage:   probeUsage,
	run:     runProbe,
}

const probeUsage = `usage: antenne probe FILE... [--json]

Reads each recording as antenne does when a host uploads it and prints its
format, codec, duration, bitrate, sample rate, channels, size, SHA-256,
tags, chapters and whether it would be converted to MP3 before publishing.
The format comes from the bytes, never from the file name.

  --json   print one JSON object per file and line, keys in snake_case,
           with an "error" key for a refused file

Exits with status 1 when a file is refused, after printing the others.`

func runProbe(ctx context.Context, e *env, args []string) error {
	fs := newFlags("probe")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usageErrorf("probe: no file given (see `antenne help probe`)")
	}
	refused := 0
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	for i, name := range files {
		p, err := audio.Probe(ctx, name)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			refused++
		}
		if *asJSON {
			if err := enc.Encode(newProbeJSON(name, p, err)); err != nil {
				return fmt.Errorf("probe: write: %w", err)
			}
			continue
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "antenne: %v\n", err)
			continue
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printProbe(e.stdout, name, p)
	}
	if refused > 0 {
		return fmt.Errorf("probe: %d of %d files refused", refused, len(files))
	}
	return nil
}

// seconds marshals a duration as seconds with millisecond precision.
type seconds time.Duration

func (s seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(s).Seconds(), 'f', 3, 64)), nil
}

type chapterJSON struct {
	Start seconds `json:"start_seconds"`
	End   seconds `json:"end_seconds,omitempty"`
	Title string  `json:"title"`
	URL   string  `json:"url,omitempty"`
}

type coverJSON struct {
	Type string `json:"type"`
	Size int    `json:"size"`
}

// probeJSON is one line of `antenne probe --json`.
type probeJSON struct {
	File            string        `json:"file"`
	Error           string        `json:"error,omitempty"`
	Kind            string        `json:"kind,omitempty"` // what a refused file looks like
	Format          string        `json:"format,omitempty"`
	Codec           string        `json:"codec,omitempty"`
	DurationSeconds *seconds      `json:"duration_seconds,omitempty"`
	Bitrate         int           `json:"bitrate,omitempty"`
	SampleRate      int           `json:"sample_rate,omitempty"`
	Channels        int           `json:"channels,omitempty"`
	BitsPerSample   int           `json:"bits_per_sample,omitempty"`
	VBR             bool          `json:"vbr,omitempty"`
	MP3Header       string        `json:"mp3_header,omitempty"`
	Truncated       bool          `json:"truncated,omitempty"`
	Size            int64         `json:"size,omitempty"`
	SHA256          string        `json:"sha256,omitempty"`
	Title           string        `json:"title,omitempty"`
	Artist          string        `json:"artist,omitempty"`
	Album           string        `json:"album,omitempty"`
	Date            string        `json:"date,omitempty"`
	Comment         string        `json:"comment,omitempty"`
	Genre           string        `json:"genre,omitempty"`
	Track           int           `json:"track,omitempty"`
	Cover           *coverJSON    `json:"cover,omitempty"`
	Chapters        []chapterJSON `json:"chapters,omitempty"`
	Transcode       *bool         `json:"transcode,omitempty"`
}

func newProbeJSON(name string, p *audio.ProbeResult, err error) probeJSON {
	if err != nil {
		j := probeJSON{File: name, Error: err.Error()}
		var u *audio.UnsupportedAudioError
		if errors.As(err, &u) {
			j.Kind = string(u.Kind)
		}
		return j
	}
	d := seconds(p.Duration)
	transcode := p.NeedsTranscode()
	j := probeJSON{
		File: name, Format: string(p.Format), Codec: p.Codec, DurationSeconds: &d,
		Bitrate: p.Bitrate, SampleRate: p.SampleRate, Channels: p.Channels, BitsPerSample: p.BitsPerSample,
		VBR: p.VBR, MP3Header: p.MP3Header, Truncated: p.Truncated, Size: p.Size, SHA256: p.SHA256,
		Title: p.Title, Artist: p.Artist, Album: p.Album, Date: p.Date, Comment: p.Comment, Genre: p.Genre,
		Track: p.Track, Transcode: &transcode,
	}
	if p.Picture != nil {
		j.Cover = &coverJSON{Type: p.Picture.MIMEType, Size: len(p.Picture.Data)}
	}
	for _, c := range episodes.FieldsFromTags(p.Tags, p.Duration, nil).Chapters {
		j.Chapters = append(j.Chapters, chapterJSON{Start: seconds(c.Start), End: seconds(c.End), Title: c.Title, URL: c.URL})
	}
	return j
}

// printProbe prints a probe result for people.
func printProbe(w io.Writer, name string, p *audio.ProbeResult) {
	fmt.Fprintln(w, name)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", k, v)
		}
	}
	codec := p.Codec
	var notes []string
	if p.Format == audio.FormatMP3 {
		if p.VBR {
			notes = append(notes, "VBR")
		} else {
			notes = append(notes, "CBR")
		}
		if p.MP3Header != "" {
			notes = append(notes, p.MP3Header+" header")
		}
	}
	if p.BitsPerSample > 0 {
		notes = append(notes, fmt.Sprintf("%d-bit", p.BitsPerSample))
	}
	if len(notes) > 0 {
		codec += " (" + strings.Join(notes, ", ") + ")"
	}
	row("format", string(p.Format))
	row("codec", codec)
	dur := fmt.Sprintf("%.3f s (%s)", p.Duration.Seconds(), clock(p.Duration))
	if p.Truncated {
		dur += ", truncated: less than its headers announce"
	}
	row("duration", dur)
	row("bitrate", fmt.Sprintf("%.1f kb/s", float64(p.Bitrate)/1000))
	row("sample rate", fmt.Sprintf("%d Hz", p.SampleRate))
	row("channels", strconv.Itoa(p.Channels))
	row("size", fmt.Sprintf("%d bytes", p.Size))
	row("sha256", p.SHA256)
	row("title", p.Title)
	row("artist", p.Artist)
	row("album", p.Album)
	row("date", p.Date)
	row("comment", p.Comment)
	row("genre", p.Genre)
	if p.Track > 0 {
		row("track", strconv.Itoa(p.Track))
	}
	if p.Picture != nil {
		row("cover", fmt.Sprintf("%s, %d bytes", p.Picture.MIMEType, len(p.Picture.Data)))
	}
	for i, c := range episodes.FieldsFromTags(p.Tags, p.Duration, nil).Chapters {
		k := ""
		if i == 0 {
			k = "chapters"
		}
		fmt.Fprintf(w, "  %-12s %s  %s\n", k, clock(c.Start), c.Title)
	}
	if p.NeedsTranscode() {
		row("transcode", "yes, to MP3 with loudness at -16 LUFS (needs ffmpeg)")
	} else {
		row("transcode", "no, published as it is")
	}
}

// clock formats d as H:MM:SS.mmm.
func clock(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
