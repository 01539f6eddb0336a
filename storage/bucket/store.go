package bucket

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"time"

	"github.com/picasoft/antenne/storage"
)

// ObjectInfo describes one stored object.
type ObjectInfo = storage.ObjectInfo

// Store is the object store: the local data folder or an S3 bucket.
// storage.Dir and storage.S3 satisfy it.
//
// Missing keys give errors that wrap fs.ErrNotExist. A conditional put
// whose condition fails gives an error that wraps fs.ErrExist
// (storage.ErrConflict).
type Store interface {
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
	// Folders yields the names of the folders directly under prefix (""
	// or ending with "/"): what a listing by prefix can skip.
	Folders(ctx context.Context, prefix string) iter.Seq2[string, error]
}

// OpTimeout bounds one read or write of a document, so that a store that
// stopped answering fails the operation instead of holding it. Leases last
// at least twice as long (MinLease).
const OpTimeout = 30 * time.Second

// Errors of the layer. Compare with errors.Is.
var (
	// ErrNotFound: no document at the key (or it was deleted before a
	// conditional write on it).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the document changed since it was read, or a document
	// to create exists: another writer came first. Read again.
	ErrConflict = errors.New("changed by someone else meanwhile")
	// ErrTooLarge: a document over its size bound, read or to write.
	ErrTooLarge = errors.New("document too large")
)

// IsNotFound reports whether err says a key is missing, told by this
// package or by the store itself.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist)
}

// IsConflict reports whether err is a lost conditional write, told by this
// package or by the store itself.
func IsConflict(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, fs.ErrExist)
}
