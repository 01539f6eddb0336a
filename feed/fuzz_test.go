package feed

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
)

// FuzzBuild puts arbitrary text in every kind of field and checks that
// the feed stays well-formed XML, keeps the text (less what XML forbids),
// and that the show notes never carry a script or a javascript: link.
func FuzzBuild(f *testing.F) {
	f.Add("Radio & <Libre>", "**gras** <script>x</script>", "Zoé", "urn:1", "https://a.example/x?a=1&b=2")
	f.Add("\x01\uFFFE]]>", "[x](javascript:alert(1))", "\"'", "]]>", "javascript:alert(1)")
	f.Add("", "<a href=\"&#106;avascript:x\">y</a>", "", "\xff", "")
	f.Fuzz(func(t *testing.T, title, notes, name, guid, link string) {
		show, eps := minimalShow()
		show.Title = "T" + title
		show.Author = name
		show.Description = notes
		show.Link = link
		show.Hosts = []episodes.Person{{Name: name, Href: link}}
		show.Funding = &episodes.Funding{URL: link, Text: title}
		ep := eps[0]
		ep.Title = title
		ep.Notes = notes
		ep.GUID = "g" + guid
		ep.Persons = []episodes.Person{{Name: name, Role: "guest", Img: link}}
		ep.Chapters = []episodes.Chapter{{Title: title, URL: link}}
		b, err := Build(show, eps, testOptions(t))
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, b)
			}
		}
		var pf parsedFeed
		if err := xml.Unmarshal(b, &pf); err != nil {
			t.Fatal(err)
		}
		if want := line("T" + title); pf.Channel.Title != want {
			t.Errorf("got channel title %q, want %q", pf.Channel.Title, want)
		}
		if len(pf.Channel.Items) != 1 || pf.Channel.Items[0].GUID.Value != line("g"+guid) {
			t.Errorf("got items %+v, want one with guid %q", pf.Channel.Items, line("g"+guid))
		}
		html := strings.ToLower(RenderNotes(notes))
		for _, bad := range []string{"<script", "javascript:", " on", "<img", "<iframe", "style="} {
			if strings.Contains(html, bad) && bad != " on" || bad == " on" && hasEventHandler(html) {
				t.Errorf("RenderNotes(%q) = %q holds %q", notes, html, bad)
			}
		}
		if _, err := ChaptersJSON(show, ep); err != nil {
			t.Errorf("ChaptersJSON: %v", err)
		}
	})
}

// hasEventHandler reports whether an HTML start tag carries an on...=
// attribute.
func hasEventHandler(html string) bool {
	for _, tag := range strings.Split(html, "<")[1:] {
		end := strings.IndexByte(tag, '>')
		if end < 0 {
			continue
		}
		for _, attr := range strings.Fields(tag[:end])[1:] {
			if strings.HasPrefix(attr, "on") && strings.Contains(attr, "=") {
				return true
			}
		}
	}
	return false
}
