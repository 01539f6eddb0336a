package bucket

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// SchemaVersion is the schema version this antenne writes into its
// documents (their "version" field). A document of a newer version is
// refused when read: an older antenne must not rewrite what it does not
// understand.
const SchemaVersion = 1

// MaxDocument bounds a document read or written with Read and Write; the
// ...Limit variants take another bound.
const MaxDocument = 4 << 20

// contentType is the type documents are stored with.
const contentType = "application/json"

// Getter is the part of a Store that reading needs.
type Getter interface {
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
}

// Putter is the part of a Store that writing a document needs.
type Putter interface {
	PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error)
}

// ReadBytes reads the whole object at key, at most limit bytes, within
// OpTimeout, and returns it with its revision (ETag). It fails with
// ErrNotFound when there is none and ErrTooLarge for a larger object.
func ReadBytes(ctx context.Context, s Getter, key string, limit int) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, OpTimeout)
	defer cancel()
	rc, info, err := s.Get(ctx, key, 0, -1)
	if err != nil {
		if IsNotFound(err) {
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
		return nil, "", fmt.Errorf("read %s: %w (over %d bytes)", key, ErrTooLarge, limit)
	}
	return data, info.ETag, nil
}

// Read reads the JSON document at key into v and returns its revision. It
// fails with ErrNotFound when there is none, ErrTooLarge over MaxDocument
// bytes, and refuses a document whose "version" is a number newer than
// SchemaVersion.
func Read(ctx context.Context, s Getter, key string, v any) (string, error) {
	return ReadLimit(ctx, s, key, v, MaxDocument)
}

// ReadLimit is Read with another size bound.
func ReadLimit(ctx context.Context, s Getter, key string, v any, limit int) (string, error) {
	data, rev, err := ReadBytes(ctx, s, key, limit)
	if err != nil {
		return "", err
	}
	var head struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", &parseError{key, err}
	}
	// A "version" that is not a number is a field of the document's own
	// (a feed version), not its schema.
	var version int
	if json.Unmarshal(head.Version, &version) == nil && version > SchemaVersion {
		return "", &parseError{key, fmt.Errorf("document version %d is newer than this antenne knows (%d): upgrade antenne", version, SchemaVersion)}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", &parseError{key, err}
	}
	return rev, nil
}

// parseError is a document whose bytes are not what its reader expects.
type parseError struct {
	key string
	err error
}

func (e *parseError) Error() string { return fmt.Sprintf("parse %s: %v", e.key, e.err) }
func (e *parseError) Unwrap() error { return e.err }

// Write stores v as JSON at key if the stored document still has revision
// ifMatch ("": only if there is none), and returns the new revision. A
// lost race fails with ErrConflict (another writer came first) or
// ErrNotFound (the document was deleted meanwhile): this conditional write
// is what keeps replicas from overwriting each other. A document over
// MaxDocument bytes is refused with ErrTooLarge before anything is
// written: what could not be read back is never stored.
func Write(ctx context.Context, s Putter, key string, v any, ifMatch string) (string, error) {
	return WriteLimit(ctx, s, key, v, ifMatch, MaxDocument)
}

// WriteLimit is Write with another size bound, the one its readers use.
func WriteLimit(ctx context.Context, s Putter, key string, v any, ifMatch string, limit int) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", key, err)
	}
	data = append(data, '\n')
	if len(data) > limit {
		return "", fmt.Errorf("write %s: %w (%d bytes, over %d)", key, ErrTooLarge, len(data), limit)
	}
	ctx, cancel := context.WithTimeout(ctx, OpTimeout)
	defer cancel()
	info, err := s.PutIf(ctx, key, bytes.NewReader(data), int64(len(data)), contentType, ifMatch)
	switch {
	case IsConflict(err):
		return "", fmt.Errorf("write %s: %w", key, ErrConflict)
	case IsNotFound(err):
		// If-Match on a document deleted meanwhile.
		return "", fmt.Errorf("write %s: %w", key, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	return info.ETag, nil
}

// Create stores v at key only if no document is there (ErrConflict
// otherwise).
func Create(ctx context.Context, s Putter, key string, v any) (string, error) {
	return Write(ctx, s, key, v, "")
}

// Update stores v at key only if the document there still has revision
// rev (ErrConflict otherwise; ErrNotFound if it was deleted).
func Update(ctx context.Context, s Putter, key string, v any, rev string) (string, error) {
	if rev == "" {
		return "", fmt.Errorf("update %s: no revision to match", key)
	}
	return Write(ctx, s, key, v, rev)
}
