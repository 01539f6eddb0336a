package feed

import (
	"encoding/xml"
	"slices"
	"testing"
)

// TestHubs checks that the feed names its WebSub hubs beside its own URL,
// as a namespace-aware reader sees them.
func TestHubs(t *testing.T) {
	show, eps := minimalShow()
	opts := testOptions(t)
	opts.Hubs = []string{"https://hub.example/", "https://pubsubhubbub.appspot.com/"}
	b, err := Build(show, eps, opts)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Channel struct {
			Links []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"http://www.w3.org/2005/Atom link"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var self, hubs []string
	for _, l := range f.Channel.Links {
		switch l.Rel {
		case "self":
			self = append(self, l.Href)
		case "hub":
			hubs = append(hubs, l.Href)
		}
	}
	if want := opts.Links.Feed(show.Slug); len(self) != 1 || self[0] != want {
		t.Errorf("self links %q, want [%s]", self, want)
	}
	if !slices.Equal(hubs, opts.Hubs) {
		t.Errorf("hub links %q, want %q", hubs, opts.Hubs)
	}
}
