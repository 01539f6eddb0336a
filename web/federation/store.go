package federation

import (
	"bytes"
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

// maxDocSize bounds a document of ours read back from the store.
const maxDocSize = 1 << 20

// readJSON reads the document at key into v and returns its ETag. A
// missing key gives an error wrapping fs.ErrNotExist.
func readJSON(ctx context.Context, st Store, key string, v any) (string, error) {
	data, etag, err := readObject(ctx, st, key)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("parse %s: %w", key, err)
	}
	return etag, nil
}

// readObject reads the whole object at key, up to maxDocSize.
func readObject(ctx context.Context, st Store, key string) ([]byte, string, error) {
	rc, info, err := st.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxDocSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	if len(data) > maxDocSize {
		return nil, "", fmt.Errorf("read %s: larger than %d bytes", key, maxDocSize)
	}
	return data, info.ETag, nil
}

// writeJSON writes v at key if its ETag is still ifMatch (create only when
// ifMatch is empty) and returns the new ETag. A lost race gives an error
// wrapping fs.ErrExist.
func writeJSON(ctx context.Context, st Store, key string, v any, ifMatch string) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", key, err)
	}
	info, err := st.PutIf(ctx, key, bytes.NewReader(data), int64(len(data)), "application/json", ifMatch)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	return info.ETag, nil
}

// isConflict reports whether err is a lost conditional write.
func isConflict(err error) bool { return errors.Is(err, fs.ErrExist) }

// isMissing reports whether err is a missing key.
func isMissing(err error) bool { return errors.Is(err, fs.ErrNotExist) }

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

// list returns the documents under prefix, in key order.
func (c *docCache[T]) list(ctx context.Context, st Store, prefix string) ([]cached[T], error) {
	var out []cached[T]
	seen := map[string]bool{}
	for info, err := range st.List(ctx, prefix) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
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
			if err != nil {
				return nil, err
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
	return out, nil
}

// put remembers the document written at key.
func (c *docCache[T]) put(key string, d cached[T]) {
	c.mu.Lock()
	c.docs[key] = d
	c.mu.Unlock()
}
