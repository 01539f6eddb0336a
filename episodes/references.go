package episodes

import (
	"context"
	"strings"
)

// What references what: the one registry that deleting, sweeping and
// checking go by. A document references the objects it lists (Show and
// Episode Objects: media, original, artwork, transcript), and an episode
// waiting for its recording (Pending) references its job document. Slug
// claims are not objects: they are never deleted (claims.go).

// reference is an object a document points to.
type reference struct {
	ObjectRef
	owner string // the key of the document that points to it
	// verify: the document records the object's size and hash, which
	// check compares; a job document has neither.
	verify bool
}

// objectDirs are the folders of a show that hold objects documents point
// to; a sweep touches nothing else.
var objectDirs = []string{"media/", "originals/", "images/", "transcripts/", jobsDir}

// isObjectKey reports whether key is in one of a show's objectDirs.
func isObjectKey(key string) bool {
	rest, _ := strings.CutPrefix(key, showsPrefix)
	_, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	for _, d := range objectDirs {
		if strings.HasPrefix(rest, d) {
			return true
		}
	}
	return false
}

// references lists what the episode's document references.
func (e *Episode) references() []reference {
	owner := episodeKey(e.Show, e.ID)
	var refs []reference
	for _, o := range e.Objects() {
		refs = append(refs, reference{ObjectRef: o, owner: owner, verify: true})
	}
	if e.Pending != nil {
		refs = append(refs, reference{ObjectRef: ObjectRef{Key: jobKey(e.Show, e.ID), Size: -1}, owner: owner})
	}
	return refs
}

// references lists what the cached documents reference, orphan episodes
// (of a show that does not exist) included.
func (c *catalog) references() []reference {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var refs []reference
	for slug, st := range c.shows {
		for _, o := range st.show.doc.Objects() {
			refs = append(refs, reference{ObjectRef: o, owner: showKey(slug), verify: true})
		}
		for _, e := range st.episodes {
			refs = append(refs, e.doc.references()...)
		}
	}
	for _, e := range c.orphans {
		refs = append(refs, e.doc.references()...)
	}
	return refs
}

// referenced is the set of keys of refs.
func referenced(refs []reference) map[string]bool {
	set := make(map[string]bool, len(refs))
	for _, r := range refs {
		set[r.Key] = true
	}
	return set
}

// freshReferences reads the store again before telling what is
// referenced: nothing is deleted on the word of a cache that may lag
// behind another replica's writes.
func (s *Service) freshReferences(ctx context.Context) (map[string]bool, error) {
	if _, err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return referenced(s.cat.references()), nil
}
