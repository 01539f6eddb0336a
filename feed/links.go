package feed

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrNotPublic is returned by Links.Object for a key that antenne does not
// serve to the public (an episode document, a host account...).
var ErrNotPublic = errors.New("object is not public")

// Object folders under shows/<show>/ that have a public URL.
const (
	DirMedia       = "media"       // published audio
	DirOriginals   = "originals"   // uploads kept when they were transcoded
	DirImages      = "images"      // show and episode artwork
	DirTranscripts = "transcripts" // episode transcripts
)

// Links is antenne's public URL scheme. The feed and the web server both
// build their URLs and routes from it, so they agree:
//
//	<base>/<show>/                        the show's page
//	<base>/<show>/feed.xml                the RSS feed
//	<base>/<show>/<episode>               an episode's page
//	<base>/<show>/<episode>/chapters.json the episode's JSON chapters
//	<media>/<show>/media/<file>           key shows/<show>/media/<file>
//	<media>/<show>/originals/<file>       key shows/<show>/originals/<file>
//	<media>/<show>/images/<file>          key shows/<show>/images/<file>
//	<base>/<show>/transcripts/<file>      key shows/<show>/transcripts/<file>
//
// <media> is the media base URL when one is set (ANTENNE_MEDIA_URL), else
// <base>. Path segments are escaped with url.PathEscape. The zero Links is
// not usable: build one with NewLinks. A Links is a value, safe for
// concurrent use.
type Links struct {
	base  string // no trailing slash
	media string // no trailing slash; base when no media URL is set
}

// NewLinks returns the URL scheme rooted at baseURL (ANTENNE_BASE_URL, e.g.
// https://radio.picasoft.net) with media, originals and images under
// mediaURL when it is not empty (ANTENNE_MEDIA_URL). Both must be absolute
// http or https URLs without query or fragment; a trailing slash is
// ignored, a path is kept (https://example.org/antenne).
func NewLinks(baseURL, mediaURL string) (Links, error) {
	base, err := cleanBase(baseURL)
	if err != nil {
		return Links{}, fmt.Errorf("base URL: %w", err)
	}
	media := base
	if mediaURL != "" {
		if media, err = cleanBase(mediaURL); err != nil {
			return Links{}, fmt.Errorf("media URL: %w", err)
		}
	}
	return Links{base: base, media: media}, nil
}

func cleanBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q has a query, a fragment or credentials", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// IsZero reports whether l was not built by NewLinks.
func (l Links) IsZero() bool { return l.base == "" }

// Base is the site's base URL, without trailing slash.
func (l Links) Base() string { return l.base }

// Show is the URL of the show's public page, with a trailing slash.
func (l Links) Show(show string) string {
	return l.base + "/" + url.PathEscape(show) + "/"
}

// Feed is the URL of the show's RSS feed.
func (l Links) Feed(show string) string {
	return l.base + "/" + url.PathEscape(show) + "/feed.xml"
}

// Episode is the URL of an episode's public page.
func (l Links) Episode(show, slug string) string {
	return l.base + "/" + url.PathEscape(show) + "/" + url.PathEscape(slug)
}

// Chapters is the URL of an episode's JSON chapters (see ChaptersJSON).
func (l Links) Chapters(show, slug string) string {
	return l.Episode(show, slug) + "/chapters.json"
}

// Object is the public URL of a stored object, from its key
// shows/<show>/<dir>/<file> where dir is one of DirMedia, DirOriginals,
// DirImages (under the media base URL) or DirTranscripts (under the base
// URL). Any other key gives an error wrapping ErrNotPublic.
func (l Links) Object(key string) (string, error) {
	show, dir, file, err := SplitKey(key)
	if err != nil {
		return "", err
	}
	root := l.media
	if dir == DirTranscripts {
		root = l.base
	}
	return root + "/" + url.PathEscape(show) + "/" + dir + "/" + url.PathEscape(file), nil
}

// ObjectKey is the store key of a public object, the inverse of
// Links.Object: web uses it to map a request path /<show>/<dir>/<file> to
// shows/<show>/<dir>/<file>. It refuses (ErrNotPublic) an unknown dir, and
// a show or file that is empty, ".", ".." or holds a slash, a backslash or
// a NUL byte.
func ObjectKey(show, dir, file string) (string, error) {
	if !publicDir(dir) {
		return "", fmt.Errorf("object key for %q: folder %q: %w", file, dir, ErrNotPublic)
	}
	for _, seg := range []string{show, file} {
		if !validSegment(seg) {
			return "", fmt.Errorf("object key: invalid name %q: %w", seg, ErrNotPublic)
		}
	}
	return "shows/" + show + "/" + dir + "/" + file, nil
}

// SplitKey splits a public object key shows/<show>/<dir>/<file> into its
// parts, with the same checks as ObjectKey.
func SplitKey(key string) (show, dir, file string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != "shows" {
		return "", "", "", fmt.Errorf("object key %q: not shows/<show>/<folder>/<file>: %w", key, ErrNotPublic)
	}
	show, dir, file = parts[1], parts[2], parts[3]
	if _, err := ObjectKey(show, dir, file); err != nil {
		return "", "", "", err
	}
	return show, dir, file, nil
}

func publicDir(dir string) bool {
	switch dir {
	case DirMedia, DirOriginals, DirImages, DirTranscripts:
		return true
	}
	return false
}

func validSegment(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}
