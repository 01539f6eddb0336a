package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
)

const testVTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Alice>Bonjour et bienvenue sur Graf'hit.\n\n00:01:02.000 --> 00:01:05.000\nLes communs numériques.\n"

var transcriptTag = regexp.MustCompile(`<podcast:transcript url="([^"]+)" type="([^"]+)" language="([^"]+)">`)

// TestStudioTranscript: a host attaches a WebVTT transcript from the
// episode form; the feed carries it as podcast:transcript with its type
// and language, the file is served with CORS for players, the episode
// page shows its text. A file with a broken timing line is refused with
// a French message naming the line, and an HTML file as not a transcript.
func TestStudioTranscript(t *testing.T) {
	env := newStudioEnv(t, 0)
	id := env.upload(t, "alice", "lvel")
	alice := env.login("alice")
	e, _ := env.svc.Episode("lvel", id)

	body, h := multipartBody(t, "bad.vtt", []byte("WEBVTT\n\n00:00:01.000 -> 00:00:04.000\nBonjour.\n"), "revision", e.Revision, "language", "fr")
	resp, out := env.do(alice, "POST", "/studio/lvel/"+id+"/transcript", body, h)
	if want := "Ligne 3 : minutage illisible."; resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, want) {
		t.Errorf("broken timing: got %d, want 400 saying %q\n%.3000s", resp.StatusCode, want, out)
	}
	body, h = multipartBody(t, "notes.html", []byte("<p>Bonjour</p>"), "revision", e.Revision)
	resp, out = env.do(alice, "POST", "/studio/lvel/"+id+"/transcript", body, h)
	if want := "doit être un fichier WebVTT (.vtt) ou SRT (.srt)"; resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, want) {
		t.Errorf("HTML file: got %d, want 400 saying %q", resp.StatusCode, want)
	}
	if e, _ := env.svc.Episode("lvel", id); e.Transcript != nil || len(env.objects("shows/lvel/transcripts/")) != 0 {
		t.Fatalf("a refused transcript was kept: %+v %v", e.Transcript, env.objects("shows/lvel/transcripts/"))
	}

	body, h = multipartBody(t, "communs.vtt", []byte(testVTT), "revision", e.Revision, "language", "fr")
	if resp, out := env.do(alice, "POST", "/studio/lvel/"+id+"/transcript", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload transcript: got %d %.2000s", resp.StatusCode, out)
	}
	if _, out := env.do(alice, "GET", "/studio/lvel/"+id+"?done=transcript", nil, nil); !strings.Contains(out, "Transcription enregistrée.") {
		t.Errorf("the episode form does not confirm the transcript")
	}
	if _, err := env.svc.UpdateEpisode(t.Context(), "lvel", id, "", func(e *episodes.Episode) error {
		e.PublishAt = env.svc.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e, _ = env.svc.Episode("lvel", id)
	_, feedXML := env.do(nil, "GET", "/lvel/feed.xml", nil, nil)
	m := transcriptTag.FindStringSubmatch(feedXML)
	if m == nil || m[2] != "text/vtt" || m[3] != "fr" {
		t.Fatalf("feed: got %q, want podcast:transcript of type text/vtt in fr\n%s", m, feedXML)
	}
	resp, got := env.do(nil, "GET", strings.TrimPrefix(m[1], env.srv.URL), nil, map[string]string{"Origin": "https://player.example"})
	if resp.StatusCode != http.StatusOK || got != testVTT || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/vtt") {
		t.Errorf("transcript file: got %d, CORS %q, type %q, body %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Content-Type"), got)
	}
	_, page := env.do(nil, "GET", "/lvel/"+e.Slug, nil, nil)
	if !strings.Contains(page, "Bonjour et bienvenue sur Graf&#39;hit.") || !strings.Contains(page, `data-seek="62">1:02</a> Les communs numériques.`) {
		t.Errorf("the episode page does not show the transcript's text:\n%s", page)
	}
}
