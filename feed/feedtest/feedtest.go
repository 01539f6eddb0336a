// Package feedtest reads feeds with the parsers podcast apps use, for the
// tests of feed and web: feedparser and podcastparser (Debian packages
// python3-feedparser, python3-podcastparser, run with /usr/bin/python3)
// and the Podcast Index's podcast-partytime (npm, found through NODE_PATH,
// which the Makefile exports).
package feedtest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// Item is what a parser read of one feed item.
type Item struct {
	Title    string  `json:"title"`
	GUID     string  `json:"guid"`
	Length   int64   `json:"length"`
	Type     string  `json:"type"`
	Duration float64 `json:"duration"`
	// Social is the item's first podcast:socialInteract as
	// "protocol uri accountId accountUrl" (only podcast-partytime reads
	// it).
	Social string `json:"social,omitempty"`
}

// LiveItem is what a parser read of a podcast:liveItem (only
// podcast-partytime reads them).
type LiveItem struct {
	Status string `json:"status"`
	Start  string `json:"start"` // as JavaScript's toISOString: UTC
	End    string `json:"end"`
	GUID   string `json:"guid"`
	Title  string `json:"title"`
	URL    string `json:"url"` // the enclosure
	Type   string `json:"type"`
	// ContentLink is the first podcast:contentLink's href.
	ContentLink string `json:"contentLink"`
}

// Alternate is what a parser read of a podcast:alternateEnclosure (only
// podcast-partytime reads them).
type Alternate struct {
	Type      string `json:"type"`
	Length    int64  `json:"length"`
	Bitrate   int    `json:"bitrate"`
	URI       string `json:"uri"`       // the first podcast:source
	Integrity string `json:"integrity"` // podcast:integrity's value
}

// Feed is what a parser read of a feed.
type Feed struct {
	Title     string     `json:"title"`
	Items     []Item     `json:"items"`
	LiveItems []LiveItem `json:"liveItems,omitempty"`
	// Alternates are the alternate enclosures of each item, in the
	// items' order; nil when the parser does not read them.
	Alternates [][]Alternate `json:"alternates,omitempty"`
}

// python reads a feed on stdin with feedparser and podcastparser; argv[1]
// is the feed's URL, which podcastparser wants.
const python = `
import json, sys, io
import feedparser, podcastparser
data = sys.stdin.buffer.read()
out = {}
d = feedparser.parse(data)
if d.bozo:
    raise SystemExit("feedparser: %r" % d.bozo_exception)
out["feedparser"] = {"title": d.feed.title, "items": [
    {"title": e.title, "guid": e.id, "length": int(e.enclosures[0].length),
     "type": e.enclosures[0].type, "duration": float(e.itunes_duration)}
    for e in d.entries]}
p = podcastparser.parse(sys.argv[1], io.BytesIO(data))
out["podcastparser"] = {"title": p["title"], "items": [
    {"title": e["title"], "guid": e["guid"], "length": e["enclosures"][0]["file_size"],
     "type": e["enclosures"][0]["mime_type"], "duration": e["total_time"]}
    for e in p["episodes"]]}
print(json.dumps(out))
`

// partytime does the same with podcast-partytime.
const partytime = `
const { parseFeed } = require("podcast-partytime");
let data = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const f = parseFeed(data, { allowMissingGuid: false });
  if (!f) { console.error("partytime: feed not parsed"); process.exit(1); }
  console.log(JSON.stringify({ partytime: { title: f.title, items: f.items.map(i => ({
    title: i.title, guid: i.guid, length: i.enclosure.length, type: i.enclosure.type, duration: i.duration,
    social: (i.podcastSocialInteraction || []).slice(0, 1).map(x => [x.platform, x.url, x.id, x.profileUrl || ""].join(" ")).join("") })),
    liveItems: (f.podcastLiveItems || []).map(l => ({
      status: l.status, start: l.start ? l.start.toISOString() : "", end: l.end ? l.end.toISOString() : "",
      guid: l.guid || "", title: l.title || "", url: l.enclosure ? l.enclosure.url : "",
      type: l.enclosure ? l.enclosure.type : "",
      contentLink: l.contentLinks && l.contentLinks.length ? l.contentLinks[0].url : "" })),
    alternates: f.items.map(i => (i.alternativeEnclosures || []).map(a => ({
      type: a.type, length: a.length || 0, bitrate: a.bitrate || 0,
      uri: a.source && a.source.length ? a.source[0].uri : "",
      integrity: a.integrity ? a.integrity.value : "" }))) } }));
});
`

// Parse reads feed with every parser and returns what each read, by
// parser name ("feedparser", "podcastparser", "partytime"). A parser that
// fails to read the feed fails the test. A parser that is not installed
// fails the test under CI and is left out otherwise, with a log line.
func Parse(t testing.TB, feed []byte, feedURL string) map[string]Feed {
	t.Helper()
	runs := []struct {
		name  string
		check []string // succeeds when the parser is there
		run   []string
	}{
		{"feedparser and podcastparser", []string{"/usr/bin/python3", "-c", "import feedparser, podcastparser"},
			[]string{"/usr/bin/python3", "-c", python, feedURL}},
		// NODE_PATH in the name also keeps go test from reusing a result
		// cached without it.
		{"podcast-partytime (NODE_PATH=" + os.Getenv("NODE_PATH") + ")", []string{"node", "-e", `require("podcast-partytime")`},
			[]string{"node", "-e", partytime}},
	}
	all := map[string]Feed{}
	for _, r := range runs {
		if err := exec.Command(r.check[0], r.check[1:]...).Run(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required under CI: %v", r.name, err)
			}
			t.Logf("%s is not installed, left out: %v", r.name, err)
			continue
		}
		cmd := exec.Command(r.run[0], r.run[1:]...)
		cmd.Stdin = bytes.NewReader(feed)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", r.name, err, stderr.String())
		}
		var res map[string]Feed
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: output %q: %v", r.name, out, err)
		}
		for name, f := range res {
			all[name] = f
		}
	}
	return all
}
