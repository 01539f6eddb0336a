package web

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

var liveStatusAttr = regexp.MustCompile(`<podcast:liveItem status="([a-z]+)" start="([^"]+)"`)

// TestLiveFeedAndPage moves the clock through a Friday slot: the feed's
// live item goes pending, live, ended then pending for the next Friday,
// each change giving new bytes and a new ETag while nothing in the catalog
// changed; the show page plays the stream during the slot only, with the
// stream's origin allowed in media-src and nowhere else, and gives the
// next broadcast otherwise.
func TestLiveFeedAndPage(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	paris := episodes.Paris()
	s.clock.Set(time.Date(2021, 10, 29, 8, 0, 0, 0, paris))
	const stream = "https://stream.grafhit.test:8000/live.mp3"
	if _, err := s.svc.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error {
		sh.Live = &episodes.Live{URL: stream, Skip: []string{"2021-11-12"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at            time.Time
		status, start string
		live          bool
		next          string
	}{
		{time.Date(2021, 10, 29, 8, 0, 0, 0, paris), "pending", "2021-10-29T09:30:00+02:00", false, "vendredi 29 octobre 2021 à 9h30"},
		{time.Date(2021, 10, 29, 9, 40, 0, 0, paris), "live", "2021-10-29T09:30:00+02:00", true, ""},
		{time.Date(2021, 10, 29, 10, 20, 0, 0, paris), "ended", "2021-10-29T09:30:00+02:00", false, "vendredi 5 novembre 2021 à 9h30"},
		{time.Date(2021, 10, 30, 0, 0, 1, 0, paris), "pending", "2021-11-05T09:30:00+01:00", false, "vendredi 5 novembre 2021 à 9h30"},
		{time.Date(2021, 11, 5, 11, 0, 0, 0, paris), "ended", "2021-11-05T09:30:00+01:00", false, "vendredi 19 novembre 2021 à 9h30"},
	}
	var lastETag string
	for _, st := range steps {
		s.clock.Set(st.at)
		resp, body := s.do("GET", "/lvel/feed.xml")
		m := liveStatusAttr.FindStringSubmatch(string(body))
		if resp.StatusCode != 200 || m == nil || m[1] != st.status || m[2] != st.start {
			t.Errorf("%v: got %d, live item %q, want status %s start %s\n%.1500s", st.at, resp.StatusCode, m, st.status, st.start, body)
		}
		etag := resp.Header.Get("ETag")
		if etag == lastETag {
			t.Errorf("%v: the ETag %s did not change with the live item", st.at, etag)
		}
		if resp, _ := s.do("GET", "/lvel/feed.xml", "If-None-Match: "+etag); resp.StatusCode != 304 {
			t.Errorf("%v: revalidation got %d, want 304", st.at, resp.StatusCode)
		}
		if lastETag != "" {
			if resp, _ := s.do("GET", "/lvel/feed.xml", "If-None-Match: "+lastETag); resp.StatusCode != 200 {
				t.Errorf("%v: revalidation with the previous status's ETag got %d, want 200", st.at, resp.StatusCode)
			}
		}
		lastETag = etag

		resp, page := s.do("GET", "/lvel/", "Accept-Language: fr")
		csp := resp.Header.Get("Content-Security-Policy")
		hasPlayer := strings.Contains(string(page), `<audio id="live-player" controls preload="none" src="`+stream+`"`)
		if st.live {
			if !hasPlayer || !strings.Contains(string(page), "En direct sur Graf&#39;hit 94.9 FM") {
				t.Errorf("%v: the page has no live player:\n%s", st.at, page)
			}
			if !strings.Contains(csp, "media-src https://stream.grafhit.test:8000 'self'") {
				t.Errorf("%v: CSP %q does not allow the stream's origin for media", st.at, csp)
			}
		} else {
			if hasPlayer || strings.Contains(csp, "stream.grafhit.test") {
				t.Errorf("%v: off the slot, got a player or the stream in the CSP %q", st.at, csp)
			}
			if want := "Prochaine émission : " + st.next; !strings.Contains(string(page), want) {
				t.Errorf("%v: the page does not say %q:\n%s", st.at, want, page)
			}
		}
		if strings.Count(csp, "stream.grafhit.test") > 1 {
			t.Errorf("%v: the stream's origin is allowed for more than media: %q", st.at, csp)
		}
	}
}

// TestLiveReplayGivesWay: once the replay of the day (aired that day) is
// published, the feed's live item is the next broadcast.
func TestLiveReplayGivesWay(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	paris := episodes.Paris()
	s.clock.Set(time.Date(2021, 3, 5, 10, 30, 0, 0, paris))
	if _, err := s.svc.UpdateShow(t.Context(), "lvel", "", func(sh *episodes.Show) error {
		sh.Live = &episodes.Live{URL: "https://stream.grafhit.test/live"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, body := s.do("GET", "/lvel/feed.xml")
	if m := liveStatusAttr.FindStringSubmatch(string(body)); m == nil || m[1] != "ended" {
		t.Fatalf("before the replay: got %q, want ended", m)
	}
	s.ingest("mp3", 440, episodes.Upload{Title: "Replay", AiredAt: time.Date(2021, 3, 5, 9, 30, 0, 0, paris), PublishAt: s.clock.Now()})
	_, body = s.do("GET", "/lvel/feed.xml")
	if m := liveStatusAttr.FindStringSubmatch(string(body)); m == nil || m[1] != "pending" || m[2] != "2021-03-12T09:30:00+01:00" {
		t.Errorf("after the replay: got %q, want pending on 2021-03-12\n%.2000s", m, body)
	}
	if !strings.Contains(string(body), "<title>Replay</title>") {
		t.Errorf("the replay is not an item of the feed")
	}
}
