package feed

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
)

// The parsed form of a feed, read back with namespace-aware encoding/xml.
type parsedFeed struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		// Namespaced fields come first: a field without namespace
		// matches an element of that name in any namespace.
		AtomLink struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		ITitle   string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd title"`
		Title    string `xml:"title"`
		Link     string `xml:"link"`
		Language string `xml:"language"`
		Author   string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd author"`
		Explicit string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd explicit"`
		Type     string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd type"`
		GUID     string `xml:"https://podcastindex.org/namespace/1.0 guid"`
		Medium   string `xml:"https://podcastindex.org/namespace/1.0 medium"`
		Persons  []struct {
			Role string `xml:"role,attr"`
			Name string `xml:",chardata"`
		} `xml:"https://podcastindex.org/namespace/1.0 person"`
		Items []parsedItem `xml:"item"`
	} `xml:"channel"`
}

type parsedItem struct {
	ITitle string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd title"`
	Title  string `xml:"title"`
	GUID   struct {
		IsPermaLink string `xml:"isPermaLink,attr"`
		Value       string `xml:",chardata"`
	} `xml:"guid"`
	PubDate   string `xml:"pubDate"`
	Enclosure struct {
		URL    string `xml:"url,attr"`
		Length string `xml:"length,attr"`
		Type   string `xml:"type,attr"`
	} `xml:"enclosure"`
	Duration    string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd duration"`
	EpisodeType string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd episodeType"`
	Description string `xml:"description"`
	Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	Chapters    struct {
		URL  string `xml:"url,attr"`
		Type string `xml:"type,attr"`
	} `xml:"https://podcastindex.org/namespace/1.0 chapters"`
	Persons []struct {
		Role string `xml:"role,attr"`
		Name string `xml:",chardata"`
	} `xml:"https://podcastindex.org/namespace/1.0 person"`
	Alternate struct {
		Type   string `xml:"type,attr"`
		Length string `xml:"length,attr"`
		Source struct {
			URI string `xml:"uri,attr"`
		} `xml:"https://podcastindex.org/namespace/1.0 source"`
	} `xml:"https://podcastindex.org/namespace/1.0 alternateEnclosure"`
}

// parseFeed checks that b is well-formed XML and decodes it.
func parseFeed(t *testing.T, b []byte) parsedFeed {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("feed is not well-formed XML: %v", err)
		}
	}
	var f parsedFeed
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse feed: %v", err)
	}
	return f
}

// checkItems compares the parsed items with the episodes they come from.
func checkItems(t *testing.T, l Links, got []parsedItem, want []*episodes.Episode) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i, ep := range want {
		it := got[i]
		wantTitle := xmlText(ep.Title)
		if it.Title != wantTitle || it.ITitle != wantTitle {
			t.Errorf("item %d: got title %q and itunes:title %q, want %q", i, it.Title, it.ITitle, wantTitle)
		}
		if it.GUID.Value != ep.GUID || it.GUID.IsPermaLink != "false" {
			t.Errorf("item %d: got guid %q isPermaLink=%q, want %q isPermaLink=false", i, it.GUID.Value, it.GUID.IsPermaLink, ep.GUID)
		}
		if want := strconv.FormatInt(ep.Media.Size, 10); it.Enclosure.Length != want {
			t.Errorf("item %d: got enclosure length %s, want %s", i, it.Enclosure.Length, want)
		}
		if it.Enclosure.Type != ep.Media.Type {
			t.Errorf("item %d: got enclosure type %q, want %q", i, it.Enclosure.Type, ep.Media.Type)
		}
		if want, _ := l.Object(ep.Media.Key); it.Enclosure.URL != want {
			t.Errorf("item %d: got enclosure URL %q, want %q", i, it.Enclosure.URL, want)
		}
		if want := strconv.Itoa(int(ep.Media.Duration.Round(time.Second).Seconds())); it.Duration != want {
			t.Errorf("item %d: got itunes:duration %q, want %q", i, it.Duration, want)
		}
		pub, err := time.Parse(time.RFC1123Z, it.PubDate)
		if err != nil || !pub.Equal(ep.PublishAt) {
			t.Errorf("item %d: got pubDate %q (%v), want %v", i, it.PubDate, err, ep.PublishAt)
		}
		if it.Description == "" {
			t.Errorf("item %d: empty description", i)
		}
	}
}

func TestGoldenFeeds(t *testing.T) {
	tests := []struct {
		name    string
		fixture func() (*episodes.Show, []*episodes.Episode)
		want    []string // GUIDs, in feed order
	}{
		{"full.golden", fullShow, []string{
			"urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0003",
			"urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0002",
			"urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0001",
		}},
		{"minimal.golden", minimalShow, []string{"mini-1"}},
		{"special.golden", specialShow, []string{"special-1&2<3>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			show, eps := tt.fixture()
			opts := testOptions(t)
			var buf bytes.Buffer
			if err := Write(&buf, show, eps, opts); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got := buf.Bytes()
			golden(t, tt.name, got)

			// The library stamps time.Now on dates it is not given.
			if today := time.Now().UTC().Format("02 Jan 2006"); bytes.Contains(got, []byte(today)) {
				t.Errorf("the feed holds today's date %s: a date came from the clock", today)
			}

			f := parseFeed(t, got)
			if f.Version != "2.0" {
				t.Errorf("got rss version %q, want 2.0", f.Version)
			}
			if want := xmlText(show.Title); f.Channel.Title != want {
				t.Errorf("got channel title %q, want %q", f.Channel.Title, want)
			}
			if want := opts.Links.Feed(show.Slug); f.Channel.AtomLink.Href != want || f.Channel.AtomLink.Rel != "self" {
				t.Errorf("got atom:link %+v, want href %q rel self", f.Channel.AtomLink, want)
			}
			if f.Channel.Medium != "podcast" {
				t.Errorf("got podcast:medium %q, want podcast", f.Channel.Medium)
			}
			var guids []string
			for _, it := range f.Channel.Items {
				guids = append(guids, it.GUID.Value)
			}
			if !slices.Equal(guids, tt.want) {
				t.Errorf("got item GUIDs %q, want %q", guids, tt.want)
			}
			byGUID := map[string]*episodes.Episode{}
			for _, ep := range eps {
				byGUID[ep.GUID] = ep
			}
			var wantEps []*episodes.Episode
			for _, g := range tt.want {
				wantEps = append(wantEps, byGUID[g])
			}
			checkItems(t, opts.Links, f.Channel.Items, wantEps)

			// Same inputs, in another order: same bytes.
			rev := slices.Clone(eps)
			slices.Reverse(rev)
			again, err := Build(show, rev, opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if !bytes.Equal(again, got) {
				t.Errorf("a second build with the episodes reversed gave other bytes:\n%s", firstDiff(again, got))
			}
		})
	}
}
