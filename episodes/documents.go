package episodes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// docTimeout bounds the reading or writing of one document, so that a
// store that stopped answering fails the request instead of holding it.
const docTimeout = 30 * time.Second

// getter is the part of a store that reading needs.
type getter interface {
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
}

// ReadObject reads the whole object at key, at most limit bytes, within
// docTimeout, and returns it with its ETag. It fails with ErrNotFound when
// there is none, and refuses a larger object. The small objects antenne
// keeps beside its documents (keys, records of other packages) are read
// through it.
func ReadObject(ctx context.Context, blobs getter, key string, limit int) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, docTimeout)
	defer cancel()
	rc, info, err := blobs.Get(ctx, key, 0, -1)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("read %s: %w", key, ErrNotFound)
		}
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, int64(limit)+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	if len(data) > limit {
		return nil, "", fmt.Errorf("read %s: %w (%d bytes)", key, ErrTooLarge, limit)
	}
	return data, info.ETag, nil
}

// ReadJSON reads the JSON object at key, at most limit bytes, into v and
// returns its ETag, as ReadObject. It is for the JSON objects that carry
// no DocumentVersion; the others are read with ReadDocument.
func ReadJSON(ctx context.Context, blobs getter, key string, v any, limit int) (string, error) {
	data, etag, err := ReadObject(ctx, blobs, key, limit)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("parse %s: %w", key, err)
	}
	return etag, nil
}

// ReadDocument reads the JSON document at key into v and returns its ETag.
// It fails with ErrNotFound when there is none, and refuses documents
// larger than 4 MiB or of a newer DocumentVersion than this antenne knows.
// Every document antenne keeps in the store (catalog, accounts, jobs...) is
// read through it.
func ReadDocument(ctx context.Context, blobs getter, key string, v any) (string, error) {
	data, etag, err := ReadObject(ctx, blobs, key, maxDocSize)
	if err != nil {
		return "", err
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("parse %s: %w", key, err)
	}
	if head.Version > DocumentVersion {
		return "", fmt.Errorf("parse %s: document version %d is newer than this antenne knows (%d): upgrade antenne", key, head.Version, DocumentVersion)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("parse %s: %w", key, err)
	}
	return etag, nil
}

// WriteDocument stores v as JSON at key if the stored document still has
// ETag ifMatch ("": only if there is none), and returns the new ETag. A
// lost race fails with ErrConflict (another writer came first) or
// ErrNotFound (the document was deleted meanwhile): this conditional write
// is what keeps replicas from overwriting each other. Every JSON object
// antenne writes to the store is written through it.
func WriteDocument(ctx context.Context, blobs interface {
	PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error)
}, key string, v any, ifMatch string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, docTimeout)
	defer cancel()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", key, err)
	}
	data = append(data, '\n')
	info, err := blobs.PutIf(ctx, key, bytes.NewReader(data), int64(len(data)), docType, ifMatch)
	switch {
	case errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("write %s: %w", key, ErrConflict)
	case errors.Is(err, fs.ErrNotExist):
		// If-Match on a document deleted meanwhile.
		return "", fmt.Errorf("write %s: %w", key, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	return info.ETag, nil
}
