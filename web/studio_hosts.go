package web

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/accounts"
)

// accountRoutes registers the pages about accounts:
//
//	GET  /studio/setup/:token, POST     first run: the first admin (and show)
//	GET  /studio/account, POST .../password, .../tokens, .../tokens/:id/revoke
//	                                    the signed-in host's password and tokens
//	GET  /studio/hosts, POST            admins: list and add hosts
//	GET  /studio/hosts/:login, POST     admins: name, admin, shows, disabled
//	POST /studio/hosts/:login/password  admins: reset (a new one at next sign-in)
//	POST /studio/hosts/:login/tokens, .../tokens/:id/revoke, .../remove
//
// Every form posts to antenne itself: the cross-origin guard (Handler)
// refuses the others, as for the rest of the studio.
func (s *Server) accountRoutes(r *gin.Engine, st *gin.RouterGroup) {
	get(r, "/studio/setup/:token", s.setupPage)
	r.POST("/studio/setup/:token", s.setup)
	get(st, "/account", s.accountPage)
	st.POST("/account/password", s.changeOwnPassword)
	st.POST("/account/tokens", s.createOwnToken)
	st.POST("/account/tokens/:id/revoke", s.revokeOwnToken)
	admin := st.Group("/hosts", s.requireAdmin)
	get(admin, "", s.hostsPage)
	admin.POST("", s.addHost)
	get(admin, "/:login", s.hostPage)
	admin.POST("/:login", s.saveHost)
	admin.POST("/:login/password", s.resetPassword)
	admin.POST("/:login/tokens", s.createHostToken)
	admin.POST("/:login/tokens/:id/revoke", s.revokeHostToken)
	admin.POST("/:login/remove", s.removeHost)
}

// maxAccountForm bounds the account forms.
const maxAccountForm = 64 << 10

func limitForm(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxAccountForm)
}

// ---- First run ----

// LogSetupURL logs, while the store has no admin, the one-time address
// of the setup page that creates the first one (the login page tells to
// look for it in the log). The token is kept hashed in the store, so the
// address works on any replica; a later start issues a new one and voids
// the old. `antenne serve` calls it once at start.
func (s *Server) LogSetupURL(ctx context.Context) {
	if s.cfg.Accounts == nil || s.cfg.Accounts.HasAdmin() {
		return
	}
	token, ok, err := s.cfg.Accounts.IssueSetupToken(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "first run: cannot issue the setup address; create an admin with `antenne hosts add NAME --admin`", "err", err)
		return
	}
	if ok {
		s.log.WarnContext(ctx, "first run: no admin yet; open this address once to create one (or run `antenne hosts add NAME --admin`)",
			"setup_url", strings.TrimRight(s.cfg.Links.Base(), "/")+"/studio/setup/"+token)
	}
}

type setupForm struct {
	Login, Name, Title, Slug, AirDay, AirTime, Station, Category string
}

type setupPage struct {
	Token string
	Form  setupForm
	Error string
	// Categories are Apple's, for the select.
	Categories []categoryGroup
}

// setupPage is the first-run form, reached by the link `antenne serve`
// logs while no admin exists. Any other token, a used one, or any token
// once an admin exists: 404.
func (s *Server) setupPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	if err := s.cfg.Accounts.CheckSetupToken(c.Request.Context(), c.Param("token")); err != nil {
		s.setupFailed(c, err)
		return
	}
	s.render(c, http.StatusOK, "studio_setup", tr(langOf(c), "setup.title"), setupPage{Token: c.Param("token"), Form: setupForm{AirDay: "5", AirTime: "09:30"}, Categories: categoryGroups(langOf(c))})
}

func (s *Server) setupFailed(c *gin.Context, err error) {
	if errors.Is(err, accounts.ErrNoSetup) {
		s.notFound(c)
		return
	}
	s.fail(c, err)
}

// setup creates the first admin and, when a title is given, the first
// show, then signs the admin in. Everything typed is checked before the
// token is spent; accounts.SetupAdmin spends it and creates the admin
// together (one link makes one admin, and a failure gives the link back).
func (s *Server) setup(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	// The form may carry the show's artwork.
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxEditForm)
	ctx := c.Request.Context()
	token := c.Param("token")
	if err := s.cfg.Accounts.CheckSetupToken(ctx, token); err != nil {
		s.setupFailed(c, err)
		return
	}
	parseErr := c.Request.ParseMultipartForm(maxEditForm)
	if errors.Is(parseErr, http.ErrNotMultipart) {
		parseErr = nil
	}
	f := setupForm{
		Login: strings.ToLower(strings.TrimSpace(c.PostForm("login"))), Name: strings.TrimSpace(c.PostForm("name")),
		Title: strings.TrimSpace(c.PostForm("title")), Slug: strings.TrimSpace(c.PostForm("slug")),
		AirDay: c.PostForm("air_day"), AirTime: c.PostForm("air_time"), Station: strings.TrimSpace(c.PostForm("station")),
		Category: c.PostForm("category"),
	}
	password := c.PostForm("password")
	lang := langOf(c)
	refuse := func(err error) {
		p := problemOf(err)
		if p.Status >= 500 {
			s.fail(c, err)
			return
		}
		s.render(c, p.Status, "studio_setup", tr(lang, "setup.title"), setupPage{Token: token, Form: f, Error: p.Message(lang), Categories: categoryGroups(lang)})
	}
	if parseErr != nil {
		refuse(parseErr)
		return
	}
	var artwork []byte
	if fh, err := c.FormFile("artwork"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		if err == nil {
			artwork, err = io.ReadAll(io.LimitReader(file, maxEditForm))
			file.Close()
		}
		if err == nil {
			err = episodes.CheckShowArtwork(artwork)
		}
		if err != nil {
			refuse(err)
			return
		}
	}
	if !accounts.ValidLogin(f.Login) {
		refuse(episodes.Invalid("login", "login.malformed", "%q is not a login: use 1 to 64 lowercase letters, digits, dots, hyphens or underscores", f.Login))
		return
	}
	if err := accounts.CheckPassword(password); err != nil {
		refuse(err)
		return
	}
	if password != c.PostForm("password2") {
		refuse(errPasswordMismatch)
		return
	}
	var show *episodes.Show
	if f.Title != "" || f.Slug != "" {
		show = &episodes.Show{Title: f.Title, Slug: cmp.Or(f.Slug, episodes.Slugify(f.Title))}
		if f.AirDay != "" || f.AirTime != "" {
			a, err := episodes.ParseAirSlot(f.AirDay, f.AirTime)
			if err != nil {
				refuse(err)
				return
			}
			a.Station = f.Station
			show.AirSlot = &a
		}
		if f.Category != "" {
			name, sub, _ := strings.Cut(f.Category, "/")
			show.Categories = []episodes.Category{{Name: name, Sub: sub}}
		}
		if err := s.cfg.Catalog.CheckNewShow(*show); err != nil {
			refuse(err)
			return
		}
	}
	h, err := s.cfg.Accounts.SetupAdmin(ctx, token, accounts.Host{Login: f.Login, Name: f.Name}, password)
	if err != nil {
		s.setupFailed(c, err)
		return
	}
	s.log.InfoContext(ctx, "first admin created", "host", h.Login)
	next := "/studio/"
	if show != nil {
		created, err := s.cfg.Catalog.CreateShow(ctx, *show, s.cfg.Links.Feed(show.Slug))
		if err != nil {
			s.fail(c, err)
			return
		}
		s.log.InfoContext(ctx, "first show created", "show", created.Slug, "host", h.Login)
		if artwork != nil {
			// Checked above: only the store can fail here, and the show
			// is there; its settings page takes the artwork again.
			if _, err := s.cfg.Catalog.SetShowArtwork(ctx, created.Slug, created.Revision, artwork); err != nil {
				s.log.ErrorContext(ctx, "first show: store its artwork", "show", created.Slug, "err", err)
			}
		}
		next = "/studio/" + url.PathEscape(created.Slug) + "/"
	}
	if err := s.signIn(c, h); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// errPasswordMismatch: the new password and its repetition differ.
var errPasswordMismatch = episodes.Invalid("password", "password.mismatch", "the two passwords differ")

// signIn gives the browser a session of h.
func (s *Server) signIn(c *gin.Context, h *accounts.Host) error {
	key, err := s.sessionKey(c)
	if err != nil {
		return err
	}
	ss, err := newSession(h, time.Now().Add(sessionTTL))
	if err != nil {
		return err
	}
	s.setSessionCookie(c, signSession(key, ss), int(sessionTTL/time.Second))
	return nil
}

// ---- The signed-in host's account ----

type tokenRow struct {
	ID                string
	Created, LastUsed time.Time
}

type accountPage struct {
	Host *accounts.Host
	// Tokens of Host; NewToken is a token just made, shown once.
	Tokens   []tokenRow
	NewToken string
	Must     bool
	Error    string
	Notice   string
}

func tokenRows(h *accounts.Host) []tokenRow {
	var out []tokenRow
	for _, t := range h.Tokens {
		out = append(out, tokenRow{ID: t.ID, Created: t.Created, LastUsed: t.LastUsed})
	}
	return out
}

func (s *Server) accountPage(c *gin.Context) {
	h := currentHost(c)
	page := accountPage{Host: h, Tokens: tokenRows(h), Must: h.MustChangePassword}
	if n := c.Query("done"); n != "" {
		page.Notice = tr(langOf(c), "account.done."+n)
	}
	s.render(c, http.StatusOK, "studio_account", tr(langOf(c), "account.title"), page)
}

func (s *Server) accountFailed(c *gin.Context, err error) {
	p := problemOf(err)
	if errors.Is(err, accounts.ErrBadCredentials) {
		p = problem{Status: http.StatusBadRequest, Code: "bad_password", key: "account.wrongcurrent"}
	}
	if p.Status >= 500 {
		s.fail(c, err)
		return
	}
	h := currentHost(c)
	s.render(c, p.Status, "studio_account", tr(langOf(c), "account.title"), accountPage{Host: h, Tokens: tokenRows(h), Must: h.MustChangePassword, Error: p.Message(langOf(c))})
}

// changeOwnPassword: the current password, then the new one twice. The
// host is signed in again with the new session generation.
func (s *Server) changeOwnPassword(c *gin.Context) {
	limitForm(c)
	h := currentHost(c)
	ctx := c.Request.Context()
	if c.PostForm("password") != c.PostForm("password2") {
		s.accountFailed(c, errPasswordMismatch)
		return
	}
	if err := s.cfg.Accounts.ChangePassword(ctx, h.Login, c.PostForm("current"), c.PostForm("password")); err != nil {
		s.accountFailed(c, err)
		return
	}
	fresh, err := s.cfg.Accounts.Host(h.Login)
	if err == nil {
		err = s.signIn(c, fresh)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(ctx, "password changed", "host", h.Login)
	c.Redirect(http.StatusSeeOther, "/studio/account?done=password")
}

func (s *Server) createOwnToken(c *gin.Context) {
	h := currentHost(c)
	token, _, err := s.cfg.Accounts.CreateToken(c.Request.Context(), h.Login)
	if err != nil {
		s.accountFailed(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "token created", "host", h.Login)
	fresh, _ := s.cfg.Accounts.Host(h.Login)
	s.render(c, http.StatusOK, "studio_account", tr(langOf(c), "account.title"), accountPage{Host: fresh, Tokens: tokenRows(fresh), NewToken: token})
}

func (s *Server) revokeOwnToken(c *gin.Context) {
	h := currentHost(c)
	if err := s.cfg.Accounts.RevokeToken(c.Request.Context(), h.Login, c.Param("id")); err != nil {
		s.accountFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/studio/account?done=revoked")
}

// ---- Admins: the hosts ----

type hostRow struct {
	*accounts.Host
	URL string
}

type hostsPage struct {
	Hosts  []hostRow
	Shows  []*episodes.Show
	Form   hostForm
	Error  string
	Notice string
}

// hostForm is the add and edit form of a host, as typed.
type hostForm struct {
	Login, Name string
	Admin       bool
	Shows       []string
	Revision    string
}

func (f hostForm) Has(show string) bool { return slices.Contains(f.Shows, show) }

func hostURL(login string) string { return "/studio/hosts/" + url.PathEscape(login) }

func (s *Server) hostsData(c *gin.Context) hostsPage {
	var page hostsPage
	for _, h := range s.cfg.Accounts.Hosts() {
		page.Hosts = append(page.Hosts, hostRow{Host: h, URL: hostURL(h.Login)})
	}
	page.Shows = s.cfg.Catalog.Shows()
	return page
}

func (s *Server) hostsPage(c *gin.Context) {
	page := s.hostsData(c)
	if n := c.Query("done"); n != "" {
		page.Notice = tr(langOf(c), "hosts.done."+n)
	}
	s.render(c, http.StatusOK, "studio_hosts", tr(langOf(c), "hosts.title"), page)
}

func readHostForm(c *gin.Context) hostForm {
	return hostForm{
		Login: strings.ToLower(strings.TrimSpace(c.PostForm("login"))), Name: strings.TrimSpace(c.PostForm("name")),
		Admin: c.PostForm("admin") != "", Shows: c.PostFormArray("shows"), Revision: c.PostForm("revision"),
	}
}

// addHost creates a host with the password the admin typed (the host
// must choose a new one at the first sign-in).
func (s *Server) addHost(c *gin.Context) {
	limitForm(c)
	f := readHostForm(c)
	ctx := c.Request.Context()
	h, err := s.cfg.Accounts.AddHost(ctx, accounts.Host{Login: f.Login, Name: f.Name, Admin: f.Admin, Shows: f.Shows}, "")
	if err == nil {
		err = s.cfg.Accounts.ResetPassword(ctx, h.Login, c.PostForm("password"))
		if err != nil {
			s.cfg.Accounts.RemoveHost(ctx, h.Login)
		}
	}
	if err != nil {
		p := problemOf(err)
		if p.Status >= 500 {
			s.fail(c, err)
			return
		}
		page := s.hostsData(c)
		page.Form, page.Error = f, p.Message(langOf(c))
		s.render(c, p.Status, "studio_hosts", tr(langOf(c), "hosts.title"), page)
		return
	}
	s.log.InfoContext(ctx, "host added", "host", h.Login, "by", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, "/studio/hosts?done=added")
}

type hostPage struct {
	Host     *accounts.Host
	Form     hostForm
	Shows    []*episodes.Show
	Tokens   []tokenRow
	NewToken string
	Self     bool
	Error    string
	Notice   string
}

func (s *Server) hostData(c *gin.Context) (hostPage, error) {
	h, err := s.cfg.Accounts.Host(c.Param("login"))
	if err != nil {
		return hostPage{}, err
	}
	return hostPage{
		Host: h, Shows: s.cfg.Catalog.Shows(), Tokens: tokenRows(h), Self: h.Login == currentHost(c).Login,
		Form: hostForm{Login: h.Login, Name: h.Name, Admin: h.Admin, Shows: h.Shows, Revision: h.Revision},
	}, nil
}

func (s *Server) hostPage(c *gin.Context) {
	page, err := s.hostData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if n := c.Query("done"); n != "" {
		page.Notice = tr(langOf(c), "hosts.done."+n)
	}
	s.render(c, http.StatusOK, "studio_host", page.Host.Login, page)
}

func (s *Server) hostFailed(c *gin.Context, form *hostForm, err error) {
	p := problemOf(err)
	if p.Status >= 500 {
		s.fail(c, err)
		return
	}
	page, perr := s.hostData(c)
	if perr != nil {
		s.fail(c, perr)
		return
	}
	if form != nil {
		page.Form = *form
	}
	page.Error = p.Message(langOf(c))
	if p.Code == "conflict" {
		page.Error = tr(langOf(c), "studio.conflict")
	}
	s.render(c, p.Status, "studio_host", page.Host.Login, page)
}

// errSelf refuses an admin's change that would lock them out.
var errSelf = problem{Status: http.StatusBadRequest, Code: "self", key: "hosts.self"}

// saveHost saves name, admin, shows and the disabled mark.
func (s *Server) saveHost(c *gin.Context) {
	limitForm(c)
	login := c.Param("login")
	f := readHostForm(c)
	f.Login = login
	ctx := c.Request.Context()
	self := login == currentHost(c).Login
	disabled := c.PostForm("disabled") != ""
	if self && (disabled || !f.Admin) {
		s.hostFailed(c, &f, errSelf)
		return
	}
	h, err := s.cfg.Accounts.UpdateHost(ctx, login, f.Revision, func(h *accounts.Host) error {
		h.Name, h.Admin, h.Shows = f.Name, f.Admin, f.Shows
		return nil
	})
	if err == nil && h.Disabled != disabled {
		err = s.cfg.Accounts.SetDisabled(ctx, login, disabled)
	}
	if err != nil {
		s.hostFailed(c, &f, err)
		return
	}
	s.log.InfoContext(ctx, "host saved", "host", login, "disabled", disabled, "by", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, hostURL(login)+"?done=saved")
}

func (s *Server) resetPassword(c *gin.Context) {
	limitForm(c)
	login := c.Param("login")
	if err := s.cfg.Accounts.ResetPassword(c.Request.Context(), login, c.PostForm("password")); err != nil {
		s.hostFailed(c, nil, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "password reset", "host", login, "by", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, hostURL(login)+"?done=reset")
}

func (s *Server) createHostToken(c *gin.Context) {
	login := c.Param("login")
	token, _, err := s.cfg.Accounts.CreateToken(c.Request.Context(), login)
	if err != nil {
		s.hostFailed(c, nil, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "token created", "host", login, "by", currentHost(c).Login)
	page, err := s.hostData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	page.NewToken = token
	s.render(c, http.StatusOK, "studio_host", login, page)
}

func (s *Server) revokeHostToken(c *gin.Context) {
	login := c.Param("login")
	if err := s.cfg.Accounts.RevokeToken(c.Request.Context(), login, c.Param("id")); err != nil {
		s.hostFailed(c, nil, err)
		return
	}
	c.Redirect(http.StatusSeeOther, hostURL(login)+"?done=revoked")
}

func (s *Server) removeHost(c *gin.Context) {
	login := c.Param("login")
	if login == currentHost(c).Login {
		s.hostFailed(c, nil, errSelf)
		return
	}
	if err := s.cfg.Accounts.RemoveHost(c.Request.Context(), login); err != nil {
		s.hostFailed(c, nil, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "host removed", "host", login, "by", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, "/studio/hosts?done=removed")
}
