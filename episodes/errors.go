package episodes

import (
	"errors"
	"fmt"

	"github.com/picasoft/antenne/storage/bucket"
)

// Sentinel errors of the catalog. Compare with errors.Is.
var (
	// ErrNotFound: the show or episode does not exist. It is the
	// bucket's: a missing document is a missing show or episode.
	ErrNotFound = bucket.ErrNotFound
	// ErrConflict: the document changed since it was read (another edit,
	// possibly on another replica, came first), or a new document's key
	// is taken. Reload and try again. It is the bucket's: a lost
	// conditional write.
	ErrConflict = bucket.ErrConflict
	// ErrInvalid: a field has a value the catalog refuses. The error is a
	// *FieldError telling which field and why.
	ErrInvalid = errors.New("invalid value")
	// ErrDuplicate: the upload's bytes are already in the show. The error
	// is a *DuplicateError naming the existing episode.
	ErrDuplicate = errors.New("this recording was already uploaded")
	// ErrGUIDTaken: the show already has an episode with the GUID of the
	// new one (an item imported by another process meanwhile).
	ErrGUIDTaken = errors.New("an episode of the show already has this guid")
)

// FieldError is a validation failure of one field. It matches ErrInvalid.
//
// Reason is English, for logs and the API's "message"; what a person reads
// is Key and Args translated where it is shown (the web's catalogue has a
// French and an English text for every key).
type FieldError struct {
	Field string // the JSON name of the field: "title", "publish_at"...
	// Key names the rule the value broke, stable across versions:
	// "text.too_long", "publish_at.past"... Several fields can share one.
	Key string
	// Args are the values the message names, in the order of Reason's.
	Args   []any
	Reason string // a sentence for the user, in English
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Invalid makes the *FieldError of field breaking the rule key: the
// English reason is format with args, which are also the message's Args.
func Invalid(field, key, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Key: key, Args: args, Reason: fmt.Sprintf(format, args...)}
}

func invalid(field, key, format string, args ...any) error {
	return Invalid(field, key, format, args...)
}

// DuplicateError reports that an upload is already the recording of an
// episode of the show. It matches ErrDuplicate.
type DuplicateError struct {
	Show      string
	EpisodeID string
	Title     string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("this recording was already uploaded as episode %s (%q)", e.EpisodeID, e.Title)
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }
