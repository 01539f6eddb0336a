package episodes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/picasoft/antenne/storage/bucket"
)

// Keys of the documents in the store; docs/bucket.md lists
// them all.
const (
	showsPrefix  = "shows/"
	showDocName  = "show.json"
	episodesDir  = "episodes/"
	docExtension = ".json"
	docType      = "application/json"
	// loadWorkers bounds the parallel document reads of a refresh.
	loadWorkers = 32
	// maxDocSize caps a document read: a larger one is not ours.
	maxDocSize = 4 << 20
)

func showKey(show string) string { return showsPrefix + show + "/" + showDocName }
func episodeKey(show, id string) string {
	return showsPrefix + show + "/" + episodesDir + id + docExtension
}
func showObjectsPrefix(show string) string { return showsPrefix + show + "/" }

// docKind tells what a key of the store holds, as far as the catalog cares.
type docKind int

const (
	notADoc docKind = iota
	showDoc
	episodeDoc
)

// parseKey splits a key of the store into show slug and episode id.
func parseKey(key string) (kind docKind, show, id string) {
	rest, ok := strings.CutPrefix(key, showsPrefix)
	if !ok {
		return notADoc, "", ""
	}
	show, rest, ok = strings.Cut(rest, "/")
	if !ok || show == "" {
		return notADoc, "", ""
	}
	if rest == showDocName {
		return showDoc, show, ""
	}
	name, ok := strings.CutPrefix(rest, episodesDir)
	if !ok || strings.Contains(name, "/") {
		return notADoc, "", ""
	}
	id, ok = strings.CutSuffix(name, docExtension)
	if !ok || id == "" {
		return notADoc, "", ""
	}
	return episodeDoc, show, id
}

// cached is a document as the cache holds it: the value, never modified
// once cached, the ETag it was read or written with, and the sequence
// number of the change that put it there.
type cached[T any] struct {
	doc  *T
	etag string
	seq  uint64
}

// showState is the cached part of the catalog for one show.
type showState struct {
	show     cached[Show]
	episodes map[string]cached[Episode] // by id
}

// catalog is the in-memory copy of the documents of the store. Writers
// update it after each successful write; Refresh brings in the changes made
// by other processes.
type catalog struct {
	mu    sync.RWMutex
	shows map[string]*showState
	// seq numbers every change applied to the cache. A refresh that
	// started before a local write must not overwrite what that write
	// cached; comparing sequence numbers tells.
	seq uint64
	// orphans are episode documents whose show document is missing.
	orphans map[string]cached[Episode]
	// dirty are the shows whose index is older than the cache.
	dirty map[string]bool
	// deleted holds the sequence number of each episode this process
	// deleted ("show/id"), for as long as a refresh that started before
	// the deletion runs: that refresh may have read the document and must
	// not bring it back.
	deleted map[string]uint64
	// refreshing counts the running refreshes by the sequence number
	// they started at.
	refreshing map[uint64]int
	// listed is set by the first refresh that listed the store, and
	// listFailed by the first that could not: while only the latter is
	// set, the cache knows nothing, rather than that there is nothing.
	listed, listFailed atomic.Bool
}

func newCatalog() *catalog {
	return &catalog{
		shows: map[string]*showState{}, orphans: map[string]cached[Episode]{}, dirty: map[string]bool{},
		deleted: map[string]uint64{}, refreshing: map[uint64]int{},
	}
}

// endRefreshLocked forgets the refresh that started at startSeq, and the
// deletions no running refresh started before. c.mu must be held.
func (c *catalog) endRefreshLocked(startSeq uint64) {
	if c.refreshing[startSeq]--; c.refreshing[startSeq] == 0 {
		delete(c.refreshing, startSeq)
	}
	oldest := c.seq
	for seq := range c.refreshing {
		oldest = min(oldest, seq)
	}
	for key, seq := range c.deleted {
		if seq <= oldest {
			delete(c.deleted, key)
		}
	}
}

// listing is what one listing of the store says of the documents.
type listing struct {
	shows    map[string]string            // show slug -> ETag of show.json
	episodes map[string]map[string]string // show slug -> id -> ETag
}

// listDocs lists the show and episode documents, and nothing else: one
// listing of the shows' folders, then per show its show.json and its
// episodes/ folder (followers, claims, jobs and media are not listed).
func listDocs(ctx context.Context, blobs bucket.Store) (listing, error) {
	l := listing{shows: map[string]string{}, episodes: map[string]map[string]string{}}
	for show, err := range blobs.Folders(ctx, showsPrefix) {
		if err != nil {
			return l, fmt.Errorf("list the catalog: %w", err)
		}
		for _, prefix := range []string{showKey(show), showObjectsPrefix(show) + episodesDir} {
			for info, err := range blobs.List(ctx, prefix) {
				if err != nil {
					return l, fmt.Errorf("list the catalog: %w", err)
				}
				switch kind, show, id := parseKey(info.Key); kind {
				case showDoc:
					l.shows[show] = info.ETag
				case episodeDoc:
					if l.episodes[show] == nil {
						l.episodes[show] = map[string]string{}
					}
					l.episodes[show][id] = info.ETag
				}
			}
		}
	}
	return l, nil
}

// loaded is a document read by a refresh.
type loaded struct {
	kind     docKind
	show, id string
	etag     string
	showDoc  *Show
	epDoc    *Episode
	// fromIndex: the document came from the show's index, not read.
	fromIndex bool
}

// refresh brings the cache in line with the store: documents whose ETag
// changed are read again (in parallel), deleted ones are dropped. Changes
// written by this process after the refresh began are kept. A document
// that cannot be read or parsed is left as it was and reported in the
// returned error; the others are applied.
func (c *catalog) refresh(ctx context.Context, blobs bucket.Store) (changed bool, err error) {
	c.mu.Lock()
	startSeq := c.seq
	c.refreshing[startSeq]++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.endRefreshLocked(startSeq)
		c.mu.Unlock()
	}()

	l, err := listDocs(ctx, blobs)
	if err != nil {
		c.listFailed.Store(true)
		return false, err
	}
	defer c.listed.Store(true)

	var todo []loaded
	c.mu.RLock()
	for show, etag := range l.shows {
		st := c.shows[show]
		if st == nil || st.show.etag != etag {
			todo = append(todo, loaded{kind: showDoc, show: show, etag: etag})
		}
	}
	for show, eps := range l.episodes {
		st := c.shows[show]
		for id, etag := range eps {
			var have cached[Episode]
			if st != nil {
				have = st.episodes[id]
			} else {
				have = c.orphans[show+"/"+id]
			}
			if have.etag != etag {
				todo = append(todo, loaded{kind: episodeDoc, show: show, id: id, etag: etag})
			}
		}
	}
	c.mu.RUnlock()

	useIndexes(ctx, blobs, todo)
	errs := loadAll(ctx, blobs, todo)

	c.mu.Lock()
	defer c.mu.Unlock()
	before := c.seq
	for _, d := range todo {
		if d.etag == "" {
			continue // failed to load
		}
		switch d.kind {
		case showDoc:
			st := c.shows[d.show]
			if st != nil && st.show.seq > startSeq {
				continue
			}
			if st == nil {
				st = &showState{episodes: map[string]cached[Episode]{}}
				c.shows[d.show] = st
			}
			c.seq++
			st.show = cached[Show]{doc: d.showDoc, etag: d.etag, seq: c.seq}
		}
	}
	for _, d := range todo {
		if d.etag == "" || d.kind != episodeDoc {
			continue
		}
		if c.putEpisodeLocked(d.show, d.id, d.epDoc, d.etag, startSeq) && !d.fromIndex {
			c.dirty[d.show] = true
		}
	}
	// Drop what the listing no longer has.
	for show, st := range c.shows {
		if _, ok := l.shows[show]; !ok && st.show.seq <= startSeq {
			delete(c.shows, show)
			c.seq++
			continue
		}
		for id, e := range st.episodes {
			if _, ok := l.episodes[show][id]; !ok && e.seq <= startSeq {
				delete(st.episodes, id)
				c.seq++
			}
		}
	}
	for key, e := range c.orphans {
		show, id, _ := strings.Cut(key, "/")
		if _, ok := l.episodes[show][id]; !ok && e.seq <= startSeq {
			delete(c.orphans, key)
		}
	}
	// Adopt orphans whose show has appeared.
	for key, e := range c.orphans {
		show, id, _ := strings.Cut(key, "/")
		if st := c.shows[show]; st != nil {
			st.episodes[id] = e
			delete(c.orphans, key)
			c.seq++
		}
	}
	return c.seq != before, errors.Join(errs...)
}

// putEpisodeLocked caches an episode read by a refresh unless a change
// newer than the refresh (sequence > startSeq) is cached for it, or was
// its deletion. It reports whether it cached it.
func (c *catalog) putEpisodeLocked(show, id string, ep *Episode, etag string, startSeq uint64) bool {
	key := show + "/" + id
	if c.deleted[key] > startSeq {
		return false
	}
	st := c.shows[show]
	if st == nil {
		if c.orphans[key].seq > startSeq {
			return false
		}
		c.seq++
		c.orphans[key] = cached[Episode]{doc: ep, etag: etag, seq: c.seq}
		return true
	}
	if st.episodes[id].seq > startSeq {
		return false
	}
	c.seq++
	st.episodes[id] = cached[Episode]{doc: ep, etag: etag, seq: c.seq}
	return true
}

// loadAll reads the documents of todo in parallel, filling their values
// and ETags; a document that fails gets an empty ETag and an error.
func loadAll(ctx context.Context, blobs bucket.Store, todo []loaded) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range min(loadWorkers, len(todo)) {
		wg.Go(func() {
			for i := range next {
				d := &todo[i]
				if d.fromIndex {
					continue
				}
				var err error
				switch d.kind {
				case showDoc:
					d.showDoc = new(Show)
					d.etag, err = bucket.Read(ctx, blobs, showKey(d.show), d.showDoc)
					if err == nil && d.showDoc.Slug != d.show {
						err = fmt.Errorf("%s: slug %q does not match its key", showKey(d.show), d.showDoc.Slug)
					}
				case episodeDoc:
					d.epDoc = new(Episode)
					d.etag, err = bucket.Read(ctx, blobs, episodeKey(d.show, d.id), d.epDoc)
					if err == nil && (d.epDoc.ID != d.id || d.epDoc.Show != d.show) {
						err = fmt.Errorf("%s: id or show does not match its key", episodeKey(d.show, d.id))
					}
				}
				if err != nil {
					d.etag = ""
					if errors.Is(err, ErrNotFound) {
						continue // deleted since the listing
					}
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// setShow caches a show this process wrote.
func (c *catalog) setShow(sh *Show, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	st := c.shows[sh.Slug]
	if st == nil {
		st = &showState{episodes: map[string]cached[Episode]{}}
		c.shows[sh.Slug] = st
	}
	st.show = cached[Show]{doc: sh, etag: etag, seq: c.seq}
}

// setEpisode caches an episode this process wrote; a nil ep records its
// deletion.
func (c *catalog) setEpisode(show, id string, ep *Episode, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	st := c.shows[show]
	if st == nil {
		return
	}
	c.dirty[show] = true
	if ep == nil {
		delete(st.episodes, id)
		if len(c.refreshing) > 0 {
			c.deleted[show+"/"+id] = c.seq
		}
		return
	}
	st.episodes[id] = cached[Episode]{doc: ep, etag: etag, seq: c.seq}
}

// show returns the cached show and its ETag.
func (c *catalog) show(slug string) (*Show, string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := c.shows[slug]
	if st == nil {
		return nil, "", false
	}
	return st.show.doc, st.show.etag, true
}

// episode returns the cached episode and its ETag.
func (c *catalog) episode(show, id string) (*Episode, string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := c.shows[show]
	if st == nil {
		return nil, "", false
	}
	e, ok := st.episodes[id]
	return e.doc, e.etag, ok
}

// showSlugs lists the cached shows in slug order.
func (c *catalog) showSlugs() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	slugs := make([]string, 0, len(c.shows))
	for s := range c.shows {
		slugs = append(slugs, s)
	}
	slices.Sort(slugs)
	return slugs
}

// episodesOf returns the cached episode documents of a show, in no order
// (without their ETags), or false when the show is unknown.
func (c *catalog) episodesOf(show string) ([]*Episode, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := c.shows[show]
	if st == nil {
		return nil, false
	}
	eps := make([]*Episode, 0, len(st.episodes))
	for _, e := range st.episodes {
		eps = append(eps, e.doc)
	}
	return eps, true
}

// episodeEntries returns the cached episodes of a show with their ETags,
// each pair from one cached entry, in no order; false when the show is
// unknown.
func (c *catalog) episodeEntries(show string) ([]cached[Episode], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := c.shows[show]
	if st == nil {
		return nil, false
	}
	return slices.Collect(maps.Values(st.episodes)), true
}

// putEpisode caches an episode document this process read from the store
// (not one it wrote): it is a change like a write, newer than any refresh
// already running.
func (c *catalog) putEpisode(show, id string, ep *Episode, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.putEpisodeLocked(show, id, ep, etag, c.seq) {
		c.dirty[show] = true
	}
}

// version is the sequence number of the last change cached.
func (c *catalog) version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.seq
}
