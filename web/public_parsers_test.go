package web

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// feedParsers reads a feed on stdin with feedparser and podcastparser
// (Debian python3-feedparser, python3-podcastparser) and prints what each
// read of every item.
const feedParsers = `
import json, sys, io
import feedparser, podcastparser
data = sys.stdin.buffer.read()
d = feedparser.parse(data)
if d.bozo:
    raise SystemExit("feedparser: %r" % d.bozo_exception)
out = {"feedparser": [
    {"title": e.title, "guid": e.id, "length": int(e.enclosures[0].length),
     "duration": float(e.itunes_duration)} for e in d.entries]}
p = podcastparser.parse(sys.argv[1], io.BytesIO(data))
out["podcastparser"] = [
    {"title": e["title"], "guid": e["guid"], "length": e["enclosures"][0]["file_size"],
     "duration": e["total_time"]} for e in p["episodes"]]
print(json.dumps(out))
`

// partytime does the same with the Podcast Index's podcast-partytime
// (npm), found through NODE_PATH (the Makefile exports it).
const partytime = `
const { parseFeed } = require("podcast-partytime");
let data = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const f = parseFeed(data, { allowMissingGuid: false });
  if (!f) { console.error("partytime: feed not parsed"); process.exit(1); }
  console.log(JSON.stringify({ partytime: f.items.map(i => ({
    title: i.title, guid: i.guid, length: i.enclosure.length, duration: i.duration })) }));
});
`

type parsedItem struct {
	Title    string  `json:"title"`
	GUID     string  `json:"guid"`
	Length   int64   `json:"length"`
	Duration float64 `json:"duration"`
}

// TestTriedAsNewUser is issue 5's check: a show with three published
// episodes (an MP3, an M4A and a transcoded Mumble WAV) served by antenne
// over HTTP; its feed, fetched from antenne, is read by feedparser,
// podcastparser and podcast-partytime with the catalog's titles, GUIDs,
// byte lengths and durations; every enclosure downloads to those bytes.
func TestTriedAsNewUser(t *testing.T) {
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
	var want []parsedItem
	for _, e := range eps { // newest first, like the feed
		want = append(want, parsedItem{Title: e.Title, GUID: e.GUID, Length: e.Media.Size, Duration: e.Media.Duration.Round(time.Second).Seconds()})
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

	parsers := []struct {
		name  string
		check []string
		run   []string
	}{
		{"feedparser and podcastparser", []string{"/usr/bin/python3", "-c", "import feedparser, podcastparser"},
			[]string{"/usr/bin/python3", "-c", feedParsers, s.links.Feed(s.show)}},
		{"podcast-partytime (NODE_PATH=" + os.Getenv("NODE_PATH") + ")", []string{"node", "-e", `require("podcast-partytime")`},
			[]string{"node", "-e", partytime}},
	}
	for _, p := range parsers {
		if err := exec.Command(p.check[0], p.check[1:]...).Run(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required under CI: %v", p.name, err)
			}
			t.Logf("skipping %s: %v", p.name, err)
			continue
		}
		cmd := exec.Command(p.run[0], p.run[1:]...)
		cmd.Stdin = bytes.NewReader(body)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", p.name, err, stderr.String())
		}
		var res map[string][]parsedItem
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: output %q: %v", p.name, out, err)
		}
		for parser, items := range res {
			if len(items) != len(want) {
				t.Errorf("%s: got %d items, want %d", parser, len(items), len(want))
				continue
			}
			for i := range want {
				if items[i] != want[i] {
					t.Errorf("%s, item %d: got %+v, want %+v", parser, i, items[i], want[i])
				}
			}
			t.Logf("%s read the feed served by antenne: %d items as in the catalog", parser, len(items))
		}
	}
}
