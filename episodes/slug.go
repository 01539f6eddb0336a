package episodes

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxSlugLen keeps URLs and keys readable.
const maxSlugLen = 60

// Slugify turns a title into an ASCII slug: lower case, accents dropped
// ("Été" -> "ete"), runs of anything else turned into one hyphen. It
// returns "" when nothing is left.
func Slugify(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(title) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent, split off by NFKD
		}
		text := string(unicode.ToLower(r))
		if l, ok := ligatures[r]; ok {
			text = l
		}
		if len(text) == 0 || !isSlugText(text) {
			hyphen = true
			continue
		}
		if hyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		hyphen = false
		b.WriteString(text)
	}
	s := b.String()
	if len(s) > maxSlugLen {
		s = strings.TrimRight(s[:maxSlugLen], "-")
	}
	return s
}

// ligatures that NFKD leaves whole.
var ligatures = map[rune]string{'œ': "oe", 'Œ': "oe", 'æ': "ae", 'Æ': "ae", 'ß': "ss", 'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d"}

func isSlugText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Slugs the web routes use for themselves: a show or an episode with one
// of them would be hidden by the route.
var (
	// Show slugs that name antenne's own routes: /<show>/ and /studio/<show>/.
	reservedShowSlugs = map[string]bool{"static": true, "studio": true, "api": true, "healthz": true, "readyz": true, "metrics": true, "ap": true, "nodeinfo": true,
		"hosts": true, "account": true, "setup": true, "login": true, "logout": true}
	reservedEpisodeSlugs = map[string]bool{"media": true, "originals": true, "images": true, "transcripts": true, "seasons": true, "feed": true}
)

// validSlug reports whether s is a slug as Slugify makes them.
func validSlug(s string) bool {
	if s == "" || len(s) > maxSlugLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
		if c == '-' && s[i-1] == '-' {
			return false
		}
	}
	return true
}
