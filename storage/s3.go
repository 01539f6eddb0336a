package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Config says where an S3 store is and how to reach it.
type S3Config struct {
	Endpoint  string // host or host:port, without scheme
	Bucket    string
	Region    string // "us-east-1" when empty; Garage wants "garage"
	AccessKey string
	SecretKey string
	Secure    bool // TLS
	// PathStyle asks for path-style requests (http://host/bucket/key),
	// which MinIO and Garage need unless virtual hosts are set up;
	// otherwise the style is chosen from the endpoint.
	PathStyle bool
	// CreateBucket makes NewS3 create the bucket when it does not exist.
	CreateBucket bool
	// PartSize is the size of the parts of multipart uploads, which is
	// also the memory one upload of unknown size holds: 16 MiB when zero,
	// at least 5 MiB. Objects up to 10,000 parts can be stored.
	PartSize int64
}

const (
	dialTimeout     = 5 * time.Second
	responseTimeout = 20 * time.Second
	maxRetries      = 4
	// DefaultPartSize is the multipart part size when S3Config.PartSize is
	// zero. minio-go's own default for unknown sizes buffers ~0.5 GiB.
	DefaultPartSize = 16 << 20
	minPartSize     = 5 << 20
	maxPartSize     = 5 << 30
	// maxSinglePut is S3's limit for one PUT, hence for PutIf.
	maxSinglePut = 5 << 30
	// smallBody is how much of a body of unknown size is read before
	// choosing a single PUT (it all fit) or a multipart upload.
	smallBody = 1 << 20
)

// S3 is a store in a bucket of an S3-compatible server (MinIO, Garage,
// Ceph, AWS) over minio-go.
//
// PutIf sends If-Match or If-None-Match: * on a single PUT, which MinIO and
// Ceph honour; Garage ignores them, so there PutIf is a plain Put and
// concurrent writers can lose updates. PutIf is limited to 5 GiB, and a
// body of unknown size over 1 MiB is spooled to a temporary file first.
// Put uses multipart uploads of PartSize parts for large or unknown-size
// bodies; an io.ReaderAt body of known size (a file) is uploaded in
// parallel parts without buffering.
//
// ETags are the server's: for a single PUT the MD5 of the bytes, so
// rewriting identical bytes may keep the ETag.
type S3 struct {
	client   *minio.Client
	core     minio.Core
	pinger   *minio.Client // same server, no retries: readiness must answer fast
	bucket   string
	endpoint string
	partSize int64
}

// NewS3 checks cfg and makes the client. It contacts the server only when
// cfg.CreateBucket is set; use Ping to check that the bucket is reachable.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("S3 store: endpoint is empty")
	}
	if strings.Contains(cfg.Endpoint, "://") || strings.Contains(cfg.Endpoint, "/") {
		return nil, fmt.Errorf("S3 store: endpoint %q must be host:port, without scheme or path (TLS is a separate setting)", cfg.Endpoint)
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("S3 store: bucket %q: %w", cfg.Bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	switch {
	case cfg.PartSize == 0:
		cfg.PartSize = DefaultPartSize
	case cfg.PartSize < minPartSize || cfg.PartSize > maxPartSize:
		return nil, fmt.Errorf("S3 store: part size %d is out of range [5 MiB, 5 GiB]", cfg.PartSize)
	}
	transport, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("S3 store %s: %w", cfg.Endpoint, err)
	}
	// An unreachable store must fail calls fast, not after minio-go's
	// 30 s dial timeout; and media proxying keeps many connections busy.
	transport.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	transport.MaxIdleConnsPerHost = 128
	// A store that accepted the connection but stopped answering fails
	// the attempt after this long rather than minio-go's minute.
	transport.ResponseHeaderTimeout = responseTimeout
	opts := minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.Secure,
		Transport: transport,
		// An explicit region spares a location request (and presigning
		// from doing network calls).
		Region: cfg.Region,
		// A few retries with backoff (0.2 s, 0.4 s, 0.8 s, jittered) ride
		// over a store restart without holding requests for the ~8 s of
		// minio-go's default 10.
		MaxRetries: maxRetries,
	}
	if cfg.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("S3 store %s: %w", cfg.Endpoint, err)
	}
	opts.MaxRetries = 1
	pinger, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("S3 store %s: %w", cfg.Endpoint, err)
	}
	s := &S3{
		client:   client,
		core:     minio.Core{Client: client},
		pinger:   pinger,
		bucket:   cfg.Bucket,
		endpoint: cfg.Endpoint,
		partSize: cfg.PartSize,
	}
	if cfg.CreateBucket {
		if err := s.createBucket(ctx, cfg.Region); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *S3) createBucket(ctx context.Context, region string) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("S3 store %s: check bucket %q: %w", s.endpoint, s.bucket, err)
	}
	if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "BucketAlreadyOwnedByYou" || er.Code == "BucketAlreadyExists") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("S3 store %s: create bucket %q: %w", s.endpoint, s.bucket, err)
	}
	return nil
}

// Bucket is the name of the bucket.
func (s *S3) Bucket() string { return s.bucket }

// Ping reports whether the server answers and the bucket exists. It does
// not retry: give it a context with a deadline.
func (s *S3) Ping(ctx context.Context) error {
	exists, err := s.pinger.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("ping S3 %s bucket %q: %w", s.endpoint, s.bucket, err)
	}
	if !exists {
		return fmt.Errorf("ping S3 %s bucket %q: %w: %w", s.endpoint, s.bucket, ErrUnavailable, errNoBucket)
	}
	return nil
}

// Put stores r under key, replacing any object there. size is the exact
// length of r, or -1 when unknown. An r that is also an io.ReaderAt and
// io.Seeker (a file) is read from its current offset.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error) {
	info, err := s.put(ctx, key, r, size, contentType)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	return info, nil
}

func (s *S3) put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	opts := minio.PutObjectOptions{ContentType: contentType, PartSize: uint64(s.partSize)}
	if size < 0 {
		head, small, err := readSmall(r)
		if err != nil {
			return ObjectInfo{}, err
		}
		if small {
			r, size = bytes.NewReader(head), int64(len(head))
		} else {
			r = io.MultiReader(bytes.NewReader(head), r)
		}
	} else {
		r = fromCurrentOffset(r, size)
	}
	up, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts)
	if err != nil {
		return ObjectInfo{}, translate(err)
	}
	return s.uploaded(ctx, key, up, contentType), nil
}

// PutIf stores r under key only if the object's current ETag is ifMatch,
// or, when ifMatch is empty, only if no object has that key. When the
// condition fails the error wraps ErrConflict. Bodies are limited to 5 GiB.
//
// minio-go retries a request whose connection failed: if the first attempt
// was stored but its answer lost, the retry reports ErrConflict for a write
// that happened. A caller that must know re-reads the object.
func (s *S3) PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error) {
	info, err := s.putIf(ctx, key, r, size, contentType, ifMatch)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("conditional put %q: %w", key, err)
	}
	return info, nil
}

func (s *S3) putIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	// One PUT, never multipart: minio-go does not repeat the conditions on
	// CompleteMultipartUpload, where the server would have to check them.
	opts := minio.PutObjectOptions{ContentType: contentType, DisableMultipart: true}
	if ifMatch == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(ifMatch)
	}
	if size < 0 {
		head, small, err := readSmall(r)
		if err != nil {
			return ObjectInfo{}, err
		}
		if small {
			r, size = bytes.NewReader(head), int64(len(head))
		} else {
			f, n, err := spool(io.MultiReader(bytes.NewReader(head), r))
			if err != nil {
				return ObjectInfo{}, err
			}
			defer func() {
				f.Close()
				os.Remove(f.Name())
			}()
			r, size = f, n
		}
	} else {
		r = fromCurrentOffset(r, size)
	}
	if size > maxSinglePut {
		return ObjectInfo{}, fmt.Errorf("%d bytes is over the 5 GiB a conditional put can store", size)
	}
	// Sent once (the pinger does not retry): a retry of a put that landed
	// but whose answer was lost would be refused by its own condition,
	// and a write that happened reported as a lost race.
	up, err := s.pinger.PutObject(ctx, s.bucket, key, r, size, opts)
	if err != nil {
		err = translate(err)
		if ifMatch != "" && errors.Is(err, fs.ErrNotExist) {
			// MinIO answers If-Match on a missing key with NoSuchKey.
			return ObjectInfo{}, fmt.Errorf("%w: want ETag %q, the object does not exist", ErrConflict, ifMatch)
		}
		return ObjectInfo{}, err
	}
	return s.uploaded(ctx, key, up, contentType), nil
}

// uploaded describes the object a put made. The PUT response carries no
// modification time: it is read back, pinned to the new ETag; if another
// write came in between, the local clock stands in.
func (s *S3) uploaded(ctx context.Context, key string, up minio.UploadInfo, contentType string) ObjectInfo {
	info := ObjectInfo{Key: key, Size: up.Size, ETag: up.ETag, ContentType: contentType, ModTime: up.LastModified}
	if info.ModTime.IsZero() {
		var opts minio.StatObjectOptions
		opts.SetMatchETag(up.ETag)
		if st, err := s.client.StatObject(ctx, s.bucket, key, opts); err == nil {
			info.ModTime = st.LastModified
		} else {
			info.ModTime = time.Now().UTC().Truncate(time.Second)
		}
	}
	return info
}

// readSmall reads up to smallBody bytes of r. small is true when that was
// all of it.
func readSmall(r io.Reader) (head []byte, small bool, err error) {
	buf := make([]byte, smallBody)
	n, err := io.ReadFull(r, buf)
	switch err {
	case nil:
		return buf, false, nil
	case io.EOF, io.ErrUnexpectedEOF:
		return buf[:n], true, nil
	default:
		return nil, false, fmt.Errorf("read body: %w", err)
	}
}

// spool copies r into a temporary file, rewound, to learn its size.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "antenne-put-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool body: %w", err)
	}
	n, err := io.Copy(f, r)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, fmt.Errorf("spool body: %w", err)
	}
	return f, n, nil
}

// fromCurrentOffset protects a file-like body from minio-go's parallel
// uploader, which reads an io.ReaderAt from offset 0 whatever the current
// offset is.
func fromCurrentOffset(r io.Reader, size int64) io.Reader {
	ra, ok1 := r.(io.ReaderAt)
	sk, ok2 := r.(io.Seeker)
	if !ok1 || !ok2 {
		return r
	}
	off, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return struct{ io.Reader }{r} // plain sequential reads
	}
	return io.NewSectionReader(ra, off, size)
}

// Get opens the object for reading from offset, length bytes or, when
// length < 0, to the end. The ObjectInfo describes the whole object; the
// reader reads the version it describes. The caller closes the reader.
func (s *S3) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	rc, info, err := s.get(ctx, key, offset, length)
	if err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	return rc, info, nil
}

func (s *S3) get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := checkRange(offset, length); err != nil {
		return nil, ObjectInfo{}, err
	}
	if length == 0 {
		info, err := s.stat(ctx, key)
		if err != nil {
			return nil, ObjectInfo{}, err
		}
		if offset > info.Size {
			return nil, ObjectInfo{}, fmt.Errorf("%w: offset %d is beyond the end (%d bytes)", ErrInvalidRange, offset, info.Size)
		}
		return io.NopCloser(strings.NewReader("")), info, nil
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		opts.SetRange(offset, offset+length-1)
	case offset > 0:
		opts.SetRange(offset, 0)
	}
	rc, oi, h, err := s.core.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		err = translate(err)
		if !errors.Is(err, ErrInvalidRange) {
			return nil, ObjectInfo{}, err
		}
		// S3 refuses a range that starts at the end; Get gives it empty.
		info, serr := s.stat(ctx, key)
		if serr != nil {
			return nil, ObjectInfo{}, serr
		}
		if offset == info.Size {
			return io.NopCloser(strings.NewReader("")), info, nil
		}
		return nil, ObjectInfo{}, fmt.Errorf("%w: offset %d is beyond the end (%d bytes)", ErrInvalidRange, offset, info.Size)
	}
	info := ObjectInfo{Key: key, Size: oi.Size, ETag: oi.ETag, ContentType: oi.ContentType, ModTime: oi.LastModified}
	if total, ok := rangeTotal(h.Get("Content-Range")); ok {
		info.Size = total
	}
	return rc, info, nil
}

// rangeTotal reads the full size from a Content-Range "bytes a-b/total".
func rangeTotal(cr string) (int64, bool) {
	_, total, ok := strings.Cut(cr, "/")
	if !ok || !strings.HasPrefix(cr, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

// Stat describes the object without reading it.
func (s *S3) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	info, err := s.stat(ctx, key)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	return info, nil
}

func (s *S3) stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, translate(err)
	}
	return ObjectInfo{Key: key, Size: oi.Size, ETag: oi.ETag, ContentType: oi.ContentType, ModTime: oi.LastModified}, nil
}

// Delete removes the object; deleting a missing key is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		err = translate(err)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}

// List yields the objects whose key starts with prefix, in lexical key
// order, fetching pages as it goes. S3 listings carry no content type:
// ContentType is empty (Stat gives it). An error is yielded once as the
// last element.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := checkPrefix(prefix); err != nil {
			yield(ObjectInfo{}, fmt.Errorf("list %q: %w", prefix, err))
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops minio-go's pager when the consumer stops
		// No WithMetadata: it would give content types on MinIO only, and
		// doubles the time of a listing there.
		opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true}
		for oi := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
			if oi.Err != nil {
				yield(ObjectInfo{}, fmt.Errorf("list %q: %w", prefix, translate(oi.Err)))
				return
			}
			if !yield(ObjectInfo{Key: oi.Key, Size: oi.Size, ETag: oi.ETag, ModTime: oi.LastModified}, nil) {
				return
			}
		}
	}
}

// Folders yields the names of the folders directly under prefix (""
// or ending with "/"), in lexical order: the common prefixes of a listing
// with delimiter "/", without prefix and the trailing "/". An error is
// yielded once as the last element.
func (s *S3) Folders(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := checkFolder(prefix); err != nil {
			yield("", fmt.Errorf("list folders of %q: %w", prefix, err))
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: false}
		for oi := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
			if oi.Err != nil {
				yield("", fmt.Errorf("list folders of %q: %w", prefix, translate(oi.Err)))
				return
			}
			name, ok := strings.CutSuffix(strings.TrimPrefix(oi.Key, prefix), "/")
			if !ok || name == "" {
				continue // an object, not a folder
			}
			if !yield(name, nil) {
				return
			}
		}
	}
}

// translate maps the server's answers to the package's errors, keeping the
// original in the chain: a failed condition to ErrConflict, a missing key
// to fs.ErrNotExist, a bad range to ErrInvalidRange, and a server that
// cannot be reached, cuts the connection, times out, answers 5xx, refuses
// the credentials or has no such bucket to ErrUnavailable (CauseOf tells
// which). A cancelled context stays a cancelled context.
func translate(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var er minio.ErrorResponse
	if !errors.As(err, &er) {
		var (
			urlErr *url.Error
			opErr  *net.OpError
		)
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &urlErr) || errors.As(err, &opErr) ||
			errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	switch {
	case er.StatusCode >= 500:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case er.Code == "NoSuchBucket" || credentialCodes[er.Code] || CauseOf(er) == CausePlainToTLS:
		// The store cannot be used as configured: like a store away, every
		// request fails until the operator fixes it (CauseOf says what).
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case er.StatusCode == http.StatusPreconditionFailed || er.Code == "PreconditionFailed" ||
		er.Code == "ConditionalRequestConflict" ||
		strings.Contains(er.Message, "At least one of the pre-conditions you specified did not hold"):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case er.Code == "NoSuchKey" || (er.StatusCode == http.StatusNotFound && er.Code != "NoSuchBucket"):
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	case er.Code == "InvalidRange" || er.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %w", ErrInvalidRange, err)
	}
	return err
}
