package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/listens"
)

// semesterPage is the view of templates/studio_semester.html: a
// semester's themes ready to paste into the association's report.
type semesterPage struct {
	Show             *episodes.Show
	Semester         episodes.Semester
	Name             string // "automne 2020"
	Prev, Next       string // codes of the neighbouring semesters
	Episodes         int
	Duration         time.Duration
	Themes           string // the Markdown list, with the standard sentence
	ExportMD, Export string // URL of the .md export; base of the others
	// Listens adds each theme's listens (?listens=1); then Export points
	// at the studio's exports, which carry them too, and ExportQuery
	// follows the extension.
	Listens     bool
	ExportQuery string
}

// studioSemester shows the themes of a semester (?code=A20, the current
// one by default) with the count of episodes and hours, and the exports.
func (s *Server) studioSemester(c *gin.Context) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.cfg.Catalog.Now()
	sem := episodes.SemesterOf(now)
	if code := c.Query("code"); code != "" {
		if sem, err = episodes.ParseSemester(code); err != nil {
			s.fail(c, err)
			return
		}
	}
	all, err := s.cfg.Catalog.Episodes(sh.Slug, episodes.ListOptions{})
	if err != nil {
		s.fail(c, err)
		return
	}
	eps := episodes.InSemester(all, sem, now)
	lang := langOf(c)
	withListens := c.Query("listens") == "1"
	themes, err := s.themes(c, eps, sem, feed.ThemesMarkdown, lang, true, withListens)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := semesterPage{
		Show: sh, Semester: sem, Name: sem.Name(lang),
		Prev: sem.Prev().String(), Next: sem.Next().String(),
		Episodes: len(eps), Themes: string(themes),
		Export:  "/" + sh.Slug + "/seasons/" + sem.String() + "/themes",
		Listens: withListens,
	}
	if withListens {
		page.Export = "/studio/" + sh.Slug + "/semester/themes"
		page.ExportQuery = "?code=" + sem.String() + "&listens=1"
	}
	for _, e := range eps {
		page.Duration += e.Media.Duration
	}
	s.render(c, http.StatusOK, "studio_semester", tr(lang, "studio.semester.title", page.Name), page)
}

// studioThemes answers GET /studio/<show>/semester/themes.md|.tex|.csv|.json
// ?code=A20[&listens=1][&intro=1][&lang=en]: the semester export of
// serveThemes, with the listens of each episode during the semester when
// listens=1. Hosts only: audience figures are not published.
func (s *Server) studioThemes(c *gin.Context) {
	s.answerThemes(c, c.Query("code"), c.Query("listens") == "1")
}

// themes is feed.Themes with the site's episode URLs and, when
// withListens, the stored listens of each episode during sem.
func (s *Server) themes(c *gin.Context, eps []*episodes.Episode, sem episodes.Semester, format feed.ThemesFormat, lang string, intro, withListens bool) ([]byte, error) {
	opts := feed.ThemesOptions{
		Format: format,
		Lang:   lang,
		Intro:  intro,
		Links:  s.cfg.Links,
	}
	if withListens {
		from, to := sem.Days()
		rows, err := s.cfg.Listens.Rows(c.Request.Context(), from, to)
		if err != nil {
			return nil, err
		}
		opts.Listens = listens.ByEpisode(rows, c.Param("show"))
	}
	return feed.Themes(eps, opts)
}
