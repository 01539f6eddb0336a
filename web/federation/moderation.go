package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/picasoft/antenne/storage/bucket"
)

// A show's moderation of replies is one document,
// shows/<show>/moderation.json: whether replies wait for a host's
// approval, and the accounts and domains blocked. A blocked account or
// domain can no longer reply, react or follow (403), its follows end
// (so nothing is delivered to it), and what it published is no longer
// shown.
func moderationKey(show string) string { return "shows/" + show + "/moderation.json" }

// maxBlocks bounds the accounts and domains a show blocks.
const maxBlocks = 10000

// Moderation is a show's moderation of replies.
type Moderation struct {
	// Approval: a reply is shown only once a host approved it.
	Approval bool `json:"approval"`
	// Accounts are blocked actor ids, Domains blocked hosts.
	Accounts []string `json:"accounts,omitempty"`
	Domains  []string `json:"domains,omitempty"`
}

// blocks reports whether actor is blocked, by its id or its host.
func (m Moderation) blocks(actor string) bool {
	if slices.Contains(m.Accounts, actor) {
		return true
	}
	u, err := url.Parse(actor)
	return err == nil && u.Hostname() != "" && slices.Contains(m.Domains, strings.ToLower(u.Hostname()))
}

// shows reports whether a kept reply is shown on pages, the feed and the
// replies collection.
func (m Moderation) shows(r reply) bool {
	return !r.Hidden && (!m.Approval || r.Approved) && !m.blocks(r.Author)
}

// ModerationOf reads a show's moderation (the default one when there is
// none).
func (s *Service) ModerationOf(ctx context.Context, show string) (Moderation, error) {
	var m Moderation
	_, err := readJSON(ctx, s.cfg.Store, moderationKey(show), &m)
	if err != nil && !bucket.IsNotFound(err) {
		return Moderation{}, err
	}
	return m, nil
}

// changeModeration applies change to a show's moderation by a
// conditional write.
func (s *Service) changeModeration(ctx context.Context, show string, change func(*Moderation) error) error {
	key := moderationKey(show)
	for range 8 {
		var m Moderation
		rev, err := readJSON(ctx, s.cfg.Store, key, &m)
		if err != nil && !bucket.IsNotFound(err) {
			return err
		}
		if err := change(&m); err != nil {
			return err
		}
		_, err = writeJSON(ctx, s.cfg.Store, key, m, rev)
		if bucket.IsConflict(err) || (rev != "" && bucket.IsNotFound(err)) {
			continue
		}
		return err
	}
	return fmt.Errorf("update %s: %w", key, bucket.ErrConflict)
}

// SetApproval says whether a show's replies wait for a host's approval.
func (s *Service) SetApproval(ctx context.Context, show string, on bool) error {
	return s.changeModeration(ctx, show, func(m *Moderation) error { m.Approval = on; return nil })
}

// ErrTooManyBlocks refuses a block beyond maxBlocks.
var ErrTooManyBlocks = errors.New("too many blocked accounts or domains")

// Block blocks an account (an actor id, https://...) or a whole domain
// (a host name) for a show, and ends its follows of the show.
func (s *Service) Block(ctx context.Context, show, who string) error {
	who = strings.TrimSpace(who)
	account := strings.HasPrefix(who, "https://") || strings.HasPrefix(who, "http://")
	if !account {
		who = strings.ToLower(strings.TrimPrefix(who, "@"))
		if who == "" || strings.ContainsAny(who, "/@ ") {
			return fmt.Errorf("block %q: not an account URL or a domain", who)
		}
	}
	if err := checkLength("block", who, maxURLLength); err != nil {
		return err
	}
	err := s.changeModeration(ctx, show, func(m *Moderation) error {
		list := &m.Domains
		if account {
			list = &m.Accounts
		}
		if slices.Contains(*list, who) {
			return nil
		}
		if len(m.Accounts)+len(m.Domains) >= maxBlocks {
			return ErrTooManyBlocks
		}
		*list = append(*list, who)
		return nil
	})
	if err != nil {
		return err
	}
	s.threads.clear()
	blocked := Moderation{Accounts: []string{who}, Domains: []string{who}}
	for info, err := range s.cfg.Store.List(ctx, followersPrefix(show)) {
		if err != nil {
			return err
		}
		var f follower
		if _, err := readJSON(ctx, s.cfg.Store, info.Key, &f); err != nil {
			continue
		}
		if blocked.blocks(f.Actor) {
			if err := s.removeFollower(ctx, show, f.Actor); err != nil {
				return err
			}
		}
	}
	return nil
}

// Unblock lifts the block of an account or a domain.
func (s *Service) Unblock(ctx context.Context, show, who string) error {
	defer s.threads.clear()
	return s.changeModeration(ctx, show, func(m *Moderation) error {
		m.Accounts = slices.DeleteFunc(m.Accounts, func(a string) bool { return a == who })
		m.Domains = slices.DeleteFunc(m.Domains, func(d string) bool { return d == who })
		return nil
	})
}

// HideReply hides (or shows again) a reply; ApproveReply approves one.
func (s *Service) HideReply(ctx context.Context, show, episode, id string, hidden bool) error {
	return s.changeReply(ctx, show, episode, id, func(r *reply) { r.Hidden = hidden })
}

// ApproveReply approves a reply, for a show whose replies wait for it.
func (s *Service) ApproveReply(ctx context.Context, show, episode, id string) error {
	return s.changeReply(ctx, show, episode, id, func(r *reply) { r.Approved = true })
}

func (s *Service) changeReply(ctx context.Context, show, episode, id string, change func(*reply)) error {
	found := false
	err := s.changeThread(ctx, show, episode, func(t *thread) error {
		for i := range t.Replies {
			if t.Replies[i].ID == id {
				change(&t.Replies[i])
				found = true
			}
		}
		return nil
	})
	if err == nil && !found {
		return fmt.Errorf("reply %s: %w", id, bucket.ErrNotFound)
	}
	return err
}

// blockedBy is 403 when the show blocks actor, 0 when it does not.
func (s *Service) blockedBy(ctx context.Context, show, actor string) (int, error) {
	m, err := s.ModerationOf(ctx, show)
	if err != nil {
		return http.StatusServiceUnavailable, err
	}
	if m.blocks(actor) {
		return http.StatusForbidden, errors.New("blocked by the show")
	}
	return 0, nil
}
