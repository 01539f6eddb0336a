package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var playerSrc = regexp.MustCompile(`<audio id="player"[^>]*\ssrc="([^"]+)"`)

// pagePlays fetches the episode page at base+path and returns the SHA-256
// of the recording its player plays, or the page's status when it is not
// 200.
func pagePlays(t *testing.T, base, path string) (status int, sum string) {
	t.Helper()
	code, page, _ := get(t, base+path)
	if code != http.StatusOK {
		return code, ""
	}
	m := playerSrc.FindSubmatch(page)
	if m == nil {
		t.Fatalf("%s%s has no player:\n%s", base, path, page)
	}
	code, audio, _ := get(t, base+string(m[1]))
	if code != http.StatusOK {
		t.Fatalf("%s%s: GET %s: %d", base, path, m[1], code)
	}
	return http.StatusOK, sha256Hex(audio)
}

// TestReplicasShareOneBucket runs two `antenne serve` and the CLI on one
// MinIO bucket: what must be unique stays unique, what must be seen is
// seen, whatever replica a request reaches.
func TestReplicasShareOneBucket(t *testing.T) {
	site := newFaultSite(t)
	replicas := []string{site.serve(t).url, site.serve(t).url}
	const title = "Sobriété numérique"

	// 24 recordings, one title: 8 uploads through each replica's API and
	// 8 `antenne publish`, all at once.
	const n = 24
	paths := make([]string, n)
	sums := map[string]bool{}
	for i := range paths {
		paths[i] = episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 200 + 37*i})
		b, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		sums[sha256Hex(b)] = true
	}
	if len(sums) != n {
		t.Fatalf("%d distinct recordings, want %d", len(sums), n)
	}
	var wg sync.WaitGroup
	for i, path := range paths {
		wg.Go(func() {
			if i%3 == 2 {
				if code, out, errOut := site.cli.run("publish", path, "--title", title); code != 0 {
					t.Errorf("antenne publish %d: exit %d\n%s%s", i, code, out, errOut)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			u := replicas[i%3] + "/api/v1/shows/lvel/episodes?title=" + url.QueryEscape(title)
			req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+site.token)
			req.Header.Set("Content-Type", "audio/mpeg")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted {
				t.Errorf("upload %d to %s: %d %s", i, replicas[i%3], resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	svc := episodes.NewService(site.store, episodes.Options{})
	if err := svc.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	eps, err := svc.Episodes("lvel", episodes.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]string{} // slug -> SHA-256 of its recording
	for _, e := range eps {
		if _, dup := slugs[e.Slug]; dup {
			t.Errorf("slug %q given twice", e.Slug)
		}
		if !sums[e.Media.SHA256] {
			t.Errorf("episode %s: media %s is none of the uploads", e.Slug, e.Media.SHA256)
		}
		slugs[e.Slug] = e.Media.SHA256
	}
	if len(eps) != n || len(slugs) != n {
		t.Fatalf("got %d episodes with %d distinct slugs, want %d and %d", len(eps), len(slugs), n, n)
	}
	r, err := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems)+len(r.Slugs) > 0 {
		t.Errorf("check: problems %v, slugs %v", r.Problems, r.Slugs)
	}

	// On both replicas, every page plays its own recording.
	for _, base := range replicas {
		played := map[string]bool{}
		for slug, want := range slugs {
			deadline := time.Now().Add(20 * time.Second)
			code, got := pagePlays(t, base, "/lvel/"+slug)
			for code == http.StatusNotFound && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
				code, got = pagePlays(t, base, "/lvel/"+slug)
			}
			switch {
			case code != http.StatusOK:
				t.Errorf("%s/lvel/%s: got %d, want 200", base, slug, code)
			case got != want:
				t.Errorf("%s/lvel/%s plays %s, want its own recording %s", base, slug, got[:12], want[:12])
			}
			played[got] = true
		}
		if len(played) != n {
			t.Errorf("%s: the pages play %d distinct recordings, want %d", base, len(played), n)
		}
	}

	t.Run("concurrent edits of one revision", func(t *testing.T) {
		e := eps[0]
		codes := make([]int, 6)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				body := fmt.Sprintf(`{"title": "Titre %d"}`, i)
				req, _ := http.NewRequest(http.MethodPatch, replicas[i%2]+"/api/v1/shows/lvel/episodes/"+e.ID, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+site.token)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("If-Match", `"`+e.Revision+`"`)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[http.StatusOK] != 1 || count[http.StatusConflict] != len(codes)-1 {
			t.Errorf("statuses: got %v, want one 200 and %d 409", codes, len(codes)-1)
		}
	})

	t.Run("host added with the CLI signs in on both", func(t *testing.T) {
		site.cli.ok("hosts", "add", "bob", "--show", "lvel", "--password", "bob's long password")
		out := strings.Fields(site.cli.ok("hosts", "token", "create", "bob"))
		token, added := out[len(out)-1], time.Now()
		var wg sync.WaitGroup
		for _, base := range replicas {
			wg.Go(func() {
				// The API trusts the token on first sight: an unknown
				// token makes the replica read the accounts again.
				req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/shows", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: bob's token, made by the CLI %s before, refused: %d", base, time.Since(added), resp.StatusCode)
					return
				}
				// And bob signs in to the studio with his password.
				form := url.Values{"login": {"bob"}, "password": {"bob's long password"}}
				resp, err = noRedirects.PostForm(base+"/studio/login", form)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				var session *http.Cookie
				for _, c := range resp.Cookies() {
					if c.Value != "" {
						session = c
					}
				}
				if resp.StatusCode != http.StatusSeeOther || session == nil {
					t.Errorf("%s: sign in: got %d, cookie %v; want 303 with a session", base, resp.StatusCode, session)
					return
				}
				req, _ = http.NewRequest(http.MethodGet, base+"/studio/lvel/", nil)
				req.AddCookie(session)
				resp, err = noRedirects.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: bob's show in the studio: got %d to %q, want 200", base, resp.StatusCode, resp.Header.Get("Location"))
				}
			})
		}
		wg.Wait()
	})

	t.Run("two imports of one feed at once", func(t *testing.T) {
		const items = 5
		media := map[string]string{}
		var feedItems strings.Builder
		for i := 1; i <= items; i++ {
			media[fmt.Sprintf("/ep%d.mp3", i)] = episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 1500 + 50*i})
			fmt.Fprintf(&feedItems, `<item><title>Ancien épisode</title><guid>old-%d</guid><pubDate>Fri, 0%d Oct 2020 09:30:00 +0000</pubDate><enclosure url="ep%d.mp3" type="audio/mpeg"/></item>`, i, i, i)
		}
		feedXML := `<rss version="2.0"><channel><title>Vieux podcast</title><description>d</description>` + feedItems.String() + `</channel></rss>`
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/feed.xml" {
				w.Write([]byte(feedXML))
				return
			}
			if p, ok := media[r.URL.Path]; ok {
				http.ServeFile(w, r, p)
				return
			}
			http.NotFound(w, r)
		}))
		defer srv.Close()
		outs := make([]string, 2)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() {
				code, out, errOut := site.cli.run("import", srv.URL+"/feed.xml", "--show", "vieux")
				outs[i] = out
				if code != 0 {
					t.Errorf("import %d: exit %d\n%s%s", i, code, out, errOut)
				}
			})
		}
		wg.Wait()
		svc := episodes.NewService(site.store, episodes.Options{})
		if err := svc.Load(context.WithoutCancel(t.Context())); err != nil {
			t.Fatal(err)
		}
		eps, err := svc.Episodes("vieux", episodes.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		guids := map[string]int{}
		slugs := map[string]bool{}
		for _, e := range eps {
			guids[e.GUID]++
			slugs[e.Slug] = true
		}
		for i := 1; i <= items; i++ {
			if g := fmt.Sprintf("old-%d", i); guids[g] != 1 {
				t.Errorf("guid %s imported %d times, want once", g, guids[g])
			}
		}
		if len(eps) != items || len(slugs) != items {
			t.Errorf("got %d episodes with %d slugs, want %d\n%s\n%s", len(eps), len(slugs), items, outs[0], outs[1])
		}
		r, err := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems)+len(r.Slugs) > 0 {
			t.Errorf("check after the imports: problems %v, slugs %v", r.Problems, r.Slugs)
		}
	})
}

// TestCheckRepairsDuplicateSlugs writes into the bucket an episode with
// another's slug, as an antenne without claims could: check reports it,
// check --repair gives the younger one the next free slug, and the old
// page URL redirects to the new one once the slug is free.
func TestCheckRepairsDuplicateSlugs(t *testing.T) {
	site := newFaultSite(t)
	c := site.cli
	rec := func(freq int) string {
		return episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: freq})
	}
	c.ok("publish", rec(440), "--title", "Vie privée")
	c.ok("publish", rec(660), "--title", "Autre sujet")
	svc := episodes.NewService(site.store, episodes.Options{})
	if err := svc.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	older, err := svc.EpisodeBySlug("lvel", "vie-privee")
	if err != nil {
		t.Fatal(err)
	}
	younger, err := svc.EpisodeBySlug("lvel", "autre-sujet")
	if err != nil {
		t.Fatal(err)
	}
	// The younger takes the older's slug, bypassing the claims.
	key := "shows/lvel/episodes/" + younger.ID + ".json"
	rc, _, err := site.store.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.NewDecoder(rc).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	doc["slug"] = "vie-privee"
	data, _ := json.Marshal(doc)
	if _, err := site.store.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), "application/json"); err != nil {
		t.Fatal(err)
	}
	if err := site.store.Delete(t.Context(), "shows/lvel/slugs/autre-sujet.json"); err != nil {
		t.Fatal(err)
	}

	code, out, _ := c.run("check", "--no-hash")
	if code != 1 || !strings.Contains(out, "duplicate-slug") || !strings.Contains(out, younger.ID) {
		t.Errorf("check: got exit %d, want 1 naming the duplicate:\n%s", code, out)
	}
	out = c.ok("check", "--repair", "--no-hash")
	if !strings.Contains(out, "renamed") || !strings.Contains(out, "vie-privee -> vie-privee-2") {
		t.Errorf("check --repair: got\n%s", out)
	}
	if out := c.ok("check", "--no-hash"); !strings.Contains(out, "ok") {
		t.Errorf("check after the repair: got\n%s", out)
	}

	base := site.serve(t).url
	sumOf := func(e *episodes.Episode) string { return e.Media.SHA256 }
	for path, want := range map[string]string{"/lvel/vie-privee": sumOf(older), "/lvel/vie-privee-2": sumOf(younger)} {
		if code, got := pagePlays(t, base, path); code != http.StatusOK || got != want {
			t.Errorf("%s: got %d playing %.12s, want 200 playing %.12s", path, code, got, want)
		}
	}
	// The older moves on: the slug both had is free, and its page
	// redirects to the older one's new page (the older keeps it).
	req, _ := http.NewRequest(http.MethodPatch, base+"/api/v1/shows/lvel/episodes/"+older.ID, strings.NewReader(`{"slug": "la-vie-privee"}`))
	req.Header.Set("Authorization", "Bearer "+site.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rename: got %d", resp.StatusCode)
	}
	resp, err = noRedirects.Get(base + "/lvel/vie-privee")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/lvel/la-vie-privee" {
		t.Errorf("old page: got %d to %q, want 301 to /lvel/la-vie-privee", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, got := pagePlays(t, base, "/lvel/la-vie-privee"); code != http.StatusOK || got != sumOf(older) {
		t.Errorf("new page: got %d playing %.12s, want 200 playing %.12s", code, got, sumOf(older))
	}
}
