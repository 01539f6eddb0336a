package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// A show's followers are one small document each,
// shows/<show>/followers/<hash of the actor id>.json: following and
// unfollowing on several replicas at once never loses an update.
func followersPrefix(show string) string { return "shows/" + show + "/followers/" }

func followerKey(show, actor string) string {
	sum := sha256.Sum256([]byte(actor))
	return followersPrefix(show) + hex.EncodeToString(sum[:16]) + ".json"
}

// follower is a remote actor following a show.
type follower struct {
	Actor       string    `json:"actor"`
	Inbox       string    `json:"inbox"`
	SharedInbox string    `json:"shared_inbox,omitempty"`
	FollowID    string    `json:"follow_id"` // the Follow activity, for Accept
	Since       time.Time `json:"since"`
}

// addFollower records f as a follower of show; following again only
// refreshes the record.
func (s *Service) addFollower(ctx context.Context, show string, f follower) error {
	key := followerKey(show, f.Actor)
	_, err := writeJSON(ctx, s.cfg.Store, key, f, "")
	if bucket.IsConflict(err) {
		var old follower
		etag, rerr := readJSON(ctx, s.cfg.Store, key, &old)
		if rerr != nil {
			return rerr
		}
		f.Since = old.Since
		if old == f {
			return nil
		}
		_, err = writeJSON(ctx, s.cfg.Store, key, f, etag)
	}
	return err
}

// removeFollower forgets actor as a follower of show.
func (s *Service) removeFollower(ctx context.Context, show, actor string) error {
	return s.cfg.Store.Delete(ctx, followerKey(show, actor))
}

// listFollowers returns the followers of show, in key order.
func (s *Service) listFollowers(ctx context.Context, show string) ([]follower, error) {
	docs, err := s.followers.list(ctx, s.cfg.Store, followersPrefix(show))
	if err != nil {
		return nil, err
	}
	out := make([]follower, len(docs))
	for i, d := range docs {
		out[i] = d.v
	}
	return out, nil
}

// FollowerCount is the number of accounts following show.
func (s *Service) FollowerCount(ctx context.Context, show string) (int, error) {
	n := 0
	for _, err := range s.cfg.Store.List(ctx, followersPrefix(show)) {
		if err != nil {
			return 0, fmt.Errorf("count followers of %s: %w", show, err)
		}
		n++
	}
	return n, nil
}

// inboxes are the inboxes to deliver to so that every follower of fs
// receives an activity once: the shared inbox of a server when it has
// one, else each follower's own.
func inboxes(fs []follower) []string {
	var out []string
	for _, f := range fs {
		in := f.SharedInbox
		if in == "" {
			in = f.Inbox
		}
		if !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	return out
}

// removeGone forgets the followers of show reached through inbox, whose
// server answered 410 Gone.
func (s *Service) removeGone(ctx context.Context, show, inbox string) error {
	fs, err := s.listFollowers(ctx, show)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.Inbox == inbox || f.SharedInbox == inbox {
			if err := s.removeFollower(ctx, show, f.Actor); err != nil {
				return err
			}
		}
	}
	return nil
}

// shortHash is a short hex digest of s, for ids and keys.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
