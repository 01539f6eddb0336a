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
	format, ok := themesFormats[c.Param("file")]
	if !ok {
		s.notFound(c)
		return
	}
	sem, err := episodes.ParseSemester(c.Param("code"))
	if err != nil {
		// Plain text: the caller is a script or someone typing a URL.
		c.String(http.StatusBadRequest, "%s\n", unwrapAll(err))
		return
	}
	p, err := s.publicShow(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	lang := "fr"
	if strings.EqualFold(c.Query("lang"), "en") {
		lang = "en"
	}
	out, err := feed.Themes(episodes.InSemester(p.published, sem, s.cfg.Catalog.Now()), feed.ThemesOptions{
		Format: format,
		Lang:   lang,
		Intro:  c.Query("intro") == "1" || c.Query("intro") == "true",
		Links:  s.cfg.Links,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, format.ContentType(), out)
}
