package federation_test

import (
	"net/http"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed/feedtest"
)

// TestFeedSocialInteract: each item of the feed of a federated show
// carries podcast:socialInteract with the URI of the episode's post and
// the show's account, as podcast-partytime (the Podcast Index's parser)
// reads it; a show whose federation is off has none.
func TestFeedSocialInteract(t *testing.T) {
	site := newSite(t, testClient())
	ep := site.addEpisode("Les communs numériques", "On parle des communs.", 440)
	if _, err := site.catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	want := "activitypub " + site.base + "/ap/shows/lvel/notes/" + ep.ID + " @lvel@" + site.host + " " + site.base + "/ap/shows/lvel"
	status, _, _, body := site.get("/lvel/feed.xml", "")
	if status != http.StatusOK {
		t.Fatalf("GET feed: HTTP %d", status)
	}
	parsed := feedtest.Parse(t, []byte(body), site.links.Feed("lvel"))
	pt, ok := parsed["partytime"]
	if !ok {
		t.Skip("podcast-partytime is not installed (NODE_PATH): the only parser that reads podcast:socialInteract")
	}
	if len(pt.Items) != 1 || pt.Items[0].Social != want {
		t.Fatalf("partytime read %+v, want one item with socialInteract %q", pt.Items, want)
	}

	if _, err := site.catalog.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error {
		sh.FediverseOff = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, _, _, body = site.get("/lvel/feed.xml", "")
	if pt := feedtest.Parse(t, []byte(body), site.links.Feed("lvel"))["partytime"]; len(pt.Items) != 1 || pt.Items[0].Social != "" {
		t.Fatalf("with federation off, partytime read %+v, want no socialInteract", pt.Items)
	}
}
