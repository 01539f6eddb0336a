package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStudioModeratesReplies: a host of the show sees its episodes'
// replies in the studio, hides one (it leaves the episode's page),
// turns approval on (a reply not approved leaves the page), approves it
// and blocks a server (its replies leave the page); a host of another
// show cannot.
func TestStudioModeratesReplies(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	id := env.upload(t, "alice", "lvel")
	ep, err := env.svc.Publish(t.Context(), "lvel", id, "")
	if err != nil {
		t.Fatal(err)
	}
	const reply = "https://mastodon.example/users/carol/statuses/1"
	doc, _ := json.Marshal(map[string]any{"show": "lvel", "episode": id, "replies": []map[string]any{{
		"id": reply, "in_reply_to": env.srv.URL + "/ap/shows/lvel/notes/" + id, "author": "https://mastodon.example/users/carol",
		"name": "Carol", "handle": "@carol@mastodon.example", "profile": "https://mastodon.example/@carol",
		"content": "<p>Merci pour cet épisode !</p>", "published": "2026-12-01T10:00:00Z",
	}}})
	if _, err := env.store.Put(t.Context(), "shows/lvel/replies/"+id+".json", bytes.NewReader(doc), int64(len(doc)), "application/json"); err != nil {
		t.Fatal(err)
	}
	page := "/lvel/" + ep.Slug
	onPage := func() bool {
		t.Helper()
		_, body := env.do(nil, "GET", page, nil, nil)
		return strings.Contains(body, "Merci pour cet épisode")
	}
	if !onPage() {
		t.Fatal("the reply is not on the episode's page")
	}
	bob := env.login("bob")
	if resp, _ := env.do(bob, "GET", "/studio/lvel/replies", nil, nil); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		t.Errorf("another show's host: HTTP %d", resp.StatusCode)
	}
	alice := env.login("alice")
	resp, body := env.do(alice, "GET", "/studio/lvel/replies", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Merci pour cet épisode") || !strings.Contains(body, "@carol@mastodon.example") {
		t.Fatalf("studio replies: HTTP %d\n%s", resp.StatusCode, body)
	}
	post := func(kv ...string) {
		t.Helper()
		b, h := form(kv...)
		if resp, out := env.do(alice, "POST", "/studio/lvel/replies", b, h); resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "error") {
			t.Fatalf("%v: HTTP %d %s %s", kv, resp.StatusCode, resp.Header.Get("Location"), out)
		}
	}
	wait := func(want bool, what string) {
		t.Helper()
		for range 60 { // the page's thread is cached 10 s at most
			if onPage() == want {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("%s: the reply on the page is still %v", what, !want)
	}
	post("action", "hide", "episode", id, "id", reply)
	wait(false, "hidden")
	post("action", "unhide", "episode", id, "id", reply)
	wait(true, "shown again")
	post("action", "approval", "approval", "on")
	wait(false, "approval on")
	post("action", "approve", "episode", id, "id", reply)
	wait(true, "approved")
	post("action", "block", "who", "mastodon.example")
	wait(false, "server blocked")
	_, body = env.do(alice, "GET", "/studio/lvel/replies", nil, nil)
	if !strings.Contains(body, "<code>mastodon.example</code>") {
		t.Error("the blocked server is not listed")
	}
}
