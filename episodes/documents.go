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

// ReadDocument reads the JSON document at key into v and returns its ETag.
// It fails with ErrNotFound when there is none, and refuses documents
// larger than 4 MiB or of a newer DocumentVersion than this antenne knows.
// Every document antenne keeps in the store (catalog, accounts, jobs...) is
// read through it.
func ReadDocument(ctx context.Context, blobs interface {
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
}, key string, v any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, docTimeout)
	defer cancel()
	rc, info, err := blobs.Get(ctx, key, 0, -1)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("read %s: %w", key, ErrNotFound)
		}
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxDocSize+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	if len(data) > maxDocSize {
		return "", fmt.Errorf("read %s: larger than %d bytes, not a catalog document", key, maxDocSize)
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
	return info.ETag, nil
}

// WriteDocument stores v as JSON at key if the stored document still has
// ETag ifMatch ("": only if there is none), and returns the new ETag. A
// lost race fails with ErrConflict (another writer came first) or
// ErrNotFound (the document was deleted meanwhile): this conditional write
// is what keeps replicas from overwriting each other.
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
