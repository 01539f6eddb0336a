package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/picasoft/antenne/episodes"
)

// TestBrowserTranscript: a host attaches a transcript from the episode
// form in Chromium. A file with a broken timing line gets a French error;
// a good WebVTT file is then in the feed (podcast:transcript) and its text
// on the public episode page.
func TestBrowserTranscript(t *testing.T) {
	ctx := newBrowser(t)
	env := newStudioEnv(t, 0)
	base := env.srv.URL
	id := env.upload(t, "alice", "lvel")
	e, err := env.svc.UpdateEpisode(t.Context(), "lvel", id, "", func(e *episodes.Episode) error {
		e.PublishAt = env.svc.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "casse.srt"), filepath.Join(dir, "communs.vtt")
	os.WriteFile(bad, []byte("1\n00:00:01,000 --> 00:00:04.000\nBonjour.\n"), 0o644)
	os.WriteFile(good, []byte(testVTT), 0o644)
	run := browserRun(t, ctx)
	var msg, notice, text string
	run("sign in",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}),
		chromedp.Navigate(base+"/studio/login?next=/studio/lvel/"+id),
		chromedp.SendKeys("#login", "alice", chromedp.ByID),
		chromedp.SendKeys("#password", testPassword, chromedp.ByID),
		chromedp.Submit("#password", chromedp.ByID),
		chromedp.WaitVisible("#transcript-form", chromedp.ByID),
	)
	run("a broken file",
		chromedp.SetUploadFiles("#transcript-file", []string{bad}, chromedp.ByID),
		chromedp.Click(`#transcript-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.form-error`, chromedp.ByQuery),
		chromedp.Text(`p.form-error`, &msg, chromedp.ByQuery),
	)
	if want := "Ligne 2 : minutage illisible."; !strings.Contains(msg, want) {
		t.Errorf("broken file: got %q, want %q", msg, want)
	}
	run("a good file",
		chromedp.SetUploadFiles("#transcript-file", []string{good}, chromedp.ByID),
		chromedp.Click(`#transcript-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.form-notice`, chromedp.ByQuery),
		chromedp.Text(`p.form-notice`, &notice, chromedp.ByQuery),
	)
	if notice != "Transcription enregistrée." {
		t.Errorf("good file: got notice %q", notice)
	}
	run("the episode page",
		chromedp.Navigate(base+"/lvel/"+e.Slug),
		chromedp.WaitVisible("section.transcript", chromedp.ByQuery),
		chromedp.Text("section.transcript", &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "0:01 Bonjour et bienvenue sur Graf'hit.") || !strings.Contains(text, "1:02 Les communs numériques.") {
		t.Errorf("the episode page shows %q, want the transcript's text", text)
	}
	_, feedXML := env.do(nil, "GET", "/lvel/feed.xml", nil, nil)
	if m := transcriptTag.FindStringSubmatch(feedXML); m == nil || m[2] != "text/vtt" || m[3] != "fr" {
		t.Errorf("feed: got %q, want a text/vtt transcript in fr", m)
	}
}
