package episodes

import "testing"

func TestPodcastGUID(t *testing.T) {
	t.Parallel()
	// The example of the podcast namespace's documentation.
	const want = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
	for _, url := range []string{
		"https://mp3s.nashownotes.com/pc20rss.xml",
		"http://mp3s.nashownotes.com/pc20rss.xml",
		"mp3s.nashownotes.com/pc20rss.xml",
		"https://mp3s.nashownotes.com/pc20rss.xml/",
	} {
		if got := PodcastGUID(url); got != want {
			t.Errorf("PodcastGUID(%q): got %s, want %s", url, got, want)
		}
	}
	if a, b := PodcastGUID("https://radio.picasoft.net/lvel/feed.xml"), PodcastGUID("https://radio.picasoft.net/other/feed.xml"); a == b {
		t.Errorf("two feeds got the same guid %s", a)
	}
}
