package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
)

// themesFormats maps the file names of the semester exports to formats.
var themesFormats = map[string]feed.ThemesFormat{
	"themes.md":   feed.ThemesMarkdown,
	"themes.tex":  feed.ThemesLaTeX,
	"themes.csv":  feed.ThemesCSV,
	"themes.json": feed.ThemesJSON,
}

// serveThemes answers GET|HEAD /<show>/seasons/<code>/themes.md|.tex|.csv|.json
// with the semester export, the same bytes as `antenne themes --season
// CODE --format F` (language fr, no intro; ?intro=1 adds it, ?lang=en
// gives it in English). A malformed code is a 400 naming valid codes. A
// semester without published episodes is a 200 with an empty body, like
// the CLI's empty output, so that scripts need no special case.
func (s *Server) serveThemes(c *gin.Context) {
	s.answerThemes(c, c.Param("code"), false)
}

// answerThemes answers a semester export: the format from the file name
// (themes.md, .tex, .csv, .json), the semester from code, the published
// episodes of the show, ?intro and ?lang, and each episode's listens when
// withListens (hosts only: then the answer is private).
func (s *Server) answerThemes(c *gin.Context, code string, withListens bool) {
	format, ok := themesFormats[c.Param("file")]
	if !ok {
		s.notFound(c)
		return
	}
	sem, err := episodes.ParseSemester(code)
	if err != nil {
		// Plain text: the caller is a script or someone typing a URL.
		c.String(http.StatusBadRequest, "%s\n", problemOf(err).Message(langOf(c)))
		return
	}
	p, err := s.publicShow(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	eps := episodes.InSemester(p.published, sem, s.cfg.Catalog.Now())
	out, err := s.themes(c, eps, sem, format, exportLang(c), c.Query("intro") == "1" || c.Query("intro") == "true", withListens)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	if withListens {
		c.Header("Cache-Control", "private, no-store")
	}
	c.Data(http.StatusOK, format.ContentType(), out)
}

// exportLang is the language of an export: French unless ?lang=en, never
// the browser's (an export is the same bytes for everyone).
func exportLang(c *gin.Context) string {
	if strings.EqualFold(c.Query("lang"), "en") {
		return "en"
	}
	return "fr"
}
