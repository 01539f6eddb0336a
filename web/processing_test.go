package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// apiProcessing is what the test reads of the API's episode.
type apiProcessing struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	Processing struct {
		State    string `json:"state"`
		Progress int    `json:"progress"`
		Error    *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"processing"`
}

// A WAV upload through the API is answered 202 with a Location while it is
// processed; it stays out of the public feed; its job fails when ffmpeg is
// missing, with a message for the host; a retry through the API, once
// ffmpeg is there, publishes it.
func TestAPIProcessingFailureAndRetry(t *testing.T) {
	real := episodestest.FFmpeg(t)
	link := filepath.Join(t.TempDir(), "ffmpeg") // missing until the retry
	env := newStudioEnvJobs(t, episodes.Options{TempDir: t.TempDir(), Transcoder: ffmpeg.New(link, 1), JobScanInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { env.svc.RunJobs(ctx, 1, nil) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	auth := "Bearer " + env.tokens["alice"]
	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 5, Tags: map[string]string{"title": "Les communs numériques"}})
	resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes?name=mumble.wav", bytes.NewReader(readFile(t, wav)),
		map[string]string{"Authorization": auth, "Content-Type": "audio/wav"})
	var ep apiProcessing
	json.Unmarshal([]byte(out), &ep)
	if resp.StatusCode != http.StatusAccepted || ep.Status != "processing" {
		t.Fatalf("upload: got %d %s, want 202 processing", resp.StatusCode, out)
	}
	loc := resp.Header.Get("Location")
	if loc != "/api/v1/shows/lvel/episodes/"+ep.ID {
		t.Errorf("Location: got %q, want the episode's API URL", loc)
	}
	if ep.Processing.State != "queued" && ep.Processing.State != "running" && ep.Processing.State != "failed" {
		t.Errorf("processing at 202: got %+v", ep.Processing)
	}
	get := func(path string) apiProcessing {
		t.Helper()
		resp, out := env.do(nil, "GET", path, nil, map[string]string{"Authorization": auth, "Accept-Language": "en"})
		var e apiProcessing
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(out), &e) != nil {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, out)
		}
		return e
	}
	wait := func(state string) apiProcessing {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			e := get(loc)
			if e.Processing.State == state {
				return e
			}
			if time.Now().After(deadline) {
				t.Fatalf("processing: got %+v after a minute, want %s", e.Processing, state)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	failed := wait("failed")
	if failed.Status != "failed" || failed.Processing.Error == nil || failed.Processing.Error.Code != episodes.FailureFFmpegMissing || failed.Processing.Error.Message == "" {
		t.Errorf("failed episode: got %+v", failed)
	}
	_, list := env.do(nil, "GET", "/api/v1/shows/lvel/episodes?status=failed", nil, map[string]string{"Authorization": auth})
	if !strings.Contains(list, ep.ID) {
		t.Errorf("?status=failed does not list the episode: %s", list)
	}
	if _, feed := env.do(nil, "GET", "/lvel/feed.xml", nil, nil); strings.Contains(feed, "Les communs") {
		t.Errorf("the feed lists an episode that failed processing")
	}
	// The studio tells the host, in French.
	browser := env.login("alice")
	_, progress := env.do(browser, "GET", "/studio/lvel/"+ep.ID+"/progress", nil, nil)
	if !strings.Contains(progress, "Échec : ffmpeg est introuvable") {
		t.Errorf("studio progress: got %s, want the failure in French", progress)
	}
	// The page the upload led to, reloaded on the failure: the red
	// failure without the green « received » above it, and the duration
	// read from the recording's header rather than 0:00.
	_, page := env.do(browser, "GET", "/studio/lvel/"+ep.ID+"?uploaded=1", nil, nil)
	if strings.Contains(page, "Enregistrement reçu") || !strings.Contains(page, "Échec") || !strings.Contains(page, " · 0:05") {
		t.Errorf("failed episode's page: want the failure, no « Enregistrement reçu » and 0:05:\n%.3000s", page)
	}
	if _, list := env.do(browser, "GET", "/studio/lvel/", nil, nil); !strings.Contains(list, "<td>0:05</td>") {
		t.Errorf("the studio's list shows no 0:05 for the failed episode:\n%.3000s", list)
	}

	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	resp, out = env.do(nil, "POST", loc+"/retry", nil, map[string]string{"Authorization": auth})
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") != loc || !strings.Contains(out, `"status":"processing"`) {
		t.Fatalf("retry: got %d %s", resp.StatusCode, out)
	}
	if done := wait("done"); done.Status != "published" || done.Processing.Progress != 100 || done.Processing.Error != nil {
		t.Errorf("after the retry: got %+v, want published", done)
	}
	if _, feed := env.do(nil, "GET", "/lvel/feed.xml", nil, nil); !strings.Contains(feed, "Les communs numériques") {
		t.Errorf("the feed does not list the episode once processed")
	}
	resp, out = env.do(nil, "POST", loc+"/retry", nil, map[string]string{"Authorization": auth})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("retry of a ready episode: got %d %s, want 400", resp.StatusCode, out)
	}
	if objs := env.objects("shows/lvel/originals/"); len(objs) != 1 {
		t.Errorf("originals: got %v, want one", objs)
	}
}

// crashingTranscoder fails like ffmpeg does: an error naming the job's
// temporary file and carrying ffmpeg's standard error.
type crashingTranscoder struct{}

const ffmpegSecret = "[flac @ 0x5581d3a0] invalid sync code SECRET-STDERR"

func (crashingTranscoder) Prepare(ctx context.Context, path, dir string, progress func(done float64)) (*audio.Prepared, error) {
	return nil, fmt.Errorf("transcode %s to MP3: ffmpeg: exit status 1: %s", path, ffmpegSecret)
}

// TestJobFailureTellsNoInternals: a job that fails with an internal error
// (a temporary path, ffmpeg's output) stores only a message key in the
// bucket; the API, the studio and the bucket show the key's message, and
// none of the error's text.
func TestJobFailureTellsNoInternals(t *testing.T) {
	env := newStudioEnvJobs(t, episodes.Options{TempDir: t.TempDir(), Transcoder: crashingTranscoder{}, JobScanInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { env.svc.RunJobs(ctx, 1, nil) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	auth := "Bearer " + env.tokens["alice"]
	flac := episodestest.Make(t, episodestest.Recording{Format: "flac", Seconds: 2})
	resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes?name=a.flac", bytes.NewReader(readFile(t, flac)),
		map[string]string{"Authorization": auth, "Content-Type": "audio/flac"})
	var ep apiProcessing
	if json.Unmarshal([]byte(out), &ep) != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: got %d %s", resp.StatusCode, out)
	}
	deadline := time.Now().Add(time.Minute)
	var body string
	for {
		_, body = env.do(nil, "GET", "/api/v1/shows/lvel/episodes/"+ep.ID, nil, map[string]string{"Authorization": auth})
		var e apiProcessing
		json.Unmarshal([]byte(body), &e)
		if e.Processing.State == "failed" {
			if e.Processing.Error == nil || e.Processing.Error.Code != episodes.FailureAudio || e.Processing.Error.Message == "" {
				t.Errorf("the API's error: got %+v, want code audio with a message", e.Processing.Error)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failure after a minute: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, progress := env.do(env.login("alice"), "GET", "/studio/lvel/"+ep.ID+"/progress", nil, nil)
	doc, err := os.ReadFile(filepath.Join(env.store.Path(), "shows", "lvel", "episodes", ep.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"the API": body, "the studio": progress, "the bucket": string(doc)} {
		for _, secret := range []string{"SECRET-STDERR", "antenne-job-", "exit status", os.TempDir()} {
			if strings.Contains(text, secret) {
				t.Errorf("%s tells %q:\n%s", where, secret, text)
			}
		}
	}
	if !strings.Contains(progress, "ffmpeg n'a pas pu convertir") {
		t.Errorf("the studio does not give the failure's message: %s", progress)
	}
}
