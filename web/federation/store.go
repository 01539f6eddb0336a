package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"strings"
	"sync"

	"github.com/picasoft/antenne/episodes"
)

// Store is what federation keeps in the bucket: keys, followers, what was
// announced of each episode, the deliveries. storage.Dir and storage.S3
// satisfy it. A missing key gives an error wrapping fs.ErrNotExist; a
// conditional write whose condition fails, one wrapping fs.ErrExist.
type Store interface {
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, episodes.ObjectInfo, error)
	// PutIf writes only if the object's ETag is ifMatch, or, when ifMatch
	// is empty, only if no object has that key.
	PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (episodes.ObjectInfo, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) iter.Seq2[episodes.ObjectInfo, error]
}

// maxDocSize bounds a document of ours read back from the store, and so
// one written: what could not be read back is refused at write.
const maxDocSize = 1 << 20

// readJSON reads the document at key into v, at most maxDocSize bytes,
// and returns its ETag. A missing key is an error isMissing tells; a
// document too large or not JSON, one isUnreadable tells.
func readJSON(ctx context.Context, st Store, key string, v any) (string, error) {
	return episodes.ReadJSON(ctx, st, key, v, maxDocSize)
}

// writeJSON writes v at key if its ETag is still ifMatch (create only when
// ifMatch is empty) and returns the new ETag. A lost race is an error
// isConflict tells. A document larger than readJSON reads is refused
// (episodes.ErrTooLarge) and nothing is written.
func writeJSON(ctx context.Context, st Store, key string, v any, ifMatch string) (string, error) {
	// The size as episodes.WriteDocument encodes it.
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", key, err)
	}
	if len(data)+1 > maxDocSize {
		return "", fmt.Errorf("write %s: %w (%d bytes, at most %d)", key, episodes.ErrTooLarge, len(data)+1, maxDocSize)
	}
	return episodes.WriteDocument(ctx, st, key, v, ifMatch)
}

// isUnreadable reports whether err says that a stored document can never
// be read: too large, or not the JSON expected. Anything else (a store
// that does not answer) may pass.
func isUnreadable(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.Is(err, episodes.ErrTooLarge) || errors.As(err, &syntax) || errors.As(err, &typ)
}

// isConflict reports whether err is a lost conditional write, told by
// episodes.WriteDocument or by the store itself.
func isConflict(err error) bool {
	return errors.Is(err, episodes.ErrConflict) || errors.Is(err, fs.ErrExist)
}

// isMissing reports whether err is a missing key, told by the episodes
// readers and writers or by the store itself.
func isMissing(err error) bool {
	return errors.Is(err, episodes.ErrNotFound) || errors.Is(err, fs.ErrNotExist)
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
func (c *docCache[T]) list(ctx context.Context, st Store, prefix string) ([]cached[T], []string, error) {
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
			if isMissing(err) {
				continue // removed meanwhile
			}
			if isUnreadable(err) {
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
