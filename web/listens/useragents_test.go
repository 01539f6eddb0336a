package listens

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestTableCompiles compiles every pattern of useragents.json on its own
// and checks every entry's kind and name.
func TestTableCompiles(t *testing.T) {
	var doc struct {
		Entries []agentEntry `json:"entries"`
	}
	if err := json.Unmarshal(userAgentsJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Entries) < 40 {
		t.Fatalf("got %d entries, want the common apps, browsers and bots (40 or more)", len(doc.Entries))
	}
	names := map[string]bool{}
	for _, e := range doc.Entries {
		if names[e.Name] {
			t.Errorf("%q appears twice", e.Name)
		}
		names[e.Name] = true
		for _, p := range e.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				t.Errorf("%s: pattern %q: %v", e.Name, p, err)
			}
		}
	}
	if _, err := parseTable(userAgentsJSON); err != nil {
		t.Fatal(err)
	}
	if _, err := parseTable([]byte(`{"entries":[{"name":"x","kind":"robot","patterns":["x"]}]}`)); err == nil {
		t.Error("a table with an unknown kind was accepted")
	}
	if _, err := parseTable([]byte(`{"entries":[{"name":"x","kind":"bot","patterns":["("]}]}`)); err == nil {
		t.Error("a table with a broken pattern was accepted")
	}
}

// TestClassify checks real user agents, as apps, browsers and crawlers
// send them.
func TestClassify(t *testing.T) {
	c, err := NewClassifier()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ua, name, kind string }{
		// Podcast apps.
		{"Podcasts/1575.1.2 CFNetwork/1335.0.3 Darwin/21.6.0", "Apple Podcasts", KindApp},
		{"Podcasts/4023.500.1 CFNetwork/1496.0.7 Darwin/23.5.0", "Apple Podcasts", KindApp},
		{"Balados/1555.2.1 CFNetwork/1220.1 Darwin/20.3.0", "Apple Podcasts", KindApp},
		{"AppleCoreMedia/1.0.0.20E247 (iPhone; U; CPU OS 16_4_1 like Mac OS X; fr_fr)", "Apple Podcasts", KindApp},
		{"atc/1.0 watchOS/7.3.3 model/Watch5,4 hwp/t8006 build/18S830 (6; dt:202)", "Apple Podcasts", KindApp},
		{"AntennaPod/3.2.0", "AntennaPod", KindApp},
		{"AntennaPod/2.7.1 (Linux;Android 11) ExoPlayerLib/2.14.2", "AntennaPod", KindApp},
		{"Pocket Casts", "Pocket Casts", KindApp},
		{"PocketCasts/7.52 (iPhone; iOS 17.1)", "Pocket Casts", KindApp},
		{"Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "Overcast", KindApp},
		{"Spotify/8.8.96 Android/33 (SM-S911B)", "Spotify", KindApp},
		{"Spotify/8.9.18 iOS/17.2.1 (iPhone15,2)", "Spotify", KindApp},
		{"gPodder/3.11.1 (+http://gpodder.org/) Linux", "gPodder", KindApp},
		{"PodcastAddict/v5 (+https://podcastaddict.com/; Android podcast app)", "Podcast Addict", KindApp},
		{"Podcast Addict - Dalvik/2.1.0 (Linux; U; Android 12; Pixel 6 Build/SQ3A.220705.003.A1)", "Podcast Addict", KindApp},
		{"Castro 2 Episode Download", "Castro", KindApp},
		{"Castro/2023.12 (iPhone; iOS 17.2)", "Castro", KindApp},
		{"Podverse/Android Mobile App/4.15.3", "Podverse", KindApp},
		{"Fountain/1.0.9 (Android 13)", "Fountain", KindApp},
		{"CastBox/9.11.2-230517021 (Linux;Android 13) ExoPlayerLib/2.18.1", "Castbox", KindApp},
		{"Podcast Republic/22.4.18 (Android 12)", "Podcast Republic", KindApp},
		{"Deezer/7.0.0.1 (Android; 11; Mobile; fr) samsung SM-A515F", "Deezer", KindApp},
		{"AmazonMusic/18.3.2 iPhone15,3 CFNetwork/1408.0.4 Darwin/22.5.0", "Amazon Music", KindApp},
		{"VLC/3.0.18 LibVLC/3.0.18", "VLC", KindApp},
		{"Kodi/20.2 (X11; Linux x86_64) Ubuntu/22.04 App_Bitness/64 Version/20.2", "Kodi", KindApp},
		{"stagefright/1.2 (Linux;Android 7.0)", "Android media player", KindApp},
		{"Dalvik/2.1.0 (Linux; U; Android 10; SM-G960F Build/QP1A.190711.020)", "Android media player", KindApp},
		// Browsers.
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox", KindBrowser},
		{"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", KindBrowser},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome", KindBrowser},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome", KindBrowser},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge", KindBrowser},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "Safari", KindBrowser},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", "Safari", KindBrowser},
		// Crawlers, previews, scripts.
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", KindBot},
		{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", KindBot},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Bingbot", KindBot},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", "Applebot", KindBot},
		{"iTMS", "Apple Podcasts directory", KindBot},
		{"Overcast/1.0 Podcast Sync (3 subscribers; feed-id=123456; +http://overcast.fm/)", "Podcast app crawlers", KindBot},
		{"PocketCasts/1.0 (Pocket Casts Feed Parser; +http://pocketcasts.com/)", "Podcast app crawlers", KindBot},
		{"Spotify/1.0", "Podcast app crawlers", KindBot},
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Social previews", KindBot},
		{"Mastodon/4.2.3 (http.rb/5.1.1; +https://mastodon.social/) Bot", "Fediverse previews", KindBot},
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)", "AI crawlers", KindBot},
		{"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "SEO crawlers", KindBot},
		{"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "YandexBot", KindBot},
		{"Mozilla/5.0 (compatible; SomeNewCrawler/0.3; +https://example.org/crawler)", "Other bots", KindBot},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36", "Headless browsers", KindBot},
		{"curl/8.5.0", "Scripts", KindBot},
		{"Wget/1.21.4", "Scripts", KindBot},
		{"python-requests/2.31.0", "Scripts", KindBot},
		{"Go-http-client/1.1", "Scripts", KindBot},
		// Nobody we know.
		{"", Unknown, ""},
		{"MyHomeMadePlayer", Unknown, ""},
	} {
		for range 2 { // the second time from the cache
			got := c.Classify(tc.ua)
			if got.Name != tc.name || got.Kind != tc.kind {
				t.Errorf("Classify(%q) = %q (%s), want %q (%s)", tc.ua, got.Name, got.Kind, tc.name, tc.kind)
				break
			}
		}
	}
}
