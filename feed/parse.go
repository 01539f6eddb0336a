package feed

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/picasoft/antenne/episodes"
)

// MaxForeignFeed is the largest feed Parse reads.
const MaxForeignFeed = 64 << 20

// ErrNotAFeed is returned by Parse for a document that is no RSS feed.
var ErrNotAFeed = errors.New("not an RSS feed")

// Foreign is a podcast feed published by another host (Castopod, Podlove,
// AzuraCast, Anchor, a static file...), as Parse reads it: RSS 2.0 with
// the itunes, content, atom and podcast namespaces. Text is as the feed
// has it (HTML stays HTML), trimmed; URLs are absolute when Parse was
// given a base.
type Foreign struct {
	Title       string
	Description string // itunes:summary when there is no description
	Link        string
	Language    string
	Copyright   string
	Author      string // itunes:author
	Owner       episodes.Owner
	Image       string // itunes:image href, else image/url
	Categories  []episodes.Category
	Explicit    bool
	Type        string // itunes:type: episodic, serial or ""
	GUID        string // podcast:guid
	SelfURL     string // atom:link rel="self"
	NewFeedURL  string // itunes:new-feed-url
	Locked      bool   // podcast:locked
	Funding     *episodes.Funding
	Persons     []episodes.Person
	Items       []ForeignItem
}

// ForeignItem is one item of a Foreign feed.
type ForeignItem struct {
	GUID  string // as the feed writes it; the enclosure URL when the item has none
	Title string // itunes:title when there is no title
	// Description is the item's description, Content its content:encoded
	// (often the fuller HTML), Summary its itunes:summary.
	Description, Content, Summary string
	Link                          string
	// PubDate is the item's pubDate; zero, with DateError set, when it is
	// missing or unreadable. PubDateText is the text as found.
	PubDate     time.Time
	PubDateText string
	DateError   error
	Enclosure   Enclosure
	// Duration is itunes:duration (seconds, MM:SS or HH:MM:SS); zero when
	// absent or unreadable, DurationText keeps the text.
	Duration     time.Duration
	DurationText string
	Season       int
	Episode      int
	EpisodeType  string // full, trailer, bonus or ""
	Image        string // itunes:image href
	Explicit     bool
	ChaptersURL  string // podcast:chapters url
	ChaptersType string
	Transcripts  []ForeignTranscript
	Persons      []episodes.Person
}

// Enclosure is an item's media as the feed declares it.
type Enclosure struct {
	URL    string
	Length int64 // 0 when absent or unreadable
	Type   string
}

// ForeignTranscript is a podcast:transcript of an item.
type ForeignTranscript struct {
	URL, Type, Language, Rel string
}

// Namespaces of the feeds Parse reads, as written by the hosts met in the
// wild (some use the older URLs, some another case).
var (
	itunesSpaces  = []string{NamespaceITunes, "itunes"}
	contentSpaces = []string{NamespaceContent, "content"}
	atomSpaces    = []string{NamespaceAtom, "atom", "atom10"}
	podcastSpaces = []string{NamespacePodcast, "podcast",
		"https://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"}
)

// node is an element of the document, namespaces resolved.
type node struct {
	space, local string
	attrs        []xml.Attr
	text         strings.Builder
	kids         []*node
}

func inSpace(space string, spaces []string) bool {
	for _, s := range spaces {
		if strings.EqualFold(space, s) {
			return true
		}
	}
	return false
}

// is reports whether n is the element local in one of spaces (nil: no
// namespace).
func (n *node) is(spaces []string, local string) bool {
	if n.local != local {
		return false
	}
	if spaces == nil {
		return n.space == ""
	}
	return inSpace(n.space, spaces)
}

func (n *node) all(spaces []string, local string) []*node {
	var out []*node
	for _, k := range n.kids {
		if k.is(spaces, local) {
			out = append(out, k)
		}
	}
	return out
}

func (n *node) first(spaces []string, local string) *node {
	for _, k := range n.kids {
		if k.is(spaces, local) {
			return k
		}
	}
	return nil
}

// textOf is the trimmed text of the first such child, "" when absent.
func (n *node) textOf(spaces []string, local string) string {
	if k := n.first(spaces, local); k != nil {
		return strings.TrimSpace(k.text.String())
	}
	return ""
}

func (n *node) attr(name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// Parse reads a podcast feed. base, when not empty, is the URL the feed
// was fetched from: relative URLs in the feed are resolved against it.
// Parse fails with ErrNotAFeed for a document without <rss><channel>, and
// with the XML error for malformed XML; fields it cannot read (a date, a
// duration, a length) are left zero and do not fail the parse. It reads at
// most MaxForeignFeed bytes.
func Parse(r io.Reader, base string) (*Foreign, error) {
	var baseURL *url.URL
	if base != "" {
		u, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("parse feed: base URL %q: %w", base, err)
		}
		baseURL = u
	}
	lr := &io.LimitedReader{R: r, N: MaxForeignFeed + 1}
	root, err := parseTree(lr)
	if lr.N <= 0 {
		return nil, fmt.Errorf("parse feed: larger than %d bytes", MaxForeignFeed)
	}
	if err != nil {
		return nil, fmt.Errorf("parse feed: %w", err)
	}
	if root == nil || root.local != "rss" {
		return nil, fmt.Errorf("parse feed: %w (the document is no <rss>)", ErrNotAFeed)
	}
	ch := root.first(nil, "channel")
	if ch == nil {
		return nil, fmt.Errorf("parse feed: %w (no <channel>)", ErrNotAFeed)
	}
	abs := func(s string) string { return resolve(baseURL, s) }
	f := &Foreign{
		Title:       ch.textOf(nil, "title"),
		Description: firstNonEmpty(ch.textOf(nil, "description"), ch.textOf(itunesSpaces, "summary")),
		Link:        abs(ch.textOf(nil, "link")),
		Language:    ch.textOf(nil, "language"),
		Copyright:   ch.textOf(nil, "copyright"),
		Author:      ch.textOf(itunesSpaces, "author"),
		Explicit:    yes(ch.textOf(itunesSpaces, "explicit")),
		Type:        strings.ToLower(ch.textOf(itunesSpaces, "type")),
		GUID:        ch.textOf(podcastSpaces, "guid"),
		NewFeedURL:  abs(ch.textOf(itunesSpaces, "new-feed-url")),
		Locked:      yes(ch.textOf(podcastSpaces, "locked")),
		Persons:     personsOf(ch, abs),
	}
	if o := ch.first(itunesSpaces, "owner"); o != nil {
		f.Owner = episodes.Owner{Name: o.textOf(itunesSpaces, "name"), Email: o.textOf(itunesSpaces, "email")}
	}
	if img := ch.first(itunesSpaces, "image"); img != nil && img.attr("href") != "" {
		f.Image = abs(img.attr("href"))
	} else if img := ch.first(nil, "image"); img != nil {
		f.Image = abs(img.textOf(nil, "url"))
	}
	for _, c := range ch.all(itunesSpaces, "category") {
		subs := c.all(itunesSpaces, "category")
		if len(subs) == 0 {
			f.Categories = append(f.Categories, episodes.Category{Name: c.attr("text")})
		}
		for _, s := range subs {
			f.Categories = append(f.Categories, episodes.Category{Name: c.attr("text"), Sub: s.attr("text")})
		}
	}
	for _, l := range ch.all(atomSpaces, "link") {
		if l.attr("rel") == "self" {
			f.SelfURL = abs(l.attr("href"))
			break
		}
	}
	if fu := ch.first(podcastSpaces, "funding"); fu != nil && fu.attr("url") != "" {
		f.Funding = &episodes.Funding{URL: abs(fu.attr("url")), Text: strings.TrimSpace(fu.text.String())}
	}
	for _, it := range ch.all(nil, "item") {
		f.Items = append(f.Items, parseItem(it, abs))
	}
	return f, nil
}

func parseItem(it *node, abs func(string) string) ForeignItem {
	item := ForeignItem{
		Title:        firstNonEmpty(it.textOf(nil, "title"), it.textOf(itunesSpaces, "title")),
		Description:  it.textOf(nil, "description"),
		Content:      it.textOf(contentSpaces, "encoded"),
		Summary:      it.textOf(itunesSpaces, "summary"),
		Link:         abs(it.textOf(nil, "link")),
		PubDateText:  it.textOf(nil, "pubDate"),
		DurationText: it.textOf(itunesSpaces, "duration"),
		EpisodeType:  strings.ToLower(it.textOf(itunesSpaces, "episodeType")),
		Explicit:     yes(it.textOf(itunesSpaces, "explicit")),
		Persons:      personsOf(it, abs),
	}
	item.Season = atoi(firstNonEmpty(it.textOf(itunesSpaces, "season"), it.textOf(podcastSpaces, "season")))
	item.Episode = atoi(firstNonEmpty(it.textOf(itunesSpaces, "episode"), it.textOf(podcastSpaces, "episode")))
	if item.PubDateText == "" {
		item.DateError = errors.New("the item has no pubDate")
	} else if t, err := ParseDate(item.PubDateText); err != nil {
		item.DateError = err
	} else {
		item.PubDate = t
	}
	if d, err := ParseDuration(item.DurationText); err == nil {
		item.Duration = d
	}
	if enc := it.first(nil, "enclosure"); enc != nil {
		item.Enclosure = Enclosure{URL: abs(enc.attr("url")), Type: enc.attr("type")}
		if n, err := strconv.ParseInt(enc.attr("length"), 10, 64); err == nil && n > 0 {
			item.Enclosure.Length = n
		}
	}
	item.GUID = firstNonEmpty(it.textOf(nil, "guid"), item.Enclosure.URL)
	if img := it.first(itunesSpaces, "image"); img != nil {
		item.Image = abs(firstNonEmpty(img.attr("href"), strings.TrimSpace(img.text.String())))
	}
	if c := it.first(podcastSpaces, "chapters"); c != nil {
		item.ChaptersURL, item.ChaptersType = abs(c.attr("url")), c.attr("type")
	}
	for _, t := range it.all(podcastSpaces, "transcript") {
		if t.attr("url") == "" {
			continue
		}
		item.Transcripts = append(item.Transcripts, ForeignTranscript{
			URL: abs(t.attr("url")), Type: t.attr("type"), Language: t.attr("language"), Rel: t.attr("rel"),
		})
	}
	return item
}

func personsOf(n *node, abs func(string) string) []episodes.Person {
	var ps []episodes.Person
	for _, p := range n.all(podcastSpaces, "person") {
		name := strings.TrimSpace(p.text.String())
		if name == "" {
			continue
		}
		ps = append(ps, episodes.Person{
			Name: name, Role: strings.ToLower(p.attr("role")), Group: strings.ToLower(p.attr("group")),
			Href: abs(p.attr("href")), Img: abs(p.attr("img")),
		})
	}
	return ps
}

// parseTree reads the whole document into a tree and returns its root.
func parseTree(r io.Reader) (*node, error) {
	br := bufio.NewReader(r)
	// A byte order mark before the XML declaration is common and legal.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	d := xml.NewDecoder(br)
	d.Strict = false // unknown HTML entities (&nbsp;) and sloppy markup are common
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charsetReader
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	return root, nil
}

// charsetReader decodes the single-byte encodings old feeds still use.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "iso-8859-15":
		return latin1Reader{bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("the feed's encoding %q is not supported (use UTF-8)", label)
}

// latin1Reader decodes ISO-8859-1 to UTF-8. windows-1252 differs only in
// 0x80-0x9F, which it maps the same way (rare in feeds).
type latin1Reader struct{ r *bufio.Reader }

func (l latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n+utf8.UTFMax <= len(p) {
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n += utf8.EncodeRune(p[n:], rune(b))
	}
	if n == 0 && len(p) > 0 {
		return 0, io.ErrShortBuffer
	}
	return n, nil
}

// resolve makes ref absolute against base; ref is returned as is when it
// cannot be resolved.
func resolve(base *url.URL, ref string) string {
	if ref == "" || base == nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(u).String()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func yes(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "true", "explicit":
		return true
	}
	return false
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// rfc822Zones are the zone names RFC 822 allows, with their offsets.
var rfc822Zones = map[string]string{
	"UT": "+0000", "UTC": "+0000", "GMT": "+0000", "Z": "+0000",
	"EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500",
	"MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700",
	"CET": "+0100", "CEST": "+0200", "BST": "+0100",
}

var dateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 January 2006 15:04:05 -0700",
	"2 January 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -07:00",
	"2 Jan 2006 15:04:05.999999999 -0700",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 2006",
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// ParseDate reads a pubDate: RFC 2822 as RSS asks, and the variants feeds
// publish instead: missing or full weekday names, single-digit days, zone
// names (GMT, UT, Z, EST, CEST...) or "+02:00", missing seconds or zone
// (taken as UTC), two-digit years, "Sept", and ISO 8601 dates.
func ParseDate(s string) (time.Time, error) {
	orig := s
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, errors.New("the date is empty")
	}
	// Drop the weekday ("Mon," "Monday," "Mon"): often wrong, never needed.
	if i := strings.IndexAny(s, ", "); i > 0 && !startsWithDigit(s) {
		s = strings.TrimLeft(s[i:], ", ")
	}
	fields := strings.Fields(s)
	if n := len(fields); n > 0 {
		if off, ok := rfc822Zones[strings.ToUpper(fields[n-1])]; ok {
			fields[n-1] = off
		}
	}
	for i, f := range fields {
		if strings.EqualFold(f, "Sept") {
			fields[i] = "Sep"
		}
	}
	s = strings.Join(fields, " ")
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1900 {
				break
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", orig)
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// ParseDuration reads itunes:duration: seconds ("3600", "3600.5"), MM:SS
// or HH:MM:SS (fractions of seconds allowed).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("the duration is empty")
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	var total float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		last := i == len(parts)-1
		if err != nil || v < 0 || (!last && v != float64(int(v))) || (i > 0 && v >= 60) || v > 1e7 {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		total = total*60 + v
	}
	return time.Duration(total * float64(time.Second)).Round(time.Millisecond), nil
}
