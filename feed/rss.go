package feed

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eduncan911/podcast"

	"github.com/picasoft/antenne/episodes"
)

// Namespaces declared on the <rss> root.
const (
	NamespaceITunes  = "http://www.itunes.com/dtds/podcast-1.0.dtd"
	NamespacePodcast = "https://podcastindex.org/namespace/1.0"
	NamespaceContent = "http://purl.org/rss/1.0/modules/content/"
	NamespaceAtom    = "http://www.w3.org/2005/Atom"
)

// ContentType is the Content-Type of the feed.
const ContentType = "application/rss+xml; charset=utf-8"

// DefaultLanguage is the feed's language when the show sets none.
const DefaultLanguage = "fr"

// Options are the inputs of Write besides the show and its episodes.
type Options struct {
	// Links builds every URL of the feed (required).
	Links Links
	// BuildTime is the feed's lastBuildDate (required). Passing the
	// catalog's last change rather than the wall clock keeps the bytes
	// identical as long as the catalog is.
	BuildTime time.Time
	// Now decides which episodes are published (Episode.Status(Now) ==
	// Published) and the status of the live item (see LiveAt); BuildTime
	// when zero.
	Now time.Time
	// Generator is the <generator> text, e.g. "antenne v1.2.0"; omitted
	// when empty.
	Generator string
	// Season, when not nil, gives an episode's season number and name
	// (itunes:season, podcast:season and its name attribute), e.g. a
	// numbering by semester. When nil, Episode.Season is used, without
	// name. A number <= 0 leaves the season out.
	Season func(*episodes.Episode) (number int, name string)
	// Hubs are the WebSub hubs announced in the feed
	// (<atom:link rel="hub">), beside its own URL (rel="self"): a hub
	// told of each change pushes the feed to its subscribers
	// (https://www.w3.org/TR/websub/). None when empty.
	Hubs []string
	// SocialInteract, when not nil, gives the fediverse post where an
	// episode is discussed (podcast:socialInteract protocol="activitypub"
	// with the post's URI and the account's handle and URL); nil
	// leaves the item without one.
	SocialInteract func(*episodes.Episode) *SocialInteract
}

// SocialInteract is where listeners discuss an episode
// (https://podcastindex.org/namespace/1.0#social-interact).
type SocialInteract struct {
	// URI is the post's (required), AccountID the account's handle
	// (@show@host), AccountURL its profile.
	URI, AccountID, AccountURL string
}

// Write writes the RSS 2.0 feed of show to w: the published episodes of
// eps (Status(opts.Now) == Published; eps may hold every episode of the
// show, in any order), newest first by PublishAt (ties by ID). The document
// is built completely before the first byte is written, so an error leaves
// w untouched. The output depends on its inputs only: the same show,
// episodes and options give the same bytes.
//
// Write returns an error when show is nil or has no title or an unknown
// type, opts.Links or opts.BuildTime is zero, the show's air slot is out of
// range, or a published episode has an unknown type or lacks a GUID, a
// media key with a public URL, a media type or a positive media size; and
// when w fails. Write is safe for concurrent use.
func Write(w io.Writer, show *episodes.Show, eps []*episodes.Episode, opts Options) error {
	b, err := Build(show, eps, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write feed of show %q: %w", show.Slug, err)
	}
	return nil
}

// Build is Write returning the bytes.
func Build(show *episodes.Show, eps []*episodes.Episode, opts Options) ([]byte, error) {
	if show == nil {
		return nil, errors.New("build feed: no show")
	}
	doc, err := build(show, eps, opts)
	if err != nil {
		return nil, fmt.Errorf("build feed of show %q: %w", show.Slug, err)
	}
	var buf bytes.Buffer
	buf.Grow(2048 + 2560*len(doc.Channel.Items))
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode feed of show %q: %w", show.Slug, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// Published returns the episodes of eps published at now, newest first by
// PublishAt (ties by ID): the items of the feed, in order.
func Published(eps []*episodes.Episode, now time.Time) []*episodes.Episode {
	var out []*episodes.Episode
	for _, ep := range eps {
		if ep != nil && ep.Status(now) == episodes.Published {
			out = append(out, ep)
		}
	}
	slices.SortStableFunc(out, func(a, b *episodes.Episode) int {
		if c := b.PublishAt.Compare(a.PublishAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// rss is the document root; the library's own root declares only the
// itunes and atom namespaces.
type rss struct {
	XMLName   xml.Name `xml:"rss"`
	Version   string   `xml:"version,attr"`
	NSITunes  string   `xml:"xmlns:itunes,attr"`
	NSPodcast string   `xml:"xmlns:podcast,attr"`
	NSContent string   `xml:"xmlns:content,attr"`
	NSAtom    string   `xml:"xmlns:atom,attr"`
	Channel   *channel
}

// channel is the library's Podcast plus the tags it lacks. Items shadows
// Podcast.Items.
type channel struct {
	*podcast.Podcast
	// AtomLinks shadow Podcast.AtomLink, which holds only one link: the
	// feed's own (rel="self") and its WebSub hubs.
	AtomLinks       []atomLink       `xml:"atom:link"`
	IType           string           `xml:"itunes:type,omitempty"`
	GUID            string           `xml:"podcast:guid,omitempty"`
	Locked          *locked          `xml:"podcast:locked"`
	Funding         *funding         `xml:"podcast:funding"`
	License         *license         `xml:"podcast:license"`
	Persons         []person         `xml:"podcast:person"`
	Medium          string           `xml:"podcast:medium"`
	UpdateFrequency *updateFrequency `xml:"podcast:updateFrequency"`
	LiveItem        *liveItem
	Items           []*item
}

// item is the library's Item plus the tags it lacks. GUID shadows
// Item.GUID (which has no isPermaLink attribute).
type item struct {
	*podcast.Item
	GUID          guid           `xml:"guid"`
	ITitle        string         `xml:"itunes:title,omitempty"`
	Content       *cdata         `xml:"content:encoded"`
	IEpisode      int            `xml:"itunes:episode,omitempty"`
	ISeason       int            `xml:"itunes:season,omitempty"`
	IType         string         `xml:"itunes:episodeType,omitempty"`
	Season        *season        `xml:"podcast:season"`
	Episode       int            `xml:"podcast:episode,omitempty"`
	Chapters      *urlType       `xml:"podcast:chapters"`
	Transcript    *transcript    `xml:"podcast:transcript"`
	Persons       []person       `xml:"podcast:person"`
	AltEnclosures []altEnclosure `xml:"podcast:alternateEnclosure"`
	Social        *social        `xml:"podcast:socialInteract"`
}

type social struct {
	Protocol   string `xml:"protocol,attr"`
	URI        string `xml:"uri,attr"`
	AccountID  string `xml:"accountId,attr,omitempty"`
	AccountURL string `xml:"accountUrl,attr,omitempty"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type guid struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type locked struct {
	Owner string `xml:"owner,attr,omitempty"`
	Value string `xml:",chardata"`
}

type funding struct {
	URL  string `xml:"url,attr"`
	Text string `xml:",chardata"`
}

type license struct {
	URL  string `xml:"url,attr,omitempty"`
	Name string `xml:",chardata"`
}

type person struct {
	Role  string `xml:"role,attr,omitempty"`
	Group string `xml:"group,attr,omitempty"`
	Href  string `xml:"href,attr,omitempty"`
	Img   string `xml:"img,attr,omitempty"`
	Name  string `xml:",chardata"`
}

type updateFrequency struct {
	Complete string `xml:"complete,attr"`
	RRule    string `xml:"rrule,attr"`
	Text     string `xml:",chardata"`
}

type season struct {
	Name   string `xml:"name,attr,omitempty"`
	Number int    `xml:",chardata"`
}

type urlType struct {
	URL  string `xml:"url,attr"`
	Type string `xml:"type,attr"`
}

type transcript struct {
	URL      string `xml:"url,attr"`
	Type     string `xml:"type,attr"`
	Language string `xml:"language,attr,omitempty"`
}

type altEnclosure struct {
	Type      string     `xml:"type,attr"`
	Length    int64      `xml:"length,attr,omitempty"`
	Bitrate   int        `xml:"bitrate,attr,omitempty"`
	Title     string     `xml:"title,attr,omitempty"`
	Source    source     `xml:"podcast:source"`
	Integrity *integrity `xml:"podcast:integrity"`
}

type source struct {
	URI string `xml:"uri,attr"`
}

type integrity struct {
	Type  string `xml:"type,attr"`
	Value string `xml:"value,attr"`
}

func build(show *episodes.Show, eps []*episodes.Episode, opts Options) (*rss, error) {
	if opts.Links.IsZero() {
		return nil, errors.New("no links (use NewLinks)")
	}
	if opts.BuildTime.IsZero() {
		return nil, errors.New("no build time")
	}
	now := opts.Now
	if now.IsZero() {
		now = opts.BuildTime
	}
	l := opts.Links
	published := Published(eps, now)

	title := line(show.Title)
	if title == "" {
		return nil, errors.New("no title")
	}
	showType := cmp.Or(show.Type, episodes.Episodic)
	if err := episodes.CheckShowType(showType); err != nil {
		return nil, err
	}
	link := webURL(show.Link)
	if link == "" {
		link = l.Show(show.Slug)
	}
	description := line(show.Description)
	if strings.TrimSpace(description) == "" {
		description = title
	}
	// New stamps time.Now for nil dates and its own generator and
	// language: every one of them is overwritten below.
	build := opts.BuildTime.UTC()
	p := podcast.New(title, line(link), description, &build, &build)
	p.PubDate = ""
	if len(published) > 0 {
		p.PubDate = published[0].PublishAt.UTC().Format(time.RFC1123Z)
	}
	p.Generator = line(opts.Generator)
	p.Language = cmp.Or(line(show.Language), DefaultLanguage)
	p.Copyright = line(show.Copyright)
	if show.Artwork != nil {
		u, err := l.Object(show.Artwork.Key)
		if err != nil {
			return nil, fmt.Errorf("artwork: %w", err)
		}
		p.AddImage(u) // <image> and itunes:image; items inherit it
	}
	// Set directly: AddAuthor would put the e-mail into itunes:author.
	p.IAuthor = line(cmp.Or(show.Author, show.Owner.Name))
	p.IExplicit = strconv.FormatBool(show.Explicit)
	p.INewFeedURL = webURL(show.NewFeedURL)
	if show.Owner.Name != "" || show.Owner.Email != "" {
		p.IOwner = &podcast.Author{Name: line(show.Owner.Name), Email: line(show.Owner.Email)}
	}
	for _, c := range show.Categories {
		if c.Name == "" {
			continue
		}
		// Built by hand: AddCategory also joins every name into one RSS
		// <category>, which no app needs.
		ic := &podcast.ICategory{Text: line(c.Name)}
		if c.Sub != "" {
			ic.ICategories = []*podcast.ICategory{{Text: line(c.Sub)}}
		}
		p.ICategories = append(p.ICategories, ic)
	}

	ch := &channel{
		Podcast: &p,
		IType:   string(showType),
		GUID:    line(show.GUID),
		Locked:  &locked{Owner: line(show.Owner.Email), Value: yesNo(show.Locked)},
		Medium:  "podcast",
		Persons: persons(show.Hosts),
	}
	ch.AtomLinks = append(ch.AtomLinks, atomLink{Href: l.Feed(show.Slug), Rel: "self", Type: "application/rss+xml"})
	for _, h := range opts.Hubs {
		ch.AtomLinks = append(ch.AtomLinks, atomLink{Href: h, Rel: "hub"})
	}
	if f := show.Funding; f != nil && webURL(f.URL) != "" {
		ch.Funding = &funding{URL: webURL(f.URL), Text: cmp.Or(line(f.Text), webURL(f.URL))}
	}
	if show.License != "" {
		ch.License = licenseOf(show.License, show.LicenseURL)
	}
	if show.AirSlot != nil {
		uf, err := frequency(show.AirSlot, p.Language)
		if err != nil {
			return nil, err
		}
		ch.UpdateFrequency = uf
	}

	if st, ok := LiveAt(show, published, now); ok {
		ch.LiveItem = buildLiveItem(show, st, p.Language, l)
	}

	renderAll(published)
	ch.Items = make([]*item, 0, len(published))
	for _, ep := range published {
		it, err := buildItem(&p, show, ep, opts)
		if err != nil {
			return nil, fmt.Errorf("episode %q (%s): %w", ep.ID, ep.Title, err)
		}
		ch.Items = append(ch.Items, it)
	}
	p.Items = nil // shadowed by ch.Items; AddItem filled it

	return &rss{
		Version:   "2.0",
		NSITunes:  NamespaceITunes,
		NSPodcast: NamespacePodcast,
		NSContent: NamespaceContent,
		NSAtom:    NamespaceAtom,
		Channel:   ch,
	}, nil
}

func buildItem(p *podcast.Podcast, show *episodes.Show, ep *episodes.Episode, opts Options) (*item, error) {
	l := opts.Links
	if ep.GUID == "" {
		return nil, errors.New("no GUID")
	}
	epType := cmp.Or(ep.Type, episodes.Full)
	if err := episodes.CheckEpisodeType(epType); err != nil {
		return nil, err
	}
	m := ep.Media
	if m.Type == "" {
		return nil, fmt.Errorf("media %q has no type", m.Key)
	}
	if m.Size <= 0 {
		return nil, fmt.Errorf("media %q has size %d", m.Key, m.Size)
	}
	mediaURL, err := l.Object(m.Key)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}

	title := line(ep.Title)
	if strings.TrimSpace(title) == "" {
		title = ep.Slug
	}
	rn := notes(ep.Notes)
	description := rn.text
	if description == "" {
		description = title // the library, and some apps, want one
	}
	pub := ep.PublishAt.UTC()
	li := podcast.Item{
		Title:       title,
		Link:        l.Episode(show.Slug, ep.Slug),
		Description: description,
		PubDate:     &pub,
		IAuthor:     p.IAuthor, // else AddItem may copy an e-mail here
		IExplicit:   strconv.FormatBool(ep.Explicit),
	}
	if m.Duration > 0 {
		// Whole seconds, rounded (at least 1): Apple's recommended form.
		li.IDuration = strconv.FormatInt(max(int64(m.Duration.Round(time.Second)/time.Second), 1), 10)
	}
	// The enclosure type enum has no audio/mp4 and its zero value means
	// audio/x-m4a: give AddItem a valid placeholder, then write the
	// media's own type.
	li.AddEnclosure(mediaURL, podcast.MP3, m.Size)
	if ep.Artwork != nil {
		u, err := l.Object(ep.Artwork.Key)
		if err != nil {
			return nil, fmt.Errorf("artwork: %w", err)
		}
		li.AddImage(u)
	}
	if _, err := p.AddItem(li); err != nil {
		return nil, fmt.Errorf("podcast.AddItem: %w", err)
	}
	added := p.Items[len(p.Items)-1]
	added.Enclosure.TypeFormatted = line(m.Type)

	it := &item{
		Item:    added,
		GUID:    guid{IsPermaLink: "false", Value: line(ep.GUID)},
		ITitle:  title,
		IType:   string(epType),
		Persons: persons(ep.Persons),
	}
	if rn.html != "" {
		it.Content = &cdata{Text: rn.html}
	}
	if ep.Number > 0 {
		it.IEpisode, it.Episode = ep.Number, ep.Number
	}
	num, name := ep.Season, ""
	if opts.Season != nil {
		num, name = opts.Season(ep)
	}
	if num > 0 {
		it.ISeason = num
		it.Season = &season{Number: num, Name: line(name)}
	}
	if len(ep.Chapters) > 0 {
		it.Chapters = &urlType{URL: l.Chapters(show.Slug, ep.Slug), Type: ChaptersType}
	}
	if t := ep.Transcript; t != nil && t.Key != "" {
		u, err := l.Object(t.Key)
		if err != nil {
			return nil, fmt.Errorf("transcript: %w", err)
		}
		it.Transcript = &transcript{URL: u, Type: line(cmp.Or(t.Type, "text/plain")), Language: line(t.Language)}
	}
	// The small Opus version first (apps that know alternate enclosures
	// pick it), then the original as uploaded when the show publishes it.
	for _, alt := range []struct {
		what, title string
		m           *episodes.Media
	}{{"opus", "Opus", ep.Opus}, {"original", "Original", ep.PublicOriginal(show)}} {
		if alt.m == nil || alt.m.Key == "" {
			continue
		}
		u, err := l.Object(alt.m.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", alt.what, err)
		}
		it.AltEnclosures = append(it.AltEnclosures, altEnclosure{
			Type:      line(cmp.Or(alt.m.Type, "application/octet-stream")),
			Length:    max(alt.m.Size, 0),
			Bitrate:   max(alt.m.Bitrate, 0),
			Title:     alt.title,
			Source:    source{URI: u},
			Integrity: sri(alt.m.SHA256),
		})
	}
	if opts.SocialInteract != nil {
		if si := opts.SocialInteract(ep); si != nil && webURL(si.URI) != "" {
			it.Social = &social{Protocol: "activitypub", URI: webURL(si.URI), AccountID: line(si.AccountID), AccountURL: webURL(si.AccountURL)}
		}
	}
	return it, nil
}

// persons maps people to podcast:person; the role is "host" when empty.
func persons(ps []episodes.Person) []person {
	var out []person
	for _, p := range ps {
		name := line(strings.TrimSpace(p.Name))
		if name == "" {
			continue
		}
		out = append(out, person{
			Role:  line(cmp.Or(p.Role, episodes.RoleHost)),
			Group: line(p.Group),
			Href:  webURL(p.Href),
			Img:   webURL(p.Img),
			Name:  name,
		})
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// sri is the podcast:integrity of a hex SHA-256, nil when it is not one.
func sri(hexSum string) *integrity {
	sum, err := hex.DecodeString(hexSum)
	if err != nil || len(sum) != 32 {
		return nil
	}
	return &integrity{Type: "sri", Value: "sha256-" + base64.StdEncoding.EncodeToString(sum)}
}

// ccLicenses are the deeds of the Creative Commons licenses hosts pick,
// by SPDX identifier (lower case).
var ccLicenses = map[string]string{
	"cc-by-4.0":       "https://creativecommons.org/licenses/by/4.0/",
	"cc-by-sa-4.0":    "https://creativecommons.org/licenses/by-sa/4.0/",
	"cc-by-nc-4.0":    "https://creativecommons.org/licenses/by-nc/4.0/",
	"cc-by-nc-sa-4.0": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
	"cc-by-nd-4.0":    "https://creativecommons.org/licenses/by-nd/4.0/",
	"cc-by-nc-nd-4.0": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
	"cc0-1.0":         "https://creativecommons.org/publicdomain/zero/1.0/",
}

// licenseOf is podcast:license: the node value is the lower-case SPDX
// identifier ("CC BY-SA 4.0" -> "cc-by-sa-4.0"); the url is the show's, or
// the Creative Commons deed for those licenses.
func licenseOf(name, licenseURL string) *license {
	id := strings.ToLower(strings.Join(strings.Fields(line(name)), "-"))
	u := webURL(licenseURL)
	if u == "" {
		u = ccLicenses[id]
	}
	return &license{Name: id, URL: u}
}

var rruleDays = [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// frequency is podcast:updateFrequency for a weekly air slot, with a text
// in French when the feed's language is French, else in English.
func frequency(a *episodes.AirSlot, lang string) (*updateFrequency, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var text string
	if isFrench(lang) {
		text = fmt.Sprintf("Chaque %s à %dh%02d", episodes.FrenchWeekday(a.Weekday), a.Hour, a.Minute)
		if a.Station != "" {
			text += " sur " + a.Station
		}
	} else {
		text = fmt.Sprintf("Every %s at %d:%02d", a.Weekday, a.Hour, a.Minute)
		if a.Station != "" {
			text += " on " + a.Station
		}
	}
	return &updateFrequency{
		Complete: "false",
		RRule:    "FREQ=WEEKLY;BYDAY=" + rruleDays[a.Weekday],
		Text:     line(text),
	}, nil
}

// isFrench reports whether the feed's language is French.
func isFrench(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "fr") }

// line is s without the characters XML forbids and without leading and
// trailing white space.
func line(s string) string { return strings.TrimSpace(xmlText(s)) }

// webURL is s when it is an absolute http or https URL, else "": links
// typed by hosts (website, funding, persons) never carry another scheme
// (javascript:, data:...) into podcast apps.
func webURL(s string) string {
	s = line(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return ""
	}
	return s
}
