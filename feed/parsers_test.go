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
			}
		}
		t.Logf("the %s feed: %d parsers agree", fx.name, len(res))
	}
}
