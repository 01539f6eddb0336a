//go:build unix

package storage

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"iter"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Dir is a store in a local folder: the object with key "a/b.mp3" is the
// file a/b.mp3 under the folder, byte for byte, so the folder can be
// browsed, backed up or copied into a bucket with ordinary tools.
//
// Alongside the objects, Dir keeps its own state in the top-level folder
// .antenne (so keys whose first element is ".antenne" are refused):
// .antenne/meta holds one small JSON sidecar per object with its ETag and
// content type, .antenne/tmp the files being written, .antenne/locks the
// lock files that serialise writers of a key.
//
// Writes go to a temporary file that is synced and then renamed over the
// key, so a reader sees the old object or the new one, never a mix, and a
// crash leaves no partial object. Every write makes a new file: an open
// reader keeps the version it opened. Writers of one key hold an exclusive
// flock(2) on a lock file while they check a condition and rename, which
// makes PutIf race-free between goroutines and between processes that
// share the folder (on a local file system; NFS needs working locks).
//
// Because keys are file paths, "a" and "a/b" cannot both be objects: the
// second Put fails with ErrInvalidKey. Files dropped into the folder by hand
// are listed too, with an ETag derived from their inode, size and time and
// a content type guessed from the extension.
//
// Dir needs a Unix system (it uses flock and inode numbers).
type Dir struct {
	path string
	root *os.Root
}

const (
	dirInternal = ".antenne"
	dirMeta     = dirInternal + "/meta"
	dirTmp      = dirInternal + "/tmp"
	dirLocks    = dirInternal + "/locks"
	lockStripes = 256
	// staleTemp is the age after which NewDir removes a leftover temporary
	// file: old enough that no live upload can still be writing it.
	staleTemp = 24 * time.Hour
)

// NewDir opens the store in the folder at path, creating it (and its
// parents) if needed. It removes temporary files that crashed writers left
// more than a day ago. The Dir holds a descriptor on the folder until Close.
func NewDir(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("open folder store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open folder store %q: %w", path, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open folder store: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open folder store: %w", err)
	}
	for _, sub := range []string{dirMeta, dirTmp, dirLocks} {
		if err := root.MkdirAll(sub, 0o755); err != nil {
			root.Close()
			return nil, fmt.Errorf("open folder store %q: %w", abs, err)
		}
	}
	d := &Dir{path: abs, root: root}
	d.removeStaleTemp(time.Now().Add(-staleTemp))
	return d, nil
}

// Path is the absolute path of the folder.
func (d *Dir) Path() string { return d.path }

// Close releases the folder descriptor. The Dir must not be used after.
func (d *Dir) Close() error { return d.root.Close() }

// Ping reports whether the folder is still there and readable.
func (d *Dir) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping folder store: %w", err)
	}
	fi, err := os.Stat(d.path)
	if err != nil {
		return fmt.Errorf("ping folder store: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("ping folder store: %s is not a folder", d.path)
	}
	f, err := d.root.Open(dirTmp)
	if err != nil {
		return fmt.Errorf("ping folder store %s: %w", d.path, err)
	}
	defer f.Close()
	if _, err := f.ReadDir(1); err != nil && err != io.EOF {
		return fmt.Errorf("ping folder store %s: %w", d.path, err)
	}
	return nil
}

// Put stores r under key, replacing any object there. size is the exact
// length of r, or -1 when unknown; a body of another length is refused.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (ObjectInfo, error) {
	info, err := d.put(ctx, key, r, size, contentType, nil)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	return info, nil
}

// PutIf stores r under key only if the object's current ETag is ifMatch,
// or, when ifMatch is empty, only if no object has that key. When the
// condition fails the error wraps ErrConflict and the object is unchanged.
func (d *Dir) PutIf(ctx context.Context, key string, r io.Reader, size int64, contentType, ifMatch string) (ObjectInfo, error) {
	info, err := d.put(ctx, key, r, size, contentType, &ifMatch)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("conditional put %q: %w", key, err)
	}
	return info, nil
}

// dirMetaDoc is the sidecar of one object. Inode ties it to one version of
// the object file: a sidecar whose inode or size differs belongs to another
// version (a crash between the two renames of a write) and is ignored.
type dirMetaDoc struct {
	ETag        string `json:"etag"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Inode       uint64 `json:"inode"`
}

func (d *Dir) put(ctx context.Context, key string, r io.Reader, size int64, contentType string, ifMatch *string) (_ ObjectInfo, err error) {
	if err := d.checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}

	tmp, f, err := d.createTemp()
	if err != nil {
		return ObjectInfo{}, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			d.root.Remove(tmp)
		}
	}()
	src := &ctxReader{ctx: ctx, r: r}
	var n int64
	if size >= 0 {
		// One byte more than announced tells a long body from an exact one.
		n, err = io.Copy(f, io.LimitReader(src, size+1))
	} else {
		n, err = io.Copy(f, src)
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("write: %w", err)
	}
	if size >= 0 && n != size {
		return ObjectInfo{}, fmt.Errorf("body has %d bytes or more, want %d", n, size)
	}
	if err := f.Sync(); err != nil {
		return ObjectInfo{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := f.Close(); err != nil {
		return ObjectInfo{}, err
	}
	f = nil

	etag, err := newETag()
	if err != nil {
		return ObjectInfo{}, err
	}
	doc := dirMetaDoc{ETag: etag, ContentType: contentType, Size: n, Inode: inode(fi)}
	metaTmp, err := d.writeTempMeta(doc)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer func() {
		if err != nil {
			d.root.Remove(metaTmp)
		}
	}()

	unlock, err := d.lock(key, syscall.LOCK_EX)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer unlock()

	if ifMatch != nil {
		cur, err := d.stat(key, false)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if *ifMatch != "" {
				return ObjectInfo{}, fmt.Errorf("%w: want ETag %q, the object does not exist", ErrConflict, *ifMatch)
			}
		case err != nil:
			return ObjectInfo{}, err
		case *ifMatch == "":
			return ObjectInfo{}, fmt.Errorf("%w: the object exists", ErrConflict)
		case cur.ETag != *ifMatch:
			return ObjectInfo{}, fmt.Errorf("%w: want ETag %q, have %q", ErrConflict, *ifMatch, cur.ETag)
		}
	}

	if err := d.commit(key, tmp, metaTmp); err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Key: key, Size: n, ETag: etag, ContentType: contentType, ModTime: fi.ModTime()}, nil
}

// commit renames the sidecar and then the object file into place. The
// caller holds the key's lock. A concurrent Delete of a neighbour may prune
// a parent folder between mkdir and rename: that is retried.
func (d *Dir) commit(key, tmp, metaTmp string) error {
	if fi, err := d.root.Lstat(key); err == nil && fi.IsDir() {
		return fmt.Errorf("%w %q: it is the folder of other keys", ErrInvalidKey, key)
	}
	metaKey := dirMeta + "/" + key
	var err error
	metaDone := false
	for range 5 {
		if err = d.mkdirs(path.Dir(key)); err != nil {
			return err
		}
		if !metaDone {
			if err = d.mkdirs(path.Dir(metaKey)); err != nil {
				return err
			}
			if err = d.root.Rename(metaTmp, metaKey); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return err
			}
			metaDone = true
		}
		if err = d.root.Rename(tmp, key); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		break
	}
	if err != nil {
		return err
	}
	if err := d.syncDir(path.Dir(metaKey)); err != nil {
		return err
	}
	return d.syncDir(path.Dir(key))
}

// Get opens the object for reading from offset, length bytes or, when
// length < 0, to the end. The ObjectInfo describes the whole object. The
// reader reads the version that was current when Get opened it, even if
// the key is written meanwhile. The caller closes the reader.
func (d *Dir) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	rc, info, err := d.get(ctx, key, offset, length)
	if err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	return rc, info, nil
}

func (d *Dir) get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	if err := d.checkKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := checkRange(offset, length); err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ObjectInfo{}, err
	}
	f, info, ok, err := d.open(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if !ok {
		// A writer was between its two renames: wait for it and retry.
		f.Close()
		unlock, err := d.lock(key, syscall.LOCK_SH)
		if err != nil {
			return nil, ObjectInfo{}, err
		}
		f, info, _, err = d.open(key)
		unlock()
		if err != nil {
			return nil, ObjectInfo{}, err
		}
	}
	if offset > info.Size {
		f.Close()
		return nil, ObjectInfo{}, fmt.Errorf("%w: offset %d is beyond the end (%d bytes)", ErrInvalidRange, offset, info.Size)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, ObjectInfo{}, err
	}
	var r io.Reader = f
	if length >= 0 {
		r = io.LimitReader(f, length)
	}
	return readCloser{Reader: r, Closer: f}, info, nil
}

// open opens the object file and describes it. ok is false when the
// sidecar belongs to another version of the file.
func (d *Dir) open(key string) (*os.File, ObjectInfo, bool, error) {
	f, err := d.root.Open(key)
	if err != nil {
		return nil, ObjectInfo{}, false, d.notExist(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ObjectInfo{}, false, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, ObjectInfo{}, false, fs.ErrNotExist
	}
	info, ok := d.describe(key, fi)
	return f, info, ok, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Stat describes the object without reading it.
func (d *Dir) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := d.checkKey(key); err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	info, err := d.stat(key, true)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	return info, nil
}

// stat describes the object. With wait, a sidecar that belongs to another
// version makes it wait for the writer (shared lock) and look again; the
// caller must not hold the key's lock then.
func (d *Dir) stat(key string, wait bool) (ObjectInfo, error) {
	fi, err := d.root.Stat(key)
	if err != nil {
		return ObjectInfo{}, d.notExist(err)
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, fs.ErrNotExist
	}
	info, ok := d.describe(key, fi)
	if ok || !wait {
		return info, nil
	}
	unlock, err := d.lock(key, syscall.LOCK_SH)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer unlock()
	return d.stat(key, false)
}

// describe builds the ObjectInfo of the object file fi from its sidecar.
// Without a matching sidecar (a file put there by hand, or a crash between
// the renames of a write) the ETag is derived from the file itself and the
// content type from the extension; ok is then false.
func (d *Dir) describe(key string, fi fs.FileInfo) (ObjectInfo, bool) {
	b, err := d.root.ReadFile(dirMeta + "/" + key)
	return describe(key, fi, b, err)
}

// describe builds the ObjectInfo of the object file fi from the sidecar
// bytes b (or the error reading them).
func describe(key string, fi fs.FileInfo, b []byte, err error) (ObjectInfo, bool) {
	info := ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
	var doc dirMetaDoc
	if err == nil && json.Unmarshal(b, &doc) == nil && doc.Inode == inode(fi) && doc.Size == fi.Size() && doc.ETag != "" {
		info.ETag = doc.ETag
		info.ContentType = doc.ContentType
		return info, true
	}
	info.ETag = fmt.Sprintf("f%x-%x-%x", inode(fi), fi.Size(), fi.ModTime().UnixNano())
	info.ContentType = mime.TypeByExtension(path.Ext(key))
	if info.ContentType == "" {
		info.ContentType = DefaultContentType
	}
	return info, false
}

// Delete removes the object; deleting a missing key is not an error.
// Folders left empty are removed.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := d.delete(ctx, key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}

func (d *Dir) delete(ctx context.Context, key string) error {
	if err := d.checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := d.lock(key, syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	fi, err := d.root.Lstat(key)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && fi.IsDir()) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := d.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	metaKey := dirMeta + "/" + key
	if err := d.root.Remove(metaKey); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := d.syncDir(path.Dir(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	d.prune(path.Dir(key), ".")
	d.prune(path.Dir(metaKey), dirMeta)
	return nil
}

// prune removes dir and its parents up to (not including) stop while they
// are empty.
func (d *Dir) prune(dir, stop string) {
	for dir != stop && dir != "." && dir != "/" {
		if d.root.Remove(dir) != nil {
			return
		}
		d.syncDir(path.Dir(dir))
		dir = path.Dir(dir)
	}
}

// List yields the objects whose key starts with prefix (a plain string
// prefix, not only a folder), in lexical key order. An invalid prefix or
// an I/O error is yielded once as the last element.
func (d *Dir) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := checkPrefix(prefix); err != nil {
			yield(ObjectInfo{}, fmt.Errorf("list %q: %w", prefix, err))
			return
		}
		if prefix == dirInternal || strings.HasPrefix(prefix, dirInternal+"/") {
			return
		}
		start := "."
		if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
			start = prefix[:i]
		}
		if err := d.walk(ctx, start, prefix, yield); err != nil {
			yield(ObjectInfo{}, fmt.Errorf("list %q: %w", prefix, err))
		}
	}
}

// Folders yields the names of the folders directly under prefix (""
// or ending with "/"), in lexical order of their keys. A folder left empty
// by deletions may be yielded. An error is yielded once as the last
// element.
func (d *Dir) Folders(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := checkFolder(prefix); err != nil {
			yield("", fmt.Errorf("list folders of %q: %w", prefix, err))
			return
		}
		dir := cmp.Or(strings.TrimSuffix(prefix, "/"), ".")
		if dir == dirInternal || strings.HasPrefix(dir, dirInternal+"/") {
			return
		}
		f, err := d.root.Open(dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return
		}
		if err != nil {
			yield("", fmt.Errorf("list folders of %q: %w", prefix, err))
			return
		}
		entries, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			yield("", fmt.Errorf("list folders of %q: %w", prefix, err))
			return
		}
		var names []string
		for _, e := range entries {
			if e.IsDir() && !(dir == "." && e.Name() == dirInternal) && keyProblem(prefix+e.Name()) == "" {
				names = append(names, e.Name())
			}
		}
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(a+"/", b+"/") })
		for _, name := range names {
			if ctx.Err() != nil {
				yield("", ctx.Err())
				return
			}
			if !yield(name, nil) {
				return
			}
		}
	}
}

// errStop ends a walk whose consumer stopped.
var errStop = errors.New("stop")

func (d *Dir) walk(ctx context.Context, dir, prefix string, yield func(ObjectInfo, error) bool) error {
	err := d.walkDir(ctx, dir, prefix, yield)
	if err == errStop {
		return nil
	}
	return err
}

func (d *Dir) walkDir(ctx context.Context, dir, prefix string, yield func(ObjectInfo, error) bool) error {
	// Sub-roots on the folder and on its sidecars make each entry a
	// one-component lookup.
	data, meta := d.root, (*os.Root)(nil)
	if dir != "." {
		fi, err := d.root.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && !fi.IsDir()) {
			return nil // gone, or the prefix names an object, not a folder
		}
		if err != nil {
			return err
		}
		r, err := d.root.OpenRoot(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		defer r.Close()
		data = r
	}
	f, err := data.Open(".")
	if err != nil {
		return err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return err
	}
	if r, err := d.root.OpenRoot(path.Join(dirMeta, dir)); err == nil {
		defer r.Close()
		meta = r
	}

	type entry struct {
		name  string
		key   string // key of the file, or of the folder with a trailing "/"
		isDir bool
	}
	list := make([]entry, 0, len(entries))
	for _, e := range entries {
		key := e.Name()
		if dir != "." {
			key = dir + "/" + key
		}
		switch {
		case key == dirInternal:
		case e.IsDir():
			if k := key + "/"; strings.HasPrefix(k, prefix) || strings.HasPrefix(prefix, k) {
				list = append(list, entry{name: e.Name(), key: k, isDir: true})
			}
		case e.Type().IsRegular():
			if strings.HasPrefix(key, prefix) && keyProblem(key) == "" {
				list = append(list, entry{name: e.Name(), key: key})
			}
		}
	}
	// Sorting folders by their name plus "/" gives the lexical order of the
	// keys they hold ("a-b" < "a/c").
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.isDir {
			if err := d.walkDir(ctx, strings.TrimSuffix(e.key, "/"), prefix, yield); err != nil {
				return err
			}
			continue
		}
		info, err := d.listed(e.key, e.name, data, meta)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if !yield(info, nil) {
			return errStop
		}
	}
	return nil
}

// listed describes the object name of the folder data (sidecars in meta,
// nil when there are none), falling back to stat's careful path when the
// sidecar does not match.
func (d *Dir) listed(key, name string, data, meta *os.Root) (ObjectInfo, error) {
	fi, err := data.Lstat(name)
	if err != nil {
		return ObjectInfo{}, err
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, fs.ErrNotExist
	}
	var b []byte
	err = fs.ErrNotExist
	if meta != nil {
		b, err = meta.ReadFile(name)
	}
	if info, ok := describe(key, fi, b, err); ok {
		return info, nil
	}
	return d.stat(key, true)
}

// checkKey applies the common key rules and Dir's reserved name.
func (d *Dir) checkKey(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if key == dirInternal || strings.HasPrefix(key, dirInternal+"/") {
		return fmt.Errorf("%w %q: %s is reserved by the folder store", ErrInvalidKey, key, dirInternal)
	}
	return nil
}

// notExist makes "a parent is a file" look like the missing key it is.
func (d *Dir) notExist(err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w (%v)", fs.ErrNotExist, err)
	}
	return err
}

// lock takes the flock of the key's stripe: LOCK_EX for writers, LOCK_SH
// for readers that need a writer to finish. The returned func releases it.
// Each call opens its own descriptor, so goroutines of one process exclude
// each other as processes do.
func (d *Dir) lock(key string, how int) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	name := fmt.Sprintf("%s/%02x", dirLocks, h.Sum32()%lockStripes)
	f, err := d.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := flock(f, how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func() { f.Close() }, nil
}

func (d *Dir) createTemp() (string, *os.File, error) {
	for range 10 {
		var b [12]byte
		rand.Read(b[:])
		name := dirTmp + "/" + hex.EncodeToString(b[:]) + ".tmp"
		f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("create temporary file: %w", err)
		}
		return name, f, nil
	}
	return "", nil, errors.New("create temporary file: no free name")
}

func (d *Dir) writeTempMeta(doc dirMetaDoc) (string, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	name, f, err := d.createTemp()
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.root.Remove(name)
		return "", fmt.Errorf("write metadata: %w", err)
	}
	return name, nil
}

// mkdirs creates dir and its missing parents, syncing the folder that
// receives each new one. A parent that is an object file makes the key
// invalid.
func (d *Dir) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	var err error
	for range 10 {
		// A Delete may prune a parent made a moment ago: start again.
		if err = d.mkdirsOnce(dir); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

func (d *Dir) mkdirsOnce(dir string) error {
	elems := strings.Split(dir, "/")
	for i := range elems {
		p := strings.Join(elems[:i+1], "/")
		err := d.root.Mkdir(p, 0o755)
		switch {
		case err == nil:
			if err := d.syncDir(path.Dir(p)); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			fi, serr := d.root.Lstat(p)
			if serr != nil {
				return serr
			}
			if !fi.IsDir() {
				return fmt.Errorf("%w: %q is an object, it cannot hold other keys", ErrInvalidKey, p)
			}
		default:
			return err
		}
	}
	return nil
}

func (d *Dir) syncDir(dir string) error {
	f, err := d.root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (d *Dir) removeStaleTemp(before time.Time) {
	f, err := d.root.Open(dirTmp)
	if err != nil {
		return
	}
	entries, _ := f.ReadDir(-1)
	f.Close()
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(before) {
			d.root.Remove(dirTmp + "/" + e.Name())
		}
	}
}

// newETag returns a random ETag: unlike a content hash, it changes on every
// write, also when the bytes are the same.
func newETag() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
