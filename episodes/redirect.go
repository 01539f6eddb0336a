package episodes

import (
	"net/url"
	"path"
	"sync"
)

// redirects is the index of Service.Redirect, rebuilt when the catalog
// version changes.
type redirects struct {
	mu      sync.Mutex
	version uint64
	built   bool
	byPath  map[string]string // old URL path -> media key
}

// Redirect maps the path of a media URL of the host a show was imported
// from (Media.SourceURL, e.g. "/media/lvel/ep12.mp3" for
// https://old.example.org/media/lvel/ep12.mp3) to the key of the episode's
// media in this store, so that a server answering the old host name can
// redirect old links and downloads. Only the URL path counts: scheme, host
// and query are ignored, and p is compared after cleaning (percent-encoded
// or not: pass the decoded request path, as net/http's URL.Path gives it).
// It reports false when no imported episode came from that path. It is
// safe for concurrent use; the index follows the catalog as it refreshes.
func (s *Service) Redirect(p string) (key string, ok bool) {
	p = cleanURLPath(p)
	if p == "" {
		return "", false
	}
	r := &s.redirects
	r.mu.Lock()
	defer r.mu.Unlock()
	if v := s.cat.version(); !r.built || v != r.version {
		r.byPath = s.redirectIndex()
		r.version, r.built = v, true
	}
	key, ok = r.byPath[p]
	return key, ok
}

// redirectIndex maps the paths of the imported media to their keys.
func (s *Service) redirectIndex() map[string]string {
	m := map[string]string{}
	for _, slug := range s.cat.showSlugs() {
		eps, _ := s.cat.episodesOf(slug)
		for _, e := range eps {
			if e.Media.SourceURL == "" {
				continue
			}
			u, err := url.Parse(e.Media.SourceURL)
			if err != nil {
				continue
			}
			if p := cleanURLPath(u.Path); p != "" {
				m[p] = e.Media.Key
			}
		}
	}
	return m
}

// cleanURLPath returns p rooted and cleaned, or "" for the root itself.
func cleanURLPath(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return ""
	}
	return p
}
