package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// axeScript is axe-core, the accessibility engine, from NODE_PATH (make
// deps installs it there). Without it the test is skipped, or fails
// under CI.
func axeScript(t *testing.T) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("NODE_PATH")) {
		if b, err := os.ReadFile(filepath.Join(dir, "axe-core", "axe.min.js")); err == nil {
			return string(b)
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("axe-core is required under CI (make deps installs it under NODE_PATH=%q)", os.Getenv("NODE_PATH"))
	}
	t.Skipf("axe-core not found under NODE_PATH=%q, skipping", os.Getenv("NODE_PATH"))
	return ""
}

// axeViolation is what axe-core reports of a broken rule.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// audit runs axe-core's WCAG 2.1 A and AA rules on the page open in ctx
// and returns the violations. The script is given to the page through
// the DevTools protocol, which the page's CSP does not restrict: the
// pages themselves load nothing but antenne's own files.
func audit(ctx context.Context, axe string) ([]axeViolation, error) {
	var out []axeViolation
	err := chromedp.Run(ctx,
		chromedp.Evaluate(axe+";true", nil),
		chromedp.Evaluate(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
			.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
				nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || ""))})))`, &out,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	return out, err
}

// a11yEpisode makes a published episode of twelve seconds with three
// chapters and a transcript of three cues, the second ending before the
// third starts.
func a11yEpisode(t *testing.T, env *studioEnv) *episodes.Episode {
	t.Helper()
	ctx := t.Context()
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 12, Tags: map[string]string{"title": "Les communs numériques"}})
	body, h := multipartBody(t, "communs.mp3", readFile(t, mp3), "draft", "true")
	h["Authorization"] = "Bearer " + env.tokens["alice"]
	resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes", body, h)
	if resp.StatusCode != 201 {
		t.Fatalf("upload: got %d %s", resp.StatusCode, out)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(out), &created)
	vtt := "WEBVTT\n\n00:00:00.000 --> 00:00:03.500\nBonjour et bienvenue.\n\n00:00:04.000 --> 00:00:07.500\nLes communs numériques.\n\n00:00:08.000 --> 00:00:12.000\nÀ la semaine prochaine.\n"
	if _, err := env.svc.SetTranscript(ctx, "lvel", created.ID, "", episodes.TranscriptFile{Data: []byte(vtt), Type: "text/vtt", Language: "fr"}); err != nil {
		t.Fatal(err)
	}
	e, err := env.svc.UpdateEpisode(ctx, "lvel", created.ID, "", func(e *episodes.Episode) error {
		e.Notes = "Avec **Alice** et [Picasoft](https://picasoft.net)."
		e.Chapters = []episodes.Chapter{{Start: 0, Title: "Introduction"}, {Start: 4 * time.Second, Title: "Les communs"}, {Start: 8 * time.Second, Title: "Conclusion"}}
		e.PublishNow(env.svc.Now())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBrowserAccessibility runs axe-core (WCAG 2.1 A and AA, colour
// contrast included) on every kind of page, public and studio, in light
// and dark mode, with the show's own colour: 0 violations.
func TestBrowserAccessibility(t *testing.T) {
	axe := axeScript(t)
	ctx := newBrowser(t)
	env := newStudioEnv(t, 0)
	base := env.srv.URL
	if _, err := env.svc.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error {
		sh.Accent = "#7a1f5c"
		sh.AirSlot = &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e := a11yEpisode(t, env)
	run := browserRun(t, ctx)
	run("sign in as an admin",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}),
		chromedp.Navigate(base+"/studio/login"),
		chromedp.SendKeys("#login", "root", chromedp.ByID),
		chromedp.SendKeys("#password", testPassword, chromedp.ByID),
		chromedp.Submit("#password", chromedp.ByID),
		chromedp.WaitVisible(".studio-nav", chromedp.ByQuery),
	)
	studio := []string{
		"/studio/", "/studio/lvel/", "/studio/lvel/settings", "/studio/lvel/" + e.ID, "/studio/lvel/" + e.ID + "/delete",
		"/studio/lvel/semester?code=A20", "/studio/lvel/listens", "/studio/account", "/studio/hosts", "/studio/hosts/alice",
	}
	public := []string{
		"/", "/lvel/", "/lvel/" + e.Slug, "/lvel/" + e.Slug + "/embed", "/comment-nous-comptons", "/lvel/nope",
		"/lvel/?lang=en", "/lvel/" + e.Slug + "?lang=en",
	}
	check := func(scheme string, paths []string) {
		t.Helper()
		run("colour scheme "+scheme, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}))
		for _, path := range paths {
			tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			err := chromedp.Run(tctx, chromedp.Navigate(base+path), chromedp.WaitReady("body", chromedp.ByQuery))
			var vs []axeViolation
			if err == nil {
				vs, err = audit(tctx, axe)
			}
			cancel()
			if err != nil {
				t.Fatalf("%s (%s): %v", path, scheme, err)
			}
			for _, v := range vs {
				t.Errorf("%s (%s): %s (%s, %s):\n  %s", path, scheme, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
			}
		}
	}
	check("light", studio)
	check("dark", []string{"/studio/lvel/", "/studio/lvel/settings"})
	// The public pages, signed out (the footer then links to the studio).
	run("sign out", chromedp.Navigate(base+"/studio/"), chromedp.Click(`nav.studio-nav button`, chromedp.ByQuery), chromedp.WaitVisible("#login", chromedp.ByID))
	check("light", append(public, "/studio/login"))
	check("dark", public)
}

// TestBrowserChapters: on the episode page a listener jumps to a chapter
// by clicking it; the player goes there, the chapter is marked current,
// and the transcript beside it highlights the passage being played.
func TestBrowserChapters(t *testing.T) {
	ctx := newBrowser(t)
	env := newStudioEnv(t, 0)
	e := a11yEpisode(t, env)
	run := browserRun(t, ctx)
	var at float64
	var chapter, cue string
	run("open the episode and jump to the second chapter",
		chromedp.Navigate(env.srv.URL+"/lvel/"+e.Slug),
		chromedp.WaitVisible(".chapters", chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("player").readyState >= 1`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(`.chapters li:nth-child(2) a`, chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("player").currentTime >= 4 && document.querySelector(".cue[aria-current]") !== null`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`document.getElementById("player").currentTime`, &at),
		chromedp.Text(`.chapters li[aria-current]`, &chapter, chromedp.ByQuery),
		chromedp.Text(`.cue[aria-current]`, &cue, chromedp.ByQuery),
	)
	if at < 4 || at > 7 {
		t.Errorf("after the jump: the player is at %.1f s, want the chapter at 4 s", at)
	}
	if !strings.Contains(chapter, "Les communs") || !strings.Contains(cue, "Les communs numériques.") {
		t.Errorf("after the jump: current chapter %q, current passage %q; want the second of each", chapter, cue)
	}
	run("jump to the third", chromedp.Click(`.chapters li:nth-child(3) a`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector(".chapters li[aria-current]").textContent.includes("Conclusion")`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text(`.cue[aria-current]`, &cue, chromedp.ByQuery),
	)
	if !strings.Contains(cue, "À la semaine prochaine.") {
		t.Errorf("third chapter: current passage %q", cue)
	}
	t.Log(fmt.Sprintf("jumped to %.1f s", at))
}
