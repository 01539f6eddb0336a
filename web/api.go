package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
)

// apiRoutes registers the JSON API. Every route wants a Bearer token
// (auth.go); routes under a show want a host of that show (or an admin).
//
//	GET    /api/v1/shows
//	GET    /api/v1/shows/:show
//	GET    /api/v1/shows/:show/episodes
//	POST   /api/v1/shows/:show/episodes            upload (multipart "file" or raw body)
//	GET    /api/v1/shows/:show/episodes/:id
//	PATCH  /api/v1/shows/:show/episodes/:id        JSON fields; If-Match: revision
//	DELETE /api/v1/shows/:show/episodes/:id
//	POST   /api/v1/shows/:show/episodes/:id/publish|schedule|unpublish
//	POST   /api/v1/shows/:show/episodes/:id/retry  a failed processing (processing.go)
//	GET    /api/v1/shows/:show/listens             ?period=30d|A20 (studio_listens.go)
//	GET    /api/v1/shows/:show/episodes/:id/listens
func (s *Server) apiRoutes() {
	api := s.engine.Group("/api/v1", s.requireToken)
	get(api, "/shows", s.apiShows)
	show := api.Group("/shows/:show", s.requireShow)
	get(show, "", s.apiShow)
	get(show, "/episodes", s.apiEpisodes)
	show.POST("/episodes", s.apiUpload)
	get(show, "/episodes/:id", s.apiEpisode)
	show.PATCH("/episodes/:id", s.apiPatch)
	show.DELETE("/episodes/:id", s.apiDelete)
	show.POST("/episodes/:id/publish", s.apiPublish)
	show.POST("/episodes/:id/schedule", s.apiSchedule)
	show.POST("/episodes/:id/unpublish", s.apiUnpublish)
	show.POST("/episodes/:id/retry", s.apiRetry)
	get(show, "/listens", s.apiListens)
	get(show, "/episodes/:id/listens", s.apiListens)
}

// maxJSONBody bounds the JSON bodies of the API.
const maxJSONBody = 1 << 20

// showJSON is a show as the API gives it.
type showJSON struct {
	Slug        string `json:"slug"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Language    string `json:"language"`
	Author      string `json:"author"`
	Explicit    bool   `json:"explicit"`
	Type        string `json:"type"`
	URL         string `json:"url"`
	FeedURL     string `json:"feed_url"`
	Episodes    int    `json:"episodes"`
	Revision    string `json:"revision"`
}

func (s *Server) showJSON(sh *episodes.Show) showJSON {
	eps, _ := s.cfg.Catalog.Episodes(sh.Slug, episodes.ListOptions{})
	return showJSON{
		Slug: sh.Slug, Title: sh.Title, Description: sh.Description, Language: sh.Language,
		Author: sh.Author, Explicit: sh.Explicit, Type: string(sh.Type),
		URL: s.cfg.Links.Show(sh.Slug), FeedURL: s.cfg.Links.Feed(sh.Slug),
		Episodes: len(eps), Revision: sh.Revision,
	}
}

// episodeJSON is an episode as the API gives it. Times are RFC 3339,
// durations in seconds.
type episodeJSON struct {
	ID              string            `json:"id"`
	Show            string            `json:"show"`
	Slug            string            `json:"slug"`
	GUID            string            `json:"guid"`
	Title           string            `json:"title"`
	Theme           string            `json:"theme"`
	Notes           string            `json:"notes"`
	Status          episodes.Status   `json:"status"`
	AiredAt         *time.Time        `json:"aired_at"`
	PublishAt       *time.Time        `json:"publish_at"`
	Season          int               `json:"season"`
	Number          int               `json:"number"`
	Type            string            `json:"type"`
	Explicit        bool              `json:"explicit"`
	Persons         []episodes.Person `json:"persons"`
	Chapters        []chapterJSON     `json:"chapters"`
	DurationSeconds float64           `json:"duration_seconds"`
	Media           mediaJSON         `json:"media"`
	Processing      processingJSON    `json:"processing"`
	URL             string            `json:"url"`
	Created         time.Time         `json:"created"`
	Updated         time.Time         `json:"updated"`
	Revision        string            `json:"revision"`
}

type mediaJSON struct {
	URL        string `json:"url"`
	Type       string `json:"type"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	SourceName string `json:"source_name,omitempty"`
}

type chapterJSON struct {
	Start float64 `json:"start"`
	Title string  `json:"title"`
	URL   string  `json:"url,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) episodeJSON(e *episodes.Episode) episodeJSON {
	media, _ := s.cfg.Links.Object(e.Media.Key)
	j := episodeJSON{
		ID: e.ID, Show: e.Show, Slug: e.Slug, GUID: e.GUID, Title: e.Title, Theme: e.Theme, Notes: e.Notes,
		Status: e.Status(s.cfg.Catalog.Now()), AiredAt: timePtr(e.AiredAt), PublishAt: timePtr(e.PublishAt),
		Season: e.Season, Number: e.Number, Type: string(e.Type), Explicit: e.Explicit,
		Persons: e.Persons, Chapters: []chapterJSON{}, DurationSeconds: e.Media.Duration.Seconds(),
		Media: mediaJSON{URL: media, Type: e.Media.Type, Size: e.Media.Size, SHA256: e.Media.SHA256, SourceName: e.Media.SourceName},
		URL:   s.cfg.Links.Episode(e.Show, e.Slug), Created: e.Created, Updated: e.Updated, Revision: e.Revision,
		Processing: s.processingJSON(e),
	}
	if j.Persons == nil {
		j.Persons = []episodes.Person{}
	}
	for _, c := range e.Chapters {
		j.Chapters = append(j.Chapters, chapterJSON{Start: c.Start.Seconds(), Title: c.Title, URL: c.URL})
	}
	return j
}

func (s *Server) apiShows(c *gin.Context) {
	h := currentHost(c)
	out := []showJSON{}
	for _, sh := range s.cfg.Catalog.Shows() {
		if h.CanEdit(sh.Slug) {
			out = append(out, s.showJSON(sh))
		}
	}
	c.JSON(http.StatusOK, gin.H{"shows": out})
}

func (s *Server) apiShow(c *gin.Context) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", strconv.Quote(sh.Revision))
	c.JSON(http.StatusOK, s.showJSON(sh))
}

func (s *Server) apiEpisodes(c *gin.Context) {
	status := episodes.Status(c.Query("status"))
	switch status {
	case "", episodes.Draft, episodes.Scheduled, episodes.Published, episodes.Processing, episodes.Failed:
	default:
		s.fail(c, badRequest("status="+string(status)))
		return
	}
	eps, err := s.cfg.Catalog.Episodes(c.Param("show"), episodes.ListOptions{Status: status})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]episodeJSON, 0, len(eps))
	for _, e := range eps {
		out = append(out, s.episodeJSON(e))
	}
	c.JSON(http.StatusOK, gin.H{"episodes": out})
}

func (s *Server) apiEpisode(c *gin.Context) {
	e, err := s.cfg.Catalog.Episode(c.Param("show"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerEpisode(c, http.StatusOK, e)
}

func (s *Server) answerEpisode(c *gin.Context, status int, e *episodes.Episode) {
	c.Header("ETag", strconv.Quote(e.Revision))
	c.JSON(status, s.episodeJSON(e))
}

// ifMatch is the revision of the If-Match header ("" when absent).
func ifMatch(c *gin.Context) string {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	if u, err := strconv.Unquote(v); err == nil {
		return u
	}
	return v
}

// apiUpload creates an episode from an upload: a multipart body whose
// "file" part is the recording (fields before it: title, theme, aired,
// at, draft), or a raw body (fields as query parameters, the file name in
// ?name= or Content-Disposition). Without "at" or "draft" the episode is
// published at once, or once processed: a recording that needs
// transcoding is answered 202 Accepted as soon as it is stored, with the
// episode (status processing) and its Location; the client may leave.
func (s *Server) apiUpload(c *gin.Context) {
	err := s.receiveUpload(c, func(up *episodes.Upload, fields map[string]string) error {
		up.Background = true
		return uploadFields(up, fields, s.cfg.Catalog.Now())
	}, func(up episodes.Upload) error {
		e, err := s.cfg.Catalog.Ingest(c.Request.Context(), up)
		if err != nil {
			return err
		}
		s.log.InfoContext(c.Request.Context(), "episode uploaded", "show", e.Show, "episode_id", e.ID, "host", currentHost(c).Login, "status", e.Status(s.cfg.Catalog.Now()))
		if e.Pending != nil {
			s.answerAccepted(c, e)
			return nil
		}
		c.Header("Location", episodeLocation(e.Show, e.ID))
		s.answerEpisode(c, http.StatusCreated, e)
		return nil
	})
	if err != nil {
		s.fail(c, err)
	}
}

// uploadFields applies the API's upload fields to up: aired, and at or
// draft (episodes.ParsePublication; neither publishes now).
func uploadFields(up *episodes.Upload, f map[string]string, now time.Time) error {
	up.Title, up.Theme = strings.TrimSpace(f["title"]), strings.TrimSpace(f["theme"])
	if v := f["aired"]; v != "" {
		t, err := episodes.ParseParisTime("aired_at", v)
		if err != nil {
			return err
		}
		up.AiredAt = t
	}
	mode := episodes.PublishNow
	switch {
	case f["draft"] == "true" || f["draft"] == "1" || f["draft"] == "on":
		mode = episodes.PublishDraft
	case f["at"] != "":
		mode = episodes.PublishLater
	}
	var err error
	up.PublishAt, err = episodes.ParsePublication(mode, f["at"], now)
	return err
}

// maxField bounds a form field read from a multipart upload.
const maxField = 64 << 10

// maxParts bounds the parts of a multipart upload: the fields, then the
// file.
const maxParts = 100

// receiveUpload streams the upload of the request into ingest: the body
// is limited to MaxUpload (beyond: *http.MaxBytesError, 413) and never
// held in memory. A multipart body gives its fields before the part named
// "file" (later fields are not read); a raw body takes its fields from
// the query. prepare turns the fields into the upload's.
func (s *Server) receiveUpload(c *gin.Context, prepare func(*episodes.Upload, map[string]string) error, ingest func(episodes.Upload) error) (err error) {
	defer func() { s.metrics.countUpload(err) }()
	up := episodes.Upload{Show: c.Param("show")}
	limit := s.maxUpload()
	if c.Request.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	fields := map[string]string{}
	for k, v := range c.Request.URL.Query() {
		fields[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ct != "multipart/form-data" {
		up.Name = fields["name"]
		if _, params, err := mime.ParseMediaType(c.GetHeader("Content-Disposition")); err == nil && params["filename"] != "" {
			up.Name = params["filename"]
		}
		if err := prepare(&up, fields); err != nil {
			return err
		}
		up.Body = c.Request.Body
		return ingest(up)
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return badRequest("multipart body")
	}
	for n := 0; ; n++ {
		if n >= maxParts {
			return badRequest("more than " + strconv.Itoa(maxParts) + " parts")
		}
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return badRequest(`no part named "file"`)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return badRequest("multipart body")
		}
		if part.FormName() == "file" {
			up.Name = part.FileName()
			if err := prepare(&up, fields); err != nil {
				return err
			}
			up.Body = part
			return ingest(up)
		}
		v, err := readField(part)
		if err != nil {
			return err
		}
		fields[part.FormName()] = v
	}
}

func readField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, maxField+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxField {
		return "", badRequest("field " + p.FormName() + " is too long")
	}
	return string(b), nil
}

// episodePatch is the body of PATCH: every field is optional; absent
// fields are kept.
type episodePatch struct {
	Title    *string            `json:"title"`
	Slug     *string            `json:"slug"`
	Theme    *string            `json:"theme"`
	Notes    *string            `json:"notes"`
	AiredAt  *time.Time         `json:"aired_at"`
	Season   *int               `json:"season"`
	Number   *int               `json:"number"`
	Type     *string            `json:"type"`
	Explicit *bool              `json:"explicit"`
	Persons  *[]episodes.Person `json:"persons"`
	Chapters *[]chapterJSON     `json:"chapters"`
	Revision string             `json:"revision"`
}

func (p *episodePatch) apply(e *episodes.Episode) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.Title, p.Title)
	set(&e.Slug, p.Slug)
	set(&e.Theme, p.Theme)
	set(&e.Notes, p.Notes)
	if p.AiredAt != nil {
		e.AiredAt = *p.AiredAt
	}
	if p.Season != nil {
		e.Season = *p.Season
	}
	if p.Number != nil {
		e.Number = *p.Number
	}
	if p.Type != nil {
		e.Type = episodes.EpisodeType(*p.Type)
	}
	if p.Explicit != nil {
		e.Explicit = *p.Explicit
	}
	if p.Persons != nil {
		e.Persons = *p.Persons
	}
	if p.Chapters != nil {
		e.Chapters = nil
		for _, c := range *p.Chapters {
			e.Chapters = append(e.Chapters, episodes.Chapter{Start: time.Duration(c.Start * float64(time.Second)), Title: c.Title, URL: c.URL})
		}
	}
}

// readJSON decodes a JSON body of at most maxJSONBody bytes into v.
func readJSON(c *gin.Context, v any) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody)
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("JSON body: " + jsonProblem(err))
	}
	return nil
}

// jsonProblem says what is wrong with a JSON body without echoing it.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "wrong type for " + typ.Field
	case errors.Is(err, io.EOF):
		return "empty"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "not valid JSON"
}

func (s *Server) apiPatch(c *gin.Context) {
	var p episodePatch
	if err := readJSON(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	rev := ifMatch(c)
	if rev == "" {
		rev = p.Revision
	}
	e, err := s.cfg.Catalog.UpdateEpisode(c.Request.Context(), c.Param("show"), c.Param("id"), rev, func(e *episodes.Episode) error {
		p.apply(e)
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerEpisode(c, http.StatusOK, e)
}

func (s *Server) apiPublish(c *gin.Context) {
	e, err := s.cfg.Catalog.Publish(c.Request.Context(), c.Param("show"), c.Param("id"), ifMatch(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerEpisode(c, http.StatusOK, e)
}

func (s *Server) apiUnpublish(c *gin.Context) {
	e, err := s.cfg.Catalog.Unpublish(c.Request.Context(), c.Param("show"), c.Param("id"), ifMatch(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerEpisode(c, http.StatusOK, e)
}

func (s *Server) apiSchedule(c *gin.Context) {
	var body struct {
		At string `json:"at"`
	}
	if err := readJSON(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	at, err := episodes.ParsePublication(episodes.PublishLater, body.At, s.cfg.Catalog.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.cfg.Catalog.Schedule(c.Request.Context(), c.Param("show"), c.Param("id"), ifMatch(c), at)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerEpisode(c, http.StatusOK, e)
}

func (s *Server) apiDelete(c *gin.Context) {
	if err := s.cfg.Catalog.DeleteEpisode(c.Request.Context(), c.Param("show"), c.Param("id"), ifMatch(c)); err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "episode deleted", "show", c.Param("show"), "episode_id", c.Param("id"), "host", currentHost(c).Login)
	c.Status(http.StatusNoContent)
}
