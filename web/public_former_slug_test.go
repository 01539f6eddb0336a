package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestFormerSlugRedirects: a renamed episode's old page URL, its embed and
// its chapters answer 301 to the new ones, until another episode takes
// the old slug, which then shows its own page.
func TestFormerSlugRedirects(t *testing.T) {
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	e := s.ingest("mp3", 440, episodes.Upload{Title: "Vie privée", PublishAt: s.clock.Now()})
	if _, err := s.svc.UpdateEpisode(t.Context(), s.show, e.ID, "", func(e *episodes.Episode) error {
		e.Slug = "la-vie-privee"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/lvel/vie-privee", "/lvel/la-vie-privee"},
		{"/lvel/vie-privee/embed?t=3", "/lvel/la-vie-privee/embed?t=3"},
		{"/lvel/vie-privee/chapters.json", "/lvel/la-vie-privee/chapters.json"},
	} {
		resp, _ := s.do(http.MethodGet, tc.path)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != tc.want {
			t.Errorf("GET %s: got %d to %q, want 301 to %s", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
	if resp, _ := s.do(http.MethodGet, "/lvel/la-vie-privee"); resp.StatusCode != http.StatusOK {
		t.Errorf("new page: got %d, want 200", resp.StatusCode)
	}
	other := s.ingest("m4a", 523, episodes.Upload{Title: "Vie privée", PublishAt: s.clock.Now()})
	if other.Slug != "vie-privee" {
		t.Fatalf("released slug: got %q, want vie-privee", other.Slug)
	}
	resp, body := s.do(http.MethodGet, "/lvel/vie-privee")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), objectPath(other.Media.Key)) {
		t.Errorf("old slug taken again: got %d, want 200 with the new episode's player", resp.StatusCode)
	}
}
