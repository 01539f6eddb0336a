package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/listens"
)

// publicRoutes registers what listeners and podcast apps reach. None needs
// a login; drafts and scheduled episodes, and their objects, answer 404.
//
//	/                                     the shows (302 to the only one)
//	/<show>/                              the show and its episodes, ?page=N
//	/<show>/feed.xml                      the RSS feed (public_feed.go)
//	/<show>/theme.css, artwork.svg        its accent colour, its drawn artwork (public_identity.go)
//	/<show>/media|originals|images|transcripts/<file>
//	                                      stored objects (public_media.go)
//	/<show>/seasons/<code>/themes.<ext>   semester exports (public_themes.go)
//	/<show>/<episode>                     the episode page (public_episode.go)
//	/<show>/<episode>/chapters.json       JSON chapters
//	/<show>/<episode>/embed               the embeddable player
//	/static/<file>                        stylesheet, script, icon
//	/comment-nous-comptons                how listens are counted (?lang=en)
//
// Show slugs "static", "studio" and "api" are shadowed by the site's own
// routes.
func (s *Server) publicRoutes() {
	r := s.engine
	get(r, "/static/:file", s.static)
	get(r, "/comment-nous-comptons", s.howWeCount)
	if s.cfg.Catalog == nil {
		return
	}
	get(r, "/", s.home)
	get(r, "/:show/", s.showPage)
	get(r, "/:show/feed.xml", s.serveFeed)
	get(r, "/:show/theme.css", s.serveTheme)
	get(r, "/:show/artwork.svg", s.servePlaceholder)
	for _, dir := range []string{feed.DirMedia, feed.DirOriginals, feed.DirImages, feed.DirTranscripts} {
		get(r, "/:show/"+dir+"/:file", s.serveObject(dir))
	}
	get(r, "/:show/seasons/:code/:file", s.serveThemes)
	get(r, "/:show/:episode", s.episodePage)
	get(r, "/:show/:episode/chapters.json", s.serveChapters)
	get(r, "/:show/:episode/embed", s.embedPage)
}

// howWeCount explains what is kept of listeners, and what is not
// (templates/how_we_count.html; web/listens).
func (s *Server) howWeCount(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	s.render(c, http.StatusOK, "how_we_count", tr(langOf(c), "about.listens"), howWeCountPage{
		MaxListeners:  listens.DefaultMaxListeners,
		MaxPerAddress: listens.DefaultMaxPerAddress,
		Redirects:     s.mediaURL != "",
	})
}

// howWeCountPage is the view of templates/how_we_count.html.
type howWeCountPage struct {
	MaxListeners, MaxPerAddress int
	// Redirects tells that media are redirected (ANTENNE_MEDIA_URL): the
	// counts are then estimates.
	Redirects bool
}

// staticFile is a file of static/, read once.
type staticFile struct {
	data []byte
	etag string
}

var staticFiles = sync.OnceValue(func() map[string]staticFile {
	out := map[string]staticFile{}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, err := fs.ReadFile(staticFS, "static/"+e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = staticFile{data: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return out
})

// static serves the embedded stylesheet, script and icon, revalidated
// after an hour (their names do not change with their content).
func (s *Server) static(c *gin.Context) {
	f, ok := staticFiles()[c.Param("file")]
	if !ok {
		s.notFound(c)
		return
	}
	c.Header("ETag", f.etag)
	c.Header("Cache-Control", "public, max-age=3600")
	http.ServeContent(c.Writer, c.Request, c.Param("file"), time.Time{}, bytes.NewReader(f.data))
}

// showCard is a show in the list of the home page.
type showCard struct {
	Title, Description, URL, Artwork string
}

type homePage struct{ Shows []showCard }

// home lists the shows, or sends to the only one.
func (s *Server) home(c *gin.Context) {
	shows := s.cfg.Catalog.Shows()
	if len(shows) == 1 {
		c.Redirect(http.StatusFound, showPath(shows[0].Slug))
		return
	}
	var page homePage
	for _, sh := range shows {
		page.Shows = append(page.Shows, showCard{
			Title:       sh.Title,
			Description: sh.Description,
			URL:         showPath(sh.Slug),
			Artwork:     showArtwork(sh),
		})
	}
	c.Header("Cache-Control", "public, max-age=60")
	s.render(c, http.StatusOK, "home", tr(langOf(c), "home.title"), page)
}

// episodesPerPage is the length of a page of the show's episode list.
const episodesPerPage = 20

// showPage is the view of templates/show.html.
type showPage struct {
	Show                      *episodes.Show
	FeedURL, Artwork, Website string
	AirSlot, License          string
	Hosts                     []episodes.Person
	Apps                      []subscribeApp
	Episodes                  []episodeCard
	Page, Pages               int
	Prev, Next                string
	// Handle is the show's fediverse handle, empty when federation is
	// off.
	Handle string
	// Live is the station's stream while the show is on air, nil
	// otherwise; NextBroadcast is when it airs next ("" when unknown).
	Live          *liveStream
	NextBroadcast string
}

// liveStream is the player of the live broadcast on the show page.
type liveStream struct {
	Station, URL, Type string
}

// episodeCard is an episode in a list.
type episodeCard struct {
	Title, URL string
	Aired      time.Time
	Duration   time.Duration
}

// showPage shows a show with its published episodes, newest first, 20 a
// page (?page=N, from 1); a page past the end is a 404.
func (s *Server) showPage(c *gin.Context) {
	p, err := s.publicShow(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if f := s.cfg.Federation; f != nil && !p.show.FediverseOff && wantsActivity(c.Request) {
		// A fediverse server looking up the page's URL gets the actor.
		c.Header("Vary", "Accept")
		c.Redirect(http.StatusSeeOther, f.ActorURL(p.show.Slug))
		return
	}
	lang := langOf(c)
	n := 1
	if q := c.Query("page"); q != "" {
		if n, err = strconv.Atoi(q); err != nil || n < 1 {
			s.answerProblem(c, badRequest("page="+q))
			return
		}
	}
	pages := max(1, (len(p.published)+episodesPerPage-1)/episodesPerPage)
	if n > pages {
		s.notFound(c)
		return
	}
	sh := p.show
	page := showPage{
		Show:    sh,
		FeedURL: s.cfg.Links.Feed(sh.Slug),
		Artwork: showArtwork(sh),
		Website: sh.Link,
		Hosts:   sh.Hosts,
		Apps:    subscribeApps(s.cfg.Links.Feed(sh.Slug)),
		Page:    n,
		Pages:   pages,
		License: sh.License,
	}
	if f := s.cfg.Federation; f != nil && !sh.FediverseOff {
		page.Handle = f.Handle(sh.Slug)
	}
	if a := sh.AirSlot; a != nil {
		page.AirSlot = tr(lang, "show.airslot", weekdayName(lang, a.Weekday), strconv.Itoa(a.Hour)+"h"+twoDigits(a.Minute))
		if lang == langEN {
			page.AirSlot = tr(lang, "show.airslot", weekdayName(lang, a.Weekday), strconv.Itoa(a.Hour)+":"+twoDigits(a.Minute))
		}
		if a.Station != "" {
			page.AirSlot += " " + tr(lang, "show.airslot.on", a.Station)
		}
	}
	now := s.cfg.Catalog.Now()
	if st, ok := feed.LiveAt(sh, p.published, now); ok && st.Status == feed.LiveOn {
		page.Live = &liveStream{URL: sh.Live.URL, Type: sh.Live.TypeOrDefault()}
		if sh.AirSlot != nil {
			page.Live.Station = sh.AirSlot.Station
		}
		s.allowStream(c, sh.Live.URL)
	} else if _, next, ok := sh.Broadcasts(now); ok && !next.IsZero() {
		page.NextBroadcast = tr(lang, "show.next.broadcast", longDate(lang, next.Start, next.Start.Location()), broadcastClock(lang, next.Start))
	}
	from := (n - 1) * episodesPerPage
	for _, e := range p.published[from:min(len(p.published), from+episodesPerPage)] {
		page.Episodes = append(page.Episodes, episodeCard{
			Title:    e.Title,
			URL:      episodePath(sh.Slug, e.Slug),
			Aired:    e.AiredDate(),
			Duration: e.Media.Duration,
		})
	}
	if n > 1 {
		page.Prev = pageURL(sh.Slug, n-1)
	}
	if n < pages {
		page.Next = pageURL(sh.Slug, n+1)
	}
	c.Header("Cache-Control", "public, max-age=60")
	s.renderView(c, http.StatusOK, "show", view{Title: sh.Title, Data: page, Theme: themePath(sh), Meta: s.showMeta(sh)})
}

// showMeta is the link preview of the show's page.
func (s *Server) showMeta(sh *episodes.Show) *pageMeta {
	m := &pageMeta{
		Type:        "website",
		Title:       sh.Title,
		Description: excerpt(sh.Description, 200),
		URL:         s.cfg.Links.Show(sh.Slug),
		Locale:      ogLocale(sh.Language),
	}
	if sh.Artwork != nil {
		m.Image, _ = s.cfg.Links.Object(sh.Artwork.Key)
	}
	return m
}

// ogLocale is og:locale for a BCP 47 language: fr_FR for "fr".
func ogLocale(lang string) string {
	l, region, _ := strings.Cut(strings.ReplaceAll(lang, "_", "-"), "-")
	l = strings.ToLower(l)
	switch {
	case region != "":
		return l + "_" + strings.ToUpper(region)
	case l == "en":
		return "en_GB"
	case l == "":
		return "fr_FR"
	}
	return l + "_" + strings.ToUpper(l)
}

// excerpt is the start of a text for a preview: spaces collapsed, cut at
// a word boundary to at most max runes, with "…" when cut.
func excerpt(text string, max int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) <= max {
		return text
	}
	cut := string(r[:max])
	if i := strings.LastIndex(cut, " "); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.") + "…"
}

// wantsActivity reports whether a request asks for ActivityPub rather
// than HTML.
func wantsActivity(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/activity+json") ||
		(strings.Contains(a, "application/ld+json") && strings.Contains(a, "activitystreams"))
}

// broadcastClock is the time of day of t: 9h30 in French, 9:30 in
// English.
func broadcastClock(lang string, t time.Time) string {
	if lang == langEN {
		return strconv.Itoa(t.Hour()) + ":" + twoDigits(t.Minute())
	}
	return strconv.Itoa(t.Hour()) + "h" + twoDigits(t.Minute())
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func pageURL(show string, n int) string {
	if n == 1 {
		return showPath(show)
	}
	return showPath(show) + "?page=" + strconv.Itoa(n)
}

// subscribeApp is a link that opens the feed in a podcast app.
type subscribeApp struct {
	Name string // the app's name, not translated
	Key  string // a catalogue key instead of Name
	// URL is built by subscribeApps from antenne's own feed URL: a
	// template.URL, since html/template refuses schemes it does not know.
	URL template.URL
}

// subscribeApps are the documented subscribe URL schemes of podcast apps,
// for the feed at feedURL:
//   - Apple Podcasts: podcasts://host/path (the feed URL, scheme replaced);
//   - AntennaPod: antennapod-subscribe://host/path;
//   - Overcast: overcast://x-callback-url/add?url=FEED;
//   - Pocket Casts: pktc://subscribe/host/path;
//   - Castro: castros://subscribe/host/path;
//   - podcast://host/path, which most other apps (gPodder, Podcast
//     Addict, Podcast Republic...) register.
//
// All are custom schemes handled by an installed app: none sends the
// listener to another web site.
func subscribeApps(feedURL string) []subscribeApp {
	rest := feedURL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	return []subscribeApp{
		{Name: "Apple Podcasts", URL: template.URL("podcasts://" + rest)},
		{Name: "AntennaPod", URL: template.URL("antennapod-subscribe://" + rest)},
		{Name: "Overcast", URL: template.URL("overcast://x-callback-url/add?url=" + url.QueryEscape(feedURL))},
		{Name: "Pocket Casts", URL: template.URL("pktc://subscribe/" + rest)},
		{Name: "Castro", URL: template.URL("castros://subscribe/" + rest)},
		{Key: "show.app.other", URL: template.URL("podcast://" + rest)},
	}
}

// Paths of the site, relative to its root, for links inside pages: a page
// works whatever host name it is reached by.
func showPath(show string) string { return "/" + url.PathEscape(show) + "/" }

func episodePath(show, slug string) string {
	return "/" + url.PathEscape(show) + "/" + url.PathEscape(slug)
}

// objectPath is the path of a stored object, "" for a key with no public
// URL.
func objectPath(key string) string {
	show, dir, file, err := feed.SplitKey(key)
	if err != nil {
		return ""
	}
	return "/" + url.PathEscape(show) + "/" + dir + "/" + url.PathEscape(file)
}

func imagePath(img *episodes.Image) string {
	if img == nil {
		return ""
	}
	return objectPath(img.Key)
}
