package episodes

import (
	"slices"
	"time"
)

// Show is a podcast: its settings and the identity podcast apps know it by.
// It is stored as shows/<slug>/show.json.
type Show struct {
	Version     int        `json:"version"`
	Slug        string     `json:"slug"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Language    string     `json:"language"` // BCP 47, "fr" by default
	Author      string     `json:"author"`
	Owner       Owner      `json:"owner"`
	Categories  []Category `json:"categories,omitempty"` // Apple's list
	Explicit    bool       `json:"explicit"`
	Type        ShowType   `json:"type"`
	Artwork     *Image     `json:"artwork,omitempty"`
	Link        string     `json:"link,omitempty"` // website
	Copyright   string     `json:"copyright,omitempty"`
	License     string     `json:"license"` // SPDX-like name, "CC BY-SA 4.0" by default
	LicenseURL  string     `json:"license_url,omitempty"`
	Funding     *Funding   `json:"funding,omitempty"`
	AirSlot     *AirSlot   `json:"air_slot,omitempty"`
	// Live is the station's stream of the air slot (podcast:liveItem);
	// nil when the show is not announced live.
	Live  *Live    `json:"live,omitempty"`
	Hosts []Person `json:"hosts,omitempty"` // the show's regular hosts
	// GUID is the podcast:guid, a UUIDv5 of the feed URL computed once at
	// creation (or kept from an imported feed) and never recomputed.
	GUID string `json:"guid"`
	// Locked asks podcast platforms not to import the feed elsewhere
	// (podcast:locked, with Owner.Email).
	Locked bool `json:"locked"`
	// NewFeedURL is set when the show moved away: podcast apps follow it.
	NewFeedURL string `json:"new_feed_url,omitempty"`
	// SeasonsAreSemesters numbers seasons by university semester (A20,
	// P21...) in the feed instead of the episodes' own season numbers.
	SeasonsAreSemesters bool `json:"seasons_are_semesters,omitempty"`
	// FediverseOff turns the show's fediverse account off: its actor
	// answers 404 and nothing is sent to its followers. Federation is on
	// by default (nothing leaves antenne until someone follows).
	FediverseOff bool `json:"fediverse_off,omitempty"`
	// Hashtags are the show's hashtags, without "#", joined to what the
	// fediverse receives of each episode.
	Hashtags []string `json:"hashtags,omitempty"`
	// Accent is the show's colour, #rrggbb, for links, buttons and the
	// player of its pages (CheckAccent); DefaultAccent when empty.
	Accent string `json:"accent,omitempty"`
	// OriginalsPublic publishes the recording as uploaded (often a large
	// WAV, with what was said off air) beside the podcast's MP3: a link on
	// the episode page and a podcast:alternateEnclosure. Off by default:
	// originals stay in the bucket, private.
	OriginalsPublic bool `json:"originals_public,omitempty"`
	// OpusOff turns off the small Opus version of each transcoded
	// episode (Episode.Opus), which is made by default.
	OpusOff bool      `json:"opus_off,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Revision identifies the stored version this value was read from.
	// Pass it back to an update to make sure nobody changed the show
	// meanwhile. It is not stored.
	Revision string `json:"-"`
}

// Owner is the contact podcast directories show for a feed (itunes:owner).
type Owner struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Category is an Apple Podcasts category, with an optional subcategory.
type Category struct {
	Name string `json:"name"`
	Sub  string `json:"sub,omitempty"`
}

// ShowType is itunes:type.
type ShowType string

// Show types.
const (
	Episodic ShowType = "episodic"
	Serial   ShowType = "serial"
)

// Funding is a link where listeners can support the show (podcast:funding).
type Funding struct {
	URL  string `json:"url"`
	Text string `json:"text"`
}

// AirSlot is when and where the show goes on air, e.g. Fridays at 9:30 on
// Graf'hit 94.9 FM. Times are in Location (Europe/Paris by default).
type AirSlot struct {
	Weekday  time.Weekday `json:"weekday"`
	Hour     int          `json:"hour"`
	Minute   int          `json:"minute"`
	Station  string       `json:"station,omitempty"`  // "Graf'hit"
	Location string       `json:"location,omitempty"` // IANA zone, "Europe/Paris" when empty
}

// Image is stored artwork.
type Image struct {
	Key    string `json:"key"`
	Type   string `json:"type"` // image/jpeg or image/png
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Person is someone who takes part in a show or an episode
// (podcast:person). Role and Group follow the Podcast Index taxonomy
// ("host", "guest"...; group "cast" by default).
type Person struct {
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"` // "host" when empty
	Group string `json:"group,omitempty"`
	Href  string `json:"href,omitempty"`
	Img   string `json:"img,omitempty"`
}

// Roles used by the catalog and the exports.
const (
	RoleHost  = "host"
	RoleGuest = "guest"
)

// EpisodeType is itunes:episodeType.
type EpisodeType string

// Episode types.
const (
	Full    EpisodeType = "full"
	Trailer EpisodeType = "trailer"
	Bonus   EpisodeType = "bonus"
)

// Status is where an episode stands in its lifecycle. It is derived from
// PublishAt and the current time, never stored.
type Status string

// Statuses.
const (
	Draft     Status = "draft"     // not planned for publication
	Scheduled Status = "scheduled" // publishes by itself at PublishAt
	Published Status = "published" // listed in the feed
	// Processing: the recording is received and stored, an ingest job
	// makes it podcast-ready (jobs.go). In no feed, page or export.
	Processing Status = "processing"
	// Failed: the ingest job failed; the original is kept for a retry.
	// In no feed, page or export.
	Failed Status = "failed"
)

// Episode is one recording of a show and what is said of it. It is stored as
// shows/<show>/episodes/<id>.json, the commit point of every change.
type Episode struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Show    string `json:"show"` // the show's slug
	Slug    string `json:"slug"` // unique in the show, ASCII
	// FormerSlugs are the slugs the episode had before a rename (or a
	// repair of a slug two episodes shared): their page URLs redirect
	// to the current one unless another episode holds that slug now.
	FormerSlugs []string `json:"former_slugs,omitempty"`
	// GUID is the RSS item guid, fixed at creation (or kept from an
	// imported feed) and never changed.
	GUID  string `json:"guid"`
	Title string `json:"title"`
	// Theme is what the semester report lists; Title when empty.
	Theme string `json:"theme,omitempty"`
	// Notes are the show notes, in Markdown.
	Notes string `json:"notes,omitempty"`
	// AiredAt is when the episode went on air; it decides the semester.
	AiredAt time.Time `json:"aired_at,omitzero"`
	// PublishAt is when the episode is (or was) published; zero for a draft.
	// While Pending, it is the publication asked for when processing ends.
	PublishAt time.Time   `json:"publish_at,omitzero"`
	Season    int         `json:"season,omitempty"`
	Number    int         `json:"number,omitempty"`
	Type      EpisodeType `json:"type"`
	Persons   []Person    `json:"persons,omitempty"` // hosts and guests
	Chapters  []Chapter   `json:"chapters,omitempty"`
	Artwork   *Image      `json:"artwork,omitempty"`
	Explicit  bool        `json:"explicit"`
	Media     Media       `json:"media"`
	Original  *Media      `json:"original,omitempty"` // the upload, when it was transcoded
	// Opus is a small Opus version (about 48 kbit/s, mono) made from the
	// original after publication, offered as an alternate enclosure;
	// nil until made, or when the show turned it off.
	Opus       *Media      `json:"opus,omitempty"`
	Transcript *Transcript `json:"transcript,omitempty"`
	// Pending is set while the recording is processed in the background
	// (Original is then the recording to process), and when that failed.
	// Media is empty for a new upload; for a replacement it is the
	// recording being replaced, still served until the new one is ready.
	Pending *Pending  `json:"pending,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Revision identifies the stored version this value was read from.
	// Pass it back to an update to make sure nobody changed the episode
	// meanwhile. It is not stored.
	Revision string `json:"-"`
}

// Status tells where the episode stands at now. An episode whose new
// recording is being processed (Pending with Media) keeps the status of
// its publication: it stays in the feed with the recording it has.
func (e *Episode) Status(now time.Time) Status {
	switch {
	case e.Pending != nil && e.Media.Key == "" && e.Pending.Failure != nil:
		return Failed
	case e.Pending != nil && e.Media.Key == "":
		return Processing
	case e.PublishAt.IsZero():
		return Draft
	case e.PublishAt.After(now):
		return Scheduled
	default:
		return Published
	}
}

// PublishNow puts the episode in the feed at now, to the second, unless it
// is already published: a published episode keeps its publication time,
// and so its place in the feed and in podcast apps.
func (e *Episode) PublishNow(now time.Time) {
	if e.Status(now) != Published {
		e.PublishAt = now.UTC().Truncate(time.Second)
	}
}

// holdsRecording reports whether the episode's media or original upload
// is the recording of SHA-256 sum (hex).
func (e *Episode) holdsRecording(sum string) bool {
	return e.Media.SHA256 == sum || (e.Original != nil && e.Original.SHA256 == sum)
}

// Duration is how long the recording lasts: its media's duration or,
// while it is processed (or after that failed), the original's, read from
// its header at upload.
func (e *Episode) Duration() time.Duration {
	if e.Media.Duration == 0 && e.Original != nil {
		return e.Original.Duration
	}
	return e.Media.Duration
}

// ThemeOrTitle is the theme the semester report lists.
func (e *Episode) ThemeOrTitle() string {
	if e.Theme != "" {
		return e.Theme
	}
	return e.Title
}

// Pending marks an episode whose recording is still being processed (see
// jobs.go). Meanwhile the episode's PublishAt is the publication asked
// (zero for a draft): when processing ends, a time still to come
// schedules the episode, a time passed publishes it at once.
type Pending struct {
	// Job names the work: each recording given to the episode (upload,
	// replacement, retry) gets a new one, so that a job started for an
	// older recording cannot finish over a newer one.
	Job string `json:"job,omitempty"`
	// Failure is set when processing failed: the episode is Failed until
	// a retry.
	Failure *Failure `json:"failure,omitempty"`
}

// Failure says why an ingest job failed, in words meant for the host: a
// key, and for a refused recording its reason. The error itself (paths of
// temporary files, ffmpeg's output, store errors) goes to the log only
// (RunJobs' report); it is never stored, so never served. A "message"
// stored by earlier versions is not read.
type Failure struct {
	// Key names what happened, for a message translated where it is shown:
	// FailureFFmpegMissing, FailureAudio or FailureStore.
	Key string `json:"key"`
	// Reason, for FailureAudio, says in English what is wrong with the
	// recording when a rule of antenne refused it (too long, silent, not
	// audio): a text made for the host. Empty otherwise.
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Failure keys.
const (
	FailureFFmpegMissing = "ffmpeg_missing" // ffmpeg is not installed where the job ran
	FailureAudio         = "audio"          // ffmpeg could not convert the recording
	FailureStore         = "store"          // the store failed (away too long)
)

// Media is a stored recording.
type Media struct {
	Key        string        `json:"key"`
	Type       string        `json:"type"` // MIME type: audio/mpeg, audio/mp4...
	Size       int64         `json:"size"`
	Duration   time.Duration `json:"duration"`
	Bitrate    int           `json:"bitrate,omitempty"` // bits per second
	SHA256     string        `json:"sha256"`
	Loudness   *Loudness     `json:"loudness,omitempty"`
	SourceName string        `json:"source_name,omitempty"` // the file name the host uploaded
	// SourceURL is the URL the recording was imported from (the enclosure
	// of the feed the show moved from); Service.Redirect maps its path to
	// Key.
	SourceURL string `json:"source_url,omitempty"`
}

// Loudness is an EBU R128 measurement.
type Loudness struct {
	Integrated float64 `json:"integrated_lufs"`
	TruePeak   float64 `json:"true_peak_dbtp"`
	Range      float64 `json:"range_lu"`
}

// Chapter marks a point in an episode.
type Chapter struct {
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end,omitempty"`
	Title string        `json:"title"`
	URL   string        `json:"url,omitempty"`
}

// Transcript is a stored transcript of an episode (podcast:transcript).
type Transcript struct {
	Key      string `json:"key"`
	Type     string `json:"type"` // text/vtt, application/x-subrip, application/json, text/plain
	Language string `json:"language,omitempty"`
}

// clone returns a deep copy of sh.
func (sh *Show) clone() *Show {
	c := *sh
	c.Categories = slices.Clone(sh.Categories)
	c.Hosts = slices.Clone(sh.Hosts)
	c.Hashtags = slices.Clone(sh.Hashtags)
	c.Artwork = clonePtr(sh.Artwork)
	c.Funding = clonePtr(sh.Funding)
	c.AirSlot = clonePtr(sh.AirSlot)
	if sh.Live != nil {
		l := *sh.Live
		l.Skip = slices.Clone(sh.Live.Skip)
		c.Live = &l
	}
	return &c
}

// clone returns a deep copy of e.
func (e *Episode) clone() *Episode {
	c := *e
	c.FormerSlugs = slices.Clone(e.FormerSlugs)
	c.Persons = slices.Clone(e.Persons)
	c.Chapters = slices.Clone(e.Chapters)
	c.Artwork = clonePtr(e.Artwork)
	c.Media = e.Media.clone()
	if e.Original != nil {
		o := e.Original.clone()
		c.Original = &o
	}
	if e.Opus != nil {
		o := e.Opus.clone()
		c.Opus = &o
	}
	c.Transcript = clonePtr(e.Transcript)
	if e.Pending != nil {
		p := *e.Pending
		p.Failure = clonePtr(e.Pending.Failure)
		c.Pending = &p
	}
	return &c
}

func (m Media) clone() Media {
	m.Loudness = clonePtr(m.Loudness)
	return m
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
