package feed_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/feed"
)

func TestParseDate(t *testing.T) {
	want := time.Date(2020, 10, 2, 9, 30, 0, 0, time.UTC)
	for _, s := range []string{
		"Fri, 02 Oct 2020 09:30:00 +0000",
		"Fri, 02 Oct 2020 11:30:00 +0200",
		"Fri, 2 Oct 2020 09:30:00 GMT",
		"Friday, 02 October 2020 09:30:00 UT",
		"02 Oct 2020 09:30:00 Z",
		"Fri,  02 Oct 2020 09:30 +0000",
		"Fri, 02 Oct 20 09:30:00 +0000",
		"Fri, 02 Oct 2020 11:30:00 +02:00",
		"Fri, 02 Oct 2020 05:30:00 EDT",
		"Fri, 02 Oct 2020 09:30:00",
		"2020-10-02T09:30:00Z",
		"2020-10-02T11:30:00+02:00",
		"2020-10-02 09:30:00",
		"fri, 02 oct 2020 09:30:00 gmt",
	} {
		got, err := feed.ParseDate(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseDate(%q): got %v, %v, want %v", s, got, err, want)
		}
	}
	if got, err := feed.ParseDate("Sat, 12 Sept 2020 00:00:00 +0000"); err != nil || got.Month() != time.September {
		t.Errorf("Sept: got %v, %v", got, err)
	}
	for _, s := range []string{"", "hier", "Fri, 32 Oct 2020 09:30:00 +0000", "0000-00-00", "2020-13-01"} {
		if got, err := feed.ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q): got %v, want an error", s, got)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"3600", time.Hour},
		{"61.5", 61500 * time.Millisecond},
		{"01:02", 62 * time.Second},
		{"1:02:03", time.Hour + 2*time.Minute + 3*time.Second},
		{"00:00:04.250", 4250 * time.Millisecond},
		{" 90 ", 90 * time.Second},
	} {
		got, err := feed.ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q): got %v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, s := range []string{"", "-3", "1:60", "abc", "1:2:3:4", "1.5:00", "1e99"} {
		if got, err := feed.ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q): got %v, want an error", s, got)
		}
	}
}

const smallFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:podcast="https://podcastindex.org/namespace/1.0"
  xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title><![CDATA[Radio & Co]]></title>
  <atom:link href="/feed.xml" rel="self" type="application/rss+xml"/>
  <description>Une émission&nbsp;libre</description>
  <itunes:image href="cover.jpg"/>
  <itunes:category text="Society &amp; Culture"><itunes:category text="Documentary"/></itunes:category>
  <itunes:category text="Technology"/>
  <itunes:owner><itunes:name>Radio</itunes:name><itunes:email>radio@example.org</itunes:email></itunes:owner>
  <podcast:guid>917393e3-1b1e-5cef-ace4-edaa54e1f810</podcast:guid>
  <item>
    <title>Un</title>
    <guid isPermaLink="false">abc-1</guid>
    <pubDate>Fri, 02 Oct 2020 09:30:00 +0000</pubDate>
    <enclosure url="media/un.mp3" length="1234" type="audio/mpeg"/>
    <content:encoded><![CDATA[<p>Des <b>notes</b></p>]]></content:encoded>
    <itunes:duration>1:02</itunes:duration>
    <itunes:episode>3</itunes:episode>
    <itunes:season>2</itunes:season>
    <itunes:episodeType>Bonus</itunes:episodeType>
    <podcast:chapters url="https://cdn.example.org/un.json" type="application/json+chapters"/>
    <podcast:transcript url="un.vtt" type="text/vtt" language="fr"/>
    <podcast:person role="guest">Alice</podcast:person>
  </item>
  <item>
    <title>Deux</title>
    <pubDate>demain</pubDate>
    <enclosure url="https://cdn.example.org/deux.mp3" length="" type="audio/mpeg"/>
  </item>
</channel>
</rss>`

func TestParse(t *testing.T) {
	f, err := feed.Parse(strings.NewReader(smallFeed), "https://old.example.org/podcast/feed.xml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"title", f.Title, "Radio & Co"},
		{"description", f.Description, "Une émission\u00a0libre"},
		{"self", f.SelfURL, "https://old.example.org/feed.xml"},
		{"image", f.Image, "https://old.example.org/podcast/cover.jpg"},
		{"guid", f.GUID, "917393e3-1b1e-5cef-ace4-edaa54e1f810"},
		{"owner", f.Owner.Email, "radio@example.org"},
		{"item guid", f.Items[0].GUID, "abc-1"},
		{"enclosure", f.Items[0].Enclosure.URL, "https://old.example.org/podcast/media/un.mp3"},
		{"content", f.Items[0].Content, "<p>Des <b>notes</b></p>"},
		{"type", f.Items[0].EpisodeType, "bonus"},
		{"chapters", f.Items[0].ChaptersURL, "https://cdn.example.org/un.json"},
		{"transcript", f.Items[0].Transcripts[0].URL, "https://old.example.org/podcast/un.vtt"},
		{"person", f.Items[0].Persons[0].Name + "/" + f.Items[0].Persons[0].Role, "Alice/guest"},
		{"guid from enclosure", f.Items[1].GUID, "https://cdn.example.org/deux.mp3"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(f.Categories) != 2 || f.Categories[0].Name != "Society & Culture" || f.Categories[0].Sub != "Documentary" {
		t.Errorf("categories: got %+v", f.Categories)
	}
	it := f.Items[0]
	if it.Duration != 62*time.Second || it.Season != 2 || it.Episode != 3 || it.Enclosure.Length != 1234 {
		t.Errorf("item numbers: got duration %v season %d episode %d length %d", it.Duration, it.Season, it.Episode, it.Enclosure.Length)
	}
	if f.Items[1].DateError == nil || !f.Items[1].PubDate.IsZero() {
		t.Errorf("bad date: got %v, %v, want an error", f.Items[1].PubDate, f.Items[1].DateError)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"html":      "<html><body>nope</body></html>",
		"atom":      `<feed xmlns="http://www.w3.org/2005/Atom"></feed>`,
		"nochannel": "<rss></rss>",
		"empty":     "",
		"garbage":   "\x00\x01\x02",
	} {
		if _, err := feed.Parse(strings.NewReader(doc), ""); err == nil {
			t.Errorf("%s: got no error", name)
		} else if name != "garbage" && name != "empty" && !errors.Is(err, feed.ErrNotAFeed) {
			t.Errorf("%s: got %v, want ErrNotAFeed", name, err)
		}
	}
}

func TestParseLatin1(t *testing.T) {
	doc := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><title>\xc9mission</title></channel></rss>"
	f, err := feed.Parse(strings.NewReader(doc), "")
	if err != nil || f.Title != "Émission" {
		t.Fatalf("got %+v, %v, want title Émission", f, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(smallFeed)
	f.Fuzz(func(t *testing.T, doc string) {
		feed.Parse(strings.NewReader(doc), "https://example.org/feed.xml")
	})
}
