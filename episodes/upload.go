package episodes

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
)

// Upload is a recording a host brings, with the fields they already chose.
// Zero fields are filled from the recording's tags.
type Upload struct {
	Show string
	// Name is the file name the host gave, kept for display only: the
	// format is read from the bytes.
	Name string
	// Body is read to its end and spooled to a temporary file; the
	// caller bounds its size.
	Body io.Reader
	// Path, when set, is a local file ingested in place instead of Body
	// (the CLI publishing a file it can read): no copy is made. The file
	// must not change until Ingest returns.
	Path string

	Title   string
	Theme   string
	Notes   string
	AiredAt time.Time
	// PublishAt publishes the episode at that time (now or later); zero
	// makes a draft.
	PublishAt time.Time
	Season    int
	Number    int
	Type      EpisodeType
	Persons   []Person

	// The fields below serve the import of a show from another host; an
	// upload from a host leaves them zero.

	// GUID is kept exactly as the item guid; the episode's id when empty.
	GUID string
	// SourceURL is where the recording was downloaded from (Media.SourceURL).
	SourceURL string
	// Artwork is the episode's picture (JPEG or PNG bytes); it replaces
	// the one in the tags. Anything else fails with ErrInvalid.
	Artwork []byte
	// Chapters replace those read from the tags when not empty.
	Chapters []Chapter
	// Transcript, when set, is stored under the show's transcripts/.
	Transcript *TranscriptFile

	// Progress, when set, is told how far the work is: the stage
	// ("transcode", "store") and the fraction of it done, 0 to 1.
	Progress func(stage string, done float64)

	// Background leaves the transcoding of a recording that needs it to
	// an ingest job (see Ingest): the API and studio set it, so that the
	// host's request ends once the upload is safe.
	Background bool

	// measured is the loudness meter fed while the bytes arrived (a WAV
	// measured by an audio.WAVMeter), nil when the recording was not.
	measured *audio.Meter
}

// TranscriptFile is a transcript to store with an upload.
type TranscriptFile struct {
	Data     []byte
	Type     string // text/vtt, application/x-subrip, application/json, text/plain
	Language string
}

// MaxTranscriptBytes bounds a stored transcript (10 MiB).
const MaxTranscriptBytes = 10 << 20

// transcriptExts are the transcript types stored, with their extension:
// the text types podcast apps read. HTML is not one: served from the
// site's origin it would be a page of someone else's making.
var transcriptExts = map[string]string{
	"text/vtt":             ".vtt",
	"application/x-subrip": ".srt",
	"application/srt":      ".srt",
	"application/json":     ".json",
	"text/plain":           ".txt",
}

// IsTranscriptType reports whether t (a media type, without parameters)
// is a type transcripts are stored and served as.
func IsTranscriptType(t string) bool {
	_, ok := transcriptExts[t]
	return ok
}

// Stages reported to Upload.Progress.
const (
	StageTranscode = "transcode"
	StageStore     = "store"
)

// Ingest turns an upload into a new episode: the bytes are spooled and
// hashed, sniffed, measured and tagged, transcoded when podcast apps
// cannot play them, stored (media, original, artwork), then the episode
// document is written. A failure at any point leaves no document and
// removes the objects it stored.
//
// With up.Background, a recording that needs transcoding is only made
// safe: the original, artwork and transcript are stored and the episode
// is written in status Processing (Pending set), for an ingest job to
// finish (jobs.go), on this replica or another. Once the body is
// received, cancelling ctx changes nothing: a recording that needs no
// transcoding is stored too.
//
// It fails with a *DuplicateError (ErrDuplicate) when the show already has
// an episode of these exact bytes, with an *UnsupportedAudioError
// (ErrUnsupportedAudio) for a file that is no recording, with
// ffmpeg.ErrMissing when the recording needs ffmpeg and there is none.
func (s *Service) Ingest(ctx context.Context, up Upload) (*Episode, error) {
	if _, err := s.Show(up.Show); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(s.opts.TempDir, "antenne-upload-")
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer os.RemoveAll(work)

	path, sum, err := receive(ctx, &up, work)
	if err != nil {
		return nil, err
	}
	if dup := s.findRecording(up.Show, sum, ""); dup != nil {
		return nil, &DuplicateError{Show: up.Show, EpisodeID: dup.ID, Title: dup.Title}
	}
	id := s.uploadID(up, sum)
	if up.Background {
		// The bytes are here: the client may leave (probing is bounded
		// by the file's size, storing by the store's timeouts).
		ctx = context.WithoutCancel(ctx)
		orig, err := probeUpload(ctx, path)
		if err != nil {
			return nil, err
		}
		if orig.NeedsTranscode() {
			e, err := s.enqueue(ctx, up, id, path, orig)
			return e, s.duplicateOf(up, sum, err)
		}
	}
	rec, err := s.prepare(ctx, path, work, up)
	if err != nil {
		return nil, err
	}
	e, art, err := s.newEpisode(up, id, rec.prep.Original)
	if err != nil {
		return nil, err
	}
	keys, err := s.storeRecording(ctx, up, e, rec, art)
	if err != nil {
		return nil, err
	}
	e, err = s.createUploaded(ctx, up, e, keys)
	if err == nil && e.Original != nil {
		// The episode is stored (published, if asked): its Opus version
		// comes after, optional, from the original still at path.
		if s.addOpus(ctx, up.Show, e.ID, path, rec.prep.Original) == nil {
			if cur, cerr := s.Episode(up.Show, e.ID); cerr == nil {
				e = cur
			}
		}
	}
	return e, s.duplicateOf(up, sum, err)
}

// uploadID is the id of the episode of an upload whose bytes have SHA-256
// sum: derived from its GUID when it has one (an imported item), else
// from its bytes (recordingEpisodeID). Only when the episode of that id no
// longer holds these bytes (its recording was replaced) is the id random.
func (s *Service) uploadID(up Upload, sum string) string {
	if up.GUID != "" {
		return guidEpisodeID(up.Show, up.GUID)
	}
	id := recordingEpisodeID(up.Show, sum)
	if e, _, ok := s.cat.episode(up.Show, id); ok && !e.holdsRecording(sum) {
		return "" // CreateEpisode draws one
	}
	return id
}

// duplicateOf turns the ErrGUIDTaken of an upload of bytes of SHA-256 sum
// into the *DuplicateError of the episode that holds them: another process
// created the episode of the same recording first (CreateEpisode cached
// it). Other errors are returned as they are.
func (s *Service) duplicateOf(up Upload, sum string, err error) error {
	if up.GUID != "" || !errors.Is(err, ErrGUIDTaken) {
		return err
	}
	if dup := s.findRecording(up.Show, sum, ""); dup != nil {
		return &DuplicateError{Show: up.Show, EpisodeID: dup.ID, Title: dup.Title}
	}
	return err
}

// newEpisode is the episode of an upload: the fields the host chose, the
// others from the recording's tags; and the artwork to store. A tag date
// without a time of day is taken at the show's air slot.
func (s *Service) newEpisode(up Upload, id string, orig *audio.ProbeResult) (*Episode, *audio.Picture, error) {
	f := FieldsFromTags(orig.Tags, orig.Duration, Paris())
	art := f.Artwork
	if up.Artwork != nil {
		if _, err := describeImage(up.Artwork); err != nil {
			return nil, nil, err
		}
		art = &audio.Picture{Data: up.Artwork}
	}
	if len(up.Chapters) > 0 {
		f.Chapters = up.Chapters
	}
	e := &Episode{
		ID:        id,
		Show:      up.Show,
		GUID:      up.GUID,
		Title:     cmp.Or(up.Title, f.Title, titleFromName(up.Name), "Nouvel épisode"),
		Theme:     up.Theme,
		Notes:     cmp.Or(up.Notes, f.Notes),
		AiredAt:   up.AiredAt,
		PublishAt: up.PublishAt,
		Season:    up.Season,
		Number:    cmp.Or(up.Number, f.Number),
		Type:      up.Type,
		Persons:   up.Persons,
		Chapters:  f.Chapters,
	}
	if e.AiredAt.IsZero() {
		e.AiredAt = f.AiredAt
		if sh, err := s.Show(up.Show); err == nil && f.DateOnly && sh.AirSlot != nil {
			e.AiredAt = sh.AirSlot.OnDay(f.AiredAt)
		}
	}
	if !e.PublishAt.IsZero() {
		e.PublishAt = e.PublishAt.UTC().Truncate(time.Second)
	}
	return e, art, nil
}

// createUploaded stores the upload's transcript, then writes the episode
// whose objects keys are stored. On failure it removes them.
func (s *Service) createUploaded(ctx context.Context, up Upload, e *Episode, keys []string) (*Episode, error) {
	if up.Transcript != nil {
		t, err := s.storeTranscript(ctx, up.Show, up.Transcript)
		if err != nil {
			s.deleteUnreferenced(context.WithoutCancel(ctx), keys)
			return nil, err
		}
		keys = append(keys, t.Key)
		e.Transcript = t
	}
	created, err := s.CreateEpisode(ctx, e)
	if err != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), keys)
		return nil, err
	}
	return created, nil
}

// probeUpload probes the upload at path.
func probeUpload(ctx context.Context, path string) (*audio.ProbeResult, error) {
	p, err := audio.Probe(ctx, path)
	if err != nil {
		var ua *audio.UnsupportedAudioError
		if errors.As(err, &ua) {
			return nil, ua // the temporary path in err means nothing to the host
		}
		return nil, err
	}
	return p, nil
}

// ReplaceRecording gives the episode a new recording: the new media (and
// original) are stored under new keys, the document is updated, then the
// old objects are removed once no document, read afresh, references them,
// so podcast apps never see changed bytes at a known URL. Chapters and
// other fields are kept.
//
// With up.Background, a recording that needs transcoding takes the same
// path as an upload: its original is stored and the episode waits for a
// new job (Pending with a new Pending.Job), which supersedes any job still
// running for an older recording; the episode keeps its publication and
// its current media until the job ends. A recording podcast apps can play
// as it is replaces at once, even one whose processing failed.
func (s *Service) ReplaceRecording(ctx context.Context, show, id, revision string, up Upload) (*Episode, error) {
	cur, err := s.Episode(show, id)
	if err != nil {
		return nil, err
	}
	if revision != "" && revision != cur.Revision {
		return nil, fmt.Errorf("episode %s: %w", id, ErrConflict)
	}
	work, err := os.MkdirTemp(s.opts.TempDir, "antenne-upload-")
	if err != nil {
		return nil, fmt.Errorf("replace recording: %w", err)
	}
	defer os.RemoveAll(work)
	path, sum, err := receive(ctx, &up, work)
	if err != nil {
		return nil, err
	}
	if dup := s.findRecording(show, sum, id); dup != nil {
		return nil, &DuplicateError{Show: show, EpisodeID: dup.ID, Title: dup.Title}
	}
	up.Show = show
	next := cur.clone()
	next.Opus = nil // made from the recording replaced
	var keys []string
	queued := false
	if up.Background {
		ctx = context.WithoutCancel(ctx) // the bytes are here
		orig, err := probeUpload(ctx, path)
		if err != nil {
			return nil, err
		}
		if orig.NeedsTranscode() {
			if err := s.checkDuration(ctx, path); err != nil {
				return nil, err
			}
			next.Original = originalMedia(show, orig, up.Name)
			if err := s.putFile(ctx, next.Original.Key, path, next.Original.Type, nil); err != nil {
				return nil, err
			}
			keys = []string{next.Original.Key}
			next.Pending = &Pending{Job: newJobID()}
			queued = true
		}
	}
	if !queued {
		rec, err := s.prepare(ctx, path, work, up)
		if err != nil {
			return nil, err
		}
		if keys, err = s.storeRecording(ctx, up, next, rec, nil); err != nil {
			return nil, err
		}
		next.Pending = nil
	}
	next.Updated = s.opts.Now().UTC()
	next.Revision = ""
	updated, err := s.storeEpisode(ctx, next, cur.Revision)
	if err != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), keys)
		return nil, err
	}
	var old []string
	if cur.Media.Key != "" && cur.Media.Key != updated.Media.Key {
		old = append(old, cur.Media.Key)
	}
	if cur.Original != nil && (updated.Original == nil || cur.Original.Key != updated.Original.Key) {
		old = append(old, cur.Original.Key)
	}
	s.deleteUnreferenced(context.WithoutCancel(ctx), old)
	if updated.Pending != nil {
		s.wakeJobs()
	}
	if cur.Opus != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), []string{cur.Opus.Key})
	}
	return updated, nil
}

// Transcoder makes a recording podcast-ready: it probes the file at path
// and, when podcast apps cannot play it, writes a loudness-normalised MP3
// into dir, reporting the fraction done to progress (which may be nil).
// episodes/audio/ffmpeg's Runner is the one antenne uses; it bounds how
// many transcodes run at once.
type Transcoder interface {
	Prepare(ctx context.Context, path, dir string, progress func(done float64)) (*audio.Prepared, error)
}

// DefaultMaxDuration is Options.MaxDuration when zero.
const DefaultMaxDuration = 4 * time.Hour

// checkDuration refuses, from its headers and before any transcoding, a
// recording longer than Options.MaxDuration: the work an upload makes is
// bounded by its audio, not only by its bytes. A file that cannot be read
// passes: the Transcoder says why.
func (s *Service) checkDuration(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check duration: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("check duration: %w", err)
	}
	p, err := audio.ProbeReader(audio.ReaderAtWithContext(ctx, f), st.Size())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	}
	if max := cmp.Or(s.opts.MaxDuration, DefaultMaxDuration); p.Duration > max {
		return invalid("recording", "recording.too_long", "the recording lasts %s, more than the %s allowed (ANTENNE_MAX_DURATION)",
			p.Duration.Round(time.Second), max)
	}
	return nil
}

// recording is an upload made podcast-ready.
type recording struct {
	prep *audio.Prepared
	path string // the upload as received
}

func (s *Service) prepare(ctx context.Context, path, work string, up Upload) (*recording, error) {
	var progress func(float64)
	if up.Progress != nil {
		progress = func(done float64) { up.Progress(StageTranscode, done) }
	}
	if err := s.checkDuration(ctx, path); err != nil {
		return nil, err
	}
	var prep *audio.Prepared
	var err error
	// Only ffmpeg's Runner itself: a Transcoder that wraps one keeps its
	// own Prepare.
	if r, ok := s.opts.Transcoder.(*ffmpeg.Runner); ok && up.measured != nil {
		prep, err = r.PrepareMeasured(ctx, path, work, up.measured, progress)
	} else {
		prep, err = s.opts.Transcoder.Prepare(ctx, path, work, progress)
	}
	if err != nil {
		var ua *audio.UnsupportedAudioError
		if errors.As(err, &ua) {
			return nil, ua // the temporary path in err means nothing to the host
		}
		var long *ffmpeg.TooLongError
		if errors.As(err, &long) {
			// The headers said less than the audio decoded.
			return nil, invalid("recording", "recording.long_decoded", "the recording lasts more than the %s allowed (ANTENNE_MAX_DURATION), whatever its headers say", long.Limit)
		}
		return nil, err
	}
	// What podcast apps will play, probed afresh, passes the same bound.
	if max := cmp.Or(s.opts.MaxDuration, DefaultMaxDuration); prep.Podcast != nil && prep.Podcast.Duration > max {
		if prep.Transcoded {
			os.Remove(prep.Path)
		}
		return nil, invalid("recording", "recording.too_long", "the recording lasts %s, more than the %s allowed (ANTENNE_MAX_DURATION)",
			prep.Podcast.Duration.Round(time.Second), max)
	}
	return &recording{prep: prep, path: path}, nil
}

// storeRecording stores the media, the original when it was transcoded and
// the artwork, sets them on e and returns the keys stored. On failure it
// removes what it stored.
func (s *Service) storeRecording(ctx context.Context, up Upload, e *Episode, rec *recording, art *audio.Picture) (keys []string, err error) {
	defer func() {
		if err != nil {
			s.deleteUnreferenced(context.WithoutCancel(ctx), keys)
			keys = nil
		}
	}()
	media := podcastMedia(e, rec.prep, up.Name)
	media.SourceURL = up.SourceURL
	total := media.Size
	var original *Media
	if rec.prep.Transcoded {
		original = originalMedia(e.Show, rec.prep.Original, up.Name)
		original.Loudness = loudnessOf(rec.prep.LoudnessBefore)
		total += original.Size
	}

	var done int64
	report := func(n int64) {
		done += n
		if up.Progress != nil && total > 0 {
			up.Progress(StageStore, float64(done)/float64(total))
		}
	}
	if err := s.putFile(ctx, media.Key, rec.prep.Path, media.Type, report); err != nil {
		return keys, err
	}
	keys = append(keys, media.Key)
	if original != nil {
		if err := s.putFile(ctx, original.Key, rec.path, original.Type, report); err != nil {
			return keys, err
		}
		keys = append(keys, original.Key)
	}
	img, err := s.storeArtwork(ctx, e.Show, art)
	if err != nil {
		return keys, err
	}
	if img != nil {
		keys = append(keys, img.Key)
		e.Artwork = img
	}
	e.Media, e.Original = media, original
	return keys, nil
}

// storeArtwork stores the picture of an upload (nil: none) and returns
// it, or nil when it is unreadable: tags are a convenience, never a
// reason to refuse a recording.
func (s *Service) storeArtwork(ctx context.Context, show string, art *audio.Picture) (*Image, error) {
	if art == nil {
		return nil, nil
	}
	img, err := describeImage(art.Data)
	if err != nil {
		return nil, nil
	}
	if err := s.storeImage(ctx, show, img, art.Data); err != nil {
		return nil, err
	}
	return img, nil
}

// podcastMedia is the media of e made of prep, with its key: named by the
// episode's title and the hash of its bytes, so a new recording never
// takes a known URL.
func podcastMedia(e *Episode, prep *audio.Prepared, sourceName string) Media {
	pod := prep.Podcast
	m := mediaOf(pod)
	m.Key = showObjectsPrefix(e.Show) + "media/" + cmp.Or(Slugify(e.Title), "episode") + "-" + pod.SHA256[:12] + "." + pod.Format.Ext()
	m.SourceName = sourceName
	m.Loudness = loudnessOf(prep.LoudnessAfter)
	return m
}

// originalMedia is the original recording p of an upload, with its key.
func originalMedia(show string, p *audio.ProbeResult, sourceName string) *Media {
	o := mediaOf(p)
	o.Key = showObjectsPrefix(show) + "originals/" + o.SHA256[:12] + "." + p.Format.Ext()
	o.SourceName = sourceName
	return &o
}

// storeTranscript stores a transcript under the show's transcripts/
// folder, named by the hash of its bytes.
func (s *Service) storeTranscript(ctx context.Context, show string, tf *TranscriptFile) (*Transcript, error) {
	typ, _, _ := strings.Cut(tf.Type, ";")
	typ = strings.ToLower(strings.TrimSpace(typ))
	ext, ok := transcriptExts[typ]
	switch {
	case !ok:
		return nil, invalid("transcript", "transcript.type", "%q is not a transcript type (WebVTT, SRT, JSON or text)", tf.Type)
	case len(tf.Data) == 0:
		return nil, invalid("transcript", "transcript.empty", "the transcript is empty")
	case len(tf.Data) > MaxTranscriptBytes:
		return nil, invalid("transcript", "transcript.too_large", "the transcript is %d bytes, more than %d", len(tf.Data), MaxTranscriptBytes)
	}
	sum := sha256.Sum256(tf.Data)
	t := &Transcript{
		Key:      showObjectsPrefix(show) + "transcripts/" + hex.EncodeToString(sum[:])[:12] + ext,
		Type:     typ,
		Language: tf.Language,
	}
	if _, err := s.blobs.Put(ctx, t.Key, bytes.NewReader(tf.Data), int64(len(tf.Data)), typ); err != nil {
		return nil, fmt.Errorf("store transcript: %w", err)
	}
	return t, nil
}

// putFile stores the file at path under key, reporting bytes sent.
func (s *Service) putFile(ctx context.Context, key, path, contentType string, report func(int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	if _, err := s.blobs.Put(ctx, key, &countingFile{f: f, report: report}, st.Size(), contentType); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// countingFile reports the bytes read from f. It keeps f's ReaderAt and
// Seeker, so an S3 store can upload parts in parallel.
type countingFile struct {
	f      *os.File
	mu     sync.Mutex
	report func(int64)
}

func (c *countingFile) count(n int) {
	if n > 0 && c.report != nil {
		c.mu.Lock()
		c.report(int64(n))
		c.mu.Unlock()
	}
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.count(n)
	return n, err
}

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.f.ReadAt(p, off)
	c.count(n)
	return n, err
}

func (c *countingFile) Seek(offset int64, whence int) (int64, error) {
	return c.f.Seek(offset, whence)
}

// receive returns the path of the upload and its SHA-256: up.Path itself,
// or Body spooled into dir. A WAV is measured on the way (up.measured),
// so that once its last byte is here only its encode remains.
func receive(ctx context.Context, up *Upload, dir string) (path, sum string, err error) {
	wav := audio.NewWAVMeter()
	defer func() { up.measured = wav.Meter() }()
	if up.Path == "" {
		return spool(ctx, up.Body, dir, wav)
	}
	f, err := os.Open(up.Path)
	if err != nil {
		return "", "", fmt.Errorf("receive the upload: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(h, wav), audio.ReaderWithContext(ctx, f))
	if err != nil {
		return "", "", fmt.Errorf("receive the upload: %w", err)
	}
	if n == 0 {
		return "", "", &audio.UnsupportedAudioError{Kind: audio.KindEmpty}
	}
	return up.Path, hex.EncodeToString(h.Sum(nil)), nil
}

// spool copies body to the file "upload" in dir, hashing it and writing
// it to also on the way.
func spool(ctx context.Context, body io.Reader, dir string, also io.Writer) (path, sum string, err error) {
	path = filepath.Join(dir, "upload")
	f, err := os.Create(path)
	if err != nil {
		return "", "", fmt.Errorf("receive the upload: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h, also), audio.ReaderWithContext(ctx, body))
	if err != nil {
		return "", "", fmt.Errorf("receive the upload: %w", err)
	}
	if n == 0 {
		return "", "", &audio.UnsupportedAudioError{Kind: audio.KindEmpty}
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("receive the upload: %w", err)
	}
	return path, hex.EncodeToString(h.Sum(nil)), nil
}

// findRecording returns the episode of the show (other than the one with
// id except) whose upload had these bytes, or nil.
func (s *Service) findRecording(show, sum, except string) *Episode {
	eps, _ := s.cat.episodesOf(show)
	for _, e := range eps {
		if e.ID == except {
			continue
		}
		if e.holdsRecording(sum) {
			return e
		}
	}
	return nil
}

// titleFromName makes a title of an uploaded file's name when the tags
// have none: "lvel-2021-03-05.mp3" -> "lvel-2021-03-05".
func titleFromName(name string) string {
	base := filepath.Base(name)
	if base == "." || base == "/" {
		return ""
	}
	return base[:len(base)-len(filepath.Ext(base))]
}
