package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes/episodestest"
)

// cli runs antenne commands in-process on one local data folder.
type cli struct {
	t    *testing.T
	vars map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, vars: map[string]string{
		"ANTENNE_DATA_DIR": t.TempDir(),
		"ANTENNE_BASE_URL": "https://radio.picasoft.net",
	}}
}

// run returns the exit status, stdout and stderr of `antenne args...`.
func (c *cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(c.t.Context(), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: envFrom(c.vars)})
	code := report(err, &stderr)
	return code, stdout.String(), stderr.String()
}

// ok runs args and fails the test unless it exits 0.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != 0 {
		c.t.Fatalf("antenne %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestCLIPublishLifecycle(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	studio := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 3, Tags: map[string]string{"title": "Les communs", "date": "2021-02-05"}})
	mumble := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 3, Frequency: 600})

	if code, _, errOut := c.run("publish", studio); code != 1 || !strings.Contains(errOut, "shows create") {
		t.Errorf("publish with no show: got exit %d %q, want 1 telling how to create a show", code, errOut)
	}
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre", "--email", "radio@picasoft.net",
		"--category", "Society & Culture/Documentary", "--air-day", "vendredi", "--air-time", "09:30")

	out := c.ok("publish", studio, "--host", "Alice")
	if got := strings.TrimSpace(out); got != "https://radio.picasoft.net/lvel/les-communs" {
		t.Errorf("publish printed %q, want the episode URL", got)
	}
	out = c.ok("publish", mumble, "--title", "Depuis Mumble", "--draft", "--aired", "2021-02-12T09:30")
	if !strings.HasSuffix(strings.TrimSpace(out), "/lvel/depuis-mumble") {
		t.Errorf("publish --draft printed %q", out)
	}
	if code, _, errOut := c.run("publish", studio); code != 1 || !strings.Contains(errOut, "already uploaded") {
		t.Errorf("same file again: got exit %d %q, want 1 saying it was already uploaded", code, errOut)
	}

	var list []struct {
		Slug            string  `json:"slug"`
		Title           string  `json:"title"`
		Status          string  `json:"status"`
		DurationSeconds float64 `json:"duration_seconds"`
		AiredAt         string  `json:"aired_at"`
		Persons         []struct {
			Name, Role string
		} `json:"persons"`
		Original *struct {
			Type string `json:"type"`
		} `json:"original"`
	}
	if err := json.Unmarshal([]byte(c.ok("episodes", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("episodes list: got %d episodes, want 2", len(list))
	}
	draft, pub := list[0], list[1]
	if draft.Slug != "depuis-mumble" || draft.Status != "draft" || draft.Original == nil || draft.AiredAt != "2021-02-12T08:30:00Z" {
		t.Errorf("draft: got %+v", draft)
	}
	if pub.Slug != "les-communs" || pub.Status != "published" || len(pub.Persons) != 1 || pub.Persons[0].Role != "host" {
		t.Errorf("published: got %+v", pub)
	}
	if pub.DurationSeconds < 2.9 || pub.DurationSeconds > 3.1 {
		t.Errorf("duration: got %v s, want 3", pub.DurationSeconds)
	}

	c.ok("episodes", "schedule", "depuis-mumble", "--at", "2099-01-01T09:30")
	if out := c.ok("episodes", "list", "--status", "scheduled"); !strings.Contains(out, "depuis-mumble") {
		t.Errorf("scheduled list:\n%s", out)
	}
	c.ok("episodes", "publish", "depuis-mumble")
	c.ok("episodes", "unpublish", "les-communs")
	if out := c.ok("episodes", "show", "les-communs"); !strings.Contains(out, "draft") {
		t.Errorf("after unpublish:\n%s", out)
	}
	c.ok("episodes", "delete", "les-communs")
	if code, _, _ := c.run("episodes", "show", "les-communs"); code != 1 {
		t.Errorf("show a deleted episode: got exit %d, want 1", code)
	}
}

func TestCLIUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	for _, args := range [][]string{
		{"shows"},
		{"shows", "frobnicate"},
		{"shows", "create", "--title", "No slug"},
		{"shows", "create", "other"},
		{"shows", "edit", "lvel", "--air-day", "someday"},
		{"episodes", "list", "--status", "gone"},
		{"episodes", "schedule", "x"},
		{"publish"},
		{"publish", "a.mp3", "--draft", "--at", "2099-01-01"},
		{"publish", "a.mp3", "--aired", "yesterday"},
		{"publish", "a.mp3", "--at", "2001-01-01"},
	} {
		if code, _, errOut := c.run(args...); code != 2 {
			t.Errorf("antenne %s: got exit %d (%s), want 2", strings.Join(args, " "), code, strings.TrimSpace(errOut))
		}
	}
	if code, _, errOut := c.run("shows", "create", "Bad Slug", "--title", "x"); code != 1 || !strings.Contains(errOut, "slug") {
		t.Errorf("bad slug: got exit %d %q, want 1 naming the slug", code, errOut)
	}
}

// TestCLIShowsLive sets, changes and removes a show's live stream.
func TestCLIShowsLive(t *testing.T) {
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre", "--air-day", "vendredi", "--air-time", "9h30", "--station", "Graf'hit")
	type live struct {
		URL     string   `json:"url"`
		Type    string   `json:"type"`
		Minutes int      `json:"minutes"`
		Skip    []string `json:"skip_dates"`
	}
	showLive := func() (*live, map[string]any) {
		t.Helper()
		var list []struct {
			Live    *live          `json:"live"`
			AirSlot map[string]any `json:"air_slot"`
		}
		if err := json.Unmarshal([]byte(c.ok("shows", "list", "--json")), &list); err != nil || len(list) != 1 {
			t.Fatalf("shows list --json: %v, %d shows", err, len(list))
		}
		return list[0].Live, list[0].AirSlot
	}
	c.ok("shows", "edit", "lvel", "--live-url", "https://stream.grafhit.net/live.mp3", "--skip-date", "2020-12-25", "--skip-date", "2021-01-01,2020-12-25")
	l, slot := showLive()
	if l == nil || l.URL != "https://stream.grafhit.net/live.mp3" || l.Type != "" || l.Minutes != 0 || strings.Join(l.Skip, " ") != "2020-12-25 2021-01-01" {
		t.Errorf("after --live-url: got %+v", l)
	}
	if slot["weekday"] != 5.0 || slot["hour"] != 9.0 || slot["minute"] != 30.0 || slot["station"] != "Graf'hit" {
		t.Errorf("air slot: got %v", slot)
	}
	c.ok("shows", "edit", "lvel", "--live-type", "audio/aac", "--live-minutes", "60", "--air-time", "10:00")
	l, slot = showLive()
	if l == nil || l.URL != "https://stream.grafhit.net/live.mp3" || l.Type != "audio/aac" || l.Minutes != 60 || len(l.Skip) != 2 {
		t.Errorf("after --live-type and --live-minutes: got %+v", l)
	}
	if slot["weekday"] != 5.0 || slot["hour"] != 10.0 || slot["station"] != "Graf'hit" {
		t.Errorf("air slot after --air-time: got %v", slot)
	}
	for _, args := range [][]string{
		{"--live-url", "javascript:alert(1)"},
		{"--live-url", "ftp://stream.example/live"},
		{"--live-minutes", "2000"},
		{"--live-type", "text/html"},
	} {
		if code, _, errOut := c.run(append([]string{"shows", "edit", "lvel"}, args...)...); code != 1 || !strings.Contains(errOut, "live") {
			t.Errorf("shows edit %v: got exit %d %q, want 1 naming the live setting", args, code, errOut)
		}
	}
	for _, args := range [][]string{
		{"--skip-date", "Noël"},
		{"--no-live", "--live-url", "https://x.example/"},
	} {
		if code, _, errOut := c.run(append([]string{"shows", "edit", "lvel"}, args...)...); code != 2 {
			t.Errorf("shows edit %v: got exit %d %q, want 2", args, code, errOut)
		}
	}
	c.ok("shows", "edit", "lvel", "--no-live")
	if l, _ := showLive(); l != nil {
		t.Errorf("after --no-live: got %+v, want none", l)
	}
}
