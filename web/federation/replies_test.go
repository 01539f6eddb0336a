package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// publishTestEpisode ingests a real MP3 into lvel and publishes it.
func publishTestEpisode(t *testing.T, s *Service, title string) *episodes.Episode {
	t.Helper()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1})
	ep, err := s.cfg.Catalog.Ingest(t.Context(), episodes.Upload{Show: "lvel", Path: mp3, Name: "e.mp3", Title: title})
	if err != nil {
		t.Fatal(err)
	}
	if ep, err = s.cfg.Catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	return ep
}

// TestReplies sends replies, reactions, edits and deletions signed by a
// remote account to the inbox, and hostile ones: only public replies to
// an episode's post (or to a kept reply) by their signer are kept, their
// HTML sanitised and bounded; likes and boosts are counted once per
// actor and uncounted by Undo; an Update changes the reply and a Delete
// by its author removes it (and its index).
func TestReplies(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	ep := publishTestEpisode(t, s, "Les communs")
	post := base + "/ap/shows/lvel/notes/" + ep.ID
	inbox := base + "/ap/inbox"
	seq := 0
	send := func(typ string, object any) int {
		t.Helper()
		seq++
		obj, _ := json.Marshal(object)
		body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/act/%d","type":"%s","actor":"%s","object":%s}`, p.actor, seq, typ, p.actor, obj)
		return p.post(t, inbox, []byte(body), p.key, time.Now(), nil)
	}
	note := func(id, inReplyTo, content string) map[string]any {
		return map[string]any{
			"id": p.actor + "/statuses/" + id, "type": "Note", "attributedTo": p.actor,
			"inReplyTo": inReplyTo, "content": content, "published": "2026-12-01T10:00:00Z",
			"url": p.srv.URL + "/@bob/" + id,
			"to":  []string{publicAddress}, "cc": []string{p.actor + "/followers"},
		}
	}
	thread := func() Thread {
		t.Helper()
		s.threads.forget(threadKey("lvel", ep.ID))
		th, err := s.Thread(t.Context(), "lvel", ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}

	if got := send("Create", note("1", post, `<p>Super épisode !<script>alert(1)</script><img src="https://evil.example/x.png" onerror="alert(2)"> <a href="javascript:alert(3)">x</a> <a href="https://picasoft.net" onclick="x()">lien</a></p>`)); got != http.StatusAccepted {
		t.Fatalf("reply: HTTP %d, want 202", got)
	}
	th := thread()
	if len(th.Replies) != 1 {
		t.Fatalf("%d replies kept, want 1", len(th.Replies))
	}
	r := th.Replies[0]
	for _, bad := range []string{"script", "alert", "img", "evil.example", "onclick", "onerror", "javascript"} {
		if strings.Contains(r.Content, bad) {
			t.Errorf("the kept content %q has %q", r.Content, bad)
		}
	}
	if !strings.Contains(r.Content, "Super épisode") || !strings.Contains(r.Content, `href="https://picasoft.net"`) {
		t.Errorf("the kept content %q lost the text or the link", r.Content)
	}
	if r.Handle != "@bob@"+strings.TrimPrefix(p.srv.URL, "http://") || r.Profile != p.actor || r.URL != p.srv.URL+"/@bob/1" {
		t.Errorf("author %q %q, url %q", r.Handle, r.Profile, r.URL)
	}

	// A reply to the reply is in the thread, under it.
	if got := send("Create", note("2", p.actor+"/statuses/1", "<p>Moi aussi</p>")); got != http.StatusAccepted {
		t.Fatalf("reply to the reply: HTTP %d", got)
	}
	if th = thread(); len(th.Replies) != 2 || th.Replies[1].Depth != 1 {
		t.Fatalf("thread %+v, want the second reply under the first", th.Replies)
	}

	// Hostile or not ours: nothing kept.
	forged := note("3", post, "<p>pas de moi</p>")
	forged["attributedTo"] = "https://other.example/users/eve"
	direct := note("4", post, "<p>en privé</p>")
	direct["to"], direct["cc"] = []string{base + "/ap/shows/lvel"}, []string{}
	for _, tc := range []struct {
		name string
		obj  any
		want int
	}{
		{"reply to another server's post", note("5", "https://other.example/users/x/statuses/1", "<p>ailleurs</p>"), http.StatusAccepted},
		{"reply to an episode that does not exist", note("6", base+"/ap/shows/lvel/notes/nope", "<p>?</p>"), http.StatusAccepted},
		{"forged attributedTo", forged, http.StatusForbidden},
		{"direct message", direct, http.StatusAccepted},
		{"content too long once sanitised", note("7", post, "<p>"+strings.Repeat("é", maxReplyHTML)+"</p>"), http.StatusRequestEntityTooLarge},
		{"note of another host", map[string]any{"id": "https://other.example/statuses/8", "type": "Note", "attributedTo": p.actor, "inReplyTo": post, "content": "x", "to": publicAddress}, http.StatusForbidden},
	} {
		if got := send("Create", tc.obj); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	big := `{"id":"` + p.actor + `/act/big","type":"Create","actor":"` + p.actor + `","object":{"id":"` + p.actor + `/statuses/9","type":"Note","attributedTo":"` + p.actor + `","inReplyTo":"` + post + `","to":"` + publicAddress + `","content":"` + strings.Repeat("a", 1<<20) + `"}}`
	if got := p.post(t, inbox, []byte(big), p.key, time.Now(), nil); got != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MB note: HTTP %d, want 413", got)
	}
	if th = thread(); len(th.Replies) != 2 {
		t.Fatalf("%d replies after the hostile ones, want 2", len(th.Replies))
	}

	// Likes and boosts, once per actor; Undo uncounts.
	send("Like", post)
	send("Like", post)
	send("Announce", post)
	send("Like", "https://other.example/statuses/1")
	if th = thread(); th.Likes != 1 || th.Boosts != 1 {
		t.Fatalf("likes %d, boosts %d; want 1 and 1", th.Likes, th.Boosts)
	}
	// (addressed by a string, as GoToSocial does)
	send("Undo", map[string]any{"id": p.actor + "/act/like", "type": "Like", "actor": p.actor, "object": post, "to": base + "/ap/shows/lvel"})
	if th = thread(); th.Likes != 0 || th.Boosts != 1 {
		t.Fatalf("after Undo: likes %d, boosts %d; want 0 and 1", th.Likes, th.Boosts)
	}

	// The author edits, then deletes.
	edited := note("1", post, "<p>Modifié</p>")
	edited["updated"] = "2026-12-01T11:00:00Z"
	if got := send("Update", edited); got != http.StatusAccepted {
		t.Fatalf("update: HTTP %d", got)
	}
	if th = thread(); th.Replies[0].Content != "<p>Modifié</p>" || th.Replies[0].Updated.IsZero() {
		t.Fatalf("after Update: %+v", th.Replies[0])
	}
	if got := send("Delete", map[string]any{"id": p.actor + "/statuses/1", "type": "Tombstone"}); got != http.StatusAccepted {
		t.Fatalf("delete: HTTP %d", got)
	}
	th = thread()
	if len(th.Replies) != 1 || strings.Contains(th.Replies[0].Content, "Modifié") {
		t.Fatalf("after Delete: %+v", th.Replies)
	}
	if _, ok, _ := s.findReply(t.Context(), p.actor+"/statuses/1"); ok {
		t.Error("the deleted reply is still indexed")
	}

	// The account is deleted: its replies and reactions go.
	if got := send("Delete", p.actor); got != http.StatusAccepted {
		t.Fatalf("delete of the account: HTTP %d", got)
	}
	if th = thread(); len(th.Replies) != 0 || th.Boosts != 0 {
		t.Fatalf("after the account's Delete: %d replies, %d boosts", len(th.Replies), th.Boosts)
	}
}

// TestRepliesBounded fills a thread to maxRepliesPerEpisode: one more
// reply is refused (403) and the thread stays within its bound.
func TestRepliesBounded(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	ep := publishTestEpisode(t, s, "Les communs")
	post := base + "/ap/shows/lvel/notes/" + ep.ID
	full := thread{Show: "lvel", Episode: ep.ID}
	for i := range maxRepliesPerEpisode {
		full.Replies = append(full.Replies, reply{ID: fmt.Sprintf("https://x.example/s/%d", i), InReplyTo: post,
			Author: "https://x.example/u", Handle: "@u@x.example", Content: "<p>" + strings.Repeat("x", 1000) + "</p>"})
	}
	if err := s.changeThread(t.Context(), "lvel", ep.ID, func(th *thread) error { *th = full; return nil }); err != nil {
		t.Fatal(err)
	}
	body := `{"id":"` + p.actor + `/act/1","type":"Create","actor":"` + p.actor + `","object":{"id":"` + p.actor + `/statuses/1","type":"Note","attributedTo":"` + p.actor + `","inReplyTo":"` + post + `","to":"` + publicAddress + `","content":"un de trop"}}`
	if got := p.post(t, base+"/ap/inbox", []byte(body), p.key, time.Now(), nil); got != http.StatusForbidden {
		t.Errorf("reply %d: HTTP %d, want 403", maxRepliesPerEpisode+1, got)
	}
	s.threads.forget(threadKey("lvel", ep.ID))
	th, err := s.Thread(t.Context(), "lvel", ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Replies) != maxRepliesPerEpisode {
		t.Errorf("%d replies, want %d", len(th.Replies), maxRepliesPerEpisode)
	}
}

// TestRepliesModeration: a hidden reply leaves the thread (not the
// hosts' view); with approval on, a reply shows only once approved; a
// blocked domain's replies leave the thread, its follow ends and it can
// no longer reply, react or follow (403).
func TestRepliesModeration(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	ep := publishTestEpisode(t, s, "Les communs")
	post := base + "/ap/shows/lvel/notes/" + ep.ID
	ctx := t.Context()
	seq := 0
	send := func(typ, object string) int {
		t.Helper()
		seq++
		body := fmt.Sprintf(`{"id":"%s/act/%d","type":"%s","actor":"%s","object":%s}`, p.actor, seq, typ, p.actor, object)
		return p.post(t, base+"/ap/inbox", []byte(body), p.key, time.Now(), nil)
	}
	noteJSON := func(id string) string {
		return `{"id":"` + p.actor + `/statuses/` + id + `","type":"Note","attributedTo":"` + p.actor + `","inReplyTo":"` + post + `","to":"` + publicAddress + `","content":"<p>réponse ` + id + `</p>"}`
	}
	shown := func() int {
		t.Helper()
		s.threads.clear()
		th, err := s.Thread(ctx, "lvel", ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(th.Replies)
	}
	if got := send("Create", noteJSON("1")); got != http.StatusAccepted {
		t.Fatalf("reply: HTTP %d", got)
	}
	id := p.actor + "/statuses/1"
	if err := s.HideReply(ctx, "lvel", ep.ID, id, true); err != nil {
		t.Fatal(err)
	}
	if n := shown(); n != 0 {
		t.Fatalf("a hidden reply is shown (%d)", n)
	}
	if th, _ := s.ThreadForHosts(ctx, "lvel", ep.ID); len(th.Replies) != 1 || !th.Replies[0].Hidden {
		t.Fatalf("the hosts' view: %+v", th.Replies)
	}
	if err := s.HideReply(ctx, "lvel", ep.ID, id, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetApproval(ctx, "lvel", true); err != nil {
		t.Fatal(err)
	}
	if n := shown(); n != 0 {
		t.Fatalf("with approval on, an unapproved reply is shown (%d)", n)
	}
	if err := s.ApproveReply(ctx, "lvel", ep.ID, id); err != nil {
		t.Fatal(err)
	}
	if n := shown(); n != 1 {
		t.Fatalf("an approved reply is not shown (%d)", n)
	}

	follow := `"` + base + `/ap/shows/lvel"`
	if got := send("Follow", follow); got != http.StatusAccepted {
		t.Fatalf("follow: HTTP %d", got)
	}
	if n := followersNow(t, s); n != 1 {
		t.Fatalf("%d followers, want 1", n)
	}
	if err := s.Block(ctx, "lvel", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if n := followersNow(t, s); n != 0 {
		t.Errorf("the blocked domain still follows (%d)", n)
	}
	if n := shown(); n != 0 {
		t.Errorf("a blocked domain's reply is shown (%d)", n)
	}
	for _, tc := range []struct{ typ, obj string }{{"Create", noteJSON("2")}, {"Like", `"` + post + `"`}, {"Follow", follow}} {
		if got := send(tc.typ, tc.obj); got != http.StatusForbidden {
			t.Errorf("%s from a blocked domain: HTTP %d, want 403", tc.typ, got)
		}
	}
	if th, _ := s.ThreadForHosts(ctx, "lvel", ep.ID); len(th.Replies) != 1 || th.Likes != 0 || !th.Replies[0].Blocked {
		t.Errorf("after the block: %+v, %d likes", th.Replies, th.Likes)
	}
}

// TestRepliesOfDeletedEpisodeSwept: once the episode is deleted, the
// sweep removes its replies and their index.
func TestRepliesOfDeletedEpisodeSwept(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	ep := publishTestEpisode(t, s, "Les communs")
	body := `{"id":"` + p.actor + `/act/1","type":"Create","actor":"` + p.actor + `","object":{"id":"` + p.actor + `/statuses/1","type":"Note","attributedTo":"` + p.actor + `","inReplyTo":"` + base + `/ap/shows/lvel/notes/` + ep.ID + `","to":"` + publicAddress + `","content":"merci"}}`
	if got := p.post(t, base+"/ap/inbox", []byte(body), p.key, time.Now(), nil); got != http.StatusAccepted {
		t.Fatalf("reply: HTTP %d", got)
	}
	count := func() int {
		n := 0
		for _, prefix := range []string{threadsPrefix("lvel"), replyIndexPrefix} {
			for range s.cfg.Store.List(t.Context(), prefix) {
				n++
			}
		}
		return n
	}
	s.sweepThreads(t.Context())
	if n := count(); n != 2 {
		t.Fatalf("%d documents for the reply of a published episode after a sweep, want 2", n)
	}
	if err := s.cfg.Catalog.DeleteEpisode(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	s.sweepThreads(t.Context())
	if n := count(); n != 0 {
		t.Fatalf("%d documents left of the deleted episode's replies", n)
	}
}
