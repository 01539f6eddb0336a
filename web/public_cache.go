package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
)

// publicShow is what the public sees of a show at one moment: the show,
// its published episodes, the objects they reference and the status of
// its live broadcast. It is immutable once built and stays valid while the
// catalog's Version is the same, no scheduled episode has come due and
// the live status has not changed (see valid): the feed's bytes depend on
// the catalog and on the live status, and on nothing else. The feed is
// built from it at most once, on first use.
type publicShow struct {
	version uint64
	// due is the earliest of the publication time of the next scheduled
	// episode and the next change of the live status; zero when neither
	// comes. At due the published list or the live item changes.
	due time.Time
	// at is the instant the view was built for; it decides the live
	// status.
	at time.Time
	// live is the show's live item at at (hasLive false when the show
	// has no live stream).
	live    feed.LiveState
	hasLive bool

	show      *episodes.Show
	published []*episodes.Episode // newest first, the feed's order
	bySlug    map[string]*episodes.Episode
	// formerSlugs maps a slug no published episode holds any more to the
	// published episode that had it (see episodes.Episode.FormerSlugs).
	formerSlugs map[string]*episodes.Episode
	// objects are the keys anyone may download: the show's artwork and,
	// of published episodes, media, artwork, transcripts and originals
	// when the show publishes them (episodes.Episode.PublicObjects);
	// each with the size the catalog recorded (0 when unknown).
	objects map[string]int64
	// media are the published episodes by the key of their media, for
	// counting listens.
	media map[string]*episodes.Episode
	// updated is the latest change of the show's public data: the
	// feed's lastBuildDate and Last-Modified.
	updated time.Time

	feedOnce sync.Once
	feed     *feedBytes
	feedErr  error
}

// feedBytes is a built feed, plain and gzipped, with its validators.
type feedBytes struct {
	plain, gz []byte
	// etag is the quoted strong ETag of the plain bytes; the gzipped
	// variant's is etagGz: each representation has its own.
	etag, etagGz string
	modified     time.Time
	// The same as header values.
	etagV, etagGzV, lastModified []string
}

// valid reports whether p still describes the catalog at version v and
// time now.
func (p *publicShow) valid(v uint64, now time.Time) bool {
	return p.version == v && (p.due.IsZero() || now.Before(p.due))
}

// showCache holds the current publicShow of each show.
type showCache struct {
	mu    sync.Mutex
	shows map[string]*publicShow
}

func newShowCache() *showCache { return &showCache{shows: map[string]*publicShow{}} }

// publicShow returns the current public view of a show, building it when
// the catalog changed since the last one. ErrNotFound for an unknown
// show.
func (s *Server) publicShow(slug string) (*publicShow, error) {
	cat := s.cfg.Catalog
	// Read the version before the data: a change that lands in between
	// makes the next call rebuild, never keeps stale data.
	v := cat.Version()
	now := cat.Now()
	s.shows.mu.Lock()
	p := s.shows.shows[slug]
	s.shows.mu.Unlock()
	if p != nil && p.valid(v, now) {
		return p, nil
	}
	p, err := buildPublicShow(cat, slug, v, now)
	if err != nil {
		return nil, err
	}
	s.shows.mu.Lock()
	// Keep whichever is newer if two requests rebuilt at once, so that
	// the feed built by the other is not thrown away for nothing.
	if cur := s.shows.shows[slug]; cur == nil || !cur.valid(v, now) {
		s.shows.shows[slug] = p
	} else {
		p = cur
	}
	s.shows.mu.Unlock()
	return p, nil
}

func buildPublicShow(cat *episodes.Service, slug string, v uint64, now time.Time) (*publicShow, error) {
	show, err := cat.Show(slug)
	if err != nil {
		return nil, err
	}
	all, err := cat.Episodes(slug, episodes.ListOptions{})
	if err != nil {
		return nil, err
	}
	p := &publicShow{
		version:     v,
		at:          now,
		show:        show,
		bySlug:      map[string]*episodes.Episode{},
		formerSlugs: map[string]*episodes.Episode{},
		objects:     map[string]int64{},
		media:       map[string]*episodes.Episode{},
		updated:     show.Updated,
	}
	for _, o := range show.Objects() {
		p.objects[o.Key] = max(o.Size, 0)
	}
	for _, e := range all {
		switch e.Status(now) {
		case episodes.Scheduled:
			if p.due.IsZero() || e.PublishAt.Before(p.due) {
				p.due = e.PublishAt
			}
			continue
		case episodes.Draft, episodes.Processing, episodes.Failed:
			continue
		}
		// Should two episodes share a slug (a bucket check --repair has
		// not fixed), the older keeps it, as the repair would decide.
		if have := p.bySlug[e.Slug]; have == nil || episodes.OlderFirst(e, have) < 0 {
			p.bySlug[e.Slug] = e
		}
		for _, f := range e.FormerSlugs {
			if have := p.formerSlugs[f]; have == nil || episodes.OlderFirst(e, have) < 0 {
				p.formerSlugs[f] = e
			}
		}
		for _, o := range e.PublicObjects(show) {
			p.objects[o.Key] = max(o.Size, 0)
		}
		p.media[e.Media.Key] = e
		p.updated = latest(p.updated, e.Updated, e.PublishAt)
	}
	for f := range p.formerSlugs {
		if p.bySlug[f] != nil {
			delete(p.formerSlugs, f) // the episode holding it now wins
		}
	}
	p.published = feed.Published(all, now)
	if p.live, p.hasLive = feed.LiveAt(show, p.published, now); p.hasLive {
		if u := p.live.Until; !u.IsZero() && (p.due.IsZero() || u.Before(p.due)) {
			p.due = u
		}
	}
	if p.updated.IsZero() {
		p.updated = latest(show.Created, time.Unix(0, 0).UTC())
	}
	return p, nil
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// feedTime is the feed's lastBuildDate and Last-Modified: the latest
// change of the catalog's public data or of the live status.
func (p *publicShow) feedTime() time.Time {
	if p.hasLive && !p.live.Since.IsZero() && !p.live.Since.After(p.at) {
		return latest(p.updated, p.live.Since)
	}
	return p.updated
}

// feedOf returns the show's feed, built on first use; built tells whether
// this call built it (a cache miss).
func (s *Server) feedOf(p *publicShow) (fb *feedBytes, built bool, err error) {
	p.feedOnce.Do(func() {
		built = true
		p.feed, p.feedErr = s.buildFeed(p)
	})
	return p.feed, built, p.feedErr
}

// buildFeed renders the feed of p and its gzipped copy.
func (s *Server) buildFeed(p *publicShow) (*feedBytes, error) {
	opts := feed.Options{
		Links:     s.cfg.Links,
		BuildTime: p.feedTime(),
		Now:       p.at,
		Generator: "antenne " + s.cfg.Version,
		Hubs:      s.cfg.WebSubHubs,
	}
	if p.show.SeasonsAreSemesters {
		opts.Season = semesterSeasons(p.published)
	}
	if f := s.cfg.Federation; f != nil && !p.show.FediverseOff {
		slug := p.show.Slug
		opts.SocialInteract = func(ep *episodes.Episode) *feed.SocialInteract {
			return &feed.SocialInteract{URI: f.PostURI(slug, ep.ID), AccountID: f.Handle(slug), AccountURL: f.ActorURL(slug)}
		}
	}
	// Only published episodes are passed, and Now is at or after every
	// one's PublishAt: the catalog decides which items the feed holds,
	// and Now only the live item, which is the same at any instant
	// between two changes of its status (p.due).
	plain, err := feed.Build(p.show, p.published, opts)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip feed: %w", err)
	}
	if _, err := zw.Write(plain); err != nil {
		return nil, fmt.Errorf("gzip feed: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip feed: %w", err)
	}
	sum := sha256.Sum256(plain)
	tag := base64.RawURLEncoding.EncodeToString(sum[:18])
	fb := &feedBytes{
		plain:    plain,
		gz:       gz.Bytes(),
		etag:     `"` + tag + `"`,
		etagGz:   `"` + tag + `-gz"`,
		modified: p.feedTime().UTC().Truncate(time.Second),
	}
	fb.etagV, fb.etagGzV = []string{fb.etag}, []string{fb.etagGz}
	fb.lastModified = []string{fb.modified.Format(http.TimeFormat)}
	return fb, nil
}

// semesterSeasons numbers seasons by university semester, from the
// semester of the show's first aired published episode (season 1) on, in
// order, counting semesters without episodes too:
// itunes:season 3 and podcast:season name "A20" for an episode aired in
// autumn 2020 when the first one aired in autumn 2019.
func semesterSeasons(eps []*episodes.Episode) func(*episodes.Episode) (int, string) {
	var first episodes.Semester
	for _, e := range eps {
		if d := e.AiredDate(); !d.IsZero() {
			if sem := episodes.SemesterOf(d); first.IsZero() || sem.Compare(first) < 0 {
				first = sem
			}
		}
	}
	return func(e *episodes.Episode) (int, string) {
		d := e.AiredDate()
		if d.IsZero() || first.IsZero() {
			return 0, ""
		}
		sem := episodes.SemesterOf(d)
		return sem.Sub(first) + 1, sem.String()
	}
}

// FeedVersions returns the strong ETag of the feed of every show, building
// the feeds that changed. Two calls give the same value for a show exactly
// when its feed's bytes are the same; a show whose feed cannot be built is
// left out.
func (s *Server) FeedVersions() map[string]string {
	out := map[string]string{}
	for _, sh := range s.cfg.Catalog.Shows() {
		p, err := s.publicShow(sh.Slug)
		if err != nil {
			continue
		}
		if fb, _, err := s.feedOf(p); err == nil {
			out[sh.Slug] = fb.etag
		}
	}
	return out
}

// WarmFeeds builds the feed of every show once, so that the first podcast
// app to ask does not wait for the rendering of every show note. It stops
// early when ctx ends.
func (s *Server) WarmFeeds(ctx context.Context) {
	if s.cfg.Catalog == nil {
		return
	}
	for _, sh := range s.cfg.Catalog.Shows() {
		if ctx.Err() != nil {
			return
		}
		p, err := s.publicShow(sh.Slug)
		if err != nil {
			continue
		}
		if _, _, err := s.feedOf(p); err != nil {
			s.log.Warn("build feed", "show", sh.Slug, "err", err)
		}
	}
}
