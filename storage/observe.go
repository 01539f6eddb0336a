package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
)

// Store is what both stores offer: the method set bucket.Store needs,
// plus Ping.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error)
	PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error)
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]
	Folders(ctx context.Context, prefix string) iter.Seq2[string, error]
	Ping(ctx context.Context) error
}

var (
	_ Store = (*Dir)(nil)
	_ Store = (*S3)(nil)
)

// Observe returns s with every failed call reported to onError, with the
// operation's name ("put", "get"...): for metrics. Answers that are part
// of the contract are not failures: a missing key, a failed condition, an
// invalid key, a cancelled call.
func Observe(s Store, onError func(op string, err error)) Store {
	return &observed{s: s, onError: onError}
}

type observed struct {
	s       Store
	onError func(op string, err error)
}

func (o *observed) report(op string, err error) {
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) ||
		errors.Is(err, ErrInvalidKey) || errors.Is(err, context.Canceled) {
		return
	}
	o.onError(op, err)
}

func (o *observed) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error) {
	info, err := o.s.Put(ctx, key, r, size, contentType)
	o.report("put", err)
	return info, err
}

func (o *observed) PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error) {
	info, err := o.s.PutIf(ctx, key, r, size, contentType, ifMatch)
	o.report("put", err)
	return info, err
}

func (o *observed) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	rc, info, err := o.s.Get(ctx, key, offset, length)
	o.report("get", err)
	return rc, info, err
}

func (o *observed) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	info, err := o.s.Stat(ctx, key)
	o.report("stat", err)
	return info, err
}

func (o *observed) Delete(ctx context.Context, key string) error {
	err := o.s.Delete(ctx, key)
	o.report("delete", err)
	return err
}

func (o *observed) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		for info, err := range o.s.List(ctx, prefix) {
			o.report("list", err)
			if !yield(info, err) {
				return
			}
		}
	}
}

func (o *observed) Folders(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for name, err := range o.s.Folders(ctx, prefix) {
			o.report("list", err)
			if !yield(name, err) {
				return
			}
		}
	}
}

func (o *observed) Ping(ctx context.Context) error {
	err := o.s.Ping(ctx)
	o.report("ping", err)
	return err
}
