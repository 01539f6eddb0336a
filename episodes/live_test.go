package episodes

import (
	"slices"
	"testing"
	"time"
)

func TestParseAirSlot(t *testing.T) {
	tests := []struct {
		day, clock string
		want       AirSlot
		ok         bool
	}{
		{"friday", "09:30", AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Location: "Europe/Paris"}, true},
		{"Vendredi", "9h30", AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Location: "Europe/Paris"}, true},
		{"5", "9:30", AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Location: "Europe/Paris"}, true},
		{"0", "23:59", AirSlot{Weekday: time.Sunday, Hour: 23, Minute: 59, Location: "Europe/Paris"}, true},
		{"7", "09:30", AirSlot{}, false},
		{"fri", "09:30", AirSlot{}, false},
		{"friday", "24:00", AirSlot{}, false},
		{"friday", "9:3", AirSlot{}, false},
		{"friday", "9", AirSlot{}, false},
		{"friday", "", AirSlot{}, false},
	}
	for _, tt := range tests {
		got, err := ParseAirSlot(tt.day, tt.clock)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ParseAirSlot(%q, %q) = %+v, %v; want %+v", tt.day, tt.clock, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("ParseAirSlot(%q, %q) = %+v; want an error", tt.day, tt.clock, got)
		}
	}
}

func TestParseSkipDates(t *testing.T) {
	got, err := ParseSkipDates("2020-12-25, 2021-01-01\n2020-12-25 2020-11-11")
	if want := []string{"2020-11-11", "2020-12-25", "2021-01-01"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	if _, err := ParseSkipDates("2020-12-25, Noël"); err == nil {
		t.Error("a date that is not one was accepted")
	}
}

// TestBroadcasts: the slot's Paris time holds across daylight saving
// changes, and skipped dates are left out both ways.
func TestBroadcasts(t *testing.T) {
	sh := &Show{AirSlot: &AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30}, Live: &Live{URL: "https://s.example/", Minutes: 60, Skip: []string{"2021-10-22", "2021-11-05"}}}
	last, next, ok := sh.Broadcasts(paris(t, 2021, 10, 31, 12, 0, 0, 0)) // the Sunday of the change
	if !ok {
		t.Fatal("no broadcasts")
	}
	if got, want := last.Start.Format(time.RFC3339), "2021-10-29T09:30:00+02:00"; got != want {
		t.Errorf("last: got %s, want %s", got, want)
	}
	if got, want := last.End.Format(time.RFC3339), "2021-10-29T10:30:00+02:00"; got != want {
		t.Errorf("last end: got %s, want %s", got, want)
	}
	if got, want := next.Start.Format(time.RFC3339), "2021-11-12T09:30:00+01:00"; got != want {
		t.Errorf("next (2021-11-05 skipped): got %s, want %s", got, want)
	}
	last, _, _ = sh.Broadcasts(paris(t, 2021, 10, 28, 12, 0, 0, 0))
	if got, want := last.Date(), "2021-10-15"; got != want {
		t.Errorf("last (2021-10-22 skipped): got %s, want %s", got, want)
	}
	// At the very start, the broadcast is the last one, not the next.
	last, next, _ = sh.Broadcasts(paris(t, 2021, 10, 29, 9, 30, 0, 0))
	if last.Date() != "2021-10-29" || next.Date() != "2021-11-12" {
		t.Errorf("at the start: got last %s next %s", last.Date(), next.Date())
	}
	if _, _, ok := (&Show{}).Broadcasts(time.Now()); ok {
		t.Error("a show without air slot has broadcasts")
	}
}
