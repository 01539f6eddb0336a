package federation_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
)

// TestDocuments checks the documents a fediverse server reads before
// following a show (WebFinger, actor, NodeInfo, outbox, followers), the
// handle on the show's page, and that turning federation off hides all of
// it.
func TestDocuments(t *testing.T) {
	s := newSite(t, testClient())
	actor := s.base + "/ap/shows/lvel"

	status, typ, _, body := s.get("/.well-known/webfinger?resource=acct:lvel@"+s.host, "")
	if status != http.StatusOK || typ != "application/jrd+json" || !strings.Contains(body, `"href":"`+actor+`"`) {
		t.Errorf("webfinger: %d %s %s", status, typ, body)
	}
	if status, _, _, _ := s.get("/.well-known/webfinger?resource=acct:lvel@elsewhere.example", ""); status != http.StatusNotFound {
		t.Errorf("webfinger of another host: %d, want 404", status)
	}

	status, typ, _, body = s.get("/ap/shows/lvel", "application/activity+json")
	var doc struct {
		ID, Type, Inbox, Outbox, Followers, PreferredUsername string
		Endpoints                                             map[string]string
		PublicKey                                             struct{ ID, Owner, PublicKeyPem string }
	}
	if err := json.Unmarshal([]byte(body), &doc); status != http.StatusOK || typ != "application/activity+json" || err != nil {
		t.Fatalf("actor: %d %s %v %s", status, typ, err, body)
	}
	if doc.ID != actor || doc.Type != "Service" || doc.PreferredUsername != "lvel" || doc.Inbox != actor+"/inbox" ||
		doc.Endpoints["sharedInbox"] != s.base+"/ap/inbox" || doc.PublicKey.ID != actor+"#main-key" ||
		doc.PublicKey.Owner != actor || !strings.HasPrefix(doc.PublicKey.PublicKeyPem, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("actor document: %+v", doc)
	}
	if keys := s.keys("secrets/actors/"); len(keys) != 1 || keys[0] != "secrets/actors/lvel.pem" {
		t.Errorf("keys in the bucket: %q, want secrets/actors/lvel.pem", keys)
	}

	status, _, _, body = s.get("/.well-known/nodeinfo", "")
	if status != http.StatusOK || !strings.Contains(body, s.base+"/nodeinfo/2.1") {
		t.Errorf("nodeinfo links: %d %s", status, body)
	}
	status, _, _, body = s.get("/nodeinfo/2.1", "")
	if status != http.StatusOK || !strings.Contains(body, `"protocols":["activitypub"]`) {
		t.Errorf("nodeinfo: %d %s", status, body)
	}

	ep := s.addEpisode("Les communs", "Des **notes**.", 440)
	if _, err := s.catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	status, _, _, body = s.get("/ap/shows/lvel/outbox?page=1", "application/activity+json")
	if status != http.StatusOK || !strings.Contains(body, `"type":"Create"`) || !strings.Contains(body, "Les communs") ||
		!strings.Contains(body, `"type":"Audio"`) || !strings.Contains(body, `"name":"#Picasoft"`) {
		t.Errorf("outbox page: %d %s", status, body)
	}
	status, _, _, body = s.get("/ap/shows/lvel/notes/"+ep.ID, "application/activity+json")
	if status != http.StatusOK || !strings.Contains(body, `"type":"Note"`) || strings.Contains(body, "**") {
		t.Errorf("note: %d %s", status, body)
	}
	status, _, _, body = s.get("/ap/shows/lvel/followers", "application/activity+json")
	if status != http.StatusOK || !strings.Contains(body, `"totalItems":0`) {
		t.Errorf("followers: %d %s", status, body)
	}

	// The show's page shows the handle, and sends fediverse servers to the actor.
	status, _, _, body = s.get("/lvel/", "text/html")
	if status != http.StatusOK || !strings.Contains(body, "@lvel@"+s.host) || !strings.Contains(body, "Mastodon") {
		t.Errorf("show page lacks the handle: %d", status)
	}
	if status, _, loc, _ := s.get("/lvel/", "application/activity+json"); status != http.StatusSeeOther || loc != actor {
		t.Errorf("show page asked for ActivityPub: %d %q, want 303 to %s", status, loc, actor)
	}

	if _, err := s.catalog.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error { sh.FediverseOff = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/ap/shows/lvel", "/ap/shows/lvel/outbox", "/.well-known/webfinger?resource=acct:lvel@" + s.host} {
		if status, _, _, _ := s.get(path, "application/activity+json"); status != http.StatusNotFound {
			t.Errorf("federation off: %s answers %d, want 404", path, status)
		}
	}
	if _, _, _, body := s.get("/lvel/", "text/html"); strings.Contains(body, "@lvel@") {
		t.Error("federation off: the show page still shows the handle")
	}
}
