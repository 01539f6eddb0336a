package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed/feedtest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestTriedAsNewUser is issue 5's check: a show with three published
// episodes (an MP3, an M4A and a transcoded Mumble WAV) served by antenne
// over HTTP; its feed, fetched from antenne, is read by feedparser,
// podcastparser and podcast-partytime with the catalog's titles, GUIDs,
// byte lengths and durations; every enclosure downloads to those bytes.
func TestTriedAsNewUser(t *testing.T) {
	t.Parallel()
	s := newSite(t, storagetest.Dir(t), siteOptions{})
	titles := []string{"Les communs & le libre", "Vie privée : « chiffrer » ses échanges", "Enregistrement Mumble 🎙️ été"}
	for i, format := range []string{"mp3", "m4a", "wav"} {
		s.ingest(format, 300+100*i, episodes.Upload{Title: titles[i], PublishAt: s.clock.Now()})
		s.clock.Add(time.Minute)
	}
	resp, body := s.do("GET", "/lvel/feed.xml", "Accept-Encoding: identity")
	if resp.StatusCode != 200 {
		t.Fatalf("GET feed: %d", resp.StatusCode)
	}
	eps, err := s.svc.Episodes(s.show, episodes.ListOptions{Status: episodes.Published})
	if err != nil || len(eps) != 3 {
		t.Fatalf("published episodes: %d, %v", len(eps), err)
	}
	var want []feedtest.Item
	for _, e := range eps { // newest first, like the feed
		want = append(want, feedtest.Item{Title: e.Title, GUID: e.GUID, Length: e.Media.Size, Type: e.Media.Type, Duration: e.Media.Duration.Round(time.Second).Seconds()})
		if e.Media.Duration.Round(time.Second) != 2*time.Second {
			t.Errorf("%s: catalog duration %v, want about 2 s", e.Title, e.Media.Duration)
		}
		r, got := s.do("GET", objectPath(e.Media.Key))
		if r.StatusCode != 200 || int64(len(got)) != e.Media.Size || !bytes.Equal(got, s.object(e.Media.Key)) {
			t.Errorf("%s: enclosure: got %d with %d bytes, want the %d stored bytes", e.Title, r.StatusCode, len(got), e.Media.Size)
		}
	}
	if want[0].Title != titles[2] || eps[0].Media.Type != "audio/mpeg" || eps[0].Original == nil {
		t.Errorf("the WAV: got %q %s (original %v), want %q transcoded to MP3", want[0].Title, eps[0].Media.Type, eps[0].Original, titles[2])
	}

	// The WAV, transcoded, got its small Opus version after publication
	// (the show's original stays private): mono, about 48 kbit/s, served
	// with the bytes its hash names.
	opus := eps[0].Opus
	if opus == nil || opus.Type != "audio/ogg; codecs=opus" || opus.Bitrate != 48000 {
		t.Fatalf("the WAV's Opus version: got %+v, want Ogg Opus at about 48 kbit/s", opus)
	}
	if r, got := s.do("GET", objectPath(opus.Key)); r.StatusCode != 200 || int64(len(got)) != opus.Size || sha256Hex(got) != opus.SHA256 {
		t.Errorf("the Opus version: got %d with %d bytes, want the %d bytes of SHA-256 %s", r.StatusCode, len(got), opus.Size, opus.SHA256)
	}
	opusURL, _ := s.links.Object(opus.Key)

	res := feedtest.Parse(t, body, s.links.Feed(s.show))
	if pt, ok := res["partytime"]; ok {
		alts := pt.Alternates[0]
		if len(alts) != 1 || alts[0].URI != opusURL || alts[0].Type != opus.Type || alts[0].Length != opus.Size || alts[0].Bitrate != opus.Bitrate ||
			alts[0].Integrity != "sha256-"+base64.StdEncoding.EncodeToString(mustHex(t, opus.SHA256)) {
			t.Errorf("partytime read the WAV's alternate enclosures %+v, want only the Opus version %+v", alts, opus)
		}
		if len(pt.Alternates[1]) != 0 || len(pt.Alternates[2]) != 0 {
			t.Errorf("partytime read alternate enclosures of the MP3 and M4A: %+v", pt.Alternates[1:])
		}
	}
	for parser, got := range res {
		if len(got.Items) != len(want) {
			t.Errorf("%s: got %d items, want %d", parser, len(got.Items), len(want))
			continue
		}
		for i := range want {
			if got.Items[i] != want[i] {
				t.Errorf("%s, item %d: got %+v, want %+v", parser, i, got.Items[i], want[i])
			}
		}
		t.Logf("%s read the feed served by antenne: %d items as in the catalog", parser, len(got.Items))
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
