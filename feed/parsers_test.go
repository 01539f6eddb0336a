package feed

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
)

// parsedBy is what an external feed parser reads of one item.
type parsedBy struct {
	Title    string  `json:"title"`
	GUID     string  `json:"guid"`
	Length   int64   `json:"length"`
	Type     string  `json:"type"`
	Duration float64 `json:"duration"`
}

// pythonParsers reads a feed on stdin with feedparser and podcastparser
// (Debian packages python3-feedparser, python3-podcastparser) and prints
// {"feedparser": {...}, "podcastparser": {...}}.
const pythonParsers = `
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
p = podcastparser.parse("https://radio.picasoft.net/feed.xml", io.BytesIO(data))
out["podcastparser"] = {"title": p["title"], "items": [
    {"title": e["title"], "guid": e["guid"], "length": e["enclosures"][0]["file_size"],
     "type": e["enclosures"][0]["mime_type"], "duration": e["total_time"]}
    for e in p["episodes"]]}
print(json.dumps(out))
`

// partytimeParser does the same with the Podcast Index's podcast-partytime
// (npm), found through NODE_PATH.
const partytimeParser = `
const { parseFeed } = require("podcast-partytime");
let data = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const f = parseFeed(data, { allowMissingGuid: false });
  if (!f) { console.error("partytime: feed not parsed"); process.exit(1); }
  console.log(JSON.stringify({ partytime: { title: f.title, items: f.items.map(i => ({
    title: i.title, guid: i.guid, length: i.enclosure.length, type: i.enclosure.type, duration: i.duration })) } }));
});
`

// need reports whether the command line runs; without it the test is
// skipped, or fails under CI.
func need(t *testing.T, what string, name string, args ...string) bool {
	t.Helper()
	if err := exec.Command(name, args...).Run(); err != nil {
		msg := what + " is not available (" + err.Error() + ")"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
		return false
	}
	return true
}

// TestExternalParsers reads the golden feeds with the parsers podcast apps
// use (feedparser, podcastparser, podcast-partytime) and checks that they
// see the catalog's titles, GUIDs, enclosure lengths and types, and
// durations.
func TestExternalParsers(t *testing.T) {
	parsers := []struct {
		name  string
		check []string // a command that succeeds when the parser is there
		run   []string
	}{
		{"python", []string{"/usr/bin/python3", "-c", "import feedparser, podcastparser"}, []string{"/usr/bin/python3", "-c", pythonParsers}},
		// NODE_PATH names the node_modules that holds it; reading it here
		// also keeps go test from reusing a result cached without it.
		{"partytime", []string{"node", "-e", `require("podcast-partytime")`}, []string{"node", "-e", partytimeParser}},
	}
	fixtures := []struct {
		name    string
		fixture func() (*episodes.Show, []*episodes.Episode)
	}{{"full", fullShow}, {"minimal", minimalShow}, {"special", specialShow}}

	nodePath := os.Getenv("NODE_PATH")
	for _, p := range parsers {
		t.Run(p.name, func(t *testing.T) {
			need(t, p.name+" feed parser (NODE_PATH="+nodePath+")", p.check[0], p.check[1:]...)
			for _, fx := range fixtures {
				show, eps := fx.fixture()
				b, err := Build(show, eps, testOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(p.run[0], p.run[1:]...)
				cmd.Stdin = bytes.NewReader(b)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s on the %s feed: %v: %s", p.name, fx.name, err, stderr.String())
				}
				var res map[string]struct {
					Title string     `json:"title"`
					Items []parsedBy `json:"items"`
				}
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("%s output %q: %v", p.name, out, err)
				}
				want := Published(eps, buildTime)
				for parser, got := range res {
					if w := xmlText(strings.TrimSpace(show.Title)); got.Title != w {
						t.Errorf("%s, %s feed: got show title %q, want %q", parser, fx.name, got.Title, w)
					}
					if len(got.Items) != len(want) {
						t.Errorf("%s, %s feed: got %d items, want %d", parser, fx.name, len(got.Items), len(want))
						continue
					}
					for i, ep := range want {
						w := parsedBy{
							Title:    xmlText(ep.Title),
							GUID:     ep.GUID,
							Length:   ep.Media.Size,
							Type:     ep.Media.Type,
							Duration: ep.Media.Duration.Round(time.Second).Seconds(),
						}
						if got.Items[i] != w {
							t.Errorf("%s, %s feed, item %d: got %+v, want %+v", parser, fx.name, i, got.Items[i], w)
						}
					}
				}
				if len(res) == 0 {
					t.Errorf("%s: no result", p.name)
				}
				t.Logf("%s read the %s feed: %d parser(s) agree", p.name, fx.name, len(res))
			}
		})
	}
}
