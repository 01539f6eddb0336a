// Package importer moves a podcast published elsewhere (Castopod, Podlove,
// AzuraCast, Anchor, a static feed...) into antenne: it reads the old feed,
// creates the show with the podcast's identity (its podcast:guid, else the
// GUID of the OLD feed URL) and imports every item with its GUID kept
// exactly, so that podcast apps see the same episodes, not new ones.
//
// # Idempotence and resumption
//
// An item's GUID is its identity: an item whose GUID the show already has
// is skipped, so importing again only imports what is missing. Each episode
// is ingested through episodes.Service.Ingest, whose episode document is
// the commit point: an interruption (cancelled context, killed process)
// loses nothing already imported and leaves no half episode; the objects
// of an interrupted ingest are removed at once or by the next sweep.
//
// # Checks
//
// Every media is downloaded (at most Options.MaxMediaSize bytes) to a
// temporary file, then sniffed, measured and stored by Ingest: the feed's
// declared length, type and duration are compared with what antenne
// measured, antenne's values win and the differences are reported on the
// item. A broken item (media missing or not audio, invalid date, same
// bytes as another item) is reported as failed and the import goes on.
//
// The package sits under feed because it reads feeds (feed.Parse), and
// apart from it because it does I/O (network, store) that package feed,
// made of pure functions, must not.
package importer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	_ "image/jpeg" // registers JPEG for image.DecodeConfig
	_ "image/png"  // registers PNG for image.DecodeConfig
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/feed/fetch"
)

// Limits of what the import downloads besides the media.
const (
	maxChaptersBytes = 2 << 20
	// DefaultMaxMediaSize is Options.MaxMediaSize when zero (2 GiB, like
	// ANTENNE_MAX_UPLOAD).
	DefaultMaxMediaSize = 2 << 30
	// DefaultItemTimeout is Options.ItemTimeout when zero.
	DefaultItemTimeout = time.Hour
	// DefaultTimeout is Options.Timeout when zero.
	DefaultTimeout = 24 * time.Hour
	// documentTimeout bounds the download of the feed, an artwork, a
	// chapters file or a transcript.
	documentTimeout = 2 * time.Minute
	// durationTolerance is how far the feed's duration may be from the
	// measured one before the difference is reported.
	durationTolerance = 2 * time.Second
)

// Options tune an import. The zero value imports into a show named after
// the feed's title with a default HTTP client.
type Options struct {
	// Show is the slug of the show to import into: created when it does
	// not exist, resumed when it does. Slugify(title) when empty.
	Show string
	// FeedURL is the URL the old feed is published at, needed when the
	// source is a file and the feed names neither its own URL
	// (atom:link rel="self") nor a podcast:guid. It also resolves
	// relative URLs of a file source.
	FeedURL string
	// DryRun reads the feed and reports what would be imported, skipped
	// or refused without downloading media (it only asks the server, with
	// HEAD, whether each one is there) or writing anything.
	DryRun bool
	// Client makes the HTTP requests. When nil, Import uses a
	// fetch.NewClient that refuses private addresses (unless
	// AllowPrivate) except on the origin of the feed URL the operator
	// gave (source, or FeedURL for a file): see package feed/fetch.
	Client *http.Client
	// AllowPrivate lets the default client fetch private and loopback
	// addresses from any origin (ANTENNE_FETCH_ALLOW_PRIVATE).
	AllowPrivate bool
	// UserAgent is sent with every request, e.g. "antenne/v1.2.0".
	UserAgent string
	// MaxMediaSize is the largest media downloaded, in bytes;
	// DefaultMaxMediaSize when zero.
	MaxMediaSize int64
	// IdleTimeout ends a download that receives nothing for that long
	// (a stalled server); 60 s when zero.
	IdleTimeout time.Duration
	// ItemTimeout bounds the import of one item (downloads, measure,
	// store); DefaultItemTimeout when zero.
	ItemTimeout time.Duration
	// Timeout bounds the whole import; DefaultTimeout when zero. An
	// import stopped by it resumes when run again.
	Timeout time.Duration
	// TempDir holds the downloads; os.TempDir() when "".
	TempDir string
	// Progress, when set, is called when each item ends, with its
	// report, and also before an item is downloaded (with Outcome "").
	// Calls come from the importing goroutine, one at a time.
	Progress func(index, total int, item ItemReport)
	// ShowReady, when set, is called once the show is found or created
	// (Report.Show nil on a dry run of a new show), before the items,
	// with the report so far (ShowCreated, Warnings).
	ShowReady func(rep *Report)
}

// Outcome is what became of an item.
type Outcome string

// Outcomes.
const (
	Imported    Outcome = "imported"
	Skipped     Outcome = "skipped"      // the show already has its GUID
	Failed      Outcome = "failed"       // see Reason
	WouldImport Outcome = "would import" // dry run
)

// ItemReport tells what became of one item of the feed.
type ItemReport struct {
	GUID    string
	Title   string
	Outcome Outcome // "" while in progress
	// Reason says why an item was skipped or failed.
	Reason string
	// Notes list what differed from the feed (length, duration, type)
	// and what was left out (a chapters file, a transcript, artwork that
	// could not be read), for an imported item.
	Notes []string
	// Episode is the episode created, for an imported item.
	Episode *episodes.Episode
}

// Report is the result of an import.
type Report struct {
	Show *episodes.Show // nil on a dry run of a new show
	// ShowCreated is true when the import created the show.
	ShowCreated bool
	// OldFeedURL is the URL the feed was read from (or named for a file).
	OldFeedURL string
	// Warnings concern the show (a category dropped, artwork refused).
	Warnings []string
	Items    []ItemReport
}

// Count returns how many items had outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, it := range r.Items {
		if it.Outcome == o {
			n++
		}
	}
	return n
}

// importer is one run of Import.
type importer struct {
	svc  *episodes.Service
	opts Options
}

// Import reads the feed at source (an http(s) URL or a file path) and
// imports it into svc, as the package documentation describes. It returns
// an error, with the report so far, when the feed cannot be read, the show
// cannot be created, or ctx ends; the failures of single items are in the
// report, not in the error.
func Import(ctx context.Context, svc *episodes.Service, source string, opts Options) (*Report, error) {
	if opts.Client == nil {
		var trusted []string
		if isURL(source) {
			trusted = append(trusted, source)
		}
		if opts.FeedURL != "" {
			trusted = append(trusted, opts.FeedURL)
		}
		opts.Client = fetch.NewClient(fetch.Options{AllowPrivate: opts.AllowPrivate, Trusted: trusted})
	}
	opts.ItemTimeout = cmp.Or(opts.ItemTimeout, DefaultItemTimeout)
	opts.Timeout = cmp.Or(opts.Timeout, DefaultTimeout)
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout,
		fmt.Errorf("the import took longer than %s (run it again to go on)", opts.Timeout))
	defer cancel()
	if opts.MaxMediaSize <= 0 {
		opts.MaxMediaSize = DefaultMaxMediaSize
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	im := &importer{svc: svc, opts: opts}
	rep := &Report{}
	f, oldURL, err := im.readFeed(ctx, source)
	if err != nil {
		return rep, err
	}
	rep.OldFeedURL = oldURL
	// Another process may have imported meanwhile: GUIDs must be current.
	if _, err := svc.Refresh(ctx); err != nil {
		return rep, fmt.Errorf("import: %w", err)
	}
	show, err := im.show(ctx, f, oldURL, rep)
	if err != nil {
		return rep, err
	}
	if opts.ShowReady != nil {
		opts.ShowReady(rep)
	}
	items := slices.Clone(f.Items)
	// Oldest first: episodes are created in the order they aired.
	slices.SortStableFunc(items, func(a, b feed.ForeignItem) int {
		if a.PubDate.IsZero() != b.PubDate.IsZero() {
			if a.PubDate.IsZero() {
				return 1
			}
			return -1
		}
		return a.PubDate.Compare(b.PubDate)
	})
	have := map[string]*episodes.Episode{}
	if show != nil {
		eps, err := svc.Episodes(show.Slug, episodes.ListOptions{})
		if err != nil {
			return rep, fmt.Errorf("import: %w", err)
		}
		for _, e := range eps {
			have[e.GUID] = e
		}
	}
	seen := map[string]bool{}
	for i, it := range items {
		if ctx.Err() != nil {
			return rep, fmt.Errorf("import interrupted: %w", context.Cause(ctx))
		}
		ir := ItemReport{GUID: it.GUID, Title: it.Title}
		switch e := have[it.GUID]; {
		case it.GUID == "":
			ir.Outcome, ir.Reason = Failed, "the item has neither guid nor enclosure"
		case seen[it.GUID]:
			ir.Outcome, ir.Reason = Failed, "another item of the feed has the same guid"
		case e != nil:
			ir.Outcome, ir.Reason, ir.Episode = Skipped, "already imported as "+e.Slug, e
		case it.DateError != nil:
			ir.Outcome, ir.Reason = Failed, "invalid pubDate: "+it.DateError.Error()
		case it.Enclosure.URL == "":
			ir.Outcome, ir.Reason = Failed, "the item has no enclosure (no media)"
		case opts.DryRun:
			if err := im.head(ctx, it.Enclosure.URL); err != nil {
				if ctx.Err() != nil {
					return rep, fmt.Errorf("import interrupted: %w", context.Cause(ctx))
				}
				ir.Outcome, ir.Reason = Failed, err.Error()
			} else {
				ir.Outcome = WouldImport
			}
		default:
			if opts.Progress != nil {
				opts.Progress(i+1, len(items), ir)
			}
			e, notes, err := im.item(ctx, show.Slug, it)
			ir.Notes = notes
			if err != nil {
				if ctx.Err() != nil {
					return rep, fmt.Errorf("import interrupted at %q: %w", it.Title, context.Cause(ctx))
				}
				ir.Outcome, ir.Reason = Failed, reason(err)
				if importedMeanwhile(svc, show.Slug, it.GUID, err) {
					ir.Outcome, ir.Reason = Skipped, "imported meanwhile by another process"
				}
			} else {
				ir.Outcome, ir.Episode = Imported, e
				have[it.GUID] = e
			}
		}
		seen[it.GUID] = true
		rep.Items = append(rep.Items, ir)
		if opts.Progress != nil {
			opts.Progress(i+1, len(items), ir)
		}
	}
	return rep, nil
}

// reason is the text of an item's failure.
func reason(err error) string {
	var dup *episodes.DuplicateError
	if errors.As(err, &dup) {
		return fmt.Sprintf("same audio as the episode %q already in the show: not imported twice", dup.Title)
	}
	var field *episodes.FieldError
	if errors.As(err, &field) {
		return field.Reason
	}
	return err.Error()
}

// importedMeanwhile reports whether err says that another process (or
// another import) created the item's episode while this one downloaded
// it: the store refused a second episode of that GUID, or the same bytes
// are already the recording of the episode of that GUID.
func importedMeanwhile(svc *episodes.Service, show, guid string, err error) bool {
	if errors.Is(err, episodes.ErrGUIDTaken) {
		return true
	}
	var dup *episodes.DuplicateError
	if !errors.As(err, &dup) {
		return false
	}
	e, err := svc.Episode(show, dup.EpisodeID)
	return err == nil && e.GUID == guid
}

// readFeed reads and parses the feed and tells the old feed's URL.
func (im *importer) readFeed(ctx context.Context, source string) (*feed.Foreign, string, error) {
	if isURL(source) {
		data, err := im.document(ctx, source, feed.MaxForeignFeed, "the feed")
		if err != nil {
			return nil, "", err
		}
		f, err := feed.Parse(bytes.NewReader(data), source)
		if err != nil {
			return nil, "", fmt.Errorf("read the feed %s: %w", source, err)
		}
		return f, source, nil
	}
	fh, err := os.Open(source)
	if err != nil {
		return nil, "", fmt.Errorf("read the feed: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, feed.MaxForeignFeed+1))
	if err != nil {
		return nil, "", fmt.Errorf("read the feed %s: %w", source, err)
	}
	f, err := feed.Parse(bytes.NewReader(data), im.opts.FeedURL)
	if err != nil {
		return nil, "", fmt.Errorf("read the feed %s: %w", source, err)
	}
	oldURL := cmp.Or(im.opts.FeedURL, f.SelfURL, f.NewFeedURL)
	if oldURL == "" && f.GUID == "" {
		return nil, "", fmt.Errorf("read the feed %s: it names neither its URL (atom:link rel=\"self\") nor a podcast:guid: give the old feed's URL with --feed-url", source)
	}
	if im.opts.FeedURL == "" && oldURL != "" {
		// Resolve the relative URLs against the URL the feed names.
		if f, err = feed.Parse(bytes.NewReader(data), oldURL); err != nil {
			return nil, "", fmt.Errorf("read the feed %s: %w", source, err)
		}
	}
	return f, oldURL, nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// show finds or creates the show. On a dry run of a new show it returns
// nil.
func (im *importer) show(ctx context.Context, f *feed.Foreign, oldURL string, rep *Report) (*episodes.Show, error) {
	if strings.TrimSpace(f.Title) == "" && im.opts.Show == "" {
		return nil, errors.New("import: the feed has no title: name the show with --show")
	}
	slug := cmp.Or(im.opts.Show, episodes.Slugify(f.Title))
	guid := f.GUID
	if guid == "" {
		guid = episodes.PodcastGUID(oldURL)
	}
	if sh, err := im.svc.Show(slug); err == nil {
		rep.Show = sh
		if sh.GUID != guid {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the show %s keeps its podcast:guid %s; the old feed's is %s", slug, sh.GUID, guid))
		}
		return sh, nil
	} else if !errors.Is(err, episodes.ErrNotFound) {
		return nil, fmt.Errorf("import: %w", err)
	}
	sh := im.newShow(f, slug, guid, rep)
	if im.opts.DryRun {
		return nil, nil
	}
	created, err := im.svc.CreateShow(ctx, sh, oldURL)
	if errors.Is(err, episodes.ErrConflict) {
		// Another import (another process) created it meanwhile: the
		// store decided, go on with that show.
		if _, rerr := im.svc.Refresh(ctx); rerr == nil {
			if sh, serr := im.svc.Show(slug); serr == nil {
				rep.Show = sh
				return sh, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create the show %s: %w", slug, err)
	}
	rep.Show, rep.ShowCreated = created, true
	if f.Image != "" {
		data, err := im.document(ctx, f.Image, episodes.MaxImageBytes, "the show's artwork")
		if err == nil {
			var sh2 *episodes.Show
			if sh2, err = im.svc.SetShowArtwork(ctx, slug, "", data); err == nil {
				rep.Show = sh2
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.Warnings = append(rep.Warnings, "artwork not imported: "+reason(err))
		}
	}
	return rep.Show, nil
}

// newShow maps the feed's channel to a show, dropping what antenne would
// refuse (with a warning).
func (im *importer) newShow(f *feed.Foreign, slug, guid string, rep *Report) episodes.Show {
	sh := episodes.Show{
		Slug:        slug,
		Title:       cmp.Or(strings.TrimSpace(f.Title), slug),
		Description: showDescription(f.Description),
		Language:    f.Language,
		Author:      f.Author,
		Owner:       f.Owner,
		Explicit:    f.Explicit,
		Link:        f.Link,
		Copyright:   f.Copyright,
		Funding:     f.Funding,
		GUID:        guid,
		Locked:      f.Locked,
	}
	if f.Type == string(episodes.Serial) {
		sh.Type = episodes.Serial
	}
	if sh.Language != "" {
		if err := episodes.CheckLanguage("language", sh.Language); err != nil {
			rep.Warnings = append(rep.Warnings, "language dropped: "+reason(err))
			sh.Language = ""
		}
	}
	if sh.Owner.Email != "" {
		if err := episodes.CheckEmail("owner.email", sh.Owner.Email); err != nil {
			rep.Warnings = append(rep.Warnings, "owner e-mail dropped: "+reason(err))
			sh.Owner.Email = ""
		}
	}
	for _, c := range f.Categories {
		if err := episodes.CheckCategory(c); err != nil {
			if c.Sub != "" && episodes.CheckCategory(episodes.Category{Name: c.Name}) == nil {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("subcategory %q of %q dropped: not in Apple's list", c.Sub, c.Name))
				c.Sub = ""
			} else {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("category %q dropped: not in Apple's list", c.Name))
				continue
			}
		}
		if !slices.Contains(sh.Categories, c) {
			sh.Categories = append(sh.Categories, c)
		}
	}
	for _, p := range f.Persons {
		if p.Role == "" || p.Role == episodes.RoleHost {
			sh.Hosts = append(sh.Hosts, p)
		}
	}
	return sh
}

// showDescription is the feed's description as the plain text a show's
// description is: HTML (Castopod, Anchor) is turned into text.
func showDescription(d string) string {
	if looksLikeHTML(d) {
		return feed.PlainNotes(d)
	}
	return strings.TrimSpace(d)
}

// item downloads and ingests one item, within ItemTimeout.
func (im *importer) item(ctx context.Context, show string, it feed.ForeignItem) (*episodes.Episode, []string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, im.opts.ItemTimeout,
		fmt.Errorf("the item took longer than %s to import", im.opts.ItemTimeout))
	defer cancel()
	e, notes, err := im.ingestItem(ctx, show, it)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	return e, notes, err
}

func (im *importer) ingestItem(ctx context.Context, show string, it feed.ForeignItem) (*episodes.Episode, []string, error) {
	var notes []string
	path, size, ctype, err := im.download(ctx, it.Enclosure.URL)
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(path)
	if it.Enclosure.Length > 0 && it.Enclosure.Length != size {
		notes = append(notes, fmt.Sprintf("the feed declares %d bytes, the media has %d: the real size is used", it.Enclosure.Length, size))
	} else if it.Enclosure.Length == 0 {
		notes = append(notes, fmt.Sprintf("the feed declares no length, the media has %d bytes", size))
	}
	up := episodes.Upload{
		Show:      show,
		Name:      mediaName(it.Enclosure.URL),
		Title:     it.Title,
		Notes:     notesOf(it),
		AiredAt:   it.PubDate,
		PublishAt: it.PubDate,
		Season:    it.Season,
		Number:    it.Episode,
		Persons:   it.Persons,
		GUID:      it.GUID,
		SourceURL: it.Enclosure.URL,
	}
	if t := episodes.EpisodeType(it.EpisodeType); t != "" {
		if err := episodes.CheckEpisodeType(t); err != nil {
			notes = append(notes, reason(err)+": full")
		} else {
			up.Type = t
		}
	}
	if it.Image != "" {
		data, err := im.document(ctx, it.Image, episodes.MaxImageBytes, "the episode's artwork")
		if err == nil {
			err = episodes.CheckImage(data)
		}
		if err != nil {
			notes = append(notes, "artwork left out: "+reason(err))
		} else {
			up.Artwork = data
		}
	}
	if it.ChaptersURL != "" {
		chs, err := im.chapters(ctx, it.ChaptersURL)
		if err != nil {
			notes = append(notes, "chapters left out: "+err.Error())
		} else {
			up.Chapters = chs
		}
	}
	if tr := pickTranscript(it.Transcripts); tr != nil {
		data, err := im.document(ctx, tr.URL, episodes.MaxTranscriptBytes, "the transcript")
		if err != nil {
			notes = append(notes, "transcript left out: "+err.Error())
		} else {
			typ, _, _ := mime.ParseMediaType(tr.Type)
			if typ == "text/html" {
				// Stored as HTML it would be served as a page of the site.
				data, typ = []byte(feed.PlainNotes(string(data))), "text/plain"
				notes = append(notes, "the HTML transcript is stored as plain text")
			}
			up.Transcript = &episodes.TranscriptFile{Data: data, Type: typ, Language: tr.Language}
		}
	} else if len(it.Transcripts) > 0 {
		notes = append(notes, "transcript left out: its type is none of WebVTT, SRT, JSON, HTML or text")
	}
	body, err := os.Open(path)
	if err != nil {
		return nil, notes, fmt.Errorf("import: %w", err)
	}
	defer body.Close()
	up.Body = body
	if ctx.Err() != nil {
		return nil, notes, ctx.Err()
	}
	e, err := im.svc.Ingest(ctx, up)
	if err != nil {
		return nil, notes, err
	}
	if it.Duration > 0 {
		if d := e.Media.Duration - it.Duration; d > durationTolerance || d < -durationTolerance {
			notes = append(notes, fmt.Sprintf("the feed declares %s, the media lasts %s: the measured duration is used", it.Duration, e.Media.Duration.Round(time.Second)))
		}
	}
	declared, _, _ := mime.ParseMediaType(it.Enclosure.Type)
	if declared != "" && declared != e.Media.Type && !(e.Original != nil && declared == e.Original.Type) && !sameAudioType(declared, e.Media.Type) {
		notes = append(notes, fmt.Sprintf("the feed declares type %s, the media is %s", it.Enclosure.Type, e.Media.Type))
	} else if declared == "" && ctype != "" && !sameAudioType(ctype, e.Media.Type) {
		notes = append(notes, fmt.Sprintf("the server sent type %s, the media is %s", ctype, e.Media.Type))
	}
	if e.Original != nil {
		notes = append(notes, fmt.Sprintf("converted to MP3 (the %s original is kept)", e.Original.Type))
	}
	return e, notes, nil
}

// sameAudioType tells the aliases of one format apart from real
// differences.
func sameAudioType(a, b string) bool {
	alias := map[string]string{
		"audio/mp3": "audio/mpeg", "audio/mpeg3": "audio/mpeg", "audio/x-mp3": "audio/mpeg", "audio/x-mpeg": "audio/mpeg",
		"audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4", "audio/aac": "audio/mp4", "audio/x-aac": "audio/mp4", "video/mp4": "audio/mp4",
	}
	norm := func(s string) string { s = strings.ToLower(s); return cmp.Or(alias[s], s) }
	return norm(a) == norm(b)
}

// notesOf chooses the fullest show notes of an item. HTML stays HTML:
// Markdown passes it through and feed.RenderNotes sanitises it. Blank
// lines are removed from HTML notes so that Markdown reads them as one
// HTML block rather than mixing in its own paragraphs.
func notesOf(it feed.ForeignItem) string {
	n := cmp.Or(it.Content, it.Description, it.Summary)
	if looksLikeHTML(n) {
		n = blankLines.ReplaceAllString(n, "\n")
	}
	return strings.TrimSpace(n)
}

var (
	blankLines = regexp.MustCompile(`\n[ \t]*\n+`)
	htmlTag    = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9]*[\s/>]`)
)

func looksLikeHTML(s string) bool { return htmlTag.MatchString(s) }

// mediaName is the file name at the end of a media URL.
func mediaName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := u.Path
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// transcriptPreference orders the transcript types antenne imports, best
// first. HTML is imported as plain text.
var transcriptPreference = []string{"text/vtt", "application/x-subrip", "application/srt", "application/json", "text/html", "text/plain"}

func pickTranscript(ts []feed.ForeignTranscript) *feed.ForeignTranscript {
	var best *feed.ForeignTranscript
	bestRank := len(transcriptPreference)
	for i := range ts {
		t, _, _ := mime.ParseMediaType(ts[i].Type)
		if r := slices.Index(transcriptPreference, t); r >= 0 && r < bestRank {
			best, bestRank = &ts[i], r
		}
	}
	return best
}

// chapters downloads a JSON chapters file (Podcast Index format,
// https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md).
func (im *importer) chapters(ctx context.Context, u string) ([]episodes.Chapter, error) {
	data, err := im.document(ctx, u, maxChaptersBytes, "the chapters")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Chapters []struct {
			StartTime float64 `json:"startTime"`
			EndTime   float64 `json:"endTime"`
			Title     string  `json:"title"`
			URL       string  `json:"url"`
			TOC       *bool   `json:"toc"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the chapters at %s are not JSON chapters: %w", u, err)
	}
	var chs []episodes.Chapter
	for _, c := range doc.Chapters {
		if c.TOC != nil && !*c.TOC || c.StartTime < 0 || c.StartTime > 1e7 || c.EndTime < 0 || c.EndTime > 1e7 {
			continue
		}
		chs = append(chs, episodes.Chapter{
			Start: seconds(c.StartTime), End: seconds(c.EndTime),
			Title: strings.TrimSpace(c.Title), URL: c.URL,
		})
	}
	slices.SortStableFunc(chs, func(a, b episodes.Chapter) int { return cmp.Compare(a.Start, b.Start) })
	if len(chs) == 0 {
		return nil, fmt.Errorf("the chapters file %s lists no chapter", u)
	}
	return chs, nil
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

// get starts a GET of u. The response body fails with errStalled when
// nothing arrives for IdleTimeout.
func (im *importer) get(ctx context.Context, u, what string) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	idle := time.AfterFunc(im.opts.IdleTimeout, func() { cancel(errStalled) })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		idle.Stop()
		cancel(nil)
		return nil, fmt.Errorf("download %s %s: %w", what, u, err)
	}
	if im.opts.UserAgent != "" {
		req.Header.Set("User-Agent", im.opts.UserAgent)
	}
	resp, err := im.opts.Client.Do(req)
	if err != nil {
		idle.Stop()
		if c := context.Cause(ctx); errors.Is(c, errStalled) {
			err = c
		}
		cancel(nil)
		var blocked *fetch.BlockedError
		if errors.As(err, &blocked) {
			return nil, fmt.Errorf("download %s: %w (ANTENNE_FETCH_ALLOW_PRIVATE=true allows them)", what, blocked)
		}
		return nil, fmt.Errorf("download %s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		idle.Stop()
		resp.Body.Close()
		cancel(nil)
		return nil, fmt.Errorf("download %s %s: the server answered %s", what, u, resp.Status)
	}
	resp.Body = &idleBody{rc: resp.Body, ctx: ctx, cancel: cancel, timer: idle, idle: im.opts.IdleTimeout}
	return resp, nil
}

// errStalled ends a download that receives nothing for IdleTimeout.
var errStalled = errors.New("the server stopped sending")

// idleBody restarts the idle timer at every read that brings bytes.
type idleBody struct {
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	idle   time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if c := context.Cause(b.ctx); errors.Is(c, errStalled) {
			err = fmt.Errorf("%w for %s", c, b.idle)
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// head checks, on a dry run, that the media at u can be downloaded: the
// server answers a HEAD request and the declared size is allowed. A server
// that refuses HEAD (405, 501) gets the benefit of the doubt.
func (im *importer) head(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return fmt.Errorf("check the media %s: %w", u, err)
	}
	if im.opts.UserAgent != "" {
		req.Header.Set("User-Agent", im.opts.UserAgent)
	}
	resp, err := im.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("check the media: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
		return nil
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("check the media %s: the server answered %s", u, resp.Status)
	case resp.ContentLength > im.opts.MaxMediaSize:
		return fmt.Errorf("check the media %s: %d bytes, more than the %d allowed (ANTENNE_MAX_UPLOAD)", u, resp.ContentLength, im.opts.MaxMediaSize)
	}
	return nil
}

// document downloads a small document, at most limit bytes, within
// documentTimeout.
func (im *importer) document(ctx context.Context, u string, limit int64, what string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, documentTimeout)
	defer cancel()
	resp, err := im.get(ctx, u, what)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("download %s %s: %d bytes, more than %d", what, u, resp.ContentLength, limit)
	}
	data, err := fetch.ReadAll(resp.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("download %s %s: %w", what, u, err)
	}
	return data, nil
}

// download saves the media at u to a temporary file and returns its path,
// size and the Content-Type the server sent. The caller removes the file.
func (im *importer) download(ctx context.Context, u string) (path string, size int64, ctype string, err error) {
	resp, err := im.get(ctx, u, "the media")
	if err != nil {
		return "", 0, "", err
	}
	defer resp.Body.Close()
	max := im.opts.MaxMediaSize
	if resp.ContentLength > max {
		return "", 0, "", fmt.Errorf("download the media %s: %d bytes, more than the %d allowed (ANTENNE_MAX_UPLOAD)", u, resp.ContentLength, max)
	}
	f, err := os.CreateTemp(im.opts.TempDir, "antenne-import-")
	if err != nil {
		return "", 0, "", fmt.Errorf("download the media: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("download the media: %w", cerr)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, io.LimitReader(resp.Body, max+1))
	if err != nil {
		return "", 0, "", fmt.Errorf("download the media %s: %w", u, err)
	}
	if n > max {
		return "", 0, "", fmt.Errorf("download the media %s: more than the %d bytes allowed (ANTENNE_MAX_UPLOAD)", u, max)
	}
	if n == 0 {
		return "", 0, "", fmt.Errorf("download the media %s: the file is empty", u)
	}
	ctype, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return f.Name(), n, ctype, nil
}
