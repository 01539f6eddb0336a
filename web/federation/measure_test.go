package federation

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// TestMeasureHostileActors measures what 300 signed Follows from actors
// whose documents give huge inbox URLs cost: the heap after a GC, and the
// bytes of followers and deliveries in the bucket, after the Follows and
// after one publication. It only logs (a measurement, not an assertion):
// run it with ANTENNE_FED_MEASURE=<inbox length in bytes>, e.g.
//
//	ANTENNE_FED_MEASURE=900000 go test ./web/federation -run TestMeasureHostileActors -v
func TestMeasureHostileActors(t *testing.T) {
	inboxLen, err := strconv.Atoi(os.Getenv("ANTENNE_FED_MEASURE"))
	if err != nil {
		t.Skip("set ANTENNE_FED_MEASURE to the inbox length to measure")
	}
	s, base := newTestService(t, true)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var evil *httptest.Server
	evil = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := evil.URL + r.URL.Path
		pad := strings.Repeat("a", max(0, inboxLen-len(actor)-7))
		w.Header().Set("Content-Type", contentType)
		json.NewEncoder(w).Encode(map[string]any{
			"id": actor, "type": "Person", "inbox": actor + "/inbox?" + pad,
			"publicKey": publicKey{ID: actor + "#main-key", Owner: actor, PublicKeyPEM: publicKeyPEM(key)},
		})
	}))
	defer evil.Close()
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	bucketBytes := func() float64 {
		var n int64
		for _, prefix := range []string{followersPrefix("lvel"), outboxPrefix} {
			for info, err := range s.cfg.Store.List(t.Context(), prefix) {
				if err != nil {
					t.Fatal(err)
				}
				n += info.Size
			}
		}
		return float64(n) / (1 << 20)
	}
	t.Logf("before: heap %.1f MiB, bucket %.2f MiB", heap(), bucketBytes())
	codes := map[int]int{}
	for i := range 300 {
		p := &peer{key: key, actor: fmt.Sprintf("%s/users/u%d", evil.URL, i)}
		follow := []byte(`{"id":"` + p.actor + `#follow","type":"Follow","actor":"` + p.actor + `","object":"` + base + `/ap/shows/lvel"}`)
		codes[p.post(t, base+"/ap/inbox", follow, key, time.Now(), nil)]++
	}
	t.Logf("300 Follows with inboxes of %d bytes: answers %v; heap %.1f MiB, bucket %.2f MiB", inboxLen, codes, heap(), bucketBytes())
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2})
	if _, err := s.cfg.Catalog.Ingest(t.Context(), episodes.Upload{Show: "lvel", Path: mp3, Title: "Les communs", PublishAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Announce(t.Context()); err != nil {
		t.Logf("announce: %v", err)
	}
	t.Logf("after one publication: heap %.1f MiB, bucket %.2f MiB", heap(), bucketBytes())
}

// TestMeasureFollowerCount measures 100 follower counts (what each GET of
// /ap/shows/<show>/followers does) with ANTENNE_FED_MEASURE_FOLLOWERS
// followers in the bucket. It only logs:
//
//	ANTENNE_FED_MEASURE_FOLLOWERS=10000 go test ./web/federation -run TestMeasureFollowerCount -v
func TestMeasureFollowerCount(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("ANTENNE_FED_MEASURE_FOLLOWERS"))
	if err != nil {
		t.Skip("set ANTENNE_FED_MEASURE_FOLLOWERS to the number of followers")
	}
	s, _ := newTestService(t, true)
	for i := range n {
		actor := fmt.Sprintf("https://m%d.example/users/u%d", i%50, i)
		data, _ := json.Marshal(follower{Actor: actor, Inbox: actor + "/inbox", SharedInbox: fmt.Sprintf("https://m%d.example/inbox", i%50)})
		if _, err := s.cfg.Store.PutIf(t.Context(), followerKey("lvel", actor), strings.NewReader(string(data)), int64(len(data)), "application/json", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, round := range []string{"first", "next"} {
		start := time.Now()
		for range 100 {
			if _, err := s.FollowerCount(t.Context(), "lvel"); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s 100 counts of %d followers: %v", round, n, time.Since(start).Round(time.Millisecond))
	}
}
