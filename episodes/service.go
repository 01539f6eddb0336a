package episodes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/storage/bucket"
)

// Options tune a Service. The zero value is usable.
type Options struct {
	// Now is the clock; time.Now when nil. Tests inject their own to
	// check scheduling.
	Now func() time.Time
	// Transcoder makes recordings podcast-ready; nil uses ffmpeg from
	// PATH with no bound on concurrent transcodes.
	Transcoder Transcoder
	// TempDir is where uploads are spooled; os.TempDir() when "".
	TempDir string
	// RefreshInterval is how often Run reloads what other processes
	// changed; 5 s when zero, so a change is seen within 10 s.
	RefreshInterval time.Duration
	// SweepInterval is how often Run removes orphan objects; 15 min when
	// zero.
	SweepInterval time.Duration
	// JobLease is how long a replica holds an ingest job without renewing
	// it (jobs.go); twice StoreTimeout when zero, and never less (a
	// shorter one is a programmer's error: NewService panics). A killed
	// replica's job is taken over once it expires.
	JobLease time.Duration
	// StoreTimeout bounds each write of a job's lease and of the episode
	// it finishes; bucket.OpTimeout (30 s) when zero.
	StoreTimeout time.Duration
	// JobScanInterval is how often RunJobs looks for jobs to run; 2 s
	// when zero.
	JobScanInterval time.Duration
	// MaxDuration is the longest recording accepted
	// (ANTENNE_MAX_DURATION); DefaultMaxDuration when zero. A longer one
	// is refused before any transcoding.
	MaxDuration time.Duration
	// OrphanAge is how old an unreferenced object must be before a sweep
	// removes it, so that uploads in progress on other replicas are left
	// alone; 1 h when zero.
	OrphanAge time.Duration
}

// Service is the catalog of shows and episodes, kept in a bucket.Store store and
// cached in memory. Any number of Services, in one process or many, may
// share one store: writes are conditional, so a concurrent edit of one
// document gives ErrConflict to all but one writer, what must be unique
// (show slugs, episode slugs, imported GUIDs) is claimed in the store
// (claims.go), and Refresh (or Run) brings in what the others changed. No
// lock is held across a call to the store.
//
// Values returned by a Service are copies: changing them changes nothing
// stored. All methods are safe for concurrent use.
type Service struct {
	blobs bucket.Store
	opts  Options
	cat   *catalog
	// redirects indexes the media URLs imported episodes came from.
	redirects redirects
	jobs      *jobRunner
}

// NewService returns a Service over blobs. Call Load before serving.
func NewService(blobs bucket.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = 5 * time.Second
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 15 * time.Minute
	}
	if opts.OrphanAge <= 0 {
		opts.OrphanAge = time.Hour
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = bucket.OpTimeout
	}
	if opts.JobLease <= 0 {
		opts.JobLease = bucket.MinLease(opts.StoreTimeout)
	}
	if opts.JobScanInterval <= 0 {
		opts.JobScanInterval = defaultJobScan
	}
	if opts.Transcoder == nil {
		opts.Transcoder = &ffmpeg.Runner{}
	}
	return &Service{blobs: blobs, opts: opts, cat: newCatalog(), jobs: newJobRunner(opts.JobLease, opts.StoreTimeout, opts.Now)}
}

// Load reads the whole catalog (and the host accounts) from the store.
// Documents that cannot be read are reported in the error; the others are
// loaded.
func (s *Service) Load(ctx context.Context) error {
	_, err := s.Refresh(ctx)
	return err
}

// NotLoaded reports that Load (or a refresh) failed to read the store
// and none has succeeded since: the catalog is empty because the store
// could not be read, not because it holds nothing.
func (s *Service) NotLoaded() bool { return s.cat.listFailed.Load() && !s.cat.listed.Load() }

// Refresh brings in the changes other processes made to the store. It
// reports whether anything of the catalog changed.
func (s *Service) Refresh(ctx context.Context) (bool, error) {
	return s.cat.refresh(ctx, s.blobs)
}

// indexInterval is how often Run rewrites the indexes that changed.
const indexInterval = 30 * time.Second

// Run refreshes the catalog every RefreshInterval, rewrites the shows'
// indexes that changed (see index.go) every 30 s, and sweeps orphan
// objects every SweepInterval until ctx ends. Errors go to report (which
// may be nil); Run keeps going after them.
func (s *Service) Run(ctx context.Context, report func(error)) {
	if report == nil {
		report = func(error) {}
	}
	refresh := time.NewTicker(s.opts.RefreshInterval)
	defer refresh.Stop()
	sweep := time.NewTicker(s.opts.SweepInterval)
	defer sweep.Stop()
	index := time.NewTicker(indexInterval)
	defer index.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				report(fmt.Errorf("refresh the catalog: %w", err))
			}
		case <-index.C:
			if err := s.WriteIndexes(ctx); err != nil && ctx.Err() == nil {
				report(err)
			}
		case <-sweep.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				report(fmt.Errorf("sweep orphans: %w", err))
			}
		}
	}
}

// Version changes whenever a cached document changes. Together with the
// count of published episodes (which grows as scheduled ones come due) it
// identifies the content of a feed, for caches.
func (s *Service) Version() uint64 { return s.cat.version() }

// Now is the Service's clock.
func (s *Service) Now() time.Time { return s.opts.Now() }

// ---- Shows ----

// Shows lists the shows, by slug.
func (s *Service) Shows() []*Show {
	var shows []*Show
	for _, slug := range s.cat.showSlugs() {
		if sh, err := s.Show(slug); err == nil {
			shows = append(shows, sh)
		}
	}
	return shows
}

// EpisodeCount is the number of episodes of every show, all statuses.
func (s *Service) EpisodeCount() int {
	s.cat.mu.RLock()
	defer s.cat.mu.RUnlock()
	n := 0
	for _, st := range s.cat.shows {
		n += len(st.episodes)
	}
	return n
}

// Show returns the show with this slug, or ErrNotFound.
func (s *Service) Show(slug string) (*Show, error) {
	sh, etag, ok := s.cat.show(slug)
	if !ok {
		return nil, fmt.Errorf("show %q: %w", slug, ErrNotFound)
	}
	c := sh.clone()
	c.Revision = etag
	return c, nil
}

// CreateShow stores a new show. Empty fields get their defaults (language
// fr, type episodic, license CC BY-SA 4.0). The podcast:guid is computed
// from feedURL unless sh.GUID is already set (a show imported with its
// guid). It fails with ErrConflict when the slug is taken.
func (s *Service) CreateShow(ctx context.Context, sh Show, feedURL string) (*Show, error) {
	now := s.opts.Now().UTC()
	sh.withDefaults()
	if sh.GUID == "" {
		if feedURL == "" {
			return nil, invalid("guid", "guid.no_feed_url", "the feed URL is needed to compute the podcast GUID")
		}
		sh.GUID = PodcastGUID(feedURL)
	}
	sh.Created, sh.Updated = now, now
	if err := sh.validate(); err != nil {
		return nil, err
	}
	etag, err := bucket.Write(ctx, s.blobs, showKey(sh.Slug), &sh, "")
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("show %q already exists: %w", sh.Slug, ErrConflict)
		}
		return nil, err
	}
	sh.Revision = ""
	s.cat.setShow(sh.clone(), etag)
	return s.Show(sh.Slug)
}

// withDefaults sets what CreateShow fills in: version, language, type,
// license.
func (sh *Show) withDefaults() {
	sh.Version = bucket.SchemaVersion
	sh.Language = cmp.Or(sh.Language, "fr")
	sh.Type = cmp.Or(sh.Type, Episodic)
	sh.License = cmp.Or(sh.License, "CC BY-SA 4.0")
	if sh.LicenseURL == "" && sh.License == "CC BY-SA 4.0" {
		sh.LicenseURL = "https://creativecommons.org/licenses/by-sa/4.0/"
	}
}

// CheckNewShow tells, without storing anything, whether CreateShow would
// accept sh: the same defaults and validation (*FieldError), and
// ErrConflict when the slug is taken as far as this replica knows.
func (s *Service) CheckNewShow(sh Show) error {
	sh.withDefaults()
	if err := sh.validate(); err != nil {
		return err
	}
	if _, _, ok := s.cat.show(sh.Slug); ok {
		return fmt.Errorf("show %q already exists: %w", sh.Slug, ErrConflict)
	}
	return nil
}

// UpdateShow applies edit to the show and stores it. revision is the
// Revision of the show the edit was made on ("" : the current one); the
// update fails with ErrConflict when the stored show is not that one any
// more. The slug, GUID and creation time cannot change.
func (s *Service) UpdateShow(ctx context.Context, slug, revision string, edit func(*Show) error) (*Show, error) {
	cur, etag, ok := s.cat.show(slug)
	if !ok {
		return nil, fmt.Errorf("show %q: %w", slug, ErrNotFound)
	}
	if revision != "" && revision != etag {
		return nil, fmt.Errorf("show %q: %w", slug, ErrConflict)
	}
	sh := cur.clone()
	if err := edit(sh); err != nil {
		return nil, err
	}
	sh.Slug, sh.GUID, sh.Created, sh.Version = cur.Slug, cur.GUID, cur.Created, bucket.SchemaVersion
	sh.Updated = s.opts.Now().UTC()
	sh.Revision = ""
	if err := sh.validate(); err != nil {
		return nil, err
	}
	newTag, err := bucket.Write(ctx, s.blobs, showKey(slug), sh, etag)
	if err != nil {
		return nil, err
	}
	s.cat.setShow(sh, newTag)
	return s.Show(slug)
}

func (sh *Show) validate() error {
	switch {
	case !validSlug(sh.Slug):
		return invalid("slug", "slug.malformed", "%q is not a slug: use lowercase letters, digits and single hyphens, like la-voix-est-libre", sh.Slug)
	case reservedShowSlugs[sh.Slug]:
		return invalid("slug", "slug.reserved", "%q is reserved for antenne's own pages: choose another", sh.Slug)
	case strings.TrimSpace(sh.Title) == "":
		return invalid("title", "title.empty", "the title is empty")
	}
	if err := CheckShowType(sh.Type); err != nil {
		return err
	}
	if sh.Owner.Email != "" {
		if err := CheckEmail("owner.email", sh.Owner.Email); err != nil {
			return err
		}
	}
	if err := CheckLanguage("language", sh.Language); err != nil {
		return err
	}
	for _, c := range sh.Categories {
		if err := checkCategory(c); err != nil {
			return err
		}
	}
	if len(sh.Hashtags) > maxHashtags {
		return invalid("hashtags", "hashtags.too_many", "%d hashtags, more than %d", len(sh.Hashtags), maxHashtags)
	}
	for _, t := range sh.Hashtags {
		if !validHashtag(t) {
			return invalid("hashtags", "hashtags.malformed", "%q is not a hashtag: use letters, digits and _, without #, up to 50 characters", t)
		}
	}
	if sh.Accent != "" {
		if err := CheckAccent(sh.Accent); err != nil {
			return err
		}
	}
	if sh.AirSlot != nil {
		if err := sh.AirSlot.Validate(); err != nil {
			return err
		}
	}
	if sh.Live != nil {
		if err := sh.Live.validate(sh.AirSlot); err != nil {
			return err
		}
	}
	return CheckText("title", sh.Title, 255)
}

// CheckEmail refuses, with a *FieldError on field, what is not a bare
// e-mail address (alice@example.org, without a name or brackets).
func CheckEmail(field, addr string) error {
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
		return invalid(field, "email.malformed", "%q is not an e-mail address", addr)
	}
	return nil
}

// CheckShowType refuses, with a *FieldError on type, a show type other
// than episodic or serial.
func CheckShowType(t ShowType) error {
	if t != Episodic && t != Serial {
		return invalid("type", "show_type.unknown", "%q is neither episodic nor serial", t)
	}
	return nil
}

// CheckEpisodeType refuses, with a *FieldError on type, an episode type
// other than full, trailer or bonus.
func CheckEpisodeType(t EpisodeType) error {
	if t != Full && t != Trailer && t != Bonus {
		return invalid("type", "episode_type.unknown", "%q is not full, trailer or bonus", t)
	}
	return nil
}

// CheckLanguage refuses, with a *FieldError on field, an empty or
// overlong language code (fr, en, fr-FR).
func CheckLanguage(field, lang string) error {
	if lang == "" || len(lang) > 35 {
		return invalid(field, "language.malformed", "%q is not a language code such as fr or en", lang)
	}
	return nil
}

// maxHashtags bounds a show's hashtags: a post with more reads as spam.
const maxHashtags = 10

// validHashtag reports whether t is a hashtag as Mastodon links them:
// letters, digits and underscores, not only digits.
func validHashtag(t string) bool {
	if t == "" || utf8.RuneCountInString(t) > 50 {
		return false
	}
	letter := false
	for _, r := range t {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r), r == '_':
		default:
			return false
		}
	}
	return letter
}

// CheckText refuses text longer than max runes or that is not UTF-8, with
// a *FieldError naming field.
func CheckText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid(field, "text.not_utf8", "the text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "text.too_long", "the text has %d characters, more than %d", n, max)
	}
	return nil
}

// ---- Episodes ----

// ListOptions select episodes.
type ListOptions struct {
	// Status keeps only the episodes in that status at the Service's
	// current time; "" keeps all.
	Status Status
}

// Episodes lists the episodes of a show, newest first: by publication
// time, then (drafts, at the top) by creation time.
func (s *Service) Episodes(show string, opts ListOptions) ([]*Episode, error) {
	entries, ok := s.cat.episodeEntries(show)
	if !ok {
		return nil, fmt.Errorf("show %q: %w", show, ErrNotFound)
	}
	now := s.opts.Now()
	out := make([]*Episode, 0, len(entries))
	for _, c := range entries {
		if opts.Status != "" && c.doc.Status(now) != opts.Status {
			continue
		}
		e := c.doc.clone()
		e.Revision = c.etag
		out = append(out, e)
	}
	slices.SortFunc(out, newestFirst)
	return out, nil
}

// newestFirst orders drafts first, then by publication time, newest
// first; ties by creation time then id, so the order is stable.
func newestFirst(a, b *Episode) int {
	if a.PublishAt.IsZero() != b.PublishAt.IsZero() {
		if a.PublishAt.IsZero() {
			return -1
		}
		return 1
	}
	if c := b.PublishAt.Compare(a.PublishAt); c != 0 {
		return c
	}
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Episode returns an episode of a show by id, or ErrNotFound.
func (s *Service) Episode(show, id string) (*Episode, error) {
	e, etag, ok := s.cat.episode(show, id)
	if !ok {
		return nil, fmt.Errorf("episode %s of show %q: %w", id, show, ErrNotFound)
	}
	c := e.clone()
	c.Revision = etag
	return c, nil
}

// ReadEpisode reads an episode of a show from the store rather than from
// the catalog (which may be seconds behind another replica's writes), or
// fails with ErrNotFound when there is none. A replica about to
// contradict what another recorded re-reads the episode through it
// (DESIGN.md, "Coordination rules").
func (s *Service) ReadEpisode(ctx context.Context, show, id string) (*Episode, error) {
	var e Episode
	etag, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &e)
	if err != nil {
		return nil, fmt.Errorf("episode %s of show %q: %w", id, show, err)
	}
	if e.ID != id || e.Show != show {
		return nil, fmt.Errorf("%s: id or show does not match its key", episodeKey(show, id))
	}
	e.Revision = etag
	return &e, nil
}

// EpisodeBySlug returns an episode of a show by slug, or ErrNotFound.
// Should two episodes hold the slug (a bucket written without claims,
// see Check), it returns the older one, which keeps the slug on repair.
func (s *Service) EpisodeBySlug(show, slug string) (*Episode, error) {
	entries, ok := s.cat.episodeEntries(show)
	if !ok {
		return nil, fmt.Errorf("show %q: %w", show, ErrNotFound)
	}
	var found *cached[Episode]
	for i, c := range entries {
		if c.doc.Slug == slug && (found == nil || OlderFirst(c.doc, found.doc) < 0) {
			found = &entries[i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("episode %q of show %q: %w", slug, show, ErrNotFound)
	}
	e := found.doc.clone()
	e.Revision = found.etag
	return e, nil
}

// OlderFirst orders episodes by creation time, then id: the order that
// decides which of two episodes keeps a slug they share.
func OlderFirst(a, b *Episode) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// CreateEpisode stores a new episode whose objects (media, original,
// artwork) are already stored: the document is the commit point. It fills
// ID, GUID (when empty), slug (from the title, made unique in the show by
// a claim in the store: see claims.go), type, theme and timestamps.
//
// An episode given a GUID (an imported item) gets an id derived from the
// show and that GUID, so that two imports of one feed racing on several
// processes create it once: the loser fails with ErrGUIDTaken. (Ingest
// gives an uploaded recording an id derived from its bytes, for the same
// reason.)
func (s *Service) CreateEpisode(ctx context.Context, e *Episode) (*Episode, error) {
	if _, _, ok := s.cat.show(e.Show); !ok {
		return nil, fmt.Errorf("show %q: %w", e.Show, ErrNotFound)
	}
	now := s.opts.Now().UTC()
	e = e.clone()
	e.Version = bucket.SchemaVersion
	switch {
	case e.ID != "":
	case e.GUID != "":
		e.ID = guidEpisodeID(e.Show, e.GUID)
	default:
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("new episode id: %w", err)
		}
		e.ID = id.String()
	}
	e.GUID = cmp.Or(e.GUID, e.ID)
	e.Type = cmp.Or(e.Type, Full)
	e.Created, e.Updated = now, now
	e.Revision = ""
	e.FormerSlugs = nil
	e.normalize()
	e.Slug = cmp.Or(e.Slug, Slugify(e.Title), "episode")
	if err := e.validate(); err != nil {
		return nil, err
	}
	if _, _, ok := s.cat.episode(e.Show, e.ID); ok {
		return nil, s.guidTaken(ctx, e)
	}
	slug, err := s.claimSlug(ctx, e.Show, e.ID, e.Slug)
	if err != nil {
		return nil, err
	}
	e.Slug = slug
	etag, err := bucket.Write(ctx, s.blobs, episodeKey(e.Show, e.ID), e, "")
	if errors.Is(err, ErrConflict) {
		return nil, s.guidTaken(ctx, e)
	}
	if err != nil {
		// The write may have landed although its answer was lost: read
		// before undoing anything.
		have, haveTag, rerr := s.readEpisode(context.WithoutCancel(ctx), e.Show, e.ID)
		switch {
		case rerr == nil && have.Created.Equal(e.Created) && have.Slug == e.Slug:
			s.cat.setEpisode(e.Show, e.ID, have, haveTag)
			return s.Episode(e.Show, e.ID)
		case errors.Is(rerr, ErrNotFound):
			s.releaseSlug(context.WithoutCancel(ctx), e.Show, slug, e.ID)
		}
		// Unknown: the claim is left to be taken over once abandoned.
		return nil, err
	}
	s.cat.setEpisode(e.Show, e.ID, e, etag)
	return s.Episode(e.Show, e.ID)
}

// readEpisode reads the stored episode document and its revision.
func (s *Service) readEpisode(ctx context.Context, show, id string) (*Episode, string, error) {
	var e Episode
	rev, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &e)
	if err != nil {
		return nil, "", err
	}
	return &e, rev, nil
}

// guidTaken is the error of a new episode e whose document exists
// already: the episode of that GUID, or of that uploaded recording (so of
// that id), was created first, here or by another process. It brings that
// document into the cache, so that the objects it shares with the losing
// upload (same bytes, same key) are not taken for unreferenced ones, and
// releases the slug e claimed unless the winner holds it: both claimed in
// the name of the same id.
func (s *Service) guidTaken(ctx context.Context, e *Episode) error {
	var have Episode
	etag, err := bucket.Read(ctx, s.blobs, episodeKey(e.Show, e.ID), &have)
	if err == nil && have.ID == e.ID && have.Show == e.Show {
		s.cat.putEpisode(e.Show, e.ID, &have, etag)
		if have.Slug != e.Slug {
			s.releaseSlug(context.WithoutCancel(ctx), e.Show, e.Slug, e.ID)
		}
	}
	return fmt.Errorf("episode of guid %q: %w", e.GUID, ErrGUIDTaken)
}

// guidNamespace is the UUIDv5 namespace of the ids of imported episodes.
var guidNamespace = uuid.MustParse("3f0c4a8e-5b7d-4c1e-9a2f-6d8b0e1c7a54")

// guidEpisodeID is the id of the episode of a show with a given GUID.
func guidEpisodeID(show, guid string) string {
	return uuid.NewSHA1(guidNamespace, []byte(show+"\n"+guid)).String()
}

// recordingEpisodeID is the id of the episode of a show uploaded as the
// recording of SHA-256 sum (hex), so that two uploads of one recording
// racing on several processes create one episode: the episode document,
// created with If-None-Match, is the store's arbiter.
func recordingEpisodeID(show, sum string) string {
	return uuid.NewSHA1(guidNamespace, []byte(show+"\nrecording\n"+sum)).String()
}

// UpdateEpisode applies edit to the episode and stores it. revision is
// the Revision of the episode the edit was made on ("" : the current one);
// the update fails with ErrConflict when the stored episode is not that one
// any more. The id, show, GUID, media, former slugs, creation time and
// whether it is Pending cannot be changed by edit. A changed slug is
// claimed (made unique across processes, see claims.go); the former one is
// kept in FormerSlugs, so its page redirects, and its claim released.
func (s *Service) UpdateEpisode(ctx context.Context, show, id, revision string, edit func(*Episode) error) (*Episode, error) {
	cur, etag, ok := s.cat.episode(show, id)
	if !ok {
		return nil, fmt.Errorf("episode %s of show %q: %w", id, show, ErrNotFound)
	}
	if revision != "" && revision != etag {
		return nil, fmt.Errorf("episode %s: %w", id, ErrConflict)
	}
	e := cur.clone()
	if err := edit(e); err != nil {
		return nil, err
	}
	e.ID, e.Show, e.GUID, e.Created, e.Version = cur.ID, cur.Show, cur.GUID, cur.Created, bucket.SchemaVersion
	keep := cur.clone()
	e.Media, e.Original, e.Pending, e.FormerSlugs = keep.Media, keep.Original, keep.Pending, keep.FormerSlugs
	e.Updated = s.opts.Now().UTC()
	e.Revision = ""
	if e.Slug == cur.Slug {
		return s.storeEpisode(ctx, e, etag)
	}
	slug, err := s.claimSlug(ctx, show, id, Slugify(e.Slug))
	if err != nil {
		return nil, err
	}
	e.Slug = slug
	if slug == cur.Slug {
		return s.storeEpisode(ctx, e, etag)
	}
	e.FormerSlugs = append(slices.DeleteFunc(e.FormerSlugs, func(f string) bool { return f == slug || f == cur.Slug }), cur.Slug)
	updated, err := s.storeEpisode(ctx, e, etag)
	if err != nil {
		s.releaseSlug(context.WithoutCancel(ctx), show, slug, id)
		return nil, err
	}
	s.releaseSlug(ctx, show, cur.Slug, id)
	return updated, nil
}

// storeEpisode validates e, writes it over the version etag and caches it.
func (s *Service) storeEpisode(ctx context.Context, e *Episode, etag string) (*Episode, error) {
	e.normalize()
	if err := e.validate(); err != nil {
		return nil, err
	}
	newTag, err := bucket.Write(ctx, s.blobs, episodeKey(e.Show, e.ID), e, etag)
	if err != nil {
		return nil, err
	}
	s.cat.setEpisode(e.Show, e.ID, e, newTag)
	return s.Episode(e.Show, e.ID)
}

// Publish publishes the episode now (or keeps its publication time if it
// is already published).
func (s *Service) Publish(ctx context.Context, show, id, revision string) (*Episode, error) {
	now := s.opts.Now()
	return s.UpdateEpisode(ctx, show, id, revision, func(e *Episode) error {
		e.PublishNow(now)
		return nil
	})
}

// Schedule sets the episode to publish by itself at the given time, which
// must be in the future.
func (s *Service) Schedule(ctx context.Context, show, id, revision string, at time.Time) (*Episode, error) {
	if err := checkFuture(at, s.opts.Now()); err != nil {
		return nil, err
	}
	return s.UpdateEpisode(ctx, show, id, revision, func(e *Episode) error {
		e.PublishAt = at.UTC().Truncate(time.Second)
		return nil
	})
}

// Unpublish takes the episode out of the feed: it becomes a draft.
func (s *Service) Unpublish(ctx context.Context, show, id, revision string) (*Episode, error) {
	return s.UpdateEpisode(ctx, show, id, revision, func(e *Episode) error {
		e.PublishAt = time.Time{}
		return nil
	})
}

// DeleteEpisode removes the episode and its objects. The document goes
// first (the commit point); objects left behind by a failure are removed
// by the next sweep.
func (s *Service) DeleteEpisode(ctx context.Context, show, id, revision string) error {
	cur, etag, ok := s.cat.episode(show, id)
	if !ok {
		return fmt.Errorf("episode %s of show %q: %w", id, show, ErrNotFound)
	}
	if revision != "" && revision != etag {
		return fmt.Errorf("episode %s: %w", id, ErrConflict)
	}
	// Stores have no conditional delete: check the document is still the
	// one we know, then delete. A write that slips in between is lost
	// with the episode, which is what deleting asked for.
	info, err := s.blobs.Stat(ctx, episodeKey(show, id))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.cat.setEpisode(show, id, nil, "")
		return nil
	case err != nil:
		return fmt.Errorf("delete episode %s: %w", id, err)
	case info.ETag != etag:
		return fmt.Errorf("episode %s: %w", id, ErrConflict)
	}
	if err := s.blobs.Delete(ctx, episodeKey(show, id)); err != nil {
		return fmt.Errorf("delete episode %s: %w", id, err)
	}
	s.cat.setEpisode(show, id, nil, "")
	s.releaseSlug(ctx, show, cur.Slug, id)
	return s.deleteUnreferenced(ctx, cur.objectKeys())
}

// deleteUnreferenced deletes the objects of keys that no document, read
// afresh, points to any more (artwork and media, being content-addressed,
// may be shared by episodes, or be another replica's result of the same
// work). A failure leaves the object to the next sweep.
func (s *Service) deleteUnreferenced(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	refs, err := s.freshReferences(ctx)
	if err != nil {
		return fmt.Errorf("some files remain until the next sweep: %w", err)
	}
	var errs []error
	for _, key := range keys {
		if refs[key] {
			continue
		}
		if err := s.blobs.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("some files remain until the next sweep: %w", err)
	}
	return nil
}

// ObjectRef is an object of the store that a show or an episode points
// to, with what its document records of it.
type ObjectRef struct {
	Key    string
	Size   int64  // -1 when the document does not record it
	SHA256 string // hex; empty when the document does not record it
}

// Objects lists the objects the episode points to: its media, the
// original upload, its artwork and its transcript, in this order, those
// it has. Deleting, sweeping, checking and serving an episode all go by
// this list.
func (e *Episode) Objects() []ObjectRef {
	var refs []ObjectRef
	if e.Media.Key != "" {
		refs = append(refs, ObjectRef{e.Media.Key, e.Media.Size, e.Media.SHA256})
	}
	if e.Original != nil && e.Original.Key != "" {
		refs = append(refs, ObjectRef{e.Original.Key, e.Original.Size, e.Original.SHA256})
	}
	if e.Opus != nil && e.Opus.Key != "" {
		refs = append(refs, ObjectRef{e.Opus.Key, e.Opus.Size, e.Opus.SHA256})
	}
	if e.Artwork != nil && e.Artwork.Key != "" {
		refs = append(refs, ObjectRef{e.Artwork.Key, e.Artwork.Size, e.Artwork.SHA256})
	}
	if e.Transcript != nil && e.Transcript.Key != "" {
		refs = append(refs, ObjectRef{e.Transcript.Key, -1, ""})
	}
	return refs
}

// PublicObjects are the Objects of e that the show publishes: all but the
// original upload unless the show publishes originals (PublicOriginal).
func (e *Episode) PublicObjects(sh *Show) []ObjectRef {
	refs := e.Objects()
	if e.Original == nil || e.PublicOriginal(sh) != nil {
		return refs
	}
	return slices.DeleteFunc(refs, func(r ObjectRef) bool { return r.Key == e.Original.Key })
}

// PublicOriginal is the recording as uploaded when the show publishes
// originals (Show.OriginalsPublic), nil otherwise or when there is none.
func (e *Episode) PublicOriginal(sh *Show) *Media {
	if e.Original == nil || e.Original.Key == "" || sh == nil || !sh.OriginalsPublic {
		return nil
	}
	return e.Original
}

// Objects lists the objects the show itself points to: its artwork.
func (sh *Show) Objects() []ObjectRef {
	if sh.Artwork == nil || sh.Artwork.Key == "" {
		return nil
	}
	return []ObjectRef{{sh.Artwork.Key, sh.Artwork.Size, sh.Artwork.SHA256}}
}

// objectKeys lists the keys the episode's document references.
func (e *Episode) objectKeys() []string {
	var keys []string
	for _, r := range e.references() {
		keys = append(keys, r.Key)
	}
	return keys
}

// normalize stores times in UTC, to the second for publication.
func (e *Episode) normalize() {
	if !e.AiredAt.IsZero() {
		e.AiredAt = e.AiredAt.UTC()
	}
	if !e.PublishAt.IsZero() {
		e.PublishAt = e.PublishAt.UTC().Truncate(time.Second)
	}
}

func (e *Episode) validate() error {
	switch {
	case strings.TrimSpace(e.Title) == "":
		return invalid("title", "title.empty", "the title is empty")
	case !validSlug(e.Slug):
		return invalid("slug", "slug.malformed", "%q is not a slug: use lowercase letters, digits and single hyphens, like la-voix-est-libre", e.Slug)
	case CheckEpisodeType(e.Type) != nil:
		return CheckEpisodeType(e.Type)
	case e.Season < 0:
		return invalid("season", "season.negative", "the season number is negative")
	case e.Number < 0:
		return invalid("number", "number.negative", "the episode number is negative")
	case e.Pending == nil && (e.Media.Key == "" || e.Media.Size <= 0 || e.Media.Type == ""):
		return invalid("media", "media.missing", "the episode has no recording")
	case e.Pending != nil && (e.Original == nil || e.Original.Key == ""):
		return invalid("original", "media.missing", "the episode waits for a recording that is not stored")
	}
	for _, p := range e.Persons {
		if strings.TrimSpace(p.Name) == "" {
			return invalid("persons", "person.no_name", "a person has no name")
		}
	}
	for i, c := range e.Chapters {
		if c.Start < 0 || (i > 0 && c.Start < e.Chapters[i-1].Start) {
			return invalid("chapters", "chapters.order", "chapter %d starts before the previous one", i+1)
		}
	}
	if err := CheckText("title", e.Title, 255); err != nil {
		return err
	}
	if err := CheckText("theme", e.Theme, 255); err != nil {
		return err
	}
	return CheckText("notes", e.Notes, 100_000)
}
