package feed

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed/feedtest"
)

// liveShow is fullShow with a live stream on its Friday 9:30 slot.
func liveShow() (*episodes.Show, []*episodes.Episode) {
	show, eps := fullShow()
	show.Live = &episodes.Live{URL: "https://stream.grafhit.net/live.mp3"}
	return show, eps
}

// parsedLiveItem is what the tests read back of podcast:liveItem.
type parsedLiveItem struct {
	Status      string         `xml:"status,attr"`
	Start       string         `xml:"start,attr"`
	End         string         `xml:"end,attr"`
	Title       string         `xml:"title"`
	Link        string         `xml:"link"`
	GUID        string         `xml:"guid"`
	Enclosure   enclosureAttrs `xml:"enclosure"`
	ContentLink struct {
		Href string `xml:"href,attr"`
	} `xml:"https://podcastindex.org/namespace/1.0 contentLink"`
}

type enclosureAttrs struct {
	URL  string `xml:"url,attr"`
	Type string `xml:"type,attr"`
}

func liveItemOf(t *testing.T, b []byte) *parsedLiveItem {
	t.Helper()
	var doc struct {
		Channel struct {
			Live []parsedLiveItem `xml:"https://podcastindex.org/namespace/1.0 liveItem"`
		} `xml:"channel"`
	}
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		t.Fatalf("parse feed: %v", err)
	}
	switch len(doc.Channel.Live) {
	case 0:
		return nil
	case 1:
		return &doc.Channel.Live[0]
	}
	t.Fatalf("got %d podcast:liveItem, want at most 1", len(doc.Channel.Live))
	return nil
}

// TestLiveItem walks the Friday 9:30 slot (45 minutes) through its
// statuses, around the changes of daylight saving time: the last Friday of
// October 2021 is still summer time (+02:00) and the next one winter time
// (+01:00); the last Friday of March 2021 is winter time and the next one
// summer time.
func TestLiveItem(t *testing.T) {
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, paris) }
	replay := &episodes.Episode{
		Version: 1, ID: "ep-replay", Show: "lvel", Slug: "replay", GUID: "replay-guid", Title: "Replay",
		Type: episodes.Full, AiredAt: at(2021, 10, 29, 9, 30), PublishAt: at(2021, 10, 29, 12, 0),
		Media: episodes.Media{Key: "shows/lvel/media/replay-0123456789ab.mp3", Type: "audio/mpeg", Size: 1000, Duration: time.Minute},
	}
	tests := []struct {
		name               string
		now                time.Time
		skip               []string
		withReplay         bool
		status, start, end string
		until              time.Time
		sameGUIDAs         string // a case name whose broadcast is the same
	}{
		{name: "october pending", now: at(2021, 10, 29, 8, 0), status: "pending", start: "2021-10-29T09:30:00+02:00", end: "2021-10-29T10:15:00+02:00", until: at(2021, 10, 29, 9, 30)},
		{name: "october starts", now: at(2021, 10, 29, 9, 30), status: "live", start: "2021-10-29T09:30:00+02:00", end: "2021-10-29T10:15:00+02:00", until: at(2021, 10, 29, 10, 15), sameGUIDAs: "october pending"},
		{name: "october live", now: at(2021, 10, 29, 10, 14), status: "live", start: "2021-10-29T09:30:00+02:00", end: "2021-10-29T10:15:00+02:00", until: at(2021, 10, 29, 10, 15)},
		{name: "october ended", now: at(2021, 10, 29, 10, 15), status: "ended", start: "2021-10-29T09:30:00+02:00", end: "2021-10-29T10:15:00+02:00", until: at(2021, 10, 30, 0, 0), sameGUIDAs: "october pending"},
		{name: "october ended at night", now: at(2021, 10, 29, 23, 59), status: "ended", start: "2021-10-29T09:30:00+02:00", end: "2021-10-29T10:15:00+02:00", until: at(2021, 10, 30, 0, 0)},
		{name: "november pending, winter time", now: at(2021, 10, 30, 0, 0), status: "pending", start: "2021-11-05T09:30:00+01:00", end: "2021-11-05T10:15:00+01:00", until: at(2021, 11, 5, 9, 30)},
		{name: "november live", now: at(2021, 11, 5, 10, 0), status: "live", start: "2021-11-05T09:30:00+01:00", end: "2021-11-05T10:15:00+01:00", until: at(2021, 11, 5, 10, 15), sameGUIDAs: "november pending, winter time"},
		{name: "replay published gives way", now: at(2021, 10, 29, 12, 0), withReplay: true, status: "pending", start: "2021-11-05T09:30:00+01:00", end: "2021-11-05T10:15:00+01:00", until: at(2021, 11, 5, 9, 30), sameGUIDAs: "november pending, winter time"},
		{name: "ended before the replay", now: at(2021, 10, 29, 11, 59), withReplay: true, status: "ended", start: "2021-10-29T09:30:00+02:00", end: "2021-10-29T10:15:00+02:00", until: at(2021, 10, 29, 12, 0)},
		{name: "skipped holiday", now: at(2021, 10, 30, 8, 0), skip: []string{"2021-11-05"}, status: "pending", start: "2021-11-12T09:30:00+01:00", end: "2021-11-12T10:15:00+01:00", until: at(2021, 11, 12, 9, 30)},
		{name: "march live, winter time", now: at(2021, 3, 26, 9, 45), status: "live", start: "2021-03-26T09:30:00+01:00", end: "2021-03-26T10:15:00+01:00", until: at(2021, 3, 26, 10, 15)},
		{name: "march ended", now: at(2021, 3, 26, 18, 0), status: "ended", start: "2021-03-26T09:30:00+01:00", end: "2021-03-26T10:15:00+01:00", until: at(2021, 3, 27, 0, 0)},
		{name: "april pending, summer time", now: at(2021, 3, 28, 3, 0), status: "pending", start: "2021-04-02T09:30:00+02:00", end: "2021-04-02T10:15:00+02:00", until: at(2021, 4, 2, 9, 30)},
	}
	guids := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			show, _ := liveShow()
			show.Live.Skip = tt.skip
			var eps []*episodes.Episode
			if tt.withReplay {
				eps = append(eps, replay)
			}
			opts := testOptions(t)
			opts.BuildTime, opts.Now = show.Updated, tt.now
			b, err := Build(show, eps, opts)
			if err != nil {
				t.Fatal(err)
			}
			li := liveItemOf(t, b)
			if li == nil {
				t.Fatalf("no podcast:liveItem in\n%s", b)
			}
			if li.Status != tt.status || li.Start != tt.start || li.End != tt.end {
				t.Errorf("got status %q start %q end %q, want %q %q %q", li.Status, li.Start, li.End, tt.status, tt.start, tt.end)
			}
			if li.Enclosure.URL != show.Live.URL || li.Enclosure.Type != "audio/mpeg" {
				t.Errorf("got enclosure %+v, want %s audio/mpeg", li.Enclosure, show.Live.URL)
			}
			if want := "https://radio.picasoft.net/lvel/"; li.ContentLink.Href != want || li.Link != want {
				t.Errorf("got contentLink %q and link %q, want %q", li.ContentLink.Href, li.Link, want)
			}
			st, _ := LiveAt(show, eps, tt.now)
			if !st.Until.Equal(tt.until) {
				t.Errorf("got Until %v, want %v", st.Until, tt.until)
			}
			if !st.Since.IsZero() && st.Since.After(tt.now) {
				t.Errorf("got Since %v after now %v", st.Since, tt.now)
			}
			guids[tt.name] = li.GUID
			if tt.sameGUIDAs != "" && guids[tt.sameGUIDAs] != li.GUID {
				t.Errorf("got guid %q, want the guid of %q: %q", li.GUID, tt.sameGUIDAs, guids[tt.sameGUIDAs])
			}
		})
	}
	if guids["october pending"] == guids["november pending, winter time"] {
		t.Errorf("two broadcasts share the guid %q", guids["october pending"])
	}
}

// TestLiveItemAbsent: no live stream or no air slot: no podcast:liveItem.
func TestLiveItemAbsent(t *testing.T) {
	now := time.Date(2021, 10, 29, 8, 0, 0, 0, paris)
	for name, edit := range map[string]func(*episodes.Show){
		"no live":     func(sh *episodes.Show) { sh.Live = nil },
		"no air slot": func(sh *episodes.Show) { sh.AirSlot = nil },
	} {
		show, eps := liveShow()
		edit(show)
		opts := testOptions(t)
		opts.Now = now
		b, err := Build(show, eps, opts)
		if err != nil {
			t.Fatal(err)
		}
		if li := liveItemOf(t, b); li != nil {
			t.Errorf("%s: got a liveItem %+v, want none", name, li)
		}
	}
}

// TestLiveItemLongHoliday: with every Friday of 2021 and 2022 skipped,
// the pending item is the first Friday of 2023 (the search for the next
// broadcast grows with the skipped dates).
func TestLiveItemLongHoliday(t *testing.T) {
	show, _ := liveShow()
	for d := time.Date(2021, 10, 29, 0, 0, 0, 0, paris); d.Year() < 2023; d = d.AddDate(0, 0, 7) {
		show.Live.Skip = append(show.Live.Skip, d.Format(episodes.DateLayout))
	}
	st, ok := LiveAt(show, nil, time.Date(2021, 10, 29, 8, 0, 0, 0, paris))
	if want := "2023-01-06T09:30:00+01:00"; !ok || st.Status != LivePending || st.Broadcast.Start.Format(time.RFC3339) != want {
		t.Errorf("got %+v (ok %v), want pending at %s", st, ok, want)
	}
}

// TestLiveItemParsers: podcast-partytime reads the live item with its
// status, start and stream; feedparser and podcastparser still read the
// show and its episodes as before.
func TestLiveItemParsers(t *testing.T) {
	show, eps := liveShow()
	for _, tt := range []struct {
		now              time.Time
		status, startUTC string
	}{
		{time.Date(2026, 11, 20, 8, 0, 0, 0, paris), "pending", "2026-11-20T08:30:00.000Z"},
		{time.Date(2026, 11, 20, 9, 40, 0, 0, paris), "live", "2026-11-20T08:30:00.000Z"},
		{time.Date(2026, 11, 20, 11, 0, 0, 0, paris), "ended", "2026-11-20T08:30:00.000Z"},
	} {
		opts := testOptions(t)
		opts.Now = tt.now
		b, err := Build(show, eps, opts)
		if err != nil {
			t.Fatal(err)
		}
		res := feedtest.Parse(t, b, "https://radio.picasoft.net/lvel/feed.xml")
		want := Published(eps, tt.now)
		for parser, got := range res {
			if got.Title != show.Title {
				t.Errorf("%s: got show title %q, want %q", parser, got.Title, show.Title)
			}
			if len(got.Items) != len(want) {
				t.Errorf("%s: got %d items, want %d", parser, len(got.Items), len(want))
			}
		}
		pt, ok := res["partytime"]
		if !ok {
			continue // not installed, and not under CI: Parse logged it
		}
		if len(pt.LiveItems) != 1 {
			t.Fatalf("partytime read %d live items, want 1", len(pt.LiveItems))
		}
		li := pt.LiveItems[0]
		if li.Status != tt.status || li.Start != tt.startUTC || li.URL != show.Live.URL || li.Type != "audio/mpeg" ||
			li.ContentLink != "https://radio.picasoft.net/lvel/" || li.GUID == "" {
			t.Errorf("partytime read %+v, want status %s, start %s, the stream and the show page", li, tt.status, tt.startUTC)
		}
	}
}
