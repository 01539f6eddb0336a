package feed

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
)

func TestWriteErrors(t *testing.T) {
	show, eps := minimalShow()
	opts := testOptions(t)
	tests := []struct {
		name   string
		show   *episodes.Show
		edit   func(*episodes.Episode, *Options, *episodes.Show)
		wantIn string
	}{
		{"nil show", nil, nil, "no show"},
		{"no links", show, func(_ *episodes.Episode, o *Options, _ *episodes.Show) { o.Links = Links{} }, "no links"},
		{"no build time", show, func(_ *episodes.Episode, o *Options, _ *episodes.Show) { o.BuildTime = time.Time{} }, "no build time"},
		{"no GUID", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) { e.GUID = "" }, "no GUID"},
		{"no media type", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) { e.Media.Type = "" }, "has no type"},
		{"zero size", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) { e.Media.Size = 0 }, "has size 0"},
		{"private media key", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) { e.Media.Key = "shows/mini/episodes/e1.json" }, "not public"},
		{"bad artwork key", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) { e.Artwork = &episodes.Image{Key: "../x.jpg"} }, "artwork"},
		{"bad original key", show, func(e *episodes.Episode, _ *Options, s *episodes.Show) {
			e.Original, s.OriginalsPublic = &episodes.Media{Key: "x.wav"}, true
		}, "original"},
		{"bad transcript key", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) {
			e.Transcript = &episodes.Transcript{Key: "x.vtt"}
		}, "transcript"},
		{"bad show artwork", show, func(_ *episodes.Episode, _ *Options, s *episodes.Show) { s.Artwork = &episodes.Image{Key: "x"} }, "artwork"},
		{"no title", show, func(_ *episodes.Episode, _ *Options, s *episodes.Show) { s.Title = " \x01" }, "no title"},
		{"unknown show type", show, func(_ *episodes.Episode, _ *Options, s *episodes.Show) { s.Type = "weekly" }, "neither episodic nor serial"},
		{"unknown episode type", show, func(e *episodes.Episode, _ *Options, _ *episodes.Show) { e.Type = "teaser" }, "not full, trailer or bonus"},
		{"air slot out of range", show, func(_ *episodes.Episode, _ *Options, s *episodes.Show) {
			s.AirSlot = &episodes.AirSlot{Weekday: 9, Hour: 9}
		}, "air_slot: the day or time is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *episodes.Show
			if tt.show != nil {
				c := *tt.show
				s = &c
			}
			ep := *eps[0]
			o := opts
			if tt.edit != nil {
				tt.edit(&ep, &o, s)
			}
			var buf bytes.Buffer
			err := Write(&buf, s, []*episodes.Episode{&ep}, o)
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("got error %v, want one about %q", err, tt.wantIn)
			}
			if buf.Len() != 0 {
				t.Errorf("got %d bytes written despite the error, want none", buf.Len())
			}
		})
	}

	// A draft with no media is not in the feed, so not an error.
	draft := &episodes.Episode{ID: "d", GUID: "d"}
	if _, err := Build(show, []*episodes.Episode{draft, nil}, opts); err != nil {
		t.Errorf("a draft without media and a nil episode: got %v, want no error", err)
	}
}

type failingWriter struct{}

var errDisk = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWriteWriterError(t *testing.T) {
	show, eps := minimalShow()
	if err := Write(failingWriter{}, show, eps, testOptions(t)); !errors.Is(err, errDisk) {
		t.Errorf("got %v, want an error wrapping %v", err, errDisk)
	}
}

func TestWriteOptions(t *testing.T) {
	show, eps := fullShow()
	ml, err := NewLinks("https://radio.picasoft.net", "https://media.picasoft.net")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Links:     ml,
		BuildTime: buildTime,
		// Later than the scheduled episode: it is published too.
		Now: buildTime.Add(2 * time.Hour),
		Season: func(e *episodes.Episode) (int, string) {
			if e.ID == "ep-later" {
				return 0, ""
			}
			return 3, "A20"
		},
	}
	b, err := Build(show, eps, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := parseFeed(t, b)
	var guids []string
	for _, it := range f.Channel.Items {
		guids = append(guids, it.GUID.Value)
	}
	if want := 4; len(guids) != want || guids[0] != "urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0005" {
		t.Errorf("with Now after the scheduled time: got items %q, want %d with the scheduled one first", guids, want)
	}
	s := string(b)
	for _, want := range []string{
		`<enclosure url="https://media.picasoft.net/lvel/media/chatons-2c26b46b68ff.m4a"`,
		`<podcast:source uri="https://media.picasoft.net/lvel/originals/fcde2b2edba5.wav">`,
		`<itunes:image href="https://media.picasoft.net/lvel/images/0a1b2c3d4e5f.jpg">`,
		`<podcast:transcript url="https://radio.picasoft.net/lvel/transcripts/les-communs-numeriques.vtt"`,
		`<podcast:chapters url="https://radio.picasoft.net/lvel/les-communs-numeriques/chapters.json" type="application/json+chapters">`,
		`<podcast:season name="A20">3</podcast:season>`,
		`<itunes:season>3</itunes:season>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("feed with options: want %s in it", want)
		}
	}
	if strings.Contains(s, "<generator>") {
		t.Errorf("empty Generator: got a <generator> element, want none")
	}
	// The season hook said none for the scheduled episode.
	later := s[strings.Index(s, "<item>"):strings.Index(s, "</item>")]
	if strings.Contains(later, "season") {
		t.Errorf("season hook returned 0: got a season in %s", later)
	}
}

func TestUpdateFrequency(t *testing.T) {
	tests := []struct {
		lang string
		slot episodes.AirSlot
		want string
	}{
		{"fr", episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit"},
			`<podcast:updateFrequency complete="false" rrule="FREQ=WEEKLY;BYDAY=FR">Chaque vendredi à 9h30 sur Graf&#39;hit</podcast:updateFrequency>`},
		{"fr-FR", episodes.AirSlot{Weekday: time.Sunday, Hour: 18},
			`<podcast:updateFrequency complete="false" rrule="FREQ=WEEKLY;BYDAY=SU">Chaque dimanche à 18h00</podcast:updateFrequency>`},
		{"en", episodes.AirSlot{Weekday: time.Monday, Hour: 7, Minute: 5, Station: "Radio Campus"},
			`<podcast:updateFrequency complete="false" rrule="FREQ=WEEKLY;BYDAY=MO">Every Monday at 7:05 on Radio Campus</podcast:updateFrequency>`},
	}
	for _, tt := range tests {
		show, eps := minimalShow()
		show.Language = tt.lang
		show.AirSlot = &tt.slot
		b, err := Build(show, eps, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("language %s, slot %+v: want %s in the feed", tt.lang, tt.slot, tt.want)
		}
	}
}

func TestEmptyShow(t *testing.T) {
	show, _ := minimalShow()
	b, err := Build(show, nil, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	f := parseFeed(t, b)
	if len(f.Channel.Items) != 0 {
		t.Errorf("got %d items, want none", len(f.Channel.Items))
	}
	if strings.Contains(string(b), "<pubDate>") {
		t.Errorf("a show without episodes: got a pubDate, want none (the library would stamp the current time)")
	}
}

// TestSpecialCharacters checks, beyond the golden file, that nothing
// forbidden or hostile reaches the bytes.
func TestSpecialCharacters(t *testing.T) {
	show, eps := specialShow()
	b, err := Build(show, eps, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{ctrl, nonChar, "\uFFFD", "<script", "&lt;script", "javascript:", "onclick", "onerror", "onmouseover", "style=", "tracker.example", "<img"} {
		if strings.Contains(strings.ToLower(s), strings.ToLower(bad)) {
			t.Errorf("special feed: got %q in it, want none", bad)
		}
	}
	f := parseFeed(t, b)
	it := f.Channel.Items[0]
	if want := `Été & <hiver> "été" l'été 🌞`; it.Title != want {
		t.Errorf("got title %q, want %q", it.Title, want)
	}
	if want := `Radio & <Libre> "guillemets" l'été 🎙️`; f.Channel.Title != want {
		t.Errorf("got channel title %q, want %q", f.Channel.Title, want)
	}
	if want := "Zoé & Anaïs 👩‍💻"; len(f.Channel.Persons) != 1 || f.Channel.Persons[0].Name != want {
		t.Errorf("got hosts %+v, want one named %q", f.Channel.Persons, want)
	}
	if !strings.Contains(it.Content, "<b>à</b>") || !strings.Contains(it.Content, "<code>a &lt; b &amp;&amp; c &gt; d</code>") {
		t.Errorf("got content:encoded %q, want the bold and the escaped code kept", it.Content)
	}
}
