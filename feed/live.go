package feed

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/picasoft/antenne/episodes"
)

// LiveStatus is the status attribute of podcast:liveItem.
type LiveStatus string

// Live statuses.
const (
	LivePending LiveStatus = "pending" // the next broadcast, not started
	LiveOn      LiveStatus = "live"    // on air now
	LiveEnded   LiveStatus = "ended"   // over, its replay not published yet
)

// LiveState is the live item of a show at one instant: which broadcast,
// in which status, and for how long that holds.
type LiveState struct {
	Status    LiveStatus
	Broadcast episodes.Broadcast
	// GUID is the item's guid, the same for every status of one
	// broadcast: a UUIDv5 of the broadcast's date in the namespace of the
	// show's podcast:guid.
	GUID string
	// Since is when this state began (zero when unknown); Until is when
	// it ends: the next change of status, so that a cache of the feed
	// stays right until then. Until is zero when nothing is scheduled.
	Since, Until time.Time
}

// LiveAt is the live item of show at now, given its published episodes:
//
//   - live from the broadcast's start to its end;
//   - ended from its end until the end of that day in the slot's zone,
//     or until the replay is published (an episode whose AiredAt falls on
//     that date), whichever comes first: the replay then takes its place
//     among the items;
//   - pending otherwise, for the next broadcast (skipped dates left out).
//
// ok is false when the show has no live stream or no air slot. Like the
// rest of the package, LiveAt reads no clock: the caller passes now.
func LiveAt(show *episodes.Show, published []*episodes.Episode, now time.Time) (st LiveState, ok bool) {
	if show == nil || show.Live == nil {
		return LiveState{}, false
	}
	last, next, ok := show.Broadcasts(now)
	if !ok {
		return LiveState{}, false
	}
	if !last.IsZero() {
		if now.Before(last.End) {
			return liveState(show, LiveOn, last, last.Start, last.End), true
		}
		y, m, d := last.End.Date()
		endOfDay := time.Date(y, m, d+1, 0, 0, 0, 0, last.End.Location())
		replay, hasReplay := replayOf(published, last)
		if hasReplay {
			endOfDay = earliest(endOfDay, latestOf(last.End, replay.PublishAt))
		}
		if now.Before(endOfDay) {
			return liveState(show, LiveEnded, last, last.End, endOfDay), true
		}
		st = liveState(show, LivePending, next, endOfDay, next.Start)
	} else {
		st = liveState(show, LivePending, next, time.Time{}, next.Start)
	}
	if next.IsZero() {
		return LiveState{}, false
	}
	return st, true
}

func liveState(sh *episodes.Show, status LiveStatus, b episodes.Broadcast, since, until time.Time) LiveState {
	return LiveState{Status: status, Broadcast: b, GUID: BroadcastGUID(sh.GUID, b.Date()), Since: since, Until: until}
}

// replayOf is the published episode aired on the day of b, if any.
func replayOf(published []*episodes.Episode, b episodes.Broadcast) (*episodes.Episode, bool) {
	date := b.Date()
	for _, e := range published {
		if e != nil && !e.AiredAt.IsZero() && e.AiredAt.In(b.Start.Location()).Format(episodes.DateLayout) == date {
			return e, true
		}
	}
	return nil, false
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latestOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// broadcastNamespace is used when a show's podcast:guid is not a UUID.
var broadcastNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://antenne.picasoft.net/live"))

// BroadcastGUID is the guid of the live item of a show's broadcast on
// date (YYYY-MM-DD): a UUIDv5 of the date in the namespace of the show's
// podcast:guid, stable whatever the status.
func BroadcastGUID(showGUID, date string) string {
	ns, err := uuid.Parse(showGUID)
	if err != nil {
		ns = uuid.NewSHA1(broadcastNamespace, []byte(showGUID))
	}
	return uuid.NewSHA1(ns, []byte(date)).String()
}

// liveItem is podcast:liveItem:
// https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/tags/live-item.md
type liveItem struct {
	XMLName     xml.Name      `xml:"podcast:liveItem"`
	Status      string        `xml:"status,attr"`
	Start       string        `xml:"start,attr"`
	End         string        `xml:"end,attr"`
	Title       string        `xml:"title"`
	Description string        `xml:"description"`
	Link        string        `xml:"link"`
	GUID        guid          `xml:"guid"`
	Author      string        `xml:"itunes:author,omitempty"`
	Enclosure   liveEnclosure `xml:"enclosure"`
	ContentLink contentLink   `xml:"podcast:contentLink"`
}

type liveEnclosure struct {
	URL    string `xml:"url,attr"`
	Length int    `xml:"length,attr"`
	Type   string `xml:"type,attr"`
}

type contentLink struct {
	Href string `xml:"href,attr"`
	Text string `xml:",chardata"`
}

// liveTime is how start and end are written: RFC 3339 with the zone's
// offset, e.g. 2020-10-30T09:30:00+01:00.
const liveTime = time.RFC3339

// buildLiveItem is the podcast:liveItem of st, nil when the stream has
// no usable URL.
func buildLiveItem(show *episodes.Show, st LiveState, lang string, l Links) *liveItem {
	stream := webURL(show.Live.URL)
	if stream == "" {
		return nil
	}
	b := st.Broadcast
	fr := isFrench(lang)
	title := line(show.Title) + " – " + liveDay(b.Start, fr)
	station := ""
	if show.AirSlot != nil {
		station = line(show.AirSlot.Station)
	}
	var desc, listen string
	switch {
	case fr && station != "":
		desc, listen = "En direct sur "+station+", "+liveDay(b.Start, true)+".", "Écouter en direct"
	case fr:
		desc, listen = "En direct, "+liveDay(b.Start, true)+".", "Écouter en direct"
	case station != "":
		desc, listen = "Live on "+station+", "+liveDay(b.Start, false)+".", "Listen live"
	default:
		desc, listen = "Live, "+liveDay(b.Start, false)+".", "Listen live"
	}
	page := l.Show(show.Slug)
	return &liveItem{
		Status:      string(st.Status),
		Start:       b.Start.Format(liveTime),
		End:         b.End.Format(liveTime),
		Title:       title,
		Description: desc,
		Link:        page,
		GUID:        guid{IsPermaLink: "false", Value: st.GUID},
		Author:      line(cmp.Or(show.Author, show.Owner.Name)),
		Enclosure:   liveEnclosure{URL: stream, Type: line(show.Live.TypeOrDefault())},
		ContentLink: contentLink{Href: page, Text: listen},
	}
}

// liveDay is the day and time of a broadcast: "vendredi 30 octobre 2020
// à 9h30" or "Friday 30 October 2020 at 9:30".
func liveDay(t time.Time, fr bool) string {
	if fr {
		return fmt.Sprintf("%s %d %s %d à %dh%02d", episodes.FrenchWeekday(t.Weekday()), t.Day(), episodes.FrenchMonth(t.Month()), t.Year(), t.Hour(), t.Minute())
	}
	return fmt.Sprintf("%s %d %s %d at %d:%02d", t.Weekday(), t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
}
