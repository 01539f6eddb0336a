package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/accounts"
)

// templateFS holds the pages ("all:" keeps the partials, whose names
// start with "_"). templates/layout.html defines "layout", the
// frame of every page; files whose name starts with "_" are partials
// shared by all pages; every other file is a page that defines "content"
// (and may define "head" for extra <head> elements). A page renders as
// layout + partials + the page, so pages may reuse block names freely.
//
//go:embed all:templates
var templateFS embed.FS

// staticFS holds the stylesheet, scripts and icons served under /static/.
//
//go:embed static
var staticFS embed.FS

// templateFuncs are the functions templates may call.
var templateFuncs = template.FuncMap{
	// t translates a catalogue key: {{t $.Lang "show.subscribe"}}, with
	// fmt arguments when the text has verbs.
	"t": tr,
	// date writes a date in long form in Paris time: {{date $.Lang .T}}.
	"date": func(lang string, t time.Time) string { return longDate(lang, t, episodes.Paris()) },
	// isodate is the machine-readable date for <time datetime>.
	"isodate": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// clock writes a duration as 1:02:03, or 2:03 under an hour.
	"clock": episodes.FormatDuration,
	// day names a day of the week given as a number, 0 for Sunday:
	// {{day $.Lang "5"}} is vendredi.
	"day": func(lang, d string) string {
		n, err := strconv.Atoi(d)
		if err != nil {
			return d
		}
		return dayName(lang, time.Weekday(n))
	},
	// seconds is a duration in whole seconds, for #t= links.
	"seconds": func(d time.Duration) int64 { return int64(d / time.Second) },
	// size writes a byte count: 12,3 Mo.
	"size": humanSize,
	// add sums two numbers, for sizes.
	"add": func(a, b int) int { return a + b },
	// list makes a slice of its arguments, for option lists.
	"list": func(v ...string) []string { return v },
	// args passes several values to a partial template.
	"args": func(v ...any) []any { return v },
}

// pages are the parsed templates, by page name (file name without
// ".html").
type pages map[string]*template.Template

// parsePages parses every page of fsys (the templates folder) with the
// layout and the partials. It fails on a template error: a programmer's
// mistake, caught by any test that builds a Server.
func parsePages(fsys fs.FS) (pages, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	base := template.New("layout").Funcs(templateFuncs)
	base, err = base.ParseFS(fsys, "layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, "_") && strings.HasSuffix(name, ".html") {
			if base, err = base.ParseFS(fsys, name); err != nil {
				return nil, fmt.Errorf("parse partial %s: %w", name, err)
			}
		}
	}
	out := pages{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "layout.html" || strings.HasPrefix(name, "_") || path.Ext(name) != ".html" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout for %s: %w", name, err)
		}
		if t, err = t.ParseFS(fsys, name); err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[strings.TrimSuffix(name, ".html")] = t
	}
	return out, nil
}

// view is what every page receives: the common part the layout uses and
// the page's own data in Data.
type view struct {
	// Lang is the page's language, "fr" or "en".
	Lang string
	// Title is the <title>, without the site name.
	Title string
	// Switch is the URL of this page in the other language.
	Switch string
	// SwitchLang is the other language's code.
	SwitchLang string
	// Embed drops the site header and footer (the embeddable player).
	Embed bool
	// Data is the page's own view struct (showPage, episodePage...).
	Data any
	// Host is the signed-in host on studio pages, nil elsewhere.
	Host *accounts.Host
	// FFmpegMissing shows the studio's banner saying that recordings to
	// convert will fail (Config.FFmpegMissing), on studio pages only.
	FFmpegMissing bool
	// Theme is the URL of the show's stylesheet (its accent colour) on
	// the pages of a show, "" elsewhere.
	Theme string
	// Meta is what link previews show of the page (Open Graph and the
	// meta description); nil on pages not worth sharing.
	Meta *pageMeta
}

// pageMeta is what a link preview (Mastodon, Signal...) shows of a page:
// <meta name="description"> and Open Graph. URLs are absolute.
type pageMeta struct {
	// Type is og:type: "website" or "music.song" for an episode.
	Type, Title, Description, URL string
	// Image is the artwork (JPEG or PNG; previews take no SVG), "" when
	// there is none.
	Image string
	// Audio and AudioType are the episode's recording.
	Audio, AudioType string
	// Locale is og:locale, like fr_FR.
	Locale string
}

// render writes the page name with status, in the request's language. A
// template error is logged and answers 500 with a plain text: the page
// is rendered into a buffer first, so nothing half-written goes out.
func (s *Server) render(c *gin.Context, status int, name, title string, data any) {
	s.renderView(c, status, name, view{Title: title, Data: data})
}

// renderView is render with the common fields set by the caller (Embed).
func (s *Server) renderView(c *gin.Context, status int, name string, v view) {
	t, ok := s.pages[name]
	if !ok {
		s.log.ErrorContext(c.Request.Context(), "no such template", "template", name)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	v.Lang = langOf(c)
	v.Host = currentHost(c)
	v.FFmpegMissing = s.cfg.FFmpegMissing && strings.HasPrefix(c.Request.URL.Path, "/studio")
	v.SwitchLang = langEN
	if v.Lang == langEN {
		v.SwitchLang = langFR
	}
	q := c.Request.URL.Query()
	q.Set("lang", v.SwitchLang)
	v.Switch = c.Request.URL.Path + "?" + q.Encode()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render template", "template", name, "err", err)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
