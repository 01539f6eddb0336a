package federation

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picasoft/antenne/storage/bucket"
)

// TestUnreadableFollowerSkipped stores a follower document over the bound
// replicas read (as a Follow with a 250,000-character id once made)
// beside a real follower: announcing still reaches the real one, and the
// count leaves the unreadable one out.
func TestUnreadableFollowerSkipped(t *testing.T) {
	s, _ := newTestService(t, true)
	huge := []byte(`{"actor":"https://evil.example/users/a","inbox":"https://evil.example/inbox","follow_id":"` + strings.Repeat(`\u003c`, 250000) + `"}`)
	if _, err := s.cfg.Store.PutIf(t.Context(), followersPrefix("lvel")+"0000.json", bytes.NewReader(huge), int64(len(huge)), "application/json", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.addFollower(t.Context(), "lvel", follower{Actor: "https://m.example/users/bob", Inbox: "https://m.example/users/bob/inbox", SharedInbox: "https://m.example/inbox"}); err != nil {
		t.Fatal(err)
	}
	other, err := New(s.cfg) // a replica that reads them all from the bucket
	if err != nil {
		t.Fatal(err)
	}
	inboxes, err := other.deliveryInboxes(t.Context(), "lvel")
	if err != nil || len(inboxes) != 1 || inboxes[0] != "https://m.example/inbox" {
		t.Errorf("inboxes %q (%v), want the real follower's", inboxes, err)
	}
	if n, err := other.FollowerCount(t.Context(), "lvel"); err != nil || n != 1 {
		t.Errorf("count %d (%v), want 1", n, err)
	}
}

// listCounting counts the listings of its store.
type listCounting struct {
	bucket.Store
	lists atomic.Int64
}

func (l *listCounting) List(ctx context.Context, prefix string) iter.Seq2[bucket.ObjectInfo, error] {
	l.lists.Add(1)
	return l.Store.List(ctx, prefix)
}

// TestFollowersPerHost checks the bound on the followers of one host (a
// registrable domain: its subdomains count with it), and that counting
// followers does not list them on every request.
func TestFollowersPerHost(t *testing.T) {
	s, _ := newTestService(t, true)
	counting := &listCounting{Store: s.cfg.Store}
	s.cfg.Store = counting
	s.cfg.MaxFollowersPerHost = 3
	add := func(actor string) error {
		return s.addFollower(t.Context(), "lvel", follower{Actor: actor, Inbox: actor + "/inbox"})
	}
	for _, actor := range []string{"https://a.example/users/1", "https://a.example/users/2", "https://www.a.example/users/3"} {
		if err := add(actor); err != nil {
			t.Fatalf("follower %s: %v", actor, err)
		}
	}
	for _, actor := range []string{"https://a.example/users/4", "https://x.a.example/users/5"} {
		if err := add(actor); !errors.Is(err, errTooManyFollowers) {
			t.Errorf("follower %s over the bound: got %v, want errTooManyFollowers", actor, err)
		}
	}
	if err := add("https://a.example/users/1"); err != nil {
		t.Errorf("a follower following again: %v", err)
	}
	if err := add("https://b.example/users/1"); err != nil {
		t.Errorf("a follower of another host: %v", err)
	}
	counting.lists.Store(0)
	for range 10 {
		if n, err := s.FollowerCount(t.Context(), "lvel"); err != nil || n != 4 {
			t.Fatalf("count %d (%v), want 4", n, err)
		}
	}
	if n := counting.lists.Load(); n > 0 {
		t.Errorf("10 counts listed the followers %d times, want none (listed at most every %v)", n, followerListAge)
	}
}
