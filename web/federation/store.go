package federation

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/picasoft/antenne/storage/bucket"
)

// maxDocSize bounds a document of ours, read or written: what could not
// be read back is refused at write (bucket.ErrTooLarge).
const maxDocSize = 1 << 20

// readJSON reads the document at key into v, at most maxDocSize bytes,
// and returns its revision. A missing key is an error bucket.IsNotFound
// tells; a document too large or not JSON, one isUnreadable tells.
func readJSON(ctx context.Context, st bucket.Store, key string, v any) (string, error) {
	return bucket.ReadLimit(ctx, st, key, v, maxDocSize)
}

// writeJSON writes v at key if its revision is still ifMatch (create only
// when ifMatch is empty) and returns the new revision. It refuses a
// document over maxDocSize: what could not be read back is not written.
func writeJSON(ctx context.Context, st bucket.Store, key string, v any, ifMatch string) (string, error) {
	return bucket.WriteLimit(ctx, st, key, v, ifMatch, maxDocSize)
}

// cached is a document with the ETag it was read or written with.
type cached[T any] struct {
	etag string
	v    T
}

// docCache keeps the documents read under some prefixes, so that listing
// them again reads only those whose ETag changed. It is safe for
// concurrent use.
type docCache[T any] struct {
	mu   sync.Mutex
	docs map[string]cached[T] // by key
}

func newDocCache[T any]() *docCache[T] { return &docCache[T]{docs: map[string]cached[T]{}} }

// list returns the documents under prefix, in key order, and the keys of
// those that cannot be read (too large, not JSON: check --repair removes
// them), which it skips: one unreadable document never hides the others.
func (c *docCache[T]) list(ctx context.Context, st bucket.Store, prefix string) ([]cached[T], []string, error) {
	var unreadable []string
	var out []cached[T]
	seen := map[string]bool{}
	for info, err := range st.List(ctx, prefix) {
		if err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		c.mu.Lock()
		d, ok := c.docs[info.Key]
		c.mu.Unlock()
		if !ok || d.etag != info.ETag {
			var v T
			etag, err := readJSON(ctx, st, info.Key, &v)
			if bucket.IsNotFound(err) {
				continue // removed meanwhile
			}
			if bucket.IsUnreadable(err) {
				unreadable = append(unreadable, info.Key)
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			d = cached[T]{etag: etag, v: v}
			c.put(info.Key, d)
		}
		seen[info.Key] = true
		out = append(out, d)
	}
	c.mu.Lock()
	for key := range c.docs {
		if strings.HasPrefix(key, prefix) && !seen[key] {
			delete(c.docs, key)
		}
	}
	c.mu.Unlock()
	return out, unreadable, nil
}

// put remembers the document written at key.
func (c *docCache[T]) put(key string, d cached[T]) {
	c.mu.Lock()
	c.docs[key] = d
	c.mu.Unlock()
}
