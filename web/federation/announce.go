package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
)

// What was announced of each episode is kept in
// shows/<show>/federation/<episode id>.json. The announcer compares it
// with the catalog: an episode published (by hand, or because its
// scheduled time came) and never announced gets a Create, a change of what
// its Note says an Update, an episode no longer published a Delete. The
// record is written with a conditional write before the activity is
// queued, so that of several replicas noticing the same change exactly one
// queues it; the record says whether the queuing finished, and any replica
// finishes what a replica that died left undone (queuing is idempotent).
func recordsPrefix(show string) string { return "shows/" + show + "/federation/" }

func recordKey(show, id string) string { return recordsPrefix(show) + id + ".json" }

// Announced states.
const (
	statePublished = "published"
	stateDeleted   = "deleted"
)

// record is what was announced of an episode.
type record struct {
	Episode string `json:"episode"`
	State   string `json:"state"`
	Hash    string `json:"hash,omitempty"` // noteHash of the announced Note
	Note    *note  `json:"note,omitempty"` // the announced Note
	// Activity is what announced the change: Create, Update or Delete.
	Activity string    `json:"activity"`
	Changed  time.Time `json:"changed"`
	// Queued is false from the record's write until its activity is
	// queued for every follower.
	Queued bool `json:"queued"`
}

// stalledQueuing is how long a record may stay unqueued before another
// replica takes it for abandoned and queues its activity.
const stalledQueuing = time.Minute

// runAnnouncer announces the changes of the catalog until ctx ends.
func (s *Service) runAnnouncer(ctx context.Context) {
	const versionPoll = time.Second
	tick := time.NewTicker(versionPoll)
	defer tick.Stop()
	var seen uint64
	var last time.Time
	for {
		if v := s.cfg.Catalog.Version(); v != seen || time.Since(last) >= s.cfg.Poll {
			if err := s.Announce(ctx); err != nil {
				s.log.WarnContext(ctx, "announce the episodes", "err", err)
			} else {
				seen = v
			}
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Announce compares every federated show with what was announced of it
// and queues the activities that bring its followers up to date. Run
// calls it on each change of the catalog and every Poll.
func (s *Service) Announce(ctx context.Context) error {
	var errs []error
	for _, sh := range s.cfg.Catalog.Shows() {
		if sh.FediverseOff {
			continue
		}
		if err := s.announceShow(ctx, sh); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("announce: %w", errs[0])
	}
	return nil
}

func (s *Service) announceShow(ctx context.Context, sh *episodes.Show) error {
	eps, err := s.cfg.Catalog.Episodes(sh.Slug, episodes.ListOptions{})
	if err != nil {
		return err
	}
	now := s.cfg.Catalog.Now()
	records, err := s.readRecords(ctx, sh.Slug)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, ep := range eps {
		present[ep.ID] = true
		c, has := records[ep.ID]
		next, err := s.nextRecord(sh, ep, now, c, has)
		switch {
		case err != nil:
			// An episode that cannot be announced (no public audio URL)
			// does not hold back the others.
			s.log.WarnContext(ctx, "announce an episode", "show", sh.Slug, "episode_id", ep.ID, "err", err)
			continue
		case next != nil && has:
			// Never contradict what another replica recorded from a
			// catalog that may be behind: read the episode again.
			next, err = s.recheck(ctx, sh, ep.ID, now, c)
			if err == nil && next != nil {
				err = s.transition(ctx, sh.Slug, ep.ID, c, *next)
			}
		case next != nil:
			err = s.transition(ctx, sh.Slug, ep.ID, c, *next)
		case has && !c.v.Queued && now.Sub(c.v.Changed) > stalledQueuing:
			err = s.queue(ctx, sh.Slug, c)
		}
		if err != nil {
			return err
		}
	}
	for id, c := range records {
		if present[id] || c.v.State != statePublished {
			continue
		}
		// Not in this replica's catalog: maybe deleted, maybe published
		// by another replica since its last refresh.
		next, err := s.recheck(ctx, sh, id, now, c)
		if err == nil && next != nil {
			err = s.transition(ctx, sh.Slug, id, c, *next)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// recheck is nextRecord for the episode id as stored now rather than as
// the catalog has it: what to write over the record c, nil when the
// record holds. A Delete (that Mastodon answers with a tombstone, for
// good) is only ever queued for an episode read unpublished or missing
// from the store itself.
func (s *Service) recheck(ctx context.Context, sh *episodes.Show, id string, now time.Time, c cached[record]) (*record, error) {
	ep, err := s.cfg.Catalog.ReadEpisode(ctx, sh.Slug, id)
	if bucket.IsNotFound(err) {
		if c.v.State == statePublished {
			return &record{Episode: id, State: stateDeleted, Note: c.v.Note, Activity: "Delete"}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	next, err := s.nextRecord(sh, ep, now, c, true)
	if err != nil {
		s.log.WarnContext(ctx, "announce an episode", "show", sh.Slug, "episode_id", id, "err", err)
		return nil, nil
	}
	return next, nil
}

// nextRecord is the record to write for ep, nil when what was announced
// (c, when has) is still true.
func (s *Service) nextRecord(sh *episodes.Show, ep *episodes.Episode, now time.Time, c cached[record], has bool) (*record, error) {
	if ep.Status(now) != episodes.Published || ep.Media.Key == "" {
		if has && c.v.State == statePublished {
			return &record{Episode: ep.ID, State: stateDeleted, Note: c.v.Note, Activity: "Delete"}, nil
		}
		return nil, nil
	}
	n, err := buildNote(s.u, s.cfg.Links, sh, ep)
	if err != nil {
		return nil, err
	}
	h := noteHash(n)
	switch {
	case !has || c.v.State != statePublished:
		return &record{Episode: ep.ID, State: statePublished, Hash: h, Note: n, Activity: "Create"}, nil
	case c.v.Hash != h:
		return &record{Episode: ep.ID, State: statePublished, Hash: h, Note: n, Activity: "Update"}, nil
	}
	return nil, nil
}

// transition writes next over the record old (whose etag is empty when
// there was none) and, if this replica won the write, queues the
// activity.
func (s *Service) transition(ctx context.Context, show, id string, old cached[record], next record) error {
	next.Changed = s.cfg.Catalog.Now().UTC()
	etag, err := writeJSON(ctx, s.cfg.Store, recordKey(show, id), next, old.etag)
	if bucket.IsConflict(err) {
		return nil // another replica announces it
	}
	if err != nil {
		return err
	}
	c := cached[record]{etag: etag, v: next}
	s.records.put(recordKey(show, id), c)
	return s.queue(ctx, show, c)
}

// queue queues the activity of record c for every follower and marks the
// record queued.
func (s *Service) queue(ctx context.Context, show string, c cached[record]) error {
	act, err := s.activityOf(show, c.v)
	if err != nil {
		return err
	}
	inboxes, err := s.deliveryInboxes(ctx, show)
	if err != nil {
		return err
	}
	var id struct {
		ID string `json:"id"`
	}
	json.Unmarshal(act, &id)
	if err := s.enqueue(ctx, show, id.ID, act, inboxes); err != nil {
		return err
	}
	c.v.Queued = true
	etag, err := writeJSON(ctx, s.cfg.Store, recordKey(show, c.v.Episode), c.v, c.etag)
	if bucket.IsConflict(err) {
		return nil // changed meanwhile: the next pass sees it
	}
	if err != nil {
		return err
	}
	s.records.put(recordKey(show, c.v.Episode), cached[record]{etag: etag, v: c.v})
	return nil
}

// activityOf is the activity announcing r. Its id depends only on r, so
// queuing it again is harmless.
func (s *Service) activityOf(show string, r record) ([]byte, error) {
	if r.Note == nil {
		return nil, fmt.Errorf("record of episode %s has no note", r.Episode)
	}
	n := *r.Note
	a := activity{
		Context:   noteContext,
		Type:      r.Activity,
		ID:        n.ID + "#" + strings.ToLower(r.Activity) + "-" + r.Changed.Format("20060102T150405.000000000"),
		Actor:     s.u.actor(show),
		Published: r.Changed.Format(time.RFC3339),
		To:        n.To,
		Cc:        n.Cc,
	}
	switch r.Activity {
	case "Delete":
		a.Object, _ = json.Marshal(map[string]string{"id": n.ID, "type": "Tombstone"})
	case "Update":
		n.Updated = r.Changed.Format(time.RFC3339)
		a.Object, _ = json.Marshal(n)
	default:
		a.Object, _ = json.Marshal(n)
	}
	return activityJSON(a)
}

// readRecords reads the records of show, by episode id.
func (s *Service) readRecords(ctx context.Context, show string) (map[string]cached[record], error) {
	docs, unreadable, err := s.records.list(ctx, s.cfg.Store, recordsPrefix(show))
	if err != nil {
		return nil, err
	}
	for _, key := range unreadable {
		s.log.WarnContext(ctx, "unreadable announce record skipped: antenne check --repair removes it", "key", key)
	}
	out := make(map[string]cached[record], len(docs))
	for _, d := range docs {
		out[d.v.Episode] = d
	}
	return out, nil
}
