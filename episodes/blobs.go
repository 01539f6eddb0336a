package episodes

import (
	"context"
	"io"
	"iter"
	"time"
)

// ObjectInfo describes one stored object.
//
// It is an alias of an unnamed struct type so that storage can declare the
// identical type without either package importing the other: Go treats two
// unnamed struct types with the same exported fields as one type, so
// storage.Dir and storage.S3 satisfy Blobs directly. Keep the field list
// in step with storage.ObjectInfo; the compile-time assertions in
// cmd/antenne and storage's tests fail when they drift.
type ObjectInfo = struct {
	Key         string    // full key, slash-separated
	Size        int64     // bytes
	ETag        string    // opaque version tag, unquoted; changes whenever the bytes change
	ContentType string    // as given to Put
	ModTime     time.Time // time of the last write
}

// Blobs is the object store the catalog lives in: the local data folder or
// an S3 bucket.
//
// Missing keys give errors that wrap fs.ErrNotExist. A conditional put whose
// condition fails gives an error that wraps fs.ErrExist (storage.ErrConflict).
type Blobs interface {
	// Put stores r under key, replacing any object there. size is the
	// exact length of r, or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error)
	// PutIf stores r under key only if the object's current ETag is
	// ifMatch, or, when ifMatch is empty, only if no object has that key.
	PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error)
	// Get opens the object. length < 0 reads from offset to the end.
	// The caller closes the reader.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
	// Stat describes the object without reading it.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List yields the objects whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]
}
