package episodes

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Colours of antenne's pages that a show's accent colour must read well
// on (web/static/style.css), and the contrast it must reach there: WCAG 2
// level AA for text, 4.5:1 (https://www.w3.org/TR/WCAG21/#contrast-minimum).
const (
	// DefaultAccent is the accent colour of a show that chose none.
	DefaultAccent = "#0b5cad"
	// LightBackground and DarkBackground are the pages' backgrounds in
	// light and dark mode.
	LightBackground = "#fdfdfc"
	DarkBackground  = "#16161a"
	// MinContrast is the contrast ratio text needs with its background.
	MinContrast = 4.5
)

// AccentOrDefault is the show's accent colour, #rrggbb.
func (sh *Show) AccentOrDefault() string {
	if sh.Accent == "" {
		return DefaultAccent
	}
	return sh.Accent
}

// rgb is a colour's red, green and blue, 0 to 255.
type rgb [3]float64

// parseColour reads #rrggbb (case-insensitive).
func parseColour(s string) (rgb, bool) {
	if len(s) != 7 || s[0] != '#' {
		return rgb{}, false
	}
	var c rgb
	for i := range c {
		n, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return rgb{}, false
		}
		c[i] = float64(n)
	}
	return c, true
}

func (c rgb) String() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c[0])), int(math.Round(c[1])), int(math.Round(c[2])))
}

// luminance is the relative luminance of WCAG 2.
func (c rgb) luminance() float64 {
	var l [3]float64
	for i, v := range c {
		v /= 255
		if v <= 0.04045 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Contrast is the WCAG 2 contrast ratio of two #rrggbb colours, from 1
// to 21; 0 when either cannot be read.
func Contrast(a, b string) float64 {
	ca, ok1 := parseColour(a)
	cb, ok2 := parseColour(b)
	if !ok1 || !ok2 {
		return 0
	}
	return contrast(ca, cb)
}

// ReadableOn is colour moved towards black or white (whichever the
// background bg is not) by the least step that makes it reach
// MinContrast on bg: the colour itself when it already does. Both are
// #rrggbb; a colour that cannot be read gives DefaultAccent.
func ReadableOn(colour, bg string) string {
	c, ok := parseColour(colour)
	b, ok2 := parseColour(bg)
	if !ok || !ok2 {
		return DefaultAccent
	}
	target := rgb{0, 0, 0}
	if b.luminance() < 0.18 {
		target = rgb{255, 255, 255}
	}
	for step := 0; step <= 20; step++ {
		f := float64(step) / 20
		m := rgb{c[0] + (target[0]-c[0])*f, c[1] + (target[1]-c[1])*f, c[2] + (target[2]-c[2])*f}
		if contrast(m, b) >= MinContrast {
			return m.String()
		}
	}
	return target.String()
}

// CheckAccent refuses, with a *FieldError on accent, what is not a colour
// written #rrggbb, and a colour that links and buttons could not be read
// in on the light pages (under MinContrast on LightBackground, and so
// with white text on it); the error names a darker colour that reads.
func CheckAccent(s string) error {
	if _, ok := parseColour(s); !ok {
		return invalid("accent", "accent.malformed", "%q is not a colour written like #0b5cad", s)
	}
	if r := Contrast(s, LightBackground); r < MinContrast {
		return invalid("accent", "accent.contrast", "%s has a contrast of %s:1 with the page, under 4.5:1: take a darker colour, such as %s",
			s, strings.TrimSuffix(fmt.Sprintf("%.1f", r), ".0"), ReadableOn(s, LightBackground))
	}
	return nil
}
