package episodes

import (
	"fmt"
	"mime"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Live is a show's live stream: the station's web stream of the air slot
// (Icecast or any HTTP audio stream), announced in the feed as a
// podcast:liveItem for each broadcast. It needs the show's AirSlot.
type Live struct {
	// URL is the public http(s) URL of the stream.
	URL string `json:"url"`
	// Type is the stream's MIME type; DefaultLiveType when empty.
	Type string `json:"type,omitempty"`
	// Minutes is the length of the slot; DefaultLiveMinutes when 0.
	Minutes int `json:"minutes,omitempty"`
	// Skip are the dates (YYYY-MM-DD, in the air slot's zone) on which the
	// show does not air: holidays. Sorted, without repeats.
	Skip []string `json:"skip_dates,omitempty"`
}

// Defaults and bounds of Live.
const (
	DefaultLiveType    = "audio/mpeg"
	DefaultLiveMinutes = 45
	// MaxLiveMinutes keeps a broadcast within a day, so that each day
	// has at most one.
	MaxLiveMinutes = 12 * 60
	// MaxSkipDates bounds the list of skipped dates (and so the search
	// for the next broadcast).
	MaxSkipDates = 400
)

// DateLayout is how dates without time are written: skip dates, the
// broadcast's date.
const DateLayout = "2006-01-02"

// TypeOrDefault is l.Type, or DefaultLiveType when empty.
func (l *Live) TypeOrDefault() string {
	if l.Type == "" {
		return DefaultLiveType
	}
	return l.Type
}

// Length is the length of the slot.
func (l *Live) Length() time.Duration {
	if l == nil || l.Minutes == 0 {
		return DefaultLiveMinutes * time.Minute
	}
	return time.Duration(l.Minutes) * time.Minute
}

// Skips reports whether the show does not air on date (YYYY-MM-DD).
func (l *Live) Skips(date string) bool {
	if l == nil {
		return false
	}
	_, found := slices.BinarySearch(l.Skip, date)
	return found
}

// ParseSkipDates reads dates written YYYY-MM-DD, separated by commas,
// spaces or new lines, and returns them sorted without repeats. A date
// that cannot be read is a *FieldError on skip_dates.
func ParseSkipDates(text string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		d, err := time.Parse(DateLayout, f)
		if err != nil {
			return nil, invalid("live.skip_dates", "date.malformed", "%q is not a date such as 2020-12-25", f)
		}
		out = append(out, d.Format(DateLayout))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (l *Live) validate(slot *AirSlot) error {
	if slot == nil {
		return invalid("live", "live.no_air_slot", "a live stream needs the air day and time")
	}
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || !streamHost(u) {
		return invalid("live.url", "live.url", "%q is not an http or https address of a stream", l.URL)
	}
	if len(l.URL) > 2000 {
		return invalid("live.url", "live.url_too_long", "the address is longer than 2000 characters")
	}
	if l.Type != "" {
		mt, _, err := mime.ParseMediaType(l.Type)
		if err != nil || mt != l.Type || !strings.HasPrefix(mt, "audio/") && !strings.HasPrefix(mt, "video/") && mt != "application/ogg" {
			return invalid("live.type", "live.type", "%q is not an audio MIME type such as audio/mpeg", l.Type)
		}
	}
	if l.Minutes < 0 || l.Minutes > MaxLiveMinutes {
		return invalid("live.minutes", "live.minutes", "the slot lasts %d minutes: give 1 to %d", l.Minutes, MaxLiveMinutes)
	}
	if len(l.Skip) > MaxSkipDates {
		return invalid("live.skip_dates", "live.skip_dates.too_many", "%d dates: at most %d", len(l.Skip), MaxSkipDates)
	}
	for i, d := range l.Skip {
		if t, err := time.Parse(DateLayout, d); err != nil || t.Format(DateLayout) != d {
			return invalid("live.skip_dates", "date.malformed", "%q is not a date such as 2020-12-25", d)
		}
		if i > 0 && l.Skip[i-1] >= d {
			return invalid("live.skip_dates", "live.skip_dates.order", "the dates are not sorted without repeats")
		}
	}
	return nil
}

// streamHost reports whether u's host names one server: a DNS name of
// letters, digits, hyphens and dots, or an IP address, with an optional
// numeric port. The stream's origin goes into the episode page's
// Content-Security-Policy (media-src), where a wildcard (http://*/) or
// another separator would allow every server.
func streamHost(u *url.URL) bool {
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return false
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return !strings.Contains(host, "%") // no IPv6 zone
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ---- The air slot ----

// weekdayNamed reads a day's name in English or French, in any case.
func weekdayNamed(name string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(name, d.String()) || strings.EqualFold(name, FrenchWeekday(d)) {
			return d, true
		}
	}
	return 0, false
}

// ParseAirSlot reads an air day and time as people type them: the day
// in English or French (friday, vendredi, any case) or as a number (0 for
// Sunday to 6 for Saturday), the time as 9:30, 09:30 or 9h30. The slot's
// zone is Europe/Paris. A value that cannot be read is a *FieldError on
// air_slot.
func ParseAirSlot(day, clock string) (AirSlot, error) {
	day = strings.ToLower(strings.TrimSpace(day))
	d, ok := weekdayNamed(day)
	if !ok {
		n, err := strconv.Atoi(day)
		if err != nil || n < 0 || n > 6 {
			return AirSlot{}, invalid("air_slot", "weekday.malformed", "%q is not a weekday such as friday or vendredi", day)
		}
		d = time.Weekday(n)
	}
	h, m, ok := strings.Cut(strings.ToLower(strings.TrimSpace(clock)), ":")
	if !ok {
		h, m, ok = strings.Cut(strings.ToLower(strings.TrimSpace(clock)), "h")
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return AirSlot{}, invalid("air_slot", "clock.malformed", "%q is not a time such as 09:30", clock)
	}
	return AirSlot{Weekday: d, Hour: hour, Minute: minute, Location: "Europe/Paris"}, nil
}

// Clock is the slot's time written 09:30.
// OnDay is the air slot's time of day on the calendar day of d (read in
// d's location), in the slot's zone: a recording tagged 2021-03-05 went on
// air on 2021-03-05 at 09:30 Paris time for La Voix est Libre.
func (a *AirSlot) OnDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), a.Hour, a.Minute, 0, 0, a.Zone())
}

func (a *AirSlot) Clock() string { return fmt.Sprintf("%02d:%02d", a.Hour, a.Minute) }

// Zone is the slot's time zone: Location, Europe/Paris when empty or
// unknown.
func (a *AirSlot) Zone() *time.Location {
	if a.Location != "" && a.Location != "Europe/Paris" {
		if loc, err := time.LoadLocation(a.Location); err == nil {
			return loc
		}
	}
	return Paris()
}

// Validate refuses, with a *FieldError on air_slot, a day or time out
// of range or an unknown time zone.
func (a *AirSlot) Validate() error {
	if a.Weekday < time.Sunday || a.Weekday > time.Saturday || a.Hour < 0 || a.Hour > 23 || a.Minute < 0 || a.Minute > 59 {
		return invalid("air_slot", "air_slot.range", "the day or time is out of range")
	}
	if a.Location != "" {
		if _, err := time.LoadLocation(a.Location); err != nil {
			return invalid("air_slot.location", "time_zone.unknown", "%q is not a time zone such as Europe/Paris", a.Location)
		}
	}
	return nil
}

// Broadcast is one airing of a show: its slot on one day.
type Broadcast struct {
	// Start and End are in the air slot's zone; End is Start plus the
	// slot's length.
	Start, End time.Time
}

// IsZero reports whether b is no broadcast.
func (b Broadcast) IsZero() bool { return b.Start.IsZero() }

// Date is the day of the broadcast in its zone, YYYY-MM-DD.
func (b Broadcast) Date() string { return b.Start.Format(DateLayout) }

// Broadcasts returns the show's latest broadcast that started at or
// before t and the first that starts after t, leaving out the dates the
// live settings skip (the slot's length is Live's, 45 minutes without
// it). Times follow the slot's zone, daylight saving included: a Friday
// 9:30 slot starts at 9:30 Paris time in winter and in summer. ok is
// false when the show has no air slot. last is zero when every date of
// the search (a year plus the skipped dates) is skipped; next likewise.
func (sh *Show) Broadcasts(t time.Time) (last, next Broadcast, ok bool) {
	a := sh.AirSlot
	if a == nil || a.Validate() != nil {
		return Broadcast{}, Broadcast{}, false
	}
	loc := a.Zone()
	length := sh.Live.Length()
	local := t.In(loc)
	back := (int(local.Weekday()) - int(a.Weekday) + 7) % 7
	y, m, d := local.Date()
	at := func(weeks int) Broadcast {
		s := time.Date(y, m, d-back+7*weeks, a.Hour, a.Minute, 0, 0, loc)
		return Broadcast{Start: s, End: s.Add(length)}
	}
	w := 0
	if at(0).Start.After(t) {
		w = -1
	}
	limit := 53
	if sh.Live != nil {
		limit += len(sh.Live.Skip)
	}
	for i := range limit {
		if b := at(w - i); !sh.Live.Skips(b.Date()) {
			last = b
			break
		}
	}
	for i := range limit {
		if b := at(w + 1 + i); !sh.Live.Skips(b.Date()) {
			next = b
			break
		}
	}
	return last, next, true
}
