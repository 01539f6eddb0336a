package episodes

import (
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
)

// mediaOf describes a probed recording as stored media; Key and SourceName
// are left to the caller.
func mediaOf(p *audio.ProbeResult) Media {
	return Media{
		Type:     p.Format.MIMEType(),
		Size:     p.Size,
		Duration: p.Duration,
		Bitrate:  p.Bitrate,
		SHA256:   p.SHA256,
	}
}

// loudnessOf is a measured loudness as the episode records it; nil when
// none was measured.
func loudnessOf(l *audio.Loudness) *Loudness {
	if l == nil {
		return nil
	}
	v := Loudness(*l)
	return &v
}

// EpisodeFields are the editable fields of an episode that a recording's
// tags suggest; the host may change any of them.
type EpisodeFields struct {
	Title   string
	Notes   string    // show notes, from the comment or description
	AiredAt time.Time // zero when the tags have no usable date
	// DateOnly tells that the tags gave a day (or a month, a year) but
	// no time of day: AiredAt is then midnight, and the show's air slot
	// knows better (AirSlot.OnDay).
	DateOnly bool
	Number   int // episode number, from the track number
	Artwork  *audio.Picture
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
func FieldsFromTags(t audio.Tags, duration time.Duration, loc *time.Location) EpisodeFields {
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
			f.AiredAt, f.DateOnly = d, !strings.Contains(layout, "15")
			break
		}
	}
	for _, c := range t.ChaptersUntil(duration) {
		f.Chapters = append(f.Chapters, Chapter(c))
	}
	return f
}
