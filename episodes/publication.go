package episodes

import (
	"time"
)

// How a host asks for an episode to come out: the mode argument of
// ParsePublication, as the studio, the API and the CLI offer it.
const (
	PublishNow   = "now"   // published at once
	PublishLater = "at"    // published by itself at a given time
	PublishDraft = "draft" // kept unpublished
)

// parisLayouts are the zone-less layouts ParseParisTime reads in Paris
// time, as HTML forms (datetime-local, date) and people write them.
var parisLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// ParseParisTime reads a time as hosts type it: RFC 3339
// (2021-03-05T09:30:00+01:00), or a date or date-time without zone in
// Europe/Paris time (2021-03-05, 2021-03-05T09:30, 2021-03-05 09:30, with
// or without seconds). A value it cannot read is a *FieldError on field
// with key "time.malformed".
func ParseParisTime(field, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range parisLayouts {
		if t, err := time.ParseInLocation(layout, v, Paris()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalid(field, "time.malformed", "%q is not a date: use 2021-03-05 or 2021-03-05T09:30 (Paris time)", v)
}

// ParsePublication turns a host's choice into the episode's PublishAt:
// mode PublishNow (or "") gives now, PublishDraft the zero time (not
// published), PublishLater the time at (read by ParseParisTime), which
// must be after now. at goes with PublishLater only. Errors are
// *FieldError on publish_at, keys "publish_at.missing",
// "publish_at.unexpected", "publish_at.past", "publish_at.mode" and
// "time.malformed".
func ParsePublication(mode, at string, now time.Time) (time.Time, error) {
	switch mode {
	case "", PublishNow, PublishDraft:
		if at != "" {
			return time.Time{}, invalid("publish_at", "publish_at.unexpected", "a publication time goes with scheduling only, not with %q", cmpMode(mode))
		}
		if mode == PublishDraft {
			return time.Time{}, nil
		}
		return now, nil
	case PublishLater:
		if at == "" {
			return time.Time{}, invalid("publish_at", "publish_at.missing", "give the publication time, such as 2021-03-05T09:30")
		}
		t, err := ParseParisTime("publish_at", at)
		if err != nil {
			return time.Time{}, err
		}
		return t, checkFuture(t, now)
	}
	return time.Time{}, invalid("publish_at", "publish_at.mode", "%q is not now, at or draft", mode)
}

func cmpMode(mode string) string {
	if mode == "" {
		return PublishNow
	}
	return mode
}

// checkFuture refuses a publication time that is not after now.
func checkFuture(at, now time.Time) error {
	if !at.After(now) {
		return invalid("publish_at", "publish_at.past", "%s is not in the future", at.In(Paris()).Format("2006-01-02 15:04 MST"))
	}
	return nil
}
