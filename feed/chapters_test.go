package feed

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
)

func TestChaptersJSON(t *testing.T) {
	show, eps := fullShow()
	var ep *episodes.Episode
	for _, e := range eps {
		if e.ID == "ep-mp3" {
			ep = e
		}
	}
	ep.Chapters = []episodes.Chapter{
		{Start: 95*time.Second + 250*time.Millisecond, End: 10 * time.Minute, Title: "Les communs & <vous>", URL: "https://fr.wikipedia.org/wiki/Communs"},
		{Start: 0, Title: "Générique 🎵\x01", URL: "javascript:alert(1)"},
	}
	got, err := ChaptersJSON(show, ep)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "chapters.golden", got)

	var doc struct {
		Version     string `json:"version"`
		Title       string `json:"title"`
		PodcastName string `json:"podcastName"`
		Chapters    []struct {
			StartTime float64 `json:"startTime"`
			EndTime   float64 `json:"endTime"`
			Title     string  `json:"title"`
			URL       string  `json:"url"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("parse chapters: %v", err)
	}
	if doc.Version != "1.2.0" || doc.Title != ep.Title || doc.PodcastName != show.Title {
		t.Errorf("got version %q title %q podcastName %q, want 1.2.0, %q, %q", doc.Version, doc.Title, doc.PodcastName, ep.Title, show.Title)
	}
	if len(doc.Chapters) != 2 {
		t.Fatalf("got %d chapters, want 2", len(doc.Chapters))
	}
	c0, c1 := doc.Chapters[0], doc.Chapters[1]
	if c0.StartTime != 0 || c0.Title != "Générique 🎵" || c0.EndTime != 0 {
		t.Errorf("got first chapter %+v, want start 0, title %q, no end", c0, "Générique 🎵")
	}
	if c1.StartTime != 95.25 || c1.EndTime != 600 || c1.Title != "Les communs & <vous>" || c1.URL != "https://fr.wikipedia.org/wiki/Communs" {
		t.Errorf("got second chapter %+v, want start 95.25, end 600 and its title and URL", c1)
	}

	// No chapters: an empty list.
	empty, err := ChaptersJSON(nil, &episodes.Episode{ID: "x", Title: "X"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"version\": \"1.2.0\",\n  \"title\": \"X\",\n  \"chapters\": []\n}\n"; string(empty) != want {
		t.Errorf("chapters of an episode without any: got %q, want %q", empty, want)
	}

	for name, bad := range map[string]*episodes.Episode{
		"nil episode":    nil,
		"negative start": {ID: "x", Chapters: []episodes.Chapter{{Start: -time.Second, Title: "avant"}}},
	} {
		if b, err := ChaptersJSON(show, bad); err == nil {
			t.Errorf("%s: got %s, want an error", name, b)
		}
	}
}
