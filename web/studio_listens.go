package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/listens"
)

// listensReport is what the studio and the API show of a show's (or an
// episode's) listens over a period. Days are UTC days.
type listensReport struct {
	Show    string `json:"show"`
	Episode string `json:"episode,omitempty"` // episode ID; empty: the whole show
	// Period is "30d" (the last 30 days) or a semester code ("A20").
	Period string `json:"period"`
	From   string `json:"from"` // first day, 2006-01-02
	To     string `json:"to"`   // last day
	Total  int64  `json:"total"`
	// Step is the length of each point of Series: "day" or "week" (7 days
	// from From).
	Step     string            `json:"step"`
	Series   []listensPoint    `json:"series"`
	Apps     []listensApp      `json:"apps"`
	Episodes []listensEpisode  `json:"episodes,omitempty"`
	rows     []listens.Row     // the period's rows, for the CSV
	titles   map[string]string // episode ID -> title
}

type listensPoint struct {
	Start   string `json:"start"`
	Listens int64  `json:"listens"`
}

type listensApp struct {
	App     string `json:"app"`
	Listens int64  `json:"listens"`
}

type listensEpisode struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Listens int64  `json:"listens"`
	URL     string `json:"-"` // the studio's listens page of the episode
}

// listensPeriod reads ?period=: "" or "30d" for the last 30 days up to
// today, or a semester code. It returns the period's name, its days and
// the step of its series.
func listensPeriod(q string, now time.Time) (name, from, to string, step int, err error) {
	if q == "" || q == "30d" {
		today := now.UTC()
		return "30d", today.AddDate(0, 0, -29).Format(time.DateOnly), today.Format(time.DateOnly), 1, nil
	}
	sem, err := episodes.ParseSemester(q)
	if err != nil {
		return "", "", "", 0, err
	}
	from, to = sem.Days()
	return sem.String(), from, to, 7, nil
}

// listensReport reads the stored counts of show (of one episode when
// episodeID is not empty) over the period ?period= names.
func (s *Server) listensReport(c *gin.Context, show, episodeID string) (listensReport, error) {
	name, from, to, step, err := listensPeriod(c.Query("period"), s.cfg.Catalog.Now())
	if err != nil {
		return listensReport{}, err
	}
	rows, err := s.cfg.Listens.Rows(c.Request.Context(), from, to)
	if err != nil {
		return listensReport{}, err
	}
	all, err := s.cfg.Catalog.Episodes(show, episodes.ListOptions{})
	if err != nil {
		return listensReport{}, err
	}
	r := listensReport{Show: show, Episode: episodeID, Period: name, From: from, To: to, Step: "day", titles: map[string]string{}}
	if step == 7 {
		r.Step = "week"
	}
	for _, e := range all {
		r.titles[e.ID] = e.Title
	}
	first, _ := time.Parse(time.DateOnly, from)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first; !d.After(last); d = d.AddDate(0, 0, step) {
		r.Series = append(r.Series, listensPoint{Start: d.Format(time.DateOnly)})
	}
	apps := map[string]int64{}
	perEpisode := map[string]int64{}
	for _, row := range rows {
		if row.Show != show || (episodeID != "" && row.Episode != episodeID) {
			continue
		}
		r.rows = append(r.rows, row)
		r.Total += row.Count
		apps[row.App] += row.Count
		perEpisode[row.Episode] += row.Count
		day, _ := time.Parse(time.DateOnly, row.Day)
		if i := int(day.Sub(first)/(24*time.Hour)) / step; i >= 0 && i < len(r.Series) {
			r.Series[i].Listens += row.Count
		}
	}
	r.Apps = []listensApp{}
	for app, n := range apps {
		r.Apps = append(r.Apps, listensApp{App: app, Listens: n})
	}
	slices.SortFunc(r.Apps, func(a, b listensApp) int {
		return cmp.Or(cmp.Compare(b.Listens, a.Listens), strings.Compare(a.App, b.App))
	})
	if episodeID == "" {
		r.Episodes = []listensEpisode{}
		for _, e := range all {
			if n := perEpisode[e.ID]; n > 0 {
				r.Episodes = append(r.Episodes, listensEpisode{ID: e.ID, Title: e.Title, Listens: n, URL: studioEpisodePath(show, e.ID) + "/listens"})
			}
		}
		slices.SortStableFunc(r.Episodes, func(a, b listensEpisode) int { return cmp.Compare(b.Listens, a.Listens) })
	}
	return r, nil
}

// listensPage is the view of templates/studio_listens.html.
type listensPage struct {
	Show       *episodes.Show
	Episode    *episodes.Episode
	Report     listensReport
	Chart      template.HTML // listens over the period
	AppsChart  template.HTML // listens by app
	Periods    []periodLink
	CSV        string // URL of the CSV export of the period
	CountingOn bool
}

type periodLink struct {
	Label, URL string
	Current    bool
}

// studioListens shows the listens of a show, or of an episode (/:id/listens),
// over the last 30 days or a semester (?period=A20).
func (s *Server) studioListens(c *gin.Context) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var ep *episodes.Episode
	if id := c.Param("id"); id != "" {
		if ep, err = s.cfg.Catalog.Episode(sh.Slug, id); err != nil {
			s.fail(c, err)
			return
		}
	}
	r, err := s.listensReport(c, sh.Slug, episodeID(ep))
	if err != nil {
		s.fail(c, err)
		return
	}
	lang := langOf(c)
	base := c.Request.URL.Path
	page := listensPage{Show: sh, Episode: ep, Report: r, CountingOn: s.cfg.Listens != nil,
		CSV: base + ".csv?period=" + r.Period}
	sem := episodes.SemesterOf(s.cfg.Catalog.Now())
	page.Periods = append(page.Periods, periodLink{Label: tr(lang, "listens.last30"), URL: base, Current: r.Period == "30d"})
	for _, p := range []episodes.Semester{sem, sem.Prev(), sem.Prev().Prev()} {
		page.Periods = append(page.Periods, periodLink{Label: p.Name(lang) + " (" + p.String() + ")", URL: base + "?period=" + p.String(), Current: r.Period == p.String()})
	}
	page.Chart = seriesChart(r.Series, tr(lang, "listens.chart", r.From, r.To))
	page.AppsChart = appsChart(r.Apps, tr(lang, "listens.byapp"))
	title := tr(lang, "listens.title", sh.Title)
	if ep != nil {
		title = tr(lang, "listens.title", ep.Title)
	}
	s.render(c, http.StatusOK, "studio_listens", title, page)
}

func episodeID(e *episodes.Episode) string {
	if e == nil {
		return ""
	}
	return e.ID
}

// studioListensCSV exports the rows of the period: one line per day,
// episode and app.
func (s *Server) studioListensCSV(c *gin.Context) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	id := c.Param("id")
	if id != "" {
		if _, err := s.cfg.Catalog.Episode(sh.Slug, id); err != nil {
			s.fail(c, err)
			return
		}
	}
	r, err := s.listensReport(c, sh.Slug, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	records := [][]string{{"day", "show", "episode_id", "episode_title", "app", "listens"}}
	for _, row := range r.rows {
		records = append(records, []string{row.Day, row.Show, row.Episode, r.titles[row.Episode], row.App, strconv.FormatInt(row.Count, 10)})
	}
	out, err := feed.CSV(records)
	if err != nil {
		s.fail(c, err)
		return
	}
	name := sh.Slug + "-listens-" + r.Period
	if id != "" {
		name = sh.Slug + "-" + id + "-listens-" + r.Period
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", out)
}

// apiListens answers GET /api/v1/shows/:show/listens and
// /api/v1/shows/:show/episodes/:id/listens (?period=30d|A20) with the
// listensReport as JSON.
func (s *Server) apiListens(c *gin.Context) {
	show, id := c.Param("show"), c.Param("id")
	if id != "" {
		if _, err := s.cfg.Catalog.Episode(show, id); err != nil {
			s.fail(c, err)
			return
		}
	}
	r, err := s.listensReport(c, show, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 720, 220
	chartLeft      = 40 // room for the y labels
	chartBottom    = 24 // room for the x labels
)

// seriesChart draws points as vertical bars, inline SVG made here: no
// script, no font or file from anywhere. The page gives the same numbers
// as a table; the SVG is labelled for screen readers.
func seriesChart(points []listensPoint, label string) template.HTML {
	var top int64 = 1
	for _, p := range points {
		top = max(top, p.Listens)
	}
	plotW, plotH := float64(chartW-chartLeft), float64(chartH-chartBottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%g" x2="%d" y2="%g"/>`, chartLeft, plotH, chartW, plotH)
	fmt.Fprintf(&b, `<text class="label" x="%d" y="12" text-anchor="end">%d</text>`, chartLeft-4, top)
	fmt.Fprintf(&b, `<text class="label" x="%d" y="%g" text-anchor="end">0</text>`, chartLeft-4, plotH)
	if n := len(points); n > 0 {
		slot := plotW / float64(n)
		for i, p := range points {
			h := plotH * float64(p.Listens) / float64(top)
			x := float64(chartLeft) + float64(i)*slot
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s : %d</title></rect>`,
				x+slot*0.1, plotH-h, slot*0.8, h, p.Start, p.Listens)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			anchor := "middle"
			switch i {
			case 0:
				anchor = "start"
			case n - 1:
				anchor = "end"
			}
			x := float64(chartLeft) + (float64(i)+0.5)*slot
			if i == 0 {
				x = chartLeft
			} else if i == n-1 {
				x = chartW
			}
			fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x, chartH-6, anchor, points[i].Start)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// appsChart draws the listens by app as horizontal bars with their names.
func appsChart(apps []listensApp, label string) template.HTML {
	const rowH, nameW = 24, 180
	var top int64 = 1
	for _, a := range apps {
		top = max(top, a.Listens)
	}
	h := max(1, len(apps)) * rowH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, h, template.HTMLEscapeString(label))
	for i, a := range apps {
		w := float64(chartW-nameW-60) * float64(a.Listens) / float64(top)
		y := i * rowH
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, nameW-6, y+16, template.HTMLEscapeString(a.App))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d"><title>%s : %d</title></rect>`, nameW, y+4, w, rowH-8, template.HTMLEscapeString(a.App), a.Listens)
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d">%d</text>`, float64(nameW)+w+6, y+16, a.Listens)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
