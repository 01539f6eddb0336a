package episodes

import (
	"fmt"
	"time"
)

// FormatDuration writes d the way players show it, rounded to the second:
// 1:02:03, or 42:05 under an hour. A negative duration is 0:00.
func FormatDuration(d time.Duration) string { return formatClock(d, false) }

// FormatDurationHours writes d as H:MM:SS even under an hour (0:42:05),
// the form spreadsheets read as a duration.
func FormatDurationHours(d time.Duration) string { return formatClock(d, true) }

func formatClock(d time.Duration, hours bool) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 || hours {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// frenchWeekdays are the French names of the days, Sunday first like
// time.Weekday.
var frenchWeekdays = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}

// FrenchWeekday is the French name of d in lower case: "vendredi". A day
// out of range is written as a number.
func FrenchWeekday(d time.Weekday) string {
	if d < time.Sunday || d > time.Saturday {
		return fmt.Sprintf("%%!Weekday(%d)", int(d))
	}
	return frenchWeekdays[d]
}

// frenchMonths are the French names of the months, January first.
var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// FrenchMonth is the French name of m in lower case: "octobre". A month
// out of range is written as a number.
func FrenchMonth(m time.Month) string {
	if m < time.January || m > time.December {
		return fmt.Sprintf("%%!Month(%d)", int(m))
	}
	return frenchMonths[m-1]
}
