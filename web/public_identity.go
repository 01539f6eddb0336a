package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
)

// A show's identity on its pages: its accent colour (theme.css) and,
// when it has no artwork, a placeholder drawn here from its title and
// colour (artwork.svg). Neither is fetched from anywhere.

// themeCSS is the stylesheet that gives the show's pages its accent
// colour: as set for the light pages (where it reads on the background
// and under white text, episodes.CheckAccent), and moved towards white
// for the dark ones until it reads there too, with dark text on buttons.
func themeCSS(sh *episodes.Show) string {
	accent := sh.AccentOrDefault()
	dark := episodes.ReadableOn(accent, episodes.DarkBackground)
	return fmt.Sprintf(":root { --accent: %s; --on-accent: #fff; }\n"+
		"@media (prefers-color-scheme: dark) { :root { --accent: %s; --on-accent: %s; } }\n",
		accent, dark, episodes.DarkBackground)
}

// themePath is the URL of the show's theme.css, versioned by its
// content so that a new colour shows at once.
func themePath(sh *episodes.Show) string {
	sum := sha256.Sum256([]byte(themeCSS(sh)))
	return showPath(sh.Slug) + "theme.css?v=" + hex.EncodeToString(sum[:6])
}

// serveTheme answers GET|HEAD /<show>/theme.css.
func (s *Server) serveTheme(c *gin.Context) {
	p, err := s.publicShow(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", []byte(themeCSS(p.show)))
}

// placeholderSVG draws the artwork of a show that has none: its initials
// in white on its accent colour (which reaches 4.5:1 with white), over
// three arcs like antenne's icon, as a square SVG.
func placeholderSVG(sh *episodes.Show) []byte {
	accent := sh.AccentOrDefault()
	title := template.HTMLEscapeString(sh.Title)
	return []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1400 1400" width="1400" height="1400" role="img" aria-label="` + title + `">` +
		`<rect width="1400" height="1400" fill="` + accent + `"/>` +
		`<g fill="none" stroke="#fff" stroke-opacity=".18" stroke-width="48" stroke-linecap="round">` +
		`<path d="M300 1100a560 560 0 0 1 800 0"/><path d="M420 1220a390 390 0 0 1 560 0"/><path d="M180 980a730 730 0 0 1 1040 0"/></g>` +
		`<text x="700" y="700" fill="#fff" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif" font-size="520" font-weight="700" text-anchor="middle" dominant-baseline="central">` +
		template.HTMLEscapeString(initials(sh.Title)) + `</text></svg>`)
}

// initials are the first letters of the first two words of title that
// start with a letter or digit, upper-cased: "La Voix est Libre" gives
// "LV".
func initials(title string) string {
	var out []rune
	for w := range strings.FieldsSeq(title) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "♪"
	}
	return string(out)
}

// placeholderPath is the URL of the show's drawn artwork, versioned by
// what it is drawn from.
func placeholderPath(sh *episodes.Show) string {
	sum := sha256.Sum256(placeholderSVG(sh))
	return showPath(sh.Slug) + "artwork.svg?v=" + hex.EncodeToString(sum[:6])
}

// showArtwork is the URL of the show's artwork, or of its drawn
// placeholder when it has none.
func showArtwork(sh *episodes.Show) string {
	if p := imagePath(sh.Artwork); p != "" {
		return p
	}
	return placeholderPath(sh)
}

// servePlaceholder answers GET|HEAD /<show>/artwork.svg.
func (s *Server) servePlaceholder(c *gin.Context) {
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "image/svg+xml", placeholderSVG(sh))
}
