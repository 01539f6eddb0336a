package feed

import (
	"fmt"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/bucket"
)

// Fixed inputs of the golden feeds.
var (
	buildTime = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	paris     = mustZone("Europe/Paris")
)

const generator = "antenne test"

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func testLinks(t testing.TB) Links {
	t.Helper()
	l, err := NewLinks("https://radio.picasoft.net/", "")
	if err != nil {
		t.Fatalf("NewLinks: %v", err)
	}
	return l
}

func testOptions(t testing.TB) Options {
	return Options{Links: testLinks(t), BuildTime: buildTime, Generator: generator}
}

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// fullShow has every field set; its episodes are three published ones (an
// MP3, an M4A and a transcoded Mumble WAV), a draft and a scheduled one.
func fullShow() (*episodes.Show, []*episodes.Episode) {
	show := &episodes.Show{
		Version:     bucket.SchemaVersion,
		Slug:        "lvel",
		Title:       "La Voix est Libre",
		Description: "L'émission de Picasoft sur les libertés numériques, chaque vendredi sur Graf'hit.",
		Language:    "fr",
		Author:      "Picasoft",
		Owner:       episodes.Owner{Name: "Picasoft", Email: "radio@picasoft.net"},
		Categories: []episodes.Category{
			{Name: "Technology"},
			{Name: "Society & Culture", Sub: "Philosophy"},
		},
		Explicit: false,
		// Published, so that the feed has the WAV's original as an
		// alternate enclosure (originals are private by default).
		OriginalsPublic: true,
		Type:            episodes.Episodic,
		Artwork:         &episodes.Image{Key: "shows/lvel/images/0a1b2c3d4e5f.jpg", Type: "image/jpeg", Width: 1400, Height: 1400, Size: 123456, SHA256: sha},
		Link:            "https://picasoft.net/radio",
		Copyright:       "© 2020-2026 Picasoft",
		License:         "CC BY-SA 4.0",
		Funding:         &episodes.Funding{URL: "https://picasoft.net/dons", Text: "Soutenir Picasoft"},
		AirSlot:         &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit 94.9 FM", Location: "Europe/Paris"},
		Hosts:           []episodes.Person{{Name: "Quentin", Href: "https://picasoft.net/quentin"}, {Name: "Audrey", Role: "host", Img: "https://picasoft.net/audrey.png"}},
		GUID:            "917393e3-1b1e-5cef-ace4-edaa54e1f810",
		Locked:          true,
		NewFeedURL:      "https://radio.example.org/lvel/feed.xml",
		Created:         time.Date(2020, 9, 1, 8, 0, 0, 0, time.UTC),
		Updated:         time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC),
	}
	guests := func(g ...string) []episodes.Person {
		ps := []episodes.Person{{Name: "Quentin", Role: episodes.RoleHost}}
		for _, n := range g {
			ps = append(ps, episodes.Person{Name: n, Role: episodes.RoleGuest, Group: "cast"})
		}
		return ps
	}
	mp3 := &episodes.Episode{
		Version: 1, ID: "ep-mp3", Show: "lvel", Slug: "les-communs-numeriques",
		GUID:  "urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0001",
		Title: "Les communs numériques",
		Notes: "On parle des **communs** avec [Framasoft](https://framasoft.org).\n\n" +
			"- Wikipédia\n- OpenStreetMap\n\nÉcrire à <radio@picasoft.net>.",
		AiredAt:   time.Date(2020, 10, 2, 9, 30, 0, 0, paris),
		PublishAt: time.Date(2020, 10, 2, 12, 0, 0, 0, paris),
		Season:    1, Number: 1, Type: episodes.Full,
		Persons: guests("Stéphane"),
		Chapters: []episodes.Chapter{
			{Start: 0, Title: "Générique"},
			{Start: 95 * time.Second, Title: "Les communs", URL: "https://fr.wikipedia.org/wiki/Communs_numériques"},
		},
		Media: episodes.Media{Key: "shows/lvel/media/les-communs-numeriques-9f86d081884c.mp3", Type: "audio/mpeg",
			Size: 43_210_987, Duration: 45*time.Minute + 12*time.Second + 600*time.Millisecond, Bitrate: 128000, SHA256: sha},
		Transcript: &episodes.Transcript{Key: "shows/lvel/transcripts/les-communs-numeriques.vtt", Type: "text/vtt", Language: "fr"},
	}
	m4a := &episodes.Episode{
		Version: 1, ID: "ep-m4a", Show: "lvel", Slug: "chatons",
		GUID:      "urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0002",
		Title:     "Les CHATONS",
		Notes:     "Le collectif des hébergeurs alternatifs.",
		AiredAt:   time.Date(2020, 10, 9, 9, 30, 0, 0, paris),
		PublishAt: time.Date(2020, 10, 9, 12, 0, 0, 0, paris),
		Season:    1, Number: 2, Type: episodes.Full,
		Persons:  guests("Angie", "Luc"),
		Artwork:  &episodes.Image{Key: "shows/lvel/images/fedcba987654.png", Type: "image/png", Width: 1400, Height: 1400},
		Explicit: true,
		Media: episodes.Media{Key: "shows/lvel/media/chatons-2c26b46b68ff.m4a", Type: "audio/mp4",
			Size: 30_000_001, Duration: 29*time.Minute + 59*time.Second + 400*time.Millisecond, SHA256: sha},
	}
	wav := &episodes.Episode{
		Version: 1, ID: "ep-wav", Show: "lvel", Slug: "mumble-bonus",
		GUID:      "urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0003",
		Title:     "Bonus : enregistré sur Mumble",
		Notes:     "Un *bonus* enregistré à distance.",
		AiredAt:   time.Date(2020, 10, 16, 9, 30, 0, 0, paris),
		PublishAt: time.Date(2020, 10, 16, 18, 0, 0, 0, paris),
		Season:    1, Type: episodes.Bonus,
		Persons: guests(),
		Media: episodes.Media{Key: "shows/lvel/media/mumble-bonus-fcde2b2edba5.mp3", Type: "audio/mpeg",
			Size: 7_654_321, Duration: 10*time.Minute + 37*time.Second, Bitrate: 96000, SHA256: sha},
		Original: &episodes.Media{Key: "shows/lvel/originals/fcde2b2edba5.wav", Type: "audio/wav",
			Size: 91_622_444, Duration: 10*time.Minute + 37*time.Second, Bitrate: 1152000, SHA256: sha},
		Opus: &episodes.Media{Key: "shows/lvel/media/mumble-bonus-3b2edba5fcde.opus", Type: "audio/ogg; codecs=opus",
			Size: 3_821_000, Duration: 10*time.Minute + 37*time.Second, Bitrate: 48000, SHA256: sha},
	}
	draft := &episodes.Episode{
		Version: 1, ID: "ep-draft", Show: "lvel", Slug: "brouillon",
		GUID: "urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0004", Title: "Brouillon",
		Media: episodes.Media{Key: "shows/lvel/media/brouillon-aaaaaaaaaaaa.mp3", Type: "audio/mpeg", Size: 1000, Duration: time.Minute},
	}
	scheduled := &episodes.Episode{
		Version: 1, ID: "ep-later", Show: "lvel", Slug: "plus-tard",
		GUID: "urn:uuid:0b9e3c52-1f0a-4c7b-9a4e-1c1d5f0f0005", Title: "Plus tard",
		PublishAt: buildTime.Add(time.Hour),
		Media:     episodes.Media{Key: "shows/lvel/media/plus-tard-bbbbbbbbbbbb.mp3", Type: "audio/mpeg", Size: 2000, Duration: time.Minute},
	}
	// Deliberately not in publication order.
	return show, []*episodes.Episode{m4a, draft, wav, scheduled, mp3}
}

// minimalShow has only what a show needs, and one bare episode.
func minimalShow() (*episodes.Show, []*episodes.Episode) {
	show := &episodes.Show{Slug: "mini", Title: "Mini"}
	ep := &episodes.Episode{
		ID: "e1", Show: "mini", Slug: "premier", GUID: "mini-1", Title: "Premier",
		PublishAt: time.Date(2021, 2, 5, 8, 0, 0, 0, time.UTC),
		Media:     episodes.Media{Key: "shows/mini/media/premier.mp3", Type: "audio/mpeg", Size: 1234, Duration: 1500 * time.Millisecond},
	}
	return show, []*episodes.Episode{ep}
}

// Forbidden and awkward characters used by specialShow.
const (
	ctrl    = "\x01"
	nonChar = "\uFFFE"
)

// specialShow has text with XML specials, accents, emoji, characters XML
// forbids, and hostile show notes.
func specialShow() (*episodes.Show, []*episodes.Episode) {
	show := &episodes.Show{
		Slug:        "special",
		Title:       `Radio & <Libre> "guillemets" l'été 🎙️` + ctrl + nonChar,
		Description: "Tom & Jerry < 3 > 2, ça déménage 🚀" + ctrl,
		Language:    "fr",
		Author:      "Pïcà & Soft <radio@picasoft.net>",
		Owner:       episodes.Owner{Name: "Zoé " + nonChar + "O'Brien", Email: "zoe@example.org"},
		Categories:  []episodes.Category{{Name: "Society & Culture", Sub: "Places & Travel"}},
		Hosts:       []episodes.Person{{Name: "Zoé & Anaïs 👩‍💻" + ctrl, Href: "javascript:alert(7)", Img: "data:image/png;base64,AAAA"}},
		// Links of other schemes than http(s) are dropped.
		Link:       "javascript:alert(8)",
		Funding:    &episodes.Funding{URL: "JavaScript:alert(9)", Text: "Donner"},
		LicenseURL: "javascript:alert(10)",
		License:    "CC BY 4.0",
		NewFeedURL: "vbscript:x",
		Copyright:  "© Zoé & co " + ctrl,
	}
	ep := &episodes.Episode{
		ID: "s1", Show: "special", Slug: "ete-et-emoji", GUID: "special-1&2<3>",
		Title: `Été & <hiver> "été" l'été 🌞` + ctrl + nonChar,
		Notes: "Salut & bienvenue <b>à</b> tous 🎉" + ctrl + nonChar + "\n\n" +
			"<script>alert('xss')</script>\n\n" +
			"[clique](javascript:alert(1)) et [là aussi](JaVaScRiPt:alert(2)) " +
			"<a href=\"javascript:alert(3)\" onclick=\"alert(4)\">lien</a>\n\n" +
			"<img src=\"https://tracker.example/pixel.gif\" onerror=\"alert(5)\">\n\n" +
			"<p onmouseover=\"alert(6)\" style=\"color:red\">survol</p>\n\n" +
			"Code : `a < b && c > d` et ]]> fin de CDATA.\n",
		PublishAt: time.Date(2021, 3, 5, 11, 30, 0, 0, time.UTC),
		Season:    2, Number: 7,
		Persons:  []episodes.Person{{Name: "Zoé & Anaïs 👩‍💻", Role: "guest"}},
		Chapters: []episodes.Chapter{{Start: 0, Title: "Début & <fin> 🎬" + ctrl}},
		Media:    episodes.Media{Key: "shows/special/media/été & hiver.mp3", Type: "audio/mpeg", Size: 987654, Duration: 62 * time.Second},
	}
	return show, []*episodes.Episode{ep}
}

// manyEpisodes returns a show with n published episodes with realistic
// show notes, for the benchmark.
func manyEpisodes(n int) (*episodes.Show, []*episodes.Episode) {
	show, _ := fullShow()
	eps := make([]*episodes.Episode, n)
	for i := range eps {
		eps[i] = &episodes.Episode{
			Version: 1, ID: fmt.Sprintf("ep-%04d", i), Show: show.Slug, Slug: fmt.Sprintf("episode-%04d", i),
			GUID:  fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i),
			Title: fmt.Sprintf("Épisode %d : les logiciels libres & les communs", i),
			Notes: "Cette semaine, on parle de **logiciel libre** avec nos invités.\n\n" +
				"- [Framasoft](https://framasoft.org)\n- [Picasoft](https://picasoft.net)\n- [April](https://april.org)\n\n" +
				"Musique : *Artiste* — Titre (CC BY).\n\nÉcrivez-nous : <radio@picasoft.net>.",
			AiredAt:   buildTime.Add(-time.Duration(i+1) * 7 * 24 * time.Hour),
			PublishAt: buildTime.Add(-time.Duration(i+1) * 7 * 24 * time.Hour),
			Season:    1 + i/30, Number: i + 1, Type: episodes.Full,
			Persons:  []episodes.Person{{Name: "Quentin"}, {Name: "Invité·e", Role: "guest"}},
			Chapters: []episodes.Chapter{{Start: 0, Title: "Intro"}, {Start: 5 * time.Minute, Title: "Sujet"}},
			Media: episodes.Media{Key: fmt.Sprintf("shows/lvel/media/episode-%04d-9f86d081884c.mp3", i), Type: "audio/mpeg",
				Size: 40_000_000 + int64(i), Duration: 45 * time.Minute, SHA256: sha},
		}
	}
	return show, eps
}
