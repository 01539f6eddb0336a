package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key         string    // full key, slash-separated
	Size        int64     // bytes
	ETag        string    // opaque version tag, unquoted; changes when the bytes change
	ContentType string    // as given to Put
	ModTime     time.Time // time of the last write
}

// ErrConflict is returned (wrapped) by PutIf when its condition does not
// hold: the object exists although absence was asked for, or its current
// ETag is not the expected one (including when it does not exist at all).
// It wraps fs.ErrExist, so errors.Is(err, fs.ErrExist) is true as well.
var ErrConflict error = conflictError{}

type conflictError struct{}

func (conflictError) Error() string { return "storage: condition failed" }
func (conflictError) Unwrap() error { return fs.ErrExist }

// ErrUnavailable is returned (wrapped) when the store cannot be reached or
// does not answer in time: refused or cut connections, timeouts, and the
// S3 server's 5xx answers. The request may succeed later; nothing was
// changed that the caller can rely on. Consumers that do not import this
// package recognise it by its method StoreUnavailable() bool.
var ErrUnavailable error = unavailableError{}

type unavailableError struct{}

func (unavailableError) Error() string { return "storage: store unavailable" }

// StoreUnavailable marks the error for consumers that declare their own
// interface instead of importing storage.
func (unavailableError) StoreUnavailable() bool { return true }

// ErrInvalidKey is returned (wrapped) for a key or prefix that the stores
// refuse: see the package documentation for the rules.
var ErrInvalidKey = errors.New("storage: invalid key")

// ErrInvalidRange is returned (wrapped) by Get when offset is negative or
// beyond the end of the object. An offset equal to the size gives an empty
// reader, and a length reaching past the end is cut at the end.
var ErrInvalidRange = errors.New("storage: invalid byte range")

// DefaultContentType is recorded when Put is given an empty content type.
const DefaultContentType = "application/octet-stream"

// maxKeyLen is S3's limit on key length, in bytes; Dir applies it too so that
// a folder can always be copied into a bucket.
const maxKeyLen = 1024

// maxElemLen is the longest file name most file systems (and MinIO) take.
const maxElemLen = 255

// CheckKey reports whether key is acceptable to both stores. The error wraps
// ErrInvalidKey and says what is wrong.
func CheckKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, reason)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > maxKeyLen:
		return fmt.Sprintf("longer than %d bytes", maxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case strings.HasPrefix(key, "/"):
		return "absolute (starts with /)"
	case strings.ContainsRune(key, '\\'):
		return "contains a backslash"
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return "contains a control character (NUL, newline...)"
		}
	}
	for elem := range strings.SplitSeq(key, "/") {
		switch elem {
		case "":
			return "has an empty path element (// or a trailing /)"
		case ".", "..":
			return "has a . or .. path element"
		}
		if len(elem) > maxElemLen {
			return fmt.Sprintf("has a path element longer than %d bytes", maxElemLen)
		}
	}
	return ""
}

// checkFolder validates a Folders prefix: "" or a valid key followed by
// "/".
func checkFolder(prefix string) error {
	if prefix == "" {
		return nil
	}
	key, ok := strings.CutSuffix(prefix, "/")
	if !ok {
		return fmt.Errorf("%w %q: a folder ends with /", ErrInvalidKey, prefix)
	}
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, prefix, reason)
	}
	return nil
}

// checkPrefix validates a List prefix: any string prefix of a valid key is
// accepted, including "" and prefixes ending with "/".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// A prefix is fine when some valid key starts with it; appending one
	// letter turns a trailing "/" or "." into a plain path element.
	if reason := keyProblem(prefix + "x"); reason != "" {
		return fmt.Errorf("%w: list prefix %q: %s", ErrInvalidKey, prefix, reason)
	}
	return nil
}

// checkRange validates the offset and length given to Get.
func checkRange(offset, length int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: offset %d, length %d", ErrInvalidRange, offset, length)
	}
	return nil
}
