package federation_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/web/federation"
	"github.com/picasoft/antenne/web/federation/gotosocialtest"
)

// TestGoToSocialReplies: an account of a real GoToSocial follows the show,
// likes the episode's post then unlikes it (antenne counts, then
// uncounts), answers it by a direct message (not kept), then
// replies to an episode's post and to its own reply, likes and boosts the
// post; antenne keeps the replies as a thread (sanitised, in the post's
// replies collection) and counts the like and the boost; the author edits
// a reply (where GoToSocial can), deletes the other, and unlikes: antenne
// follows each.
func TestGoToSocialReplies(t *testing.T) {
	gts := gotosocialtest.New(t)
	const user, password = "alice", "Correct-Horse-Battery-Staple-42"
	gts.CreateAccount(user, password)
	gts.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("GoToSocial's log:\n%s", gts.Log())
		}
	})
	site := newSite(t, testClient())
	alice := gts.Login(user, password)
	handle := "@lvel@" + site.host
	acct, status := alice.Resolve(handle)
	if acct.ID == "" {
		t.Fatalf("GoToSocial could not resolve %s (HTTP %d)", handle, status)
	}
	if st := alice.Call(http.MethodPost, "/api/v1/accounts/"+acct.ID+"/follow", nil, nil); st != http.StatusOK {
		t.Fatalf("follow: HTTP %d", st)
	}
	waitFor(t, "the follow to be accepted", 120*time.Second, func() bool {
		following, _ := alice.Following(acct.ID)
		return following
	})
	ep := site.addEpisode("Les communs numériques", "On parle des communs.", 440)
	if _, err := site.catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	noteID := site.fed.PostURI("lvel", ep.ID)
	var post gotosocialtest.Status
	waitFor(t, "the episode in the home timeline", 120*time.Second, func() bool {
		sts, err := alice.Home()
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sts {
			if st.URI == noteID {
				post = st
				return true
			}
		}
		return false
	})

	thread := func() federation.Thread {
		t.Helper()
		th, err := site.fed.Thread(t.Context(), "lvel", ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	reply := func(to, text string) gotosocialtest.Status {
		t.Helper()
		var st gotosocialtest.Status
		if code := alice.Call(http.MethodPost, "/api/v1/statuses", url.Values{
			"status": {handle + " " + text}, "in_reply_to_id": {to}, "visibility": {"public"},
		}, &st); code != http.StatusOK {
			t.Fatalf("reply: HTTP %d", code)
		}
		return st
	}

	if code := alice.Call(http.MethodPost, "/api/v1/statuses/"+post.ID+"/favourite", nil, nil); code != http.StatusOK {
		t.Fatalf("favourite: HTTP %d", code)
	}
	waitFor(t, "the like counted", 60*time.Second, func() bool { return thread().Likes == 1 })
	if code := alice.Call(http.MethodPost, "/api/v1/statuses/"+post.ID+"/unfavourite", nil, nil); code != http.StatusOK {
		t.Fatalf("unfavourite: HTTP %d", code)
	}
	waitFor(t, "the like uncounted", 60*time.Second, func() bool { return thread().Likes == 0 })

	// A direct message answering the post reaches the inbox (its
	// signature is recorded) but is never kept: only public replies are.
	signed := len(site.keys("federation/signatures/"))
	if code := alice.Call(http.MethodPost, "/api/v1/statuses", url.Values{
		"status": {handle + " en privé"}, "in_reply_to_id": {post.ID}, "visibility": {"direct"},
	}, nil); code != http.StatusOK {
		t.Fatalf("direct reply: HTTP %d", code)
	}
	waitFor(t, "the direct reply to reach the inbox", 60*time.Second, func() bool {
		return len(site.keys("federation/signatures/")) > signed
	})
	if n := len(thread().Replies); n != 0 {
		t.Fatalf("a direct message was kept as a reply (%d replies)", n)
	}

	// GoToSocial 0.17.3 federates no post of a local account that
	// addresses its followers (public, unlisted: replies, boosts): the
	// response it crafts for its own followers collection has no
	// Content-Type, which its ActivityPub library refuses
	// (superseriousbusiness/gotosocial#3530). TestReplies covers these
	// activities; here they are checked once GoToSocial sends them.
	first := reply(post.ID, `Super épisode ! <script>alert("x")</script>`)
	sent := func() bool { return len(thread().Replies) == 1 }
	for end := time.Now().Add(20 * time.Second); !sent() && time.Now().Before(end); {
		time.Sleep(250 * time.Millisecond)
	}
	if !sent() && strings.Contains(gts.Log(), "followers resp was not ActivityPub media type") {
		t.Logf("GoToSocial %s does not federate public posts of its accounts (gotosocial#3530): replies and boosts not checked here", gotosocialtest.Version)
		return
	}
	waitFor(t, "the reply in antenne", 60*time.Second, sent)
	r := thread().Replies[0]
	if r.ID != first.URI || r.Handle != "@alice@"+gts.Host() || !strings.Contains(r.Content, "Super épisode") {
		t.Errorf("kept reply %+v, want %s by @alice@%s", r, first.URI, gts.Host())
	}
	if strings.Contains(r.Content, "<script") {
		t.Errorf("the kept reply has a script: %q", r.Content)
	}
	second := reply(first.ID, "Et une précision.")
	waitFor(t, "the reply to the reply", 60*time.Second, func() bool {
		th := thread()
		return len(th.Replies) == 2 && th.Replies[1].ID == second.URI && th.Replies[1].Depth == 1
	})
	_, _, _, body := site.get("/ap/shows/lvel/notes/"+ep.ID+"/replies", "application/activity+json")
	if !strings.Contains(body, first.URI) || !strings.Contains(body, second.URI) {
		t.Errorf("the replies collection lacks the replies: %s", body)
	}

	if code := alice.Call(http.MethodPost, "/api/v1/statuses/"+post.ID+"/reblog", nil, nil); code != http.StatusOK {
		t.Fatalf("reblog: HTTP %d", code)
	}
	waitFor(t, "the boost counted", 60*time.Second, func() bool { return thread().Boosts == 1 })

	// Editing came with GoToSocial 0.18; the Update itself is tested
	// by TestReplies.
	if code := alice.Call(http.MethodPut, "/api/v1/statuses/"+first.ID, url.Values{"status": {handle + " Modifié."}}, nil); code == http.StatusOK {
		waitFor(t, "the edit in antenne", 60*time.Second, func() bool {
			return strings.Contains(thread().Replies[0].Content, "Modifié")
		})
	} else {
		t.Logf("GoToSocial %s does not edit statuses (HTTP %d)", gotosocialtest.Version, code)
	}

	if code := alice.Call(http.MethodDelete, "/api/v1/statuses/"+second.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("delete: HTTP %d", code)
	}
	waitFor(t, "the deleted reply to leave antenne", 60*time.Second, func() bool {
		th := thread()
		return len(th.Replies) == 1 && th.Replies[0].ID == first.URI
	})
	_, _, _, body = site.get("/ap/shows/lvel/notes/"+ep.ID+"/replies", "application/activity+json")
	if strings.Contains(body, second.URI) {
		t.Errorf("the replies collection still has the deleted reply: %s", body)
	}
}
