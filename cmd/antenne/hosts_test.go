package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/accounts"
)

// runIn runs args with stdin as the standard input.
func (c *cli) runIn(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(c.t.Context(), args, &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, getenv: envFrom(c.vars)})
	return report(err, &stderr), stdout.String(), stderr.String()
}

func TestCLIHosts(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"admin with --password", "", []string{"hosts", "add", "root", "--admin", "--password", "admin password"}, 0, "added root (admin)"},
		{"host from stdin", "correct horse\n", []string{"hosts", "add", "alice", "--show", "lvel", "--password-stdin", "--name", "Alice"}, 0, "added alice (host of lvel)"},
		{"no password, no terminal", "", []string{"hosts", "add", "bob"}, 2, "--password-stdin"},
		{"empty stdin", "", []string{"hosts", "add", "bob", "--password-stdin"}, 2, "empty"},
		{"unknown show", "", []string{"hosts", "add", "bob", "--show", "nope", "--password", "whatever123"}, 2, `no show "nope"`},
		{"short password", "", []string{"hosts", "add", "bob", "--password", "short"}, 1, "shorter than 8"},
		{"taken login", "", []string{"hosts", "add", "alice", "--password", "whatever123"}, 1, "already exists"},
		{"bad login", "", []string{"hosts", "add", "Bob!", "--password", "whatever123"}, 1, "not a login"},
		{"both password flags", "x\n", []string{"hosts", "add", "bob", "--password", "whatever123", "--password-stdin"}, 2, "exclude"},
		{"remove unknown", "", []string{"hosts", "remove", "nobody"}, 1, `no host "nobody"`},
		{"passwd unknown", "new password\n", []string{"hosts", "passwd", "nobody", "--password-stdin"}, 1, `no host "nobody"`},
		{"passwd", "battery staple\n", []string{"hosts", "passwd", "alice", "--password-stdin"}, 0, "password of alice changed"},
		{"revoke unknown token", "", []string{"hosts", "token", "revoke", "alice", "abc"}, 1, `no token "abc"`},
		{"token without login", "", []string{"hosts", "token", "create"}, 2, "LOGIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := c.runIn(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("antenne %s: got exit %d %q %q, want %d containing %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.want)
			}
		})
	}

	out := c.ok("hosts", "token", "create", "alice")
	words := strings.Fields(out)
	token := words[len(words)-1]
	if !strings.HasPrefix(token, "ant_") || len(token) < 40 {
		t.Fatalf("token create printed %q, want a token as its last word", out)
	}

	var list []struct {
		Login       string   `json:"login"`
		Admin       bool     `json:"admin"`
		Shows       []string `json:"shows"`
		HasPassword bool     `json:"has_password"`
		Tokens      []struct {
			ID string `json:"id"`
		} `json:"tokens"`
	}
	raw := c.ok("hosts", "list", "--json")
	if strings.Contains(raw, token) || strings.Contains(raw, "$2a$") {
		t.Errorf("hosts list --json shows a secret: %s", raw)
	}
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		t.Fatalf("hosts list --json: %v\n%s", err, raw)
	}
	if len(list) != 2 || list[0].Login != "alice" || !list[0].HasPassword || len(list[0].Tokens) != 1 || list[0].Shows[0] != "lvel" || !list[1].Admin {
		t.Fatalf("hosts list --json: got %+v", list)
	}
	if out := c.ok("hosts", "list"); !strings.Contains(out, "alice") || !strings.Contains(out, "admin") {
		t.Errorf("hosts list: got %q", out)
	}
	if out := c.ok("hosts", "token", "revoke", "alice", list[0].Tokens[0].ID); !strings.Contains(out, "revoked") {
		t.Errorf("token revoke: got %q", out)
	}
	c.ok("hosts", "remove", "alice")
	if out := c.ok("hosts", "list"); strings.Contains(out, "alice") {
		t.Errorf("hosts list after remove: got %q", out)
	}
}

// serveDataDir serves the CLI's data folder through the web API, over
// https://radio.picasoft.net links, until the test ends.
func serveDataDir(t *testing.T, c *cli, opts episodes.Options) (*episodes.Service, *httptest.Server) {
	t.Helper()
	store, err := storage.NewDir(c.vars["ANTENNE_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	svc := episodes.NewService(store, opts)
	if err := svc.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	hosts := accounts.New(store, svc, nil)
	if err := hosts.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	links, _ := feed.NewLinks("https://radio.picasoft.net", "")
	srv, err := web.New(web.Config{Catalog: svc, Accounts: hosts, Store: store, Links: links, MaxUpload: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return svc, ts
}

func TestCLIPublishRemote(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	c.ok("shows", "create", "other", "--title", "Autre")
	c.ok("hosts", "add", "alice", "--show", "lvel", "--password", "correct horse")
	words := strings.Fields(c.ok("hosts", "token", "create", "alice"))
	token := words[len(words)-1]

	svc, ts := serveDataDir(t, c, episodes.Options{})

	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Tags: map[string]string{"title": "Les communs"}})
	out := c.ok("publish", "--server", ts.URL, "--token", token, mp3, "--theme", "Communs")
	if got := strings.TrimSpace(out); got != "https://radio.picasoft.net/lvel/les-communs" {
		t.Errorf("publish --server printed %q, want the episode URL", got)
	}
	e, err := svc.EpisodeBySlug("lvel", "les-communs")
	if err != nil || e.Theme != "Communs" || e.Status(svc.Now()) != episodes.Published {
		t.Errorf("published episode: got %+v, %v", e, err)
	}
	// A draft's public URL answers 404: publish prints its studio page.
	draft := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Frequency: 660, Tags: map[string]string{"title": "Brouillon"}})
	out = c.ok("publish", "--server", ts.URL, "--token", token, "--draft", draft)
	d, err := svc.EpisodeBySlug("lvel", "brouillon")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(out), ts.URL+"/studio/lvel/"+d.ID; got != want {
		t.Errorf("publish --draft --server printed %q, want the studio URL %q", got, want)
	}
	c.vars["ANTENNE_SERVER"], c.vars["ANTENNE_TOKEN"] = ts.URL, token
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"duplicate", []string{"publish", mp3}, 1, "already uploaded"},
		{"other show", []string{"publish", mp3, "--show", "other"}, 1, "forbidden"},
		{"bad token", []string{"publish", mp3, "--token", "ant_nope"}, 1, "unauthorized"},
		{"missing file", []string{"publish", "/nonexistent.mp3"}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := c.run(tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("got exit %d %q %q, want %d with %q", code, out, errOut, tc.code, tc.want)
			}
		})
	}
}

// TestCLIPublishRemoteWaits publishes a Mumble WAV to a server that
// processes it in the background: publish returns once the episode is
// published; with --no-wait, at the 202 with the episode's API URL.
func TestCLIPublishRemoteWaits(t *testing.T) {
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	c.ok("hosts", "add", "alice", "--show", "lvel", "--password", "correct horse")
	words := strings.Fields(c.ok("hosts", "token", "create", "alice"))
	token := words[len(words)-1]
	svc, ts := serveDataDir(t, c, episodes.Options{JobScanInterval: 50 * time.Millisecond})

	// --no-wait: the episode is still processing when publish returns, and
	// nothing runs the jobs yet.
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 10, Tags: map[string]string{"title": "Le fédivers"}})
	out := strings.TrimSpace(c.ok("publish", "--server", ts.URL, "--token", token, "--no-wait", wav))
	if !strings.HasPrefix(out, ts.URL+"/api/v1/shows/lvel/episodes/") {
		t.Errorf("publish --no-wait printed %q, want the episode's API URL", out)
	}
	eps, _ := svc.Episodes("lvel", episodes.ListOptions{Status: episodes.Processing})
	if len(eps) != 1 {
		t.Fatalf("processing episodes after --no-wait: got %d, want 1", len(eps))
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { svc.RunJobs(ctx, 1, nil) })
	defer func() { cancel(); wg.Wait() }()
	other := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 10, Frequency: 550, Tags: map[string]string{"title": "Les communs"}})
	out = strings.TrimSpace(c.ok("publish", "--server", ts.URL, "--token", token, other))
	if out != "https://radio.picasoft.net/lvel/les-communs" {
		t.Errorf("publish --server printed %q, want the episode URL", out)
	}
	if e, err := svc.EpisodeBySlug("lvel", "les-communs"); err != nil || e.Status(svc.Now()) != episodes.Published || e.Media.Type != "audio/mpeg" {
		t.Errorf("after publish returned: got %+v, %v; want the episode published as MP3", e, err)
	}
}
