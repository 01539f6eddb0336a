package federation_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEpisodePageReplies: the episode's page shows the replies kept of
// its post as a thread (display name, handle linking to the profile,
// date, text), the counts of likes and boosts and how to reply from the
// fediverse, in French and in English; nothing is loaded from the
// authors' servers.
func TestEpisodePageReplies(t *testing.T) {
	site := newSite(t, testClient())
	ep := site.addEpisode("Les communs numériques", "On parle des communs.", 440)
	if _, err := site.catalog.Publish(t.Context(), "lvel", ep.ID, ""); err != nil {
		t.Fatal(err)
	}
	post := site.fed.PostURI("lvel", ep.ID)
	// The thread as the inbox keeps it (TestReplies sends it there).
	doc, _ := json.Marshal(map[string]any{
		"show": "lvel", "episode": ep.ID,
		"replies": []map[string]any{
			{"id": "https://mastodon.example/users/alice/statuses/1", "in_reply_to": post, "author": "https://mastodon.example/users/alice",
				"name": "Alice Liddell", "handle": "@alice@mastodon.example", "profile": "https://mastodon.example/@alice",
				"url": "https://mastodon.example/@alice/1", "content": "<p>Super épisode sur les communs !</p>", "published": "2026-12-01T10:00:00Z"},
			{"id": "https://gts.example/users/bob/statuses/2", "in_reply_to": "https://mastodon.example/users/alice/statuses/1", "author": "https://gts.example/users/bob",
				"handle": "@bob@gts.example", "profile": "https://gts.example/@bob", "content": "<p>D'accord avec Alice.</p>", "published": "2026-12-01T11:00:00Z"},
		},
		"likes": []string{"a", "b", "c"}, "boosts": []string{"d"},
	})
	if _, err := site.store.Put(t.Context(), "shows/lvel/replies/"+ep.ID+".json", bytes.NewReader(doc), int64(len(doc)), "application/json"); err != nil {
		t.Fatal(err)
	}
	page := "/lvel/" + ep.Slug
	status, _, _, body := site.get(page+"?lang=fr", "text/html")
	if status != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", page, status)
	}
	for _, want := range []string{
		"Réponses du fédivers", "J&#39;aime : 3 · partages : 1", "Alice Liddell",
		`href="https://mastodon.example/@alice"`, "@alice@mastodon.example", "Super épisode sur les communs !",
		"@bob@gts.example", "<p>D'accord avec Alice.</p>", "reply depth-1", `datetime="2026-12-01T10:00:00Z"`,
		"Répondre depuis le fédivers", "@lvel@" + site.host, `value="` + post + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if i, j := strings.Index(body, "Alice Liddell"), strings.Index(body, "@bob@gts.example"); i < 0 || j < i {
		t.Error("the reply to the reply is not after it")
	}
	for _, host := range []string{"mastodon.example", "gts.example"} {
		if strings.Contains(body, `src="https://`+host) {
			t.Errorf("the page loads something from %s", host)
		}
	}
	_, _, _, en := site.get(page+"?lang=en", "text/html")
	for _, want := range []string{"Replies from the fediverse", "Likes: 3 · boosts: 1", "Reply from the fediverse"} {
		if !strings.Contains(en, want) {
			t.Errorf("the English page lacks %q", want)
		}
	}
}
