package feed

import (
	"bytes"
	"html"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/picasoft/antenne/episodes"
)

// markdown renders show notes: CommonMark plus GitHub's extensions (tables,
// strikethrough, autolinks). Raw HTML passes through goldmark on purpose:
// notesPolicy is the one gate that decides what HTML is allowed.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
)

// notesPolicy is what show notes may contain: text structure, emphasis,
// lists, quotes, code, tables and links (http, https, mailto). No images,
// so that a page showing the notes loads nothing from another host; no
// script, style, form, iframe, event handler or class/style attribute.
var notesPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "em", "strong", "del", "s", "b", "i", "u",
		"sub", "sup", "mark", "small", "abbr", "cite", "q",
		"blockquote", "pre", "code", "kbd",
		"ul", "ol", "li", "dl", "dt", "dd",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").OnElements("a", "abbr")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("align").Matching(bluemonday.CellAlign).OnElements("th", "td")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	return p
}()

// RenderNotes renders show notes written in Markdown (CommonMark with
// GitHub's tables, strikethrough and autolinks) to sanitised HTML, safe to
// put in a page or in content:encoded: no script or style, no event
// handler, no javascript: or data: link, no image, no iframe. Links to
// other sites get rel="nofollow". Characters that XML 1.0 forbids are
// removed first. The result is deterministic; an empty or blank md gives "".
// RenderNotes is safe for concurrent use; results are kept in a bounded
// in-memory cache, so rendering unchanged notes again is cheap.
func RenderNotes(md string) string {
	return notes(md).html
}

// maxDescription is the length, in characters, beyond which an item's
// plain-text description is cut (Apple Podcasts reads up to 4,000).
const maxDescription = 4000

// PlainNotes turns show notes into plain text, the item description of the
// feed: the text of RenderNotes with paragraphs separated by a blank line,
// list items starting with "- ", and a link's URL in parentheses after its
// text when they differ. The text is cut at a word boundary, with "…", past
// 4,000 characters. Like RenderNotes, it is cached and safe for concurrent
// use.
func PlainNotes(md string) string {
	return notes(md).text
}

type renderedNotes struct{ html, text string }

// notesCache remembers rendered notes by their Markdown: Markdown and
// sanitising cost ~0.1 ms per episode, too much for a 1,000-episode feed
// rebuilt after every edit of one episode. It is emptied when it holds more
// than notesCacheMax bytes.
var notesCache = struct {
	sync.RWMutex
	m    map[string]renderedNotes
	size int
}{m: map[string]renderedNotes{}}

const notesCacheMax = 32 << 20

func notes(md string) renderedNotes {
	notesCache.RLock()
	r, ok := notesCache.m[md]
	notesCache.RUnlock()
	if ok {
		return r
	}
	r = renderNotes(md)
	n := len(md) + len(r.html) + len(r.text)
	notesCache.Lock()
	if notesCache.size+n > notesCacheMax {
		clear(notesCache.m)
		notesCache.size = 0
	}
	if _, ok := notesCache.m[md]; !ok {
		notesCache.m[md] = r
		notesCache.size += n
	}
	notesCache.Unlock()
	return r
}

// renderAll renders the notes of eps on every CPU, so that a cold build of
// a large feed does not render them one by one.
func renderAll(eps []*episodes.Episode) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	if len(eps) < 32 || workers < 2 {
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(eps) {
					return
				}
				notes(eps[i].Notes)
			}
		})
	}
	wg.Wait()
}

// forgetNotes empties the cache (benchmarks of the cold path).
func forgetNotes() {
	notesCache.Lock()
	clear(notesCache.m)
	notesCache.size = 0
	notesCache.Unlock()
}

// wellFormed parses h as the body of a page does (HTML5, foreign content
// such as <math> and <svg> included) and writes it back with every element
// closed. bluemonday reads a token stream, not a tree: for it a <style>
// inside <math> opens raw text up to a </style> that may never come, and
// everything after it was lost.
func wellFormed(h string) string {
	body := &nethtml.Node{Type: nethtml.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := nethtml.ParseFragment(strings.NewReader(h), body)
	if err != nil {
		return h
	}
	var b strings.Builder
	for _, n := range nodes {
		if err := nethtml.Render(&b, n); err != nil {
			return h
		}
	}
	return b.String()
}

func renderNotes(md string) renderedNotes {
	md = xmlText(md)
	if strings.TrimSpace(md) == "" {
		return renderedNotes{}
	}
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		// goldmark fails only when the writer fails; bytes.Buffer does not.
		buf.Reset()
		buf.WriteString(html.EscapeString(md))
	}
	h := strings.TrimSpace(notesPolicy.Sanitize(wellFormed(buf.String())))
	return renderedNotes{html: h, text: truncate(htmlToText(h), maxDescription)}
}

// htmlToText extracts the text of sanitised HTML.
func htmlToText(s string) string {
	var b strings.Builder
	z := nethtml.NewTokenizer(strings.NewReader(s))
	var hrefs []string // stack of open links' targets
	var linkText strings.Builder
	pre := 0
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			return tidyText(b.String())
		case nethtml.TextToken:
			t := string(z.Text())
			if pre == 0 {
				t = collapseSpace(t)
			}
			b.WriteString(t)
			if len(hrefs) > 0 {
				linkText.WriteString(t)
			}
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch tag := string(name); tag {
			case "a":
				href := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
				hrefs = append(hrefs, href)
				linkText.Reset()
			case "li":
				b.WriteString("\n- ")
			case "br":
				b.WriteString("\n")
			case "pre":
				pre++
				b.WriteString("\n\n")
			case "td", "th":
				b.WriteString(" ")
			default:
				if blockTag(tag) {
					b.WriteString("\n\n")
				}
			}
		case nethtml.EndTagToken:
			name, _ := z.TagName()
			switch tag := string(name); tag {
			case "a":
				if n := len(hrefs); n > 0 {
					href := strings.TrimPrefix(hrefs[n-1], "mailto:")
					hrefs = hrefs[:n-1]
					if href != "" && strings.TrimSpace(linkText.String()) != href {
						b.WriteString(" (" + href + ")")
					}
				}
			case "pre":
				pre--
				b.WriteString("\n\n")
			default:
				if blockTag(tag) {
					b.WriteString("\n\n")
				}
			}
		}
	}
}

func blockTag(tag string) bool {
	switch tag {
	case "p", "blockquote", "ul", "ol", "dl", "dt", "dd", "table", "tr", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6":
		return true
	}
	return false
}

// collapseSpace replaces every run of white space in s with one space.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidyText trims every line and keeps at most one blank line in a row.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		if !strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "\t") {
			l = strings.TrimLeft(l, " ")
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// truncate cuts s to at most max characters, at a word boundary when one
// is near, and marks the cut with "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := len(r)
	for i := len(r) - 1; i > len(r)-80 && i > 0; i-- {
		if r[i] == ' ' || r[i] == '\n' {
			cut = i
			break
		}
	}
	return strings.TrimRight(string(r[:cut]), " \n") + "…"
}

// xmlText returns s without the characters that XML 1.0 forbids (control
// characters other than tab, newline and carriage return, U+FFFE, U+FFFF,
// surrogates) and without invalid UTF-8 bytes. encoding/xml would turn
// them into U+FFFD; we remove them.
func xmlText(s string) string {
	for i, r := range s {
		if !xmlChar(r) || r == utf8.RuneError && isBadRune(s[i:]) {
			return stripInvalid(s)
		}
	}
	return s
}

func stripInvalid(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if !xmlChar(r) || r == utf8.RuneError && isBadRune(s[i:]) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isBadRune reports whether s starts with an invalid UTF-8 sequence (rather
// than a genuine U+FFFD).
func isBadRune(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	return size <= 1
}

// xmlChar reports whether r is a Char of XML 1.0
// (https://www.w3.org/TR/xml/#charsets).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
