package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRemoteActorBounds checks that an actor whose document gives an
// inbox longer than maxURLLength cannot follow (and nothing of it is
// kept), while one at the bound can.
func TestRemoteActorBounds(t *testing.T) {
	s, base := newTestService(t, true)
	p := newPeer(t)
	var long bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := "http://" + r.Host + r.URL.Path
		inbox := actor + "/inbox?"
		n := maxURLLength
		if long {
			n++
		}
		inbox += strings.Repeat("a", n-len(inbox))
		w.Header().Set("Content-Type", contentType)
		json.NewEncoder(w).Encode(map[string]any{"id": actor, "type": "Person", "inbox": inbox,
			"publicKey": publicKey{ID: actor + "#main-key", Owner: actor, PublicKeyPEM: publicKeyPEM(p.key)}})
	}))
	defer evil.Close()
	for i, tc := range []struct {
		long bool
		want int
	}{{true, http.StatusBadGateway}, {false, http.StatusAccepted}} {
		long = tc.long
		actor := fmt.Sprintf("%s/users/u%d", evil.URL, i)
		follow := []byte(`{"id":"` + actor + `#follow","type":"Follow","actor":"` + actor + `","object":"` + base + `/ap/shows/lvel"}`)
		q := &peer{key: p.key, actor: actor}
		if got := q.post(t, base+"/ap/inbox", follow, p.key, time.Now(), nil); got != tc.want {
			t.Errorf("inbox over the bound: %v: got HTTP %d, want %d", tc.long, got, tc.want)
		}
	}
	if n := followersNow(t, s); n != 1 {
		t.Errorf("%d followers, want only the one whose inbox is within the bound", n)
	}
	// An activity whose id is over the bound is refused outright.
	follow := []byte(`{"id":"` + p.actor + "#" + strings.Repeat("<", 250000) + `","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
	if got := p.post(t, base+"/ap/inbox", follow, p.key, time.Now(), nil); got != http.StatusBadRequest {
		t.Errorf("Follow with a 250,000-byte id: got HTTP %d, want 400", got)
	}
}

// TestRemoteCacheBytes fills the cache of remote actors with 10 MiB of
// them: it keeps within maxCacheBytes, and keeps the newest.
func TestRemoteCacheBytes(t *testing.T) {
	var c fetchedCache[remoteActor]
	pad := strings.Repeat("a", 2000)
	for i := range 5000 {
		id := fmt.Sprintf("https://m.example/users/%d", i)
		c.put(id, remoteActor{ID: id, Inbox: id + "/inbox?" + pad})
	}
	if c.bytes > maxCacheBytes {
		t.Errorf("cache holds %d bytes, want at most %d", c.bytes, maxCacheBytes)
	}
	if _, ok := c.get("https://m.example/users/4999"); !ok {
		t.Error("the newest actor was dropped")
	}
	if _, ok := c.get("https://m.example/users/0"); ok {
		t.Error("the oldest actor is still there: the cache holds everything")
	}
}
