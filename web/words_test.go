package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio"
)

// TestPluralByRule: a counted text takes its singular or plural form by
// the language's rule, never by hand.
func TestPluralByRule(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{langFR, 0, "0 épisode publié, 0:00 d'antenne."},
		{langFR, 1, "1 épisode publié, 0:00 d'antenne."},
		{langFR, 2, "2 épisodes publiés, 0:00 d'antenne."},
		{langEN, 0, "0 published episodes, 0:00 on air."},
		{langEN, 1, "1 published episode, 0:00 on air."},
		{langEN, 12, "12 published episodes, 0:00 on air."},
	} {
		if got := tr(tc.lang, "studio.semester.count", tc.n, "0:00"); got != tc.want {
			t.Errorf("%s %d: got %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := tr(langFR, "studio.s.followers", 1); got != "1 abonné" {
		t.Errorf("followers: got %q, want %q", got, "1 abonné")
	}
	// No catalogue text writes a plural by hand.
	for key, m := range studioMessages {
		for _, s := range m {
			if strings.Contains(s, "(s)") {
				t.Errorf("%s: %q writes its plural by hand", key, s)
			}
		}
	}
}

// TestWordsReadWell pins the French mistakes seen by a host.
func TestWordsReadWell(t *testing.T) {
	if got, want := tr(langFR, "show.airslot", weekdayName(langFR, 5), "9h30"), "À l'antenne les vendredis à 9h30"; got != want {
		t.Errorf("air slot: got %q, want %q", got, want)
	}
	if got := tr(langFR, "tokens.hint"); !strings.Contains(got, "--server") {
		t.Errorf("token hint %q does not name --server", got)
	}
	if got := tr(langFR, "account.must"); strings.Contains(got, "réinitialisé") {
		t.Errorf("first sign-in told %q", got)
	}
	if got := problemOf(&audio.UnsupportedAudioError{Kind: audio.KindUnknown}).Message(langFR); !strings.Contains(got, "il ne ressemble à rien") {
		t.Errorf("unknown file: got %q", got)
	}
}

// TestSizesOneWay: sizes are written in the binary units the
// configuration takes, so that the 2 GiB default reads « 2 Gio ».
func TestSizesOneWay(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{langFR, 2 << 30, "2\u00a0Gio"},
		{langEN, 2 << 30, "2\u00a0GiB"},
		{langFR, 1536 << 10, "1,5\u00a0Mio"},
		{langFR, 999, "999\u00a0o"},
	} {
		if got := humanSize(tc.lang, tc.n); got != tc.want {
			t.Errorf("humanSize(%s, %d): got %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	p := problemOf(&http.MaxBytesError{Limit: 2 << 30})
	if got := p.Message(langEN); !strings.Contains(got, "2\u00a0GiB") {
		t.Errorf("too large in English: got %q", got)
	}
}

// TestTranscriptBackwards: a cue that ends before it starts is told so,
// with its line.
func TestTranscriptBackwards(t *testing.T) {
	_, err := episodes.ParseCues(episodes.TypeSRT, []byte("1\n00:00:05,000 --> 00:00:02,000\nBonjour.\n"))
	if got, want := problemOf(err).Message(langFR), "Ligne 2 : ce passage finit avant de commencer."; !strings.Contains(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
