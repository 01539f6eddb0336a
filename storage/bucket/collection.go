package bucket

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// modifyAttempts bounds the read-change-write rounds of Modify when other
// writers keep changing the document.
const modifyAttempts = 5

// Modify applies change to the document at key, a zero T with exists
// false when there is none, and writes it back if nobody wrote it
// meanwhile (If-Match, or If-None-Match for a new one), reading and
// changing it again otherwise, up to five times. Documents are bounded by
// limit both ways. It returns the new revision; an error of change is
// returned as it is, and nothing is written.
func Modify[T any](ctx context.Context, s Store, key string, limit int, change func(v *T, exists bool) error) (string, error) {
	for range modifyAttempts {
		var v T
		rev, err := ReadLimit(ctx, s, key, &v, limit)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if err := change(&v, exists); err != nil {
			return "", err
		}
		rev, err = WriteLimit(ctx, s, key, &v, rev, limit)
		if errors.Is(err, ErrConflict) || (exists && errors.Is(err, ErrNotFound)) {
			continue
		}
		return rev, err
	}
	return "", fmt.Errorf("write %s: %w: still changing after %d attempts", key, ErrConflict, modifyAttempts)
}

// Doc is a document of a Collection with its key and revision.
type Doc[T any] struct {
	Key, Rev string
	V        T
}

// Collection keeps the documents of one kind read under some prefixes, so
// that listing them again reads only those whose revision changed: the
// way a replica follows documents other replicas write (counter shards,
// followers, records). It is safe for concurrent use.
type Collection[T any] struct {
	limit int
	mu    sync.Mutex
	docs  map[string]Doc[T]
}

// NewCollection returns an empty collection of documents of at most limit
// bytes.
func NewCollection[T any](limit int) *Collection[T] {
	return &Collection[T]{limit: limit, docs: map[string]Doc[T]{}}
}

// List returns the documents under prefix whose key keep accepts (nil:
// all), in key order, reading again only those whose revision changed
// since they were last read. A document that cannot be read (not JSON of
// T, over the limit, of a newer schema) is skipped and its key returned
// in unreadable: one bad document never hides the others. A failed
// listing or read of the store is an error.
func (c *Collection[T]) List(ctx context.Context, s Store, prefix string, keep func(key string) bool) (docs []Doc[T], unreadable []string, err error) {
	seen := map[string]bool{}
	for info, err := range s.List(ctx, prefix) {
		if err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if keep != nil && !keep(info.Key) {
			continue
		}
		c.mu.Lock()
		d, ok := c.docs[info.Key]
		c.mu.Unlock()
		if !ok || d.Rev != info.ETag {
			var v T
			rev, err := ReadLimit(ctx, s, info.Key, &v, c.limit)
			switch {
			case errors.Is(err, ErrNotFound):
				continue // removed since the listing
			case IsUnreadable(err):
				unreadable = append(unreadable, info.Key)
				continue
			case err != nil:
				return nil, nil, err
			}
			d = Doc[T]{Key: info.Key, Rev: rev, V: v}
			c.Put(d)
		}
		seen[info.Key] = true
		docs = append(docs, d)
	}
	c.mu.Lock()
	for key := range c.docs {
		if strings.HasPrefix(key, prefix) && !seen[key] && (keep == nil || keep(key)) {
			delete(c.docs, key)
		}
	}
	c.mu.Unlock()
	return docs, unreadable, nil
}

// Put remembers a document this process wrote.
func (c *Collection[T]) Put(d Doc[T]) {
	c.mu.Lock()
	c.docs[d.Key] = d
	c.mu.Unlock()
}

// IsUnreadable reports whether err says a document's bytes are bad (too
// large, not JSON of its type, of a newer schema), not that the store
// failed: such a document is skipped and reported, never a reason to stop
// reading the others.
func IsUnreadable(err error) bool {
	return errors.Is(err, ErrTooLarge) || errors.As(err, new(*parseError))
}
