package feed

import (
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed/feedtest"
)

// TestExternalParsers reads the golden feeds with the parsers podcast apps
// use (feedparser, podcastparser, podcast-partytime) and checks that they
// see the catalog's titles, GUIDs, enclosure lengths and types, and
// durations.
func TestExternalParsers(t *testing.T) {
	fixtures := []struct {
		name    string
		fixture func() (*episodes.Show, []*episodes.Episode)
	}{{"full", fullShow}, {"minimal", minimalShow}, {"special", specialShow}}
	for _, fx := range fixtures {
		show, eps := fx.fixture()
		b, err := Build(show, eps, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		res := feedtest.Parse(t, b, "https://radio.picasoft.net/feed.xml")
		want := Published(eps, buildTime)
		for parser, got := range res {
			if w := xmlText(strings.TrimSpace(show.Title)); got.Title != w {
				t.Errorf("%s, %s feed: got show title %q, want %q", parser, fx.name, got.Title, w)
			}
			if len(got.Items) != len(want) {
				t.Errorf("%s, %s feed: got %d items, want %d", parser, fx.name, len(got.Items), len(want))
				continue
			}
			for i, ep := range want {
				w := feedtest.Item{
					Title:    xmlText(ep.Title),
					GUID:     ep.GUID,
					Length:   ep.Media.Size,
					Type:     ep.Media.Type,
					Duration: ep.Media.Duration.Round(time.Second).Seconds(),
				}
				if got.Items[i] != w {
					t.Errorf("%s, %s feed, item %d: got %+v, want %+v", parser, fx.name, i, got.Items[i], w)
				}
				if got.Alternates != nil {
					checkAlternates(t, parser, fx.name, i, got.Alternates[i], show, ep)
				}
			}
		}
		t.Logf("the %s feed: %d parsers agree", fx.name, len(res))
	}
}

// checkAlternates compares the alternate enclosures a parser read of an
// item with the episode's: its Opus version, then its original when the
// show publishes it, each with its length, bitrate and SHA-256.
func checkAlternates(t *testing.T, parser, feedName string, i int, got []feedtest.Alternate, show *episodes.Show, ep *episodes.Episode) {
	t.Helper()
	var want []feedtest.Alternate
	for _, m := range []*episodes.Media{ep.Opus, ep.PublicOriginal(show)} {
		if m == nil {
			continue
		}
		u, _ := testOptions(t).Links.Object(m.Key)
		want = append(want, feedtest.Alternate{Type: m.Type, Length: m.Size, Bitrate: m.Bitrate, URI: u, Integrity: sri(m.SHA256).Value})
	}
	if len(got) != len(want) {
		t.Errorf("%s, %s feed, item %d: got %d alternate enclosures %+v, want %+v", parser, feedName, i, len(got), got, want)
		return
	}
	for j := range want {
		if got[j] != want[j] {
			t.Errorf("%s, %s feed, item %d, alternate %d: got %+v, want %+v", parser, feedName, i, j, got[j], want[j])
		}
	}
}
