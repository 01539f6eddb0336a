package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
)

// Listeners' replies to an episode's post, and its likes and boosts, are
// kept in one document per episode, shows/<show>/replies/<episode>.json
// (a thread), updated by conditional writes: the bounds on its replies
// and reactions hold across replicas. A reply's note id points to its
// thread through federation/replies/<hash of the note id>.json, so that a
// reply to a reply, an Update or a Delete (which name only the note)
// find it.
//
// Nothing about a listener is kept beyond what they published to the
// thread: the reply (its text sanitised once, on receipt), the author's
// public name, handle and profile URL. Likes and boosts are counted by a
// short hash of the actor (so that one actor counts once and its Undo
// uncounts it), never listed. A Delete of the note, or of the account,
// removes the reply.
func threadsPrefix(show string) string { return "shows/" + show + "/replies/" }

func threadKey(show, episode string) string { return threadsPrefix(show) + episode + ".json" }

const replyIndexPrefix = "federation/replies/"

func replyIndexKey(noteID string) string {
	sum := sha256.Sum256([]byte(noteID))
	return replyIndexPrefix + hex.EncodeToString(sum[:16]) + ".json"
}

// Bounds of a thread (docs/fediverse.md lists them).
const (
	// maxRepliesPerEpisode bounds the replies kept of one episode: a
	// reply beyond it is refused (403).
	maxRepliesPerEpisode = 500
	// maxReplyHTML bounds a reply's content once sanitised (Mastodon's
	// 500 characters with their links are under 3 KiB): a longer reply is
	// refused (413).
	maxReplyHTML = 8 << 10
	// maxReactionsPerEpisode bounds the likes, and the boosts, counted
	// of one episode: beyond it they are no longer counted.
	maxReactionsPerEpisode = 20000
	// maxNameRunes bounds an author's display name, kept as plain text.
	maxNameRunes = 100
	// maxThreadDoc bounds a thread document: 500 replies of 8 KiB and
	// 2 × 20,000 reactions of 16 bytes fit.
	maxThreadDoc = 8 << 20
	// threadCacheAge is how long a replica serves a thread it read
	// without reading it again (pages, replies collections).
	threadCacheAge = 10 * time.Second
)

// errTooManyReplies refuses a reply to an episode that has
// maxRepliesPerEpisode of them.
var errTooManyReplies = errors.New("too many replies to this episode")

// errReplyTooLarge refuses a reply whose sanitised content is over
// maxReplyHTML.
var errReplyTooLarge = errors.New("reply too large")

// thread is what is kept of the replies to an episode's post and of its
// reactions.
type thread struct {
	Show    string  `json:"show"`
	Episode string  `json:"episode"`
	Replies []reply `json:"replies"`
	// Likes and Boosts are short hashes of the actors (reactionKey).
	Likes  []string `json:"likes,omitempty"`
	Boosts []string `json:"boosts,omitempty"`
}

// reply is a listener's public reply, as published.
type reply struct {
	ID        string    `json:"id"`             // the Note's id
	URL       string    `json:"url,omitempty"`  // its page on the author's server
	InReplyTo string    `json:"in_reply_to"`    // the episode's post or another reply
	Author    string    `json:"author"`         // actor id
	Name      string    `json:"name,omitempty"` // display name, plain text
	Handle    string    `json:"handle"`         // @user@host
	Profile   string    `json:"profile"`        // profile page
	Content   string    `json:"content"`        // sanitised HTML
	Published time.Time `json:"published"`
	Updated   time.Time `json:"updated,omitzero"`
	// Hidden by a host; Approved by a host (for a show whose replies
	// wait for approval).
	Hidden   bool `json:"hidden,omitempty"`
	Approved bool `json:"approved,omitempty"`
}

// replyIndex says where a reply is kept.
type replyIndex struct {
	Show    string `json:"show"`
	Episode string `json:"episode"`
}

// replyPolicy is what a reply's HTML may keep: paragraphs, line breaks,
// and http(s) links (rel="nofollow noreferrer"); every other tag is
// dropped (its text kept, except scripts and styles), and no image is
// ever loaded from the author's server.
var replyPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https", "http")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}()

// plainPolicy keeps text only.
var plainPolicy = bluemonday.StrictPolicy()

// remoteNote is a Note as received.
type remoteNote struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	AttributedTo json.RawMessage `json:"attributedTo"`
	InReplyTo    json.RawMessage `json:"inReplyTo"`
	Content      string          `json:"content"`
	URL          json.RawMessage `json:"url"`
	Published    string          `json:"published"`
	Updated      string          `json:"updated"`
	To           json.RawMessage `json:"to"`
	Cc           json.RawMessage `json:"cc"`
}

// public reports whether the note is addressed to the public (public or
// unlisted): only those are shown, never a direct or followers-only one.
func (n remoteNote) public() bool {
	for _, raw := range []json.RawMessage{n.To, n.Cc} {
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			var one string
			json.Unmarshal(raw, &one)
			list = []string{one}
		}
		for _, a := range list {
			if a == publicAddress || a == "as:Public" || a == "Public" {
				return true
			}
		}
	}
	return false
}

// noteOf is the show and episode whose Note has the URL id.
func (s *Service) noteOf(id string) (show, episode string, ok bool) {
	rest, ok := strings.CutPrefix(id, s.u.base+"/ap/shows/")
	if !ok {
		return "", "", false
	}
	show, rest, ok = strings.Cut(rest, "/notes/")
	if !ok || show == "" || rest == "" || strings.Contains(rest, "/") {
		return "", "", false
	}
	episode, err := url.PathUnescape(rest)
	if err != nil {
		return "", "", false
	}
	return show, episode, true
}

// publishedEpisode reports whether episode of show is published and the
// show federated.
func (s *Service) publishedEpisode(show, episode string) bool {
	if _, ok := s.federated(show); !ok {
		return false
	}
	ep, err := s.cfg.Catalog.Episode(show, episode)
	return err == nil && ep.Status(s.cfg.Catalog.Now()) == episodes.Published
}

// threadOf is where a reply to the object inReplyTo goes: the episode
// whose post it is, or the thread of the reply it answers.
func (s *Service) threadOf(ctx context.Context, inReplyTo string) (replyIndex, bool, error) {
	if show, ep, ok := s.noteOf(inReplyTo); ok {
		return replyIndex{Show: show, Episode: ep}, s.publishedEpisode(show, ep), nil
	}
	var idx replyIndex
	_, err := readJSON(ctx, s.cfg.Store, replyIndexKey(inReplyTo), &idx)
	if bucket.IsNotFound(err) || bucket.IsUnreadable(err) {
		return replyIndex{}, false, nil
	}
	if err != nil {
		return replyIndex{}, false, err
	}
	return idx, s.publishedEpisode(idx.Show, idx.Episode), nil
}

// onNote handles a Create or Update of a Note: a public reply to an
// episode's post, or to a reply kept, by its author (attributedTo is the
// signing actor), is kept, its HTML sanitised; anything else is ignored
// (202). An Update changes only a reply already kept.
func (s *Service) onNote(ctx context.Context, _ string, act activity) (int, error) {
	var n remoteNote
	if json.Unmarshal(act.Object, &n) != nil || n.Type != "Note" {
		return http.StatusAccepted, nil
	}
	inReplyTo := objectID(n.InReplyTo)
	if inReplyTo == "" {
		return http.StatusAccepted, nil
	}
	if objectID(n.AttributedTo) != act.Actor {
		return http.StatusForbidden, errors.New("note attributed to another actor than the signer")
	}
	if err := errors.Join(checkLength("note id", n.ID, maxURLLength), checkLength("inReplyTo", inReplyTo, maxURLLength)); err != nil {
		return http.StatusBadRequest, err
	}
	if !httpURL(n.ID) || !sameHost(n.ID, act.Actor) {
		return http.StatusForbidden, errors.New("note id not on its author's host")
	}
	where, ok, err := s.threadOf(ctx, inReplyTo)
	if err != nil {
		return http.StatusServiceUnavailable, err
	}
	if !ok {
		return http.StatusAccepted, nil // not a reply to us
	}
	if status, err := s.blockedBy(ctx, where.Show, act.Actor); status != 0 {
		return status, err
	}
	content := strings.TrimSpace(replyPolicy.Sanitize(n.Content))
	if len(content) > maxReplyHTML {
		return http.StatusRequestEntityTooLarge, errReplyTooLarge
	}
	if !n.public() {
		return http.StatusAccepted, nil
	}
	update := act.Type == "Update"
	if update {
		if _, ok, err := s.findReply(ctx, n.ID); err != nil || !ok {
			return http.StatusAccepted, err
		}
	}
	author, err := s.authorOf(ctx, act.Actor)
	if errors.Is(err, errBusy) {
		return http.StatusServiceUnavailable, err
	}
	if err != nil {
		return http.StatusBadGateway, err
	}
	r := reply{
		ID: n.ID, InReplyTo: inReplyTo, Author: act.Actor,
		Name: author.Name, Handle: author.Handle, Profile: author.Profile,
		Content: content, Published: parseTime(n.Published),
	}
	if u := objectID(n.URL); u != "" && httpURL(u) && sameHost(u, act.Actor) && len(u) <= maxURLLength {
		r.URL = u
	}
	if r.Published.IsZero() {
		r.Published = time.Now().UTC()
	}
	if update {
		r.Updated = parseTime(n.Updated)
		if r.Updated.IsZero() {
			r.Updated = time.Now().UTC()
		}
	}
	// The index first: a Delete that comes right after finds the reply.
	if _, err := writeJSON(ctx, s.cfg.Store, replyIndexKey(n.ID), where, ""); err != nil && !bucket.IsConflict(err) {
		return http.StatusServiceUnavailable, err
	}
	err = s.changeThread(ctx, where.Show, where.Episode, func(t *thread) error {
		for i, old := range t.Replies {
			if old.ID == r.ID {
				if old.Author != r.Author {
					return errors.New("reply of another author")
				}
				r.Published = old.Published
				t.Replies[i] = r
				return nil
			}
		}
		if update {
			return nil
		}
		if len(t.Replies) >= maxRepliesPerEpisode {
			return errTooManyReplies
		}
		t.Replies = append(t.Replies, r)
		return nil
	})
	switch {
	case errors.Is(err, errTooManyReplies):
		return http.StatusForbidden, err
	case err != nil:
		return http.StatusServiceUnavailable, err
	}
	return http.StatusAccepted, nil
}

// findReply returns where the reply with the note id is kept.
func (s *Service) findReply(ctx context.Context, id string) (replyIndex, bool, error) {
	var idx replyIndex
	_, err := readJSON(ctx, s.cfg.Store, replyIndexKey(id), &idx)
	if bucket.IsNotFound(err) || bucket.IsUnreadable(err) {
		return replyIndex{}, false, nil
	}
	return idx, err == nil, err
}

// deleteReply removes the reply whose note is id, if actor wrote it.
func (s *Service) deleteReply(ctx context.Context, actor, id string) error {
	where, ok, err := s.findReply(ctx, id)
	if err != nil || !ok {
		return err
	}
	mine := true
	err = s.changeThread(ctx, where.Show, where.Episode, func(t *thread) error {
		t.Replies = slices.DeleteFunc(t.Replies, func(r reply) bool {
			if r.ID == id && r.Author != actor {
				mine = false
			}
			return r.ID == id && r.Author == actor
		})
		return nil
	})
	if err != nil || !mine {
		return err
	}
	return s.cfg.Store.Delete(ctx, replyIndexKey(id))
}

// forgetAuthor removes every reply and reaction of an actor whose account
// was deleted, from every thread of every show.
func (s *Service) forgetAuthor(ctx context.Context, actor string) error {
	key := reactionKey(actor)
	for _, show := range s.showsOf("") {
		for info, err := range s.cfg.Store.List(ctx, threadsPrefix(show)) {
			if err != nil {
				return err
			}
			episode, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, threadsPrefix(show)), ".json")
			if !ok || strings.Contains(episode, "/") {
				continue
			}
			var gone []string
			err := s.changeThread(ctx, show, episode, func(t *thread) error {
				gone = gone[:0]
				t.Replies = slices.DeleteFunc(t.Replies, func(r reply) bool {
					if r.Author == actor {
						gone = append(gone, r.ID)
						return true
					}
					return false
				})
				t.Likes = slices.DeleteFunc(t.Likes, func(k string) bool { return k == key })
				t.Boosts = slices.DeleteFunc(t.Boosts, func(k string) bool { return k == key })
				return nil
			})
			if err != nil {
				return err
			}
			for _, id := range gone {
				if err := s.cfg.Store.Delete(ctx, replyIndexKey(id)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// reactionKey is what counts one actor's like or boost: a short hash,
// not the actor.
func reactionKey(actor string) string {
	sum := sha256.Sum256([]byte("antenne reaction\n" + actor))
	return hex.EncodeToString(sum[:8])
}

// onReaction counts a Like or an Announce (boost) of an episode's post.
func (s *Service) onReaction(ctx context.Context, _ string, act activity) (int, error) {
	return s.react(ctx, act.Type, act.Actor, objectID(act.Object), true)
}

// undoReaction uncounts the Like or Announce an Undo embeds (done is
// false for any other Undo). The embedded activity is read loosely:
// servers send its addresses as a string or a list.
func (s *Service) undoReaction(ctx context.Context, act activity) (status int, done bool, err error) {
	var inner struct {
		Type   string          `json:"type"`
		Actor  json.RawMessage `json:"actor"`
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal(act.Object, &inner) != nil || (inner.Type != "Like" && inner.Type != "Announce") {
		return 0, false, nil
	}
	if objectID(inner.Actor) != act.Actor {
		return http.StatusForbidden, true, errors.New("undo of another actor's reaction")
	}
	status, err = s.react(ctx, inner.Type, act.Actor, objectID(inner.Object), false)
	return status, true, err
}

// react counts (or, undo, uncounts) actor's reaction typ to the object.
func (s *Service) react(ctx context.Context, typ, actor, object string, add bool) (int, error) {
	show, episode, ok := s.noteOf(object)
	if !ok || !s.publishedEpisode(show, episode) {
		return http.StatusAccepted, nil
	}
	if status, err := s.blockedBy(ctx, show, actor); status != 0 && add {
		return status, err
	}
	key := reactionKey(actor)
	err := s.changeThread(ctx, show, episode, func(t *thread) error {
		list := &t.Likes
		if typ == "Announce" {
			list = &t.Boosts
		}
		i := slices.Index(*list, key)
		switch {
		case add && i < 0 && len(*list) < maxReactionsPerEpisode:
			*list = append(*list, key)
		case !add && i >= 0:
			*list = slices.Delete(*list, i, i+1)
		}
		return nil
	})
	if err != nil {
		return http.StatusServiceUnavailable, err
	}
	return http.StatusAccepted, nil
}

// changeThread applies change to the thread of an episode by a
// conditional write, reading it again when another writer came first.
func (s *Service) changeThread(ctx context.Context, show, episode string, change func(*thread) error) error {
	key := threadKey(show, episode)
	for range 8 {
		t := thread{Show: show, Episode: episode}
		rev, err := bucket.ReadLimit(ctx, s.cfg.Store, key, &t, maxThreadDoc)
		if err != nil && !bucket.IsNotFound(err) {
			return err
		}
		before, _ := json.Marshal(t)
		if err := change(&t); err != nil {
			return err
		}
		if after, _ := json.Marshal(t); string(after) == string(before) {
			return nil
		}
		_, err = bucket.WriteLimit(ctx, s.cfg.Store, key, t, rev, maxThreadDoc)
		if bucket.IsConflict(err) || (rev != "" && bucket.IsNotFound(err)) {
			continue
		}
		if err == nil {
			s.threads.forget(key)
		}
		return err
	}
	return fmt.Errorf("update %s: %w", key, bucket.ErrConflict)
}

// author is what a reply shows of its author.
type author struct {
	Name, Handle, Profile string
}

func (a author) size() int { return len(a.Name) + len(a.Handle) + len(a.Profile) }

// authorOf fetches the public name, handle and profile page of an actor.
func (s *Service) authorOf(ctx context.Context, id string) (author, error) {
	if a, ok := s.authors.get(id); ok {
		return a, nil
	}
	var doc struct {
		ID                string          `json:"id"`
		Name              string          `json:"name"`
		PreferredUsername string          `json:"preferredUsername"`
		URL               json.RawMessage `json:"url"`
	}
	if err := s.fetchJSON(ctx, id, &doc); err != nil {
		return author{}, err
	}
	if doc.ID != id {
		return author{}, fmt.Errorf("actor %s: the document is %q", id, doc.ID)
	}
	u, _ := url.Parse(id)
	user := plainText(doc.PreferredUsername, 64)
	if user == "" || strings.ContainsAny(user, "@ /") {
		return author{}, fmt.Errorf("actor %s: no username", id)
	}
	a := author{Name: plainText(doc.Name, maxNameRunes), Handle: "@" + user + "@" + u.Host, Profile: id}
	if p := objectID(doc.URL); p != "" && len(p) <= maxURLLength && httpURL(p) && sameHost(p, id) {
		a.Profile = p
	}
	s.authors.put(id, a)
	return a, nil
}

// plainText is s without markup, cut to max runes.
func plainText(s string, max int) string {
	s = strings.TrimSpace(html.UnescapeString(plainPolicy.Sanitize(s)))
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// threadCache keeps the threads read for pages, threadCacheAge each.
type threadCache struct {
	mu sync.Mutex
	m  map[string]threadRead
}

type threadRead struct {
	t  thread
	at time.Time
}

func (c *threadCache) get(key string) (thread, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	if !ok || time.Since(r.at) > threadCacheAge {
		return thread{}, false
	}
	return r.t, true
}

func (c *threadCache) put(key string, t thread) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 1000 {
		c.m = map[string]threadRead{}
	}
	c.m[key] = threadRead{t: t, at: time.Now()}
}

func (c *threadCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (c *threadCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// readThread reads the thread of an episode (an empty one when there is
// none), from the cache when it is recent.
func (s *Service) readThread(ctx context.Context, show, episode string) (thread, error) {
	key := threadKey(show, episode)
	if t, ok := s.threads.get(key); ok {
		return t, nil
	}
	t := thread{Show: show, Episode: episode}
	_, err := bucket.ReadLimit(ctx, s.cfg.Store, key, &t, maxThreadDoc)
	if err != nil && !bucket.IsNotFound(err) {
		return thread{}, err
	}
	s.threads.put(key, t)
	return t, nil
}

// Thread is what an episode's page shows of the replies to its post.
type Thread struct {
	// Replies in the order of the thread: each after the one it
	// answers, Depth telling how deep (0 answers the episode).
	Replies       []Reply
	Likes, Boosts int
	// Post is the URI of the episode's post, Handle the show's account.
	Post, Handle string
}

// Reply is one reply as a page shows it.
type Reply struct {
	ID, URL            string
	Name, Handle       string
	Profile            string
	Content            string // sanitised HTML
	Published, Updated time.Time
	Depth              int
	// For the hosts (ThreadForHosts): the author's actor id, whether a
	// host hid it, whether it waits for approval, whether its author is
	// blocked.
	Author                   string
	Hidden, Pending, Blocked bool
}

// maxDepth bounds the indentation of a thread.
const maxDepth = 4

// Thread returns the replies to an episode's post that are shown (not
// hidden, approved where the show wants it, of no blocked author) and
// its counts.
func (s *Service) Thread(ctx context.Context, show, episode string) (Thread, error) {
	return s.thread(ctx, show, episode, false)
}

// ThreadForHosts is Thread with every reply kept, for the studio: the
// hidden, the pending and the blocked ones too, marked as such.
func (s *Service) ThreadForHosts(ctx context.Context, show, episode string) (Thread, error) {
	return s.thread(ctx, show, episode, true)
}

func (s *Service) thread(ctx context.Context, show, episode string, all bool) (Thread, error) {
	t, err := s.readThread(ctx, show, episode)
	if err != nil {
		return Thread{}, err
	}
	m, err := s.ModerationOf(ctx, show)
	if err != nil {
		return Thread{}, err
	}
	if !all {
		t.Replies = slices.DeleteFunc(slices.Clone(t.Replies), func(r reply) bool { return !m.shows(r) })
	}
	out := Thread{Likes: len(t.Likes), Boosts: len(t.Boosts), Post: s.u.note(show, episode), Handle: s.Handle(show)}
	children := map[string][]reply{}
	ids := map[string]bool{}
	for _, r := range t.Replies {
		ids[r.ID] = true
	}
	for _, r := range t.Replies {
		parent := r.InReplyTo
		if !ids[parent] {
			parent = "" // answers the episode, or a reply deleted since
		}
		children[parent] = append(children[parent], r)
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		kids := children[parent]
		delete(children, parent) // a cycle is walked once
		slices.SortStableFunc(kids, func(a, b reply) int { return a.Published.Compare(b.Published) })
		for _, r := range kids {
			out.Replies = append(out.Replies, Reply{ID: r.ID, URL: r.URL, Name: r.Name, Handle: r.Handle,
				Profile: r.Profile, Content: r.Content, Published: r.Published, Updated: r.Updated, Depth: min(depth, maxDepth),
				Author: r.Author, Hidden: r.Hidden, Pending: m.Approval && !r.Approved, Blocked: m.blocks(r.Author)})
			walk(r.ID, depth+1)
		}
	}
	walk("", 0)
	return out, nil
}

func (u urls) replies(show, episode string) string { return u.note(show, episode) + "/replies" }

// PostURI is the URI of the post announcing an episode, for the feed's
// podcast:socialInteract.
func (s *Service) PostURI(show, episode string) string { return s.u.note(show, episode) }

// repliesCollection is the replies collection of an episode's post: the
// replies the page shows, as Notes, in the thread's order.
func (s *Service) repliesCollection(w http.ResponseWriter, r *http.Request, show, episode string) {
	if !s.publishedEpisode(show, episode) {
		problem(w, http.StatusNotFound, "Cet épisode n'est pas publié. / No such episode.")
		return
	}
	t, err := s.Thread(r.Context(), show, episode)
	if err != nil {
		s.log.ErrorContext(r.Context(), "read replies", "show", show, "episode", episode, "err", err)
		problem(w, http.StatusServiceUnavailable, "Réessayez dans un instant. / Try again in a moment.")
		return
	}
	stored, _ := s.readThread(r.Context(), show, episode)
	parents := map[string]reply{}
	for _, rp := range stored.Replies {
		parents[rp.ID] = rp
	}
	items := []any{}
	for _, rp := range t.Replies {
		p := parents[rp.ID]
		n := map[string]any{
			"id": rp.ID, "type": "Note", "attributedTo": p.Author, "inReplyTo": p.InReplyTo,
			"content": rp.Content, "published": rp.Published.Format(time.RFC3339), "to": []string{publicAddress},
		}
		if rp.URL != "" {
			n["url"] = rp.URL
		}
		items = append(items, n)
	}
	writeDoc(w, r, contentType, map[string]any{
		"@context": asContext, "id": s.u.replies(show, episode), "type": "OrderedCollection",
		"totalItems": len(items), "orderedItems": items,
	})
}

// sweepThreads removes the replies kept of episodes that were deleted
// (the thread and what points to it): nothing a listener published stays
// once the episode it answered is gone. An episode missing from this
// replica's catalog is read again from the bucket before: the catalog
// may be behind another replica's.
func (s *Service) sweepThreads(ctx context.Context) {
	for _, show := range s.showsOf("") {
		var keys []string
		for info, err := range s.cfg.Store.List(ctx, threadsPrefix(show)) {
			if err != nil {
				s.log.WarnContext(ctx, "sweep replies: list", "show", show, "err", err)
				return
			}
			keys = append(keys, info.Key)
		}
		for _, key := range keys {
			episode, ok := strings.CutSuffix(strings.TrimPrefix(key, threadsPrefix(show)), ".json")
			if !ok || strings.Contains(episode, "/") {
				continue
			}
			if _, err := s.cfg.Catalog.Episode(show, episode); err == nil {
				continue
			}
			if _, err := s.cfg.Catalog.ReadEpisode(ctx, show, episode); !bucket.IsNotFound(err) {
				continue
			}
			if err := s.dropThread(ctx, show, episode); err != nil {
				s.log.WarnContext(ctx, "sweep replies", "show", show, "episode", episode, "err", err)
			}
		}
	}
}

// dropThread deletes the thread of an episode and its replies' index.
func (s *Service) dropThread(ctx context.Context, show, episode string) error {
	key := threadKey(show, episode)
	var t thread
	_, err := bucket.ReadLimit(ctx, s.cfg.Store, key, &t, maxThreadDoc)
	if err != nil && !bucket.IsNotFound(err) && !bucket.IsUnreadable(err) {
		return err
	}
	for _, r := range t.Replies {
		if err := s.cfg.Store.Delete(ctx, replyIndexKey(r.ID)); err != nil {
			return err
		}
	}
	s.threads.forget(key)
	return s.cfg.Store.Delete(ctx, key)
}
