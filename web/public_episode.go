package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/federation"
)

// episodePage is the view of templates/episode.html and embed.html.
type episodePage struct {
	Show    *episodes.Show
	Episode *episodes.Episode
	// Paths inside the site.
	ShowURL, MediaURL, OriginalURL, TranscriptURL, Artwork string
	// OpusURL is the small Opus version, when there is one.
	OpusURL string
	// EpisodeURL is the absolute URL of the episode page.
	EpisodeURL  string
	MediaFormat string // "MP3", "M4A"...
	Aired       time.Time
	Chapters    []chapterView
	Hosts       []episodes.Person
	Guests      []episodes.Person
	Notes       template.HTML
	EmbedCode   string
	// Transcript is the text of a WebVTT or SRT transcript, cue by cue:
	// its start only when TranscriptCut (see pageTranscript).
	Transcript    []cueView
	TranscriptCut bool
	// Replies are the listeners' fediverse replies to the episode's
	// post, nil when the show is not federated (or they could not be
	// read).
	Replies *repliesView
}

// repliesView is the thread templates/_replies.html shows.
type repliesView struct {
	Replies       []replyView
	Likes, Boosts int
	// Post is the URI of the episode's post; Handle the show's account.
	Post, Handle string
}

// replyView is one reply: its content was sanitised on receipt
// (federation keeps only paragraphs, line breaks and http(s) links).
type replyView struct {
	federation.Reply
	Content template.HTML
	// Domain is the author's server, for the studio's block button.
	Domain string
}

// cueView is a passage of the transcript as the page shows it: Start
// and End (seconds, with their fraction) let the page follow playback.
type cueView struct {
	Seconds    int64
	Start, End float64
	Clock      string
	Text       string
}

// chapterView is a chapter as the page lists it.
type chapterView struct {
	Seconds int64
	Clock   string
	Title   string
}

// publicEpisode finds a published episode of a show, or answers 404.
func (s *Server) publicEpisode(c *gin.Context) (*publicShow, *episodes.Episode, bool) {
	p, err := s.publicShow(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return nil, nil, false
	}
	e, ok := p.bySlug[c.Param("episode")]
	if !ok {
		if moved := p.formerSlugs[c.Param("episode")]; moved != nil {
			// A renamed episode: its old page URL (and the embed and
			// chapters under it) moves for good to the new one.
			rest := strings.TrimPrefix(c.FullPath(), "/:show/:episode")
			target := showPath(p.show.Slug) + url.PathEscape(moved.Slug) + rest
			if q := c.Request.URL.RawQuery; q != "" {
				target += "?" + q
			}
			c.Redirect(http.StatusMovedPermanently, target)
			return nil, nil, false
		}
		s.notFound(c)
		return nil, nil, false
	}
	return p, e, true
}

func (s *Server) episodeView(p *publicShow, e *episodes.Episode) episodePage {
	sh := p.show
	v := episodePage{
		Show:        sh,
		Episode:     e,
		ShowURL:     showPath(sh.Slug),
		MediaURL:    objectPath(e.Media.Key),
		EpisodeURL:  s.cfg.Links.Episode(sh.Slug, e.Slug),
		MediaFormat: mediaFormat(e.Media.Type),
		Aired:       e.AiredDate(),
		Notes:       template.HTML(feed.RenderNotes(e.Notes)), // sanitised by feed
	}
	if o := e.PublicOriginal(sh); o != nil {
		v.OriginalURL = objectPath(o.Key)
	}
	if e.Transcript != nil {
		v.TranscriptURL = objectPath(e.Transcript.Key)
	}
	v.Artwork = imagePath(e.Artwork)
	if v.Artwork == "" {
		v.Artwork = showArtwork(sh)
	}
	for _, ch := range e.Chapters {
		v.Chapters = append(v.Chapters, chapterView{Seconds: int64(ch.Start.Seconds()), Clock: episodes.FormatDuration(ch.Start), Title: ch.Title})
	}
	if o := e.Opus; o != nil && o.Key != "" {
		v.OpusURL = objectPath(o.Key)
	}
	for _, person := range e.Persons {
		if person.Role == episodes.RoleGuest {
			v.Guests = append(v.Guests, person)
		} else if person.Role == "" || person.Role == episodes.RoleHost {
			v.Hosts = append(v.Hosts, person)
		}
	}
	embed := s.cfg.Links.Episode(sh.Slug, e.Slug) + "/embed"
	v.EmbedCode = `<iframe src="` + template.HTMLEscapeString(embed) + `" title="` + template.HTMLEscapeString(e.Title) +
		`" width="100%" height="200" style="border:0" loading="lazy"></iframe>`
	return v
}

// mediaFormat names a media type for people: "MP3" for audio/mpeg.
func mediaFormat(mime string) string {
	switch mime {
	case "audio/mpeg":
		return "MP3"
	case "audio/mp4", "audio/x-m4a", "audio/aac":
		return "M4A"
	}
	_, sub, _ := strings.Cut(mime, "/")
	return strings.ToUpper(sub)
}

// episodePage shows a published episode: player, chapters, notes, hosts
// and guests. A draft or scheduled episode is a 404.
func (s *Server) episodePage(c *gin.Context) {
	p, e, ok := s.publicEpisode(c)
	if !ok {
		return
	}
	v := s.episodeView(p, e)
	v.Transcript, v.TranscriptCut = s.pageTranscript(c.Request.Context(), e.Transcript)
	v.Replies = s.pageReplies(c.Request.Context(), p.show, e)
	c.Header("Cache-Control", "public, max-age=60")
	s.renderView(c, http.StatusOK, "episode", view{Title: e.Title + " · " + p.show.Title, Data: v, Theme: themePath(p.show), Meta: s.episodeMeta(p.show, e)})
}

// safeReply is a reply's content, sanitised by federation on receipt
// (paragraphs, line breaks, http(s) links only).
func safeReply(content string) template.HTML { return template.HTML(content) }

// pageReplies is the thread of replies to the episode's post, nil when
// the show is not federated or the thread cannot be read (the page is
// shown without it).
func (s *Server) pageReplies(ctx context.Context, sh *episodes.Show, e *episodes.Episode) *repliesView {
	f := s.cfg.Federation
	if f == nil || sh.FediverseOff {
		return nil
	}
	th, err := f.Thread(ctx, sh.Slug, e.ID)
	if err != nil {
		s.log.WarnContext(ctx, "read the replies", "show", sh.Slug, "episode", e.ID, "err", err)
		return nil
	}
	v := &repliesView{Likes: th.Likes, Boosts: th.Boosts, Post: th.Post, Handle: th.Handle}
	for _, r := range th.Replies {
		v.Replies = append(v.Replies, replyView{Reply: r, Content: safeReply(r.Content)})
	}
	return v
}

// episodeMeta is the link preview of an episode's page: its title, the
// start of its notes (the show's description when it has none), its
// artwork (the show's when it has none) and its recording.
func (s *Server) episodeMeta(sh *episodes.Show, e *episodes.Episode) *pageMeta {
	m := s.showMeta(sh)
	m.Type, m.Title, m.URL = "music.song", e.Title, s.cfg.Links.Episode(sh.Slug, e.Slug)
	if d := excerpt(feed.PlainNotes(e.Notes), 200); d != "" {
		m.Description = d
	}
	if e.Artwork != nil {
		m.Image, _ = s.cfg.Links.Object(e.Artwork.Key)
	}
	m.Audio, _ = s.cfg.Links.Object(e.Media.Key)
	m.AudioType = e.Media.Type
	return m
}

// What of a transcript the episode page shows: the cues within the first
// maxPageTranscriptBytes of the file, at most maxPageCues of them. A
// transcript may be 10 MiB (episodes.MaxTranscriptBytes, some 400,000
// cues): shown whole it made each view tens of MB of HTML and seconds of
// CPU. The page then says that the text goes on in the file, which is
// served whole at its own URL.
const (
	maxPageTranscriptBytes = 256 << 10
	maxPageCues            = 2000
)

// maxCachedTranscripts bounds the transcripts kept ready for the page:
// each is at most maxPageCues cues.
const maxCachedTranscripts = 64

// transcriptCache keeps what the page shows of transcripts, by key: a
// transcript's key names its bytes (a hash), so an entry never goes
// stale. One transcript is read and parsed at a time (parse): parallel
// first views of a large one wait for the first instead of each
// parsing it.
type transcriptCache struct {
	mu      sync.Mutex
	entries map[string]cachedTranscript
	parse   sync.Mutex
}

type cachedTranscript struct {
	cues []cueView
	cut  bool
}

func (c *transcriptCache) get(key string) (cachedTranscript, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.entries[key]
	return t, ok
}

// pageTranscript is what the episode page shows of a WebVTT or SRT
// transcript: its cues as the page lists them, and whether they stop
// before the end of the file. None for other types or when it cannot be
// read (the page still links to the file).
func (s *Server) pageTranscript(ctx context.Context, t *episodes.Transcript) ([]cueView, bool) {
	if t == nil || (t.Type != episodes.TypeWebVTT && t.Type != episodes.TypeSRT) || s.cfg.Store == nil {
		return nil, false
	}
	if e, ok := s.transcripts.get(t.Key); ok {
		return e.cues, e.cut
	}
	s.transcripts.parse.Lock()
	defer s.transcripts.parse.Unlock()
	if e, ok := s.transcripts.get(t.Key); ok {
		return e.cues, e.cut
	}
	e, err := s.readPageTranscript(ctx, t)
	if err != nil {
		s.log.WarnContext(ctx, "read transcript", "key", t.Key, "err", err)
		return nil, false
	}
	s.transcripts.mu.Lock()
	if s.transcripts.entries == nil || len(s.transcripts.entries) >= maxCachedTranscripts {
		s.transcripts.entries = map[string]cachedTranscript{}
	}
	s.transcripts.entries[t.Key] = e
	s.transcripts.mu.Unlock()
	return e.cues, e.cut
}

// readPageTranscript reads the first maxPageTranscriptBytes of a
// transcript (one ranged read), cut after its last whole cue, and keeps
// at most maxPageCues cues. The file was checked whole when it was
// uploaded.
func (s *Server) readPageTranscript(ctx context.Context, t *episodes.Transcript) (cachedTranscript, error) {
	var e cachedTranscript
	rc, _, err := s.cfg.Store.Get(ctx, t.Key, 0, maxPageTranscriptBytes+1)
	if err != nil {
		return e, err
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxPageTranscriptBytes+1))
	rc.Close()
	if err != nil {
		return e, err
	}
	if len(data) > maxPageTranscriptBytes {
		e.cut = true
		data = data[:maxPageTranscriptBytes]
		// Keep whole cues: up to the last blank line.
		end := max(bytes.LastIndex(data, []byte("\n\n")), bytes.LastIndex(data, []byte("\n\r\n")))
		if end < 0 {
			return e, fmt.Errorf("no whole cue in the first %d bytes", maxPageTranscriptBytes)
		}
		data = data[:end+1]
	}
	cues, err := episodes.ParseCues(t.Type, data)
	if err != nil {
		return e, err
	}
	for _, cue := range cues {
		if cue.Text == "" {
			continue
		}
		if len(e.cues) == maxPageCues {
			e.cut = true
			break
		}
		e.cues = append(e.cues, cueView{Seconds: int64(cue.Start.Seconds()), Start: cue.Start.Seconds(), End: cue.End.Seconds(), Clock: episodes.FormatDuration(cue.Start), Text: cue.Text})
	}
	return e, nil
}

// embedPage is the minimal player other sites may frame.
func (s *Server) embedPage(c *gin.Context) {
	p, e, ok := s.publicEpisode(c)
	if !ok {
		return
	}
	s.allowFraming(c)
	c.Header("Cache-Control", "public, max-age=60")
	s.renderView(c, http.StatusOK, "embed", view{Title: e.Title, Embed: true, Data: s.episodeView(p, e), Theme: themePath(p.show)})
}

// serveChapters answers GET|HEAD /<show>/<episode>/chapters.json with the
// episode's JSON chapters (feed.ChaptersJSON).
func (s *Server) serveChapters(c *gin.Context) {
	p, e, ok := s.publicEpisode(c)
	if !ok {
		return
	}
	b, err := feed.ChaptersJSON(p.show, e)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("Content-Length", strconv.Itoa(len(b)))
	c.Data(http.StatusOK, feed.ChaptersType, b)
}
