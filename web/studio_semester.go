package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
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
	themes, err := feed.Themes(eps, feed.ThemesOptions{
		Format: feed.ThemesMarkdown,
		Lang:   lang,
		Intro:  true,
		Links:  s.cfg.Links,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	page := semesterPage{
		Show: sh, Semester: sem, Name: sem.Name(lang),
		Prev: sem.Prev().String(), Next: sem.Next().String(),
		Episodes: len(eps), Themes: string(themes),
		Export: "/" + sh.Slug + "/seasons/" + sem.String() + "/themes",
	}
	for _, e := range eps {
		page.Duration += e.Media.Duration
	}
	s.render(c, http.StatusOK, "studio_semester", tr(lang, "studio.semester.title", page.Name), page)
}
