package web

import (
	"cmp"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/accounts"
)

// studioRoutes registers the hosts' studio. Every page but the login
// wants a session (auth.go); pages under a show want a host of that show.
//
//	GET  /studio/login, POST /studio/login, POST /studio/logout
//	GET  /studio/                           the host's shows
//	GET  /studio/:show/                     episodes of the show, upload form
//	POST /studio/:show/upload               upload a recording -> its form
//	GET  /studio/:show/semester             the semester's themes (?code=A20[&listens=1])
//	GET  /studio/:show/semester/themes.md   its exports (.tex, .csv, .json), listens=1 adds listens
//	GET  /studio/:show/listens[.csv]        listens of the show (?period=30d|A20)
//	GET  /studio/:show/:id/listens[.csv]    listens of an episode
//	GET  /studio/:show/replies, POST        listeners' replies (studio_replies.go)
//	GET  /studio/:show/settings, POST       show settings (admins)
//	GET  /studio/:show/:id, POST            the episode form (save, publish...)
//	POST /studio/:show/:id/replace          replace the recording
//	GET  /studio/:show/:id/progress, POST /studio/:show/:id/retry (processing.go)
//	POST /studio/:show/:id/transcript       attach a transcript (WebVTT, SRT)
//	GET  /studio/:show/:id/delete, POST     confirm, then delete
func (s *Server) studioRoutes() {
	r := s.engine
	get(r, "/studio/login", s.loginPage)
	r.POST("/studio/login", s.login)
	st := r.Group("/studio", s.requireSession)
	st.POST("/logout", s.logout)
	get(st, "/", s.studioHome)
	s.accountRoutes(r, st)
	sh := st.Group("/:show", s.requireShow)
	get(sh, "/", s.studioShow)
	get(sh, "/semester", s.studioSemester)
	get(sh, "/semester/:file", s.studioThemes)
	get(sh, "/listens", s.studioListens)
	get(sh, "/listens.csv", s.studioListensCSV)
	get(sh, "/replies", s.studioReplies)
	sh.POST("/replies", s.moderateReplies)
	sh.POST("/upload", s.studioUpload)
	admin := sh.Group("", s.requireAdmin)
	get(admin, "/settings", s.settingsPage)
	admin.POST("/settings", s.saveSettings)
	get(sh, "/:id", s.editPage)
	sh.POST("/:id", s.saveEpisode)
	sh.POST("/:id/replace", s.replaceRecording)
	get(sh, "/:id/progress", s.studioProgress)
	sh.POST("/:id/retry", s.studioRetry)
	sh.POST("/:id/transcript", s.uploadTranscript)
	get(sh, "/:id/delete", s.deletePage)
	get(sh, "/:id/listens", s.studioListens)
	get(sh, "/:id/listens.csv", s.studioListensCSV)
	sh.POST("/:id/delete", s.deleteEpisode)
}

// ---- Login ----

type loginPage struct {
	Login, Next, Error string
	// FirstRun is set while no admin exists: the page tells how to start.
	FirstRun bool
}

// safeNext keeps a ?next= only when it is a path of the studio, so that
// the login page cannot send anyone to another site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/studio/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/studio/"
}

func (s *Server) loginPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if h, _ := s.sessionHost(c); h != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	s.render(c, http.StatusOK, "studio_login", tr(langOf(c), "studio.login"), loginPage{Next: safeNext(c.Query("next")), FirstRun: !s.cfg.Accounts.HasAdmin()})
}

// loginBodyTimeout is how long the login form may take to arrive.
const loginBodyTimeout = 10 * time.Second

func (s *Server) login(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	limitBodyTime(c, loginBodyTimeout)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, err)
		return
	}
	login, ok := normalLogin(c.PostForm("login"))
	password := c.PostForm("password")
	page := loginPage{Next: safeNext(c.PostForm("next"))}
	lang := langOf(c)
	if !ok {
		page.Error = tr(lang, "studio.login.long")
		s.render(c, http.StatusBadRequest, "studio_login", tr(lang, "studio.login"), page)
		return
	}
	page.Login = login
	if !s.admitLogin(c, login) {
		page.Error = tr(lang, "studio.login.slow")
		s.render(c, http.StatusTooManyRequests, "studio_login", tr(lang, "studio.login"), page)
		return
	}
	h, err := s.cfg.Accounts.Authenticate(c.Request.Context(), login, password)
	if errors.Is(err, accounts.ErrBadCredentials) {
		s.loginFailed(c, login)
		s.log.InfoContext(c.Request.Context(), "login failed", s.clientAttrs(c)...)
		page.Error = tr(lang, "studio.login.wrong")
		s.render(c, http.StatusUnauthorized, "studio_login", tr(lang, "studio.login"), page)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.signIn(c, h); err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "host signed in", "host", h.Login)
	c.Redirect(http.StatusSeeOther, page.Next)
}

// logout ends the session (revoked in the store, not only forgotten by
// the browser); with everywhere=1, every session of the host.
func (s *Server) logout(c *gin.Context) {
	h := currentHost(c)
	ss, _ := c.Value(sessionCtxKey).(session)
	var err error
	if c.PostForm("everywhere") != "" {
		err = s.cfg.Accounts.EndSessions(c.Request.Context(), h.Login)
	} else {
		err = s.cfg.Accounts.RevokeSession(c.Request.Context(), h.Login, ss.id, ss.expires)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/studio/login")
}

// ---- Lists ----

type studioHomePage struct {
	Host  *accounts.Host
	Shows []*episodes.Show
}

func (s *Server) studioHome(c *gin.Context) {
	h := currentHost(c)
	var page studioHomePage
	page.Host = h
	for _, sh := range s.cfg.Catalog.Shows() {
		if h.CanEdit(sh.Slug) {
			page.Shows = append(page.Shows, sh)
		}
	}
	if len(page.Shows) == 1 {
		c.Redirect(http.StatusSeeOther, "/studio/"+url.PathEscape(page.Shows[0].Slug)+"/")
		return
	}
	s.render(c, http.StatusOK, "studio_home", tr(langOf(c), "studio.title"), page)
}

type studioShowPage struct {
	Host      *accounts.Host
	Show      *episodes.Show
	Artwork   string
	Ready     []episodes.DirectoryItem
	Episodes  []episodeRow
	Error     string
	MaxUpload string
	Notice    string
}

type episodeRow struct {
	ID, Title, Status, StatusKey string
	// StatusLabel is the status as shown, with the processing's progress;
	// ProgressURL, set while processing, is what studio.js polls.
	StatusLabel, ProgressURL string
	Duration                 time.Duration
	Aired, Publish, Updated  time.Time
	EditURL, PublicURL       string
}

func (s *Server) studioShowData(c *gin.Context) (studioShowPage, error) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		return studioShowPage{}, err
	}
	eps, err := s.cfg.Catalog.Episodes(sh.Slug, episodes.ListOptions{})
	if err != nil {
		return studioShowPage{}, err
	}
	page := studioShowPage{Host: currentHost(c), Show: sh, MaxUpload: humanSize(langOf(c), s.maxUpload()),
		Artwork: showArtwork(sh), Ready: sh.DirectoryReadiness()}
	now := s.cfg.Catalog.Now()
	for _, e := range eps {
		st := e.Status(now)
		row := episodeRow{
			ID: e.ID, Title: e.Title, Status: string(st), StatusKey: "status." + string(st),
			Duration: e.Duration(), Aired: e.AiredAt, Publish: e.PublishAt, Updated: e.Updated,
			EditURL:     studioEpisodePath(sh.Slug, e.ID),
			StatusLabel: s.processingLabel(langOf(c), e),
		}
		if st == episodes.Processing {
			row.ProgressURL = progressPath(sh.Slug, e.ID)
		}
		if st == episodes.Published {
			row.PublicURL = episodePath(sh.Slug, e.Slug)
		}
		page.Episodes = append(page.Episodes, row)
	}
	return page, nil
}

func (s *Server) maxUpload() int64 { return cmp.Or(s.cfg.MaxUpload, DefaultMaxUpload) }

func studioEpisodePath(show, id string) string {
	return "/studio/" + url.PathEscape(show) + "/" + url.PathEscape(id)
}

func (s *Server) studioShow(c *gin.Context) {
	page, err := s.studioShowData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if c.Query("deleted") != "" {
		page.Notice = tr(langOf(c), "studio.deleted")
	}
	s.render(c, http.StatusOK, "studio_show", page.Show.Title, page)
}

// ---- Upload ----

// studioUpload receives a recording (multipart, streamed: fields before
// the "file" part) and shows the new episode's form, prefilled from the
// tags, with its processing's progress when it needs one. The episode is
// a draft, or published once ready when the "publish" box is ticked. An
// error shows the upload form again with the message.
func (s *Server) studioUpload(c *gin.Context) {
	var created *episodes.Episode
	err := s.receiveUpload(c, func(up *episodes.Upload, f map[string]string) error {
		up.Background = true
		if f["publish"] != "" {
			up.PublishAt = s.cfg.Catalog.Now()
		}
		return nil
	},
		func(up episodes.Upload) error {
			e, err := s.cfg.Catalog.Ingest(c.Request.Context(), up)
			created = e
			return err
		})
	if err != nil {
		s.studioUploadFailed(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "episode uploaded", "show", created.Show, "episode_id", created.ID, "host", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, studioEpisodePath(created.Show, created.ID)+"?uploaded=1")
}

// studioUploadFailed shows the show page with the upload's error, with
// the status the error maps to.
func (s *Server) studioUploadFailed(c *gin.Context, err error) {
	p := problemOf(err)
	if p.Status >= 500 {
		s.fail(c, err)
		return
	}
	s.log.DebugContext(c.Request.Context(), "upload refused", "status", p.Status, "err", err)
	// The client may still be sending: drain a little of the body so
	// that it reads our answer rather than a reset connection.
	io.CopyN(io.Discard, c.Request.Body, 1<<20)
	page, perr := s.studioShowData(c)
	if perr != nil {
		s.fail(c, perr)
		return
	}
	page.Error = p.Message(langOf(c))
	s.render(c, p.Status, "studio_show", page.Show.Title, page)
}

// ---- Episode form ----

// episodeForm is the episode form as typed: strings, so that a refused
// form is shown again exactly as it was.
type episodeForm struct {
	Title, Slug, Theme, Notes, Aired, Season, Number, Type string
	Hosts, Guests, Chapters, ScheduleAt                    string
	Explicit                                               bool
	Revision                                               string
}

type editPage struct {
	Show      *episodes.Show
	Episode   *episodes.Episode
	Form      episodeForm
	Status    string
	StatusKey string
	Error     string
	Notice    string
	Preview   template.HTML
	Duration  time.Duration
	PublicURL string
	Artwork   string
	Uploaded  bool
	// StatusLabel is the status as shown, with the processing's progress;
	// ProgressURL, set while processing, is what studio.js polls.
	StatusLabel, ProgressURL string
}

const formTime = "2006-01-02T15:04"

func formOf(e *episodes.Episode) episodeForm {
	f := episodeForm{
		Title: e.Title, Slug: e.Slug, Theme: e.Theme, Notes: e.Notes, Type: string(e.Type),
		Explicit: e.Explicit, Revision: e.Revision,
	}
	if !e.AiredAt.IsZero() {
		f.Aired = e.AiredAt.In(episodes.Paris()).Format(formTime)
	}
	if e.Season > 0 {
		f.Season = strconv.Itoa(e.Season)
	}
	if e.Number > 0 {
		f.Number = strconv.Itoa(e.Number)
	}
	var hosts, guests []string
	for _, p := range e.Persons {
		if p.Role == episodes.RoleGuest {
			guests = append(guests, p.Name)
		} else {
			hosts = append(hosts, p.Name)
		}
	}
	f.Hosts, f.Guests = strings.Join(hosts, ", "), strings.Join(guests, ", ")
	var ch []string
	for _, c := range e.Chapters {
		line := episodes.FormatDuration(c.Start) + " " + c.Title
		if c.URL != "" {
			line += " " + c.URL
		}
		ch = append(ch, line)
	}
	f.Chapters = strings.Join(ch, "\n")
	return f
}

func readEpisodeForm(c *gin.Context) episodeForm {
	return episodeForm{
		Title: c.PostForm("title"), Slug: c.PostForm("slug"), Theme: c.PostForm("theme"), Notes: c.PostForm("notes"),
		Aired: c.PostForm("aired"), Season: c.PostForm("season"), Number: c.PostForm("number"), Type: c.PostForm("type"),
		Hosts: c.PostForm("hosts"), Guests: c.PostForm("guests"), Chapters: c.PostForm("chapters"),
		ScheduleAt: c.PostForm("schedule_at"), Explicit: c.PostForm("explicit") != "", Revision: c.PostForm("revision"),
	}
}

// apply sets the form's values on e; a value that cannot be read is a
// *episodes.FieldError naming the field.
func (f episodeForm) apply(e *episodes.Episode) error {
	e.Title, e.Theme, e.Notes = strings.TrimSpace(f.Title), strings.TrimSpace(f.Theme), f.Notes
	if f.Slug != "" {
		e.Slug = strings.TrimSpace(f.Slug)
	}
	e.Type, e.Explicit = episodes.EpisodeType(cmp.Or(f.Type, "full")), f.Explicit
	e.AiredAt = time.Time{}
	if f.Aired != "" {
		t, err := episodes.ParseParisTime("aired_at", f.Aired)
		if err != nil {
			return err
		}
		e.AiredAt = t
	}
	num := func(field, v string) (int, error) {
		if strings.TrimSpace(v) == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return 0, episodes.Invalid(field, "number.malformed", "%q is not a whole number", v)
		}
		return n, nil
	}
	var err error
	if e.Season, err = num("season", f.Season); err != nil {
		return err
	}
	if e.Number, err = num("number", f.Number); err != nil {
		return err
	}
	e.Persons = nil
	for role, list := range map[string]string{episodes.RoleHost: f.Hosts, episodes.RoleGuest: f.Guests} {
		for name := range strings.SplitSeq(list, ",") {
			if name = strings.TrimSpace(name); name != "" {
				e.Persons = append(e.Persons, episodes.Person{Name: name, Role: role})
			}
		}
	}
	// Hosts first, then guests, whatever the map order.
	hostsFirst(e.Persons)
	e.Chapters = nil
	for i, line := range strings.Split(f.Chapters, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		ch, err := parseChapter(line)
		if err != nil {
			return episodes.Invalid("chapters", "chapters.malformed", "line %d: write a time then a title, like 12:30 Interview", i+1)
		}
		e.Chapters = append(e.Chapters, ch)
	}
	return nil
}

func hostsFirst(ps []episodes.Person) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Role == episodes.RoleHost && ps[j-1].Role != episodes.RoleHost; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// parseChapter reads "H:MM:SS Title [URL]" or "MM:SS Title [URL]".
func parseChapter(line string) (episodes.Chapter, error) {
	at, rest, ok := strings.Cut(line, " ")
	if !ok {
		return episodes.Chapter{}, errors.New("no title")
	}
	var secs int
	parts := strings.Split(at, ":")
	if len(parts) > 3 {
		return episodes.Chapter{}, errors.New("bad time")
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return episodes.Chapter{}, errors.New("bad time")
		}
		secs = secs*60 + n
	}
	ch := episodes.Chapter{Start: time.Duration(secs) * time.Second, Title: strings.TrimSpace(rest)}
	if i := strings.LastIndex(ch.Title, " "); i > 0 && (strings.HasPrefix(ch.Title[i+1:], "https://") || strings.HasPrefix(ch.Title[i+1:], "http://")) {
		ch.URL = ch.Title[i+1:]
		ch.Title = strings.TrimSpace(ch.Title[:i])
	}
	if ch.Title == "" {
		return ch, errors.New("no title")
	}
	return ch, nil
}

func (s *Server) editData(c *gin.Context, e *episodes.Episode) editPage {
	sh, _ := s.cfg.Catalog.Show(e.Show)
	st := e.Status(s.cfg.Catalog.Now())
	p := editPage{
		Show: sh, Episode: e, Form: formOf(e), Status: string(st), StatusKey: "status." + string(st),
		Duration: e.Duration(), Artwork: imagePath(e.Artwork),
		StatusLabel: s.processingLabel(langOf(c), e),
	}
	if p.Artwork == "" && sh != nil {
		p.Artwork = showArtwork(sh)
	}
	if st == episodes.Processing {
		p.ProgressURL = progressPath(e.Show, e.ID)
	}
	if st == episodes.Published {
		p.PublicURL = episodePath(e.Show, e.Slug)
	}
	return p
}

func (s *Server) editPage(c *gin.Context) {
	e, err := s.cfg.Catalog.Episode(c.Param("show"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page := s.editData(c, e)
	lang := langOf(c)
	// "Recording received" in green has no place above a red failure.
	page.Uploaded = c.Query("uploaded") != "" && page.Status != string(episodes.Failed)
	if n := c.Query("done"); n != "" {
		page.Notice = tr(lang, "studio.done."+n)
	}
	s.render(c, http.StatusOK, "studio_episode", e.Title, page)
}

// maxEditForm bounds the episode form, artwork included.
const maxEditForm = 12 << 20

// saveEpisode handles the buttons of the episode form: save (keep the
// status), publish, schedule, unpublish, and preview (render the notes,
// store nothing). A refused form is shown again as typed with the error;
// a stale one (edited meanwhile) gets 409.
func (s *Server) saveEpisode(c *gin.Context) {
	show, id := c.Param("show"), c.Param("id")
	cur, err := s.cfg.Catalog.Episode(show, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxEditForm)
	if err := c.Request.ParseMultipartForm(maxEditForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.editFailed(c, cur, readEpisodeForm(c), err)
		return
	}
	form := readEpisodeForm(c)
	action := c.PostForm("action")
	if action == "preview" {
		page := s.editData(c, cur)
		page.Form = form
		page.Preview = template.HTML(feed.RenderNotes(form.Notes)) // sanitised by feed
		s.render(c, http.StatusOK, "studio_episode", cur.Title, page)
		return
	}
	var artwork []byte
	if fh, err := c.FormFile("artwork"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err == nil {
			artwork, err = io.ReadAll(io.LimitReader(f, maxEditForm))
			f.Close()
		}
		if err != nil {
			s.editFailed(c, cur, form, err)
			return
		}
	}
	now := s.cfg.Catalog.Now()
	var at time.Time
	switch action {
	case "publish", "schedule", "unpublish", "draft":
		mode, when := episodes.PublishNow, ""
		switch action {
		case "schedule":
			mode, when = episodes.PublishLater, strings.TrimSpace(form.ScheduleAt)
		case "unpublish", "draft":
			mode = episodes.PublishDraft
		}
		if at, err = episodes.ParsePublication(mode, when, now); err != nil {
			s.editFailed(c, cur, form, err)
			return
		}
	}
	edit := func(e *episodes.Episode) error {
		if err := form.apply(e); err != nil {
			return err
		}
		switch action {
		case "publish":
			e.PublishNow(now)
		case "schedule", "unpublish", "draft":
			e.PublishAt = at
		}
		return nil
	}
	ctx := c.Request.Context()
	var e *episodes.Episode
	if artwork != nil {
		e, err = s.cfg.Catalog.SetEpisodeArtwork(ctx, show, id, form.Revision, artwork, edit)
	} else {
		e, err = s.cfg.Catalog.UpdateEpisode(ctx, show, id, form.Revision, edit)
	}
	if err != nil {
		s.editFailed(c, cur, form, err)
		return
	}
	s.log.InfoContext(ctx, "episode saved", "show", show, "episode_id", id, "action", cmp.Or(action, "save"), "host", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, studioEpisodePath(show, e.ID)+"?done="+url.QueryEscape(cmp.Or(action, "save")))
}

// editFailed shows the form again as typed, with the error's message and
// status. On a conflict the form keeps the typed values but the page says
// someone else changed the episode.
func (s *Server) editFailed(c *gin.Context, cur *episodes.Episode, form episodeForm, err error) {
	p := problemOf(err)
	if p.Status >= 500 {
		s.fail(c, err)
		return
	}
	s.log.DebugContext(c.Request.Context(), "episode form refused", "status", p.Status, "err", err)
	page := s.editData(c, cur)
	page.Form = form
	page.Error = p.Message(langOf(c))
	if p.Status == http.StatusConflict && p.Code == "conflict" {
		page.Error = tr(langOf(c), "studio.conflict")
	}
	s.render(c, p.Status, "studio_episode", cur.Title, page)
}

func (s *Server) replaceRecording(c *gin.Context) {
	show, id := c.Param("show"), c.Param("id")
	cur, err := s.cfg.Catalog.Episode(show, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	err = s.receiveUpload(c, func(up *episodes.Upload, f map[string]string) error {
		cur.Revision = cmp.Or(f["revision"], cur.Revision)
		up.Background = true
		return nil
	}, func(up episodes.Upload) error {
		_, err := s.cfg.Catalog.ReplaceRecording(c.Request.Context(), show, id, cur.Revision, up)
		return err
	})
	if err != nil {
		io.CopyN(io.Discard, c.Request.Body, 1<<20)
		s.editFailed(c, cur, formOf(cur), err)
		return
	}
	c.Redirect(http.StatusSeeOther, studioEpisodePath(show, id)+"?done=replace")
}

func (s *Server) deletePage(c *gin.Context) {
	e, err := s.cfg.Catalog.Episode(c.Param("show"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "studio_delete", e.Title, s.editData(c, e))
}

func (s *Server) deleteEpisode(c *gin.Context) {
	show, id := c.Param("show"), c.Param("id")
	cur, err := s.cfg.Catalog.Episode(show, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.cfg.Catalog.DeleteEpisode(c.Request.Context(), show, id, c.PostForm("revision")); err != nil {
		s.editFailed(c, cur, formOf(cur), err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "episode deleted", "show", show, "episode_id", id, "host", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, "/studio/"+url.PathEscape(show)+"/?deleted=1")
}

// ---- Show settings (admins) ----

type settingsForm struct {
	Title, Description, Author, OwnerName, OwnerEmail, Language, Link, Type, Copyright, License string
	Categories, Hosts, FundingURL, FundingText, AirDay, AirTime, Station, NewFeedURL            string
	LiveURL, LiveType, LiveMinutes, SkipDates                                                   string
	Explicit, Locked, Semesters                                                                 bool
	Revision                                                                                    string
	// Fediverse is the show's fediverse account on; Hashtags are its
	// hashtags separated by spaces or commas.
	Fediverse bool
	Hashtags  string
	// Accent is the show's colour, #rrggbb.
	Accent string
	// Opus makes the small Opus version of episodes; Originals publishes
	// the recordings as uploaded.
	Opus, Originals bool
}

// CategoryPair is the first two categories, as the form's two selects
// show them ("Name" or "Name/Sub", "" for none).
func (f settingsForm) CategoryPair() [2]string {
	var out [2]string
	i := 0
	for line := range strings.SplitSeq(f.Categories, "\n") {
		if line = strings.TrimSpace(line); line != "" && i < 2 {
			out[i] = line
			i++
		}
	}
	return out
}

// apply sets the form's values on sh; a value that cannot be read is a
// *episodes.FieldError.
func (f settingsForm) apply(sh *episodes.Show) error {
	sh.Title, sh.Description, sh.Author = strings.TrimSpace(f.Title), f.Description, f.Author
	sh.Owner = episodes.Owner{Name: f.OwnerName, Email: strings.TrimSpace(f.OwnerEmail)}
	sh.Language, sh.Link, sh.Type = strings.TrimSpace(f.Language), strings.TrimSpace(f.Link), episodes.ShowType(f.Type)
	sh.Copyright, sh.License, sh.Explicit = f.Copyright, f.License, f.Explicit
	sh.Locked, sh.SeasonsAreSemesters, sh.NewFeedURL = f.Locked, f.Semesters, strings.TrimSpace(f.NewFeedURL)
	sh.FediverseOff = !f.Fediverse
	sh.OpusOff, sh.OriginalsPublic = !f.Opus, f.Originals
	sh.Accent = strings.ToLower(strings.TrimSpace(f.Accent))
	if sh.Accent == episodes.DefaultAccent {
		sh.Accent = ""
	}
	sh.Hashtags = nil
	for _, t := range strings.FieldsFunc(f.Hashtags, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		sh.Hashtags = append(sh.Hashtags, strings.TrimPrefix(t, "#"))
	}
	sh.Categories = nil
	for line := range strings.SplitSeq(f.Categories, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			name, sub, _ := strings.Cut(line, "/")
			sh.Categories = append(sh.Categories, episodes.Category{Name: strings.TrimSpace(name), Sub: strings.TrimSpace(sub)})
		}
	}
	sh.Hosts = nil
	for name := range strings.SplitSeq(f.Hosts, ",") {
		if name = strings.TrimSpace(name); name != "" {
			sh.Hosts = append(sh.Hosts, episodes.Person{Name: name, Role: episodes.RoleHost})
		}
	}
	sh.Funding = nil
	if u := strings.TrimSpace(f.FundingURL); u != "" {
		sh.Funding = &episodes.Funding{URL: u, Text: strings.TrimSpace(f.FundingText)}
	}
	sh.AirSlot = nil
	if f.AirDay != "" || f.AirTime != "" {
		a, err := episodes.ParseAirSlot(f.AirDay, f.AirTime)
		if err != nil {
			return err
		}
		a.Station = strings.TrimSpace(f.Station)
		sh.AirSlot = &a
	}
	sh.Live = nil
	if u := strings.TrimSpace(f.LiveURL); u != "" {
		l := &episodes.Live{URL: u, Type: strings.TrimSpace(f.LiveType)}
		if m := strings.TrimSpace(f.LiveMinutes); m != "" {
			n, err := strconv.Atoi(m)
			if err != nil {
				return episodes.Invalid("live.minutes", "number.malformed", "%q is not a whole number", m)
			}
			l.Minutes = n
		}
		var err error
		if l.Skip, err = episodes.ParseSkipDates(f.SkipDates); err != nil {
			return err
		}
		sh.Live = l
	}
	return nil
}

type settingsPage struct {
	Show    *episodes.Show
	Form    settingsForm
	Artwork string
	Error   string
	Notice  string
	// Ready is what Apple Podcasts and Spotify need of the show, saved;
	// Categories are Apple's, for the selects.
	Ready      []episodes.DirectoryItem
	Categories []categoryGroup
	// Hosts are the names of the accounts that may edit the show.
	Hosts []string
	// Handle and Followers describe the show's fediverse account; Handle
	// is empty when antenne serves no federation. Followers is -1 when
	// the count failed.
	Handle    string
	Followers int
}

func settingsOf(sh *episodes.Show) settingsForm {
	f := settingsForm{
		Title: sh.Title, Description: sh.Description, Author: sh.Author, OwnerName: sh.Owner.Name,
		OwnerEmail: sh.Owner.Email, Language: sh.Language, Link: sh.Link, Type: string(sh.Type),
		Copyright: sh.Copyright, License: sh.License, Explicit: sh.Explicit, Revision: sh.Revision,
		Locked: sh.Locked, Semesters: sh.SeasonsAreSemesters, NewFeedURL: sh.NewFeedURL,
		Fediverse: !sh.FediverseOff, Hashtags: strings.Join(sh.Hashtags, " "),
		Accent: sh.AccentOrDefault(), Opus: !sh.OpusOff, Originals: sh.OriginalsPublic,
	}
	var cats, hosts []string
	for _, c := range sh.Categories {
		cats = append(cats, categoryValue(c))
	}
	for _, p := range sh.Hosts {
		hosts = append(hosts, p.Name)
	}
	f.Categories, f.Hosts = strings.Join(cats, "\n"), strings.Join(hosts, ", ")
	if sh.Funding != nil {
		f.FundingURL, f.FundingText = sh.Funding.URL, sh.Funding.Text
	}
	if a := sh.AirSlot; a != nil {
		f.AirDay, f.AirTime, f.Station = strconv.Itoa(int(a.Weekday)), a.Clock(), a.Station
	}
	if l := sh.Live; l != nil {
		f.LiveURL, f.LiveType, f.SkipDates = l.URL, l.Type, strings.Join(l.Skip, "\n")
		if l.Minutes > 0 {
			f.LiveMinutes = strconv.Itoa(l.Minutes)
		}
	}
	return f
}

// newSettingsPage is the settings page of sh, with form f as typed.
func (s *Server) newSettingsPage(c *gin.Context, sh *episodes.Show, f settingsForm) settingsPage {
	page := settingsPage{Show: sh, Form: f, Artwork: showArtwork(sh), Ready: sh.DirectoryReadiness(), Categories: categoryGroups(langOf(c))}
	for _, h := range s.cfg.Accounts.Hosts() {
		if h.CanEdit(sh.Slug) && !h.Disabled {
			page.Hosts = append(page.Hosts, cmp.Or(h.Name, h.Login))
		}
	}
	s.fediverseOf(c, &page)
	return page
}

// fediverseOf fills the page's fediverse handle and follower count.
func (s *Server) fediverseOf(c *gin.Context, page *settingsPage) {
	f := s.cfg.Federation
	if f == nil {
		return
	}
	page.Handle = f.Handle(page.Show.Slug)
	n, err := f.FollowerCount(c.Request.Context(), page.Show.Slug)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "count followers", "show", page.Show.Slug, "err", err)
		n = -1
	}
	page.Followers = n
}

func (s *Server) settingsPage(c *gin.Context) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page := s.newSettingsPage(c, sh, settingsOf(sh))
	if c.Query("done") != "" {
		page.Notice = tr(langOf(c), "studio.done.save")
	}
	s.render(c, http.StatusOK, "studio_settings", sh.Title, page)
}

func (s *Server) saveSettings(c *gin.Context) {
	slug := c.Param("show")
	cur, err := s.cfg.Catalog.Show(slug)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxEditForm)
	parseErr := c.Request.ParseMultipartForm(maxEditForm)
	if errors.Is(parseErr, http.ErrNotMultipart) {
		parseErr = nil
	}
	f := settingsForm{
		Title: c.PostForm("title"), Description: c.PostForm("description"), Author: c.PostForm("author"),
		OwnerName: c.PostForm("owner_name"), OwnerEmail: c.PostForm("owner_email"), Language: c.PostForm("language"),
		Link: c.PostForm("link"), Type: c.PostForm("type"), Copyright: c.PostForm("copyright"), License: c.PostForm("license"),
		Explicit: c.PostForm("explicit") != "", Revision: c.PostForm("revision"),
		Categories: c.PostForm("categories"), Hosts: c.PostForm("hosts"), FundingURL: c.PostForm("funding_url"),
		FundingText: c.PostForm("funding_text"), AirDay: c.PostForm("air_day"), AirTime: c.PostForm("air_time"),
		Station: c.PostForm("station"), NewFeedURL: c.PostForm("new_feed_url"),
		LiveURL: c.PostForm("live_url"), LiveType: c.PostForm("live_type"), LiveMinutes: c.PostForm("live_minutes"),
		SkipDates: c.PostForm("skip_dates"),
		Locked:    c.PostForm("locked") != "", Semesters: c.PostForm("semesters") != "",
		Fediverse: c.PostForm("fediverse") != "", Hashtags: c.PostForm("hashtags"),
		Accent: c.PostForm("accent"), Opus: c.PostForm("opus") != "", Originals: c.PostForm("originals") != "",
	}
	if picked := c.PostFormArray("category"); len(picked) > 0 {
		// The two selects; a form without them may send the list as
		// lines of "categories".
		f.Categories = strings.Join(picked, "\n")
	}
	failed := func(err error) {
		p := problemOf(err)
		if p.Status >= 500 {
			s.fail(c, err)
			return
		}
		page := s.newSettingsPage(c, cur, f)
		page.Error = p.Message(langOf(c))
		if p.Code == "conflict" {
			page.Error = tr(langOf(c), "studio.conflict")
		}
		s.render(c, p.Status, "studio_settings", cur.Title, page)
	}
	if parseErr != nil {
		failed(parseErr)
		return
	}
	ctx := c.Request.Context()
	sh, err := s.cfg.Catalog.UpdateShow(ctx, slug, f.Revision, f.apply)
	if err != nil {
		failed(err)
		return
	}
	if fh, err := c.FormFile("artwork"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(file, maxEditForm))
			file.Close()
		}
		if err == nil {
			_, err = s.cfg.Catalog.SetShowArtwork(ctx, slug, sh.Revision, data)
		}
		if err != nil {
			cur, _ = s.cfg.Catalog.Show(slug)
			f.Revision = cur.Revision
			failed(err)
			return
		}
	}
	s.log.InfoContext(ctx, "show saved", "show", slug, "host", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, "/studio/"+url.PathEscape(slug)+"/settings?done=1")
}
