package federation_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/federation/gotosocialtest"
)

// TestGoToSocial follows a show from an account of a real GoToSocial
// server and checks that publishing, editing and unpublishing an episode
// reach that account's home timeline, and that a post queued while the
// server is down arrives once when it comes back.
func TestGoToSocial(t *testing.T) {
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
		t.Fatalf("GoToSocial could not resolve %s (HTTP %d): %s", handle, status, gts.Log())
	}
	if !acct.Bot {
		t.Errorf("the show's account is not marked automated (bot)")
	}
	if st := alice.Call(http.MethodPost, "/api/v1/accounts/"+acct.ID+"/follow", nil, nil); st != http.StatusOK {
		t.Fatalf("follow: HTTP %d", st)
	}
	waitFor(t, "the follow to be accepted", 120*time.Second, func() bool {
		following, _ := alice.Following(acct.ID)
		return following
	})
	if n, err := site.fed.FollowerCount(t.Context(), "lvel"); err != nil || n != 1 {
		t.Fatalf("antenne counts %d followers (%v), want 1", n, err)
	}

	ep := site.addEpisode("Les communs numériques", "On parle des **communs** et de Picasoft.", 440)
	noteID := site.base + "/ap/shows/lvel/notes/" + ep.ID
	audioURL, _ := site.links.Object(ep.Media.Key)
	// find looks for the episode's post in the timeline; a timeline that
	// cannot be read fails the test.
	find := func() *gotosocialtest.Status {
		t.Helper()
		sts, err := alice.Home()
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sts {
			if st.URI == noteID {
				return &st
			}
		}
		return nil
	}
	time.Sleep(2 * time.Second)
	if find() != nil || site.deliveries.count(noteID) != 0 {
		t.Fatal("a draft was sent")
	}

	if _, err := site.catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	var got *gotosocialtest.Status
	waitFor(t, "the episode in the home timeline", 120*time.Second, func() bool { got = find(); return got != nil })
	if !strings.Contains(got.Content, "Les communs numériques") {
		t.Errorf("content %q lacks the title", got.Content)
	}
	if len(got.MediaAttachment) != 1 || got.MediaAttachment[0].RemoteURL != audioURL {
		t.Errorf("attachments %+v, want one with remote_url %s", got.MediaAttachment, audioURL)
	} else if typ := got.MediaAttachment[0].Type; typ != "audio" {
		t.Logf("attachment type %q (GoToSocial may not have processed the audio yet)", typ)
	}
	if len(got.Tags) != 2 {
		t.Errorf("tags %+v, want the show's two hashtags", got.Tags)
	}

	if _, err := site.catalog.UpdateEpisode(t.Context(), "lvel", ep.ID, "", func(e *episodes.Episode) error {
		e.Title = "Les communs numériques, deuxième partie"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the edited title in the timeline", 120*time.Second, func() bool {
		got = find()
		return got != nil && strings.Contains(got.Content, "deuxième partie")
	})

	if _, err := site.catalog.Unpublish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the unpublished episode to leave the timeline", 120*time.Second, func() bool { return find() == nil })
	if n := site.deliveries.count(noteID + "#delete"); n != 1 {
		t.Errorf("the Delete was delivered %d times, want once", n)
	}

	// Delivery to a server that is down, then up: the post arrives once.
	gts.Stop()
	ep2 := site.addEpisode("Le fédivers", "Mastodon, PeerTube, Mobilizon.", 660)
	if _, err := site.catalog.Publish(t.Context(), "lvel", ep2.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed delivery attempt", 60*time.Second, func() bool { return site.failedDeliveries() > 0 })
	gts.Start()
	note2 := site.base + "/ap/shows/lvel/notes/" + ep2.ID
	count := func() int {
		t.Helper()
		sts, err := alice.Home()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, st := range sts {
			if st.URI == note2 {
				n++
			}
		}
		return n
	}
	waitFor(t, "the post queued while the server was down", 120*time.Second, func() bool { return count() > 0 })
	waitFor(t, "the outbox to empty", 30*time.Second, func() bool { return len(site.keys("federation/outbox/")) == 0 })
	if n := count(); n != 1 {
		t.Errorf("the post is %d times in the timeline, want once", n)
	}
	// GoToSocial keys posts by URI: a second delivery would still show
	// once. What it accepted is what antenne logged as delivered.
	if n := site.deliveries.count(note2 + "#create"); n != 1 {
		t.Errorf("the Create was delivered %d times, want once", n)
	}
}
