package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest"
)

// Both stores satisfy the interface the domain declares.
var (
	_ bucket.Store      = (*storage.Dir)(nil)
	_ bucket.Store      = (*storage.S3)(nil)
	_ storagetest.Store = (*storage.Dir)(nil)
	_ storagetest.Store = (*storage.S3)(nil)
)

// TestContract runs the contract of the package documentation against
// Dir and against S3 on a real MinIO.
func TestContract(t *testing.T) {
	t.Run("Dir", func(t *testing.T) {
		testContract(t, func(t *testing.T) storagetest.Store { return storagetest.Dir(t) })
	})
	t.Run("S3", func(t *testing.T) {
		storagetest.S3Config(t) // skip (or fail under CI) once, not per subtest
		testContract(t, func(t *testing.T) storagetest.Store { return storagetest.S3(t) })
	})
}

// TestRun checks the helper other packages use: one fresh store per subtest.
func TestRun(t *testing.T) {
	var names []string
	storagetest.Run(t, func(t *testing.T, s storagetest.Store) {
		names = append(names, t.Name())
		if got := listKeys(t, s, ""); len(got) != 0 {
			t.Errorf("fresh store: got %q, want nothing", got)
		}
		put(t, s, "k", "v")
	})
	if len(names) == 0 {
		t.Error("Run ran no subtest")
	}
}

func testContract(t *testing.T, newStore func(t *testing.T) storagetest.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storagetest.Store)
	}{
		{"Basics", testBasics},
		{"Sizes", testSizes},
		{"ShortBody", testShortBody},
		{"Ranges", testRanges},
		{"Missing", testMissing},
		{"Conditional", testConditional},
		{"ConcurrentPutIf", testConcurrentPutIf},
		{"ETagChanges", testETagChanges},
		{"Accents", testAccents},
		{"InvalidKeys", testInvalidKeys},
		{"ListOrder", testListOrder},
		{"Folders", testFolders},
		{"ListMany", testListMany},
		{"FileOffset", testFileOffset},
		{"Canceled", testCanceled},
		{"Big", testBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// put stores body under key or fails the test.
func put(t *testing.T, s storagetest.Store, key, body string) storage.ObjectInfo {
	t.Helper()
	info, err := s.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), "text/plain")
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// get reads the whole object or fails the test.
func get(t *testing.T, s storagetest.Store, key string) (string, storage.ObjectInfo) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return string(b), info
}

func sameInfo(t *testing.T, what string, got, want storage.ObjectInfo) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.ETag != want.ETag || got.ContentType != want.ContentType {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	if d := got.ModTime.Sub(want.ModTime); d < -time.Second || d > time.Second {
		t.Errorf("%s: got ModTime %v, want %v", what, got.ModTime, want.ModTime)
	}
}

func testBasics(t *testing.T, s storagetest.Store) {
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	body := "Bonjour, c'est La Voix est Libre."
	before := time.Now().Add(-time.Minute)
	info, err := s.Put(ctx, "shows/lvel/show.json", strings.NewReader(body), int64(len(body)), "application/json; charset=utf-8")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	want := storage.ObjectInfo{Key: "shows/lvel/show.json", Size: int64(len(body)), ETag: info.ETag, ContentType: "application/json; charset=utf-8", ModTime: info.ModTime}
	sameInfo(t, "Put", info, want)
	if info.ETag == "" || strings.Contains(info.ETag, `"`) {
		t.Errorf("got ETag %q, want a non-empty unquoted ETag", info.ETag)
	}
	if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("got ModTime %v, want about now", info.ModTime)
	}

	st, err := s.Stat(ctx, "shows/lvel/show.json")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	sameInfo(t, "Stat", st, want)

	got, ginfo := get(t, s, "shows/lvel/show.json")
	if got != body {
		t.Errorf("Get: got %q, want %q", got, body)
	}
	sameInfo(t, "Get", ginfo, want)

	var listed []storage.ObjectInfo
	for info, err := range s.List(ctx, "shows/") {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		listed = append(listed, info)
	}
	if len(listed) != 1 {
		t.Fatalf("List: got %d objects, want 1", len(listed))
	}
	if listed[0].ContentType == "" {
		listed[0].ContentType = want.ContentType // allowed to be left out
	}
	sameInfo(t, "List", listed[0], want)

	// An empty content type is recorded as the default.
	info, err = s.Put(ctx, "blob", strings.NewReader("x"), 1, "")
	if err != nil {
		t.Fatalf("Put without content type: %v", err)
	}
	if st, err := s.Stat(ctx, "blob"); err != nil || st.ContentType != storage.DefaultContentType {
		t.Errorf("Stat after Put without content type: got %q, %v, want %q", st.ContentType, err, storage.DefaultContentType)
	}

	if err := s.Delete(ctx, "shows/lvel/show.json"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, "shows/lvel/show.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Delete: got %v, want fs.ErrNotExist", err)
	}
	if err := s.Delete(ctx, "shows/lvel/show.json"); err != nil {
		t.Errorf("Delete of a missing key: got %v, want nil", err)
	}
	for info, err := range s.List(ctx, "shows/") {
		t.Errorf("List after Delete: got %+v, %v, want nothing", info, err)
	}
}

// testSizes puts bodies of known and unknown size, across the 1 MiB line
// where S3 switches from one PUT to multipart and PutIf to spooling.
func testSizes(t *testing.T, s storagetest.Store) {
	for _, size := range []int{0, 1, 1000, 1 << 20, 1<<20 + 1, 3 << 20} {
		body := pattern(int64(size), uint64(size))
		for _, known := range []bool{true, false} {
			for _, cond := range []bool{false, true} {
				name := fmt.Sprintf("%d/known=%v/if=%v", size, known, cond)
				t.Run(name, func(t *testing.T) {
					key := "sizes/" + strings.ReplaceAll(name, "/", "-")
					n := int64(-1)
					if known {
						n = int64(size)
					}
					// A plain reader, so that no store can see the size.
					r := io.MultiReader(bytes.NewReader(body))
					var info storage.ObjectInfo
					var err error
					if cond {
						info, err = s.PutIf(t.Context(), key, r, n, "audio/mpeg", "")
					} else {
						info, err = s.Put(t.Context(), key, r, n, "audio/mpeg")
					}
					if err != nil {
						t.Fatalf("put: %v", err)
					}
					if info.Size != int64(size) {
						t.Errorf("got Size %d, want %d", info.Size, size)
					}
					got, ginfo := get(t, s, key)
					if got != string(body) {
						t.Errorf("got %d bytes back, want the %d put", len(got), size)
					}
					sameInfo(t, "Get", ginfo, info)
				})
			}
		}
	}
}

func testShortBody(t *testing.T, s storagetest.Store) {
	// Not seekable: minio-go retries a seekable body ten times first.
	_, err := s.Put(t.Context(), "short", io.MultiReader(strings.NewReader("12345")), 10, "text/plain")
	if err == nil {
		t.Fatal("Put of 5 bytes announced as 10: got nil error")
	}
	if _, err := s.Stat(t.Context(), "short"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after a short Put: got %v, want fs.ErrNotExist", err)
	}
}

func testRanges(t *testing.T, s storagetest.Store) {
	body := pattern(1000, 7)
	info, err := s.Put(t.Context(), "media/range.mp3", bytes.NewReader(body), int64(len(body)), "audio/mpeg")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	tests := []struct {
		offset, length int64
		want           []byte
	}{
		{0, -1, body},
		{0, 1000, body},
		{0, 2, body[:2]},
		{10, 20, body[10:30]},
		{990, -1, body[990:]},
		{990, 100, body[990:]},
		{999, 1, body[999:]},
		{500, 0, nil},
		{1000, -1, nil},
		{1000, 5, nil},
	}
	for _, tt := range tests {
		rc, ginfo, err := s.Get(t.Context(), "media/range.mp3", tt.offset, tt.length)
		if err != nil {
			t.Errorf("Get(%d, %d): %v", tt.offset, tt.length, err)
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Errorf("Get(%d, %d): read: %v", tt.offset, tt.length, err)
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("Get(%d, %d): got %d bytes, want %d", tt.offset, tt.length, len(got), len(tt.want))
		}
		sameInfo(t, fmt.Sprintf("Get(%d, %d) info", tt.offset, tt.length), ginfo, info)
	}
	for _, r := range [][2]int64{{1001, -1}, {5000, 10}, {-1, 5}} {
		if _, _, err := s.Get(t.Context(), "media/range.mp3", r[0], r[1]); !errors.Is(err, storage.ErrInvalidRange) {
			t.Errorf("Get(%d, %d): got %v, want ErrInvalidRange", r[0], r[1], err)
		}
	}
}

func testMissing(t *testing.T, s storagetest.Store) {
	ctx := t.Context()
	if _, err := s.Stat(ctx, "nope/missing.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat: got %v, want fs.ErrNotExist", err)
	}
	if _, _, err := s.Get(ctx, "nope/missing.json", 0, -1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get: got %v, want fs.ErrNotExist", err)
	}
	if _, _, err := s.Get(ctx, "nope/missing.json", 5, 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get with range: got %v, want fs.ErrNotExist", err)
	}
	if err := s.Delete(ctx, "nope/missing.json"); err != nil {
		t.Errorf("Delete: got %v, want nil", err)
	}
	// A key below an object is missing too (in Dir, a path through a file).
	put(t, s, "file", "x")
	if _, err := s.Stat(ctx, "file/below"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat below an object: got %v, want fs.ErrNotExist", err)
	}
	if _, _, err := s.Get(ctx, "file/below", 0, -1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get below an object: got %v, want fs.ErrNotExist", err)
	}
}

func testConditional(t *testing.T, s storagetest.Store) {
	ctx := t.Context()
	key := "shows/lvel/episodes/1.json"
	v1, err := s.PutIf(ctx, key, strings.NewReader("v1"), 2, "application/json", "")
	if err != nil {
		t.Fatalf("PutIf absent on a new key: %v", err)
	}
	_, err = s.PutIf(ctx, key, strings.NewReader("v1bis"), 5, "application/json", "")
	if !errors.Is(err, storage.ErrConflict) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("PutIf absent on an existing key: got %v, want ErrConflict and fs.ErrExist", err)
	}
	v2, err := s.PutIf(ctx, key, strings.NewReader("v2"), 2, "application/json", v1.ETag)
	if err != nil {
		t.Fatalf("PutIf with the current ETag: %v", err)
	}
	if v2.ETag == v1.ETag {
		t.Errorf("ETag after a conditional rewrite: got %q again", v2.ETag)
	}
	if _, err := s.PutIf(ctx, key, strings.NewReader("v3"), 2, "application/json", v1.ETag); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("PutIf with a stale ETag: got %v, want ErrConflict", err)
	}
	if got, info := get(t, s, key); got != "v2" || info.ETag != v2.ETag {
		t.Errorf("after refused writes: got %q (ETag %q), want %q (ETag %q)", got, info.ETag, "v2", v2.ETag)
	}
	if _, err := s.PutIf(ctx, "missing.json", strings.NewReader("x"), 1, "application/json", v2.ETag); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("PutIf with an ETag on a missing key: got %v, want ErrConflict", err)
	}
	if _, err := s.Stat(ctx, "missing.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after a refused PutIf: got %v, want fs.ErrNotExist", err)
	}
	// A plain Put ignores the condition and changes the ETag.
	v3 := put(t, s, key, "v3")
	if _, err := s.PutIf(ctx, key, strings.NewReader("v4"), 2, "application/json", v2.ETag); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("PutIf with the ETag before a Put: got %v, want ErrConflict", err)
	}
	if _, err := s.PutIf(ctx, key, strings.NewReader("v4"), 2, "application/json", v3.ETag); err != nil {
		t.Errorf("PutIf with the ETag of the Put: %v", err)
	}
}

// testConcurrentPutIf races writers on one key, for creation and for
// update: exactly one wins each round, the others get ErrConflict.
func testConcurrentPutIf(t *testing.T, s storagetest.Store) {
	const writers, rounds = 8, 4
	for round := range rounds {
		key := fmt.Sprintf("race/%d.json", round)
		etag := ""
		for _, phase := range []string{"absent", "if-match"} {
			var (
				wg     sync.WaitGroup
				start  = make(chan struct{})
				wins   atomic.Int32
				winner atomic.Value
			)
			errs := make([]error, writers)
			for w := range writers {
				wg.Go(func() {
					body := fmt.Sprintf(`{"writer":%d,"phase":%q}`, w, phase)
					<-start
					info, err := s.PutIf(t.Context(), key, strings.NewReader(body), int64(len(body)), "application/json", etag)
					if err == nil {
						wins.Add(1)
						winner.Store([2]string{body, info.ETag})
					}
					errs[w] = err
				})
			}
			close(start)
			wg.Wait()
			if got := wins.Load(); got != 1 {
				t.Fatalf("round %d, %s: got %d winners, want 1 (errors: %v)", round, phase, got, errs)
			}
			for w, err := range errs {
				if err != nil && !errors.Is(err, storage.ErrConflict) {
					t.Errorf("round %d, %s: writer %d: got %v, want ErrConflict", round, phase, w, err)
				}
			}
			won := winner.Load().([2]string)
			got, info := get(t, s, key)
			if got != won[0] || info.ETag != won[1] {
				t.Fatalf("round %d, %s: got %q (ETag %q), want the winner's %q (ETag %q)", round, phase, got, info.ETag, won[0], won[1])
			}
			etag = info.ETag
		}
	}
}

func testETagChanges(t *testing.T, s storagetest.Store) {
	seen := map[string]bool{}
	for i := range 5 {
		info := put(t, s, "doc.json", fmt.Sprintf(`{"version":%d}`, i))
		if seen[info.ETag] {
			t.Errorf("write %d: got ETag %q, already seen", i, info.ETag)
		}
		seen[info.ETag] = true
		if st, err := s.Stat(t.Context(), "doc.json"); err != nil || st.ETag != info.ETag {
			t.Errorf("Stat after write %d: got ETag %q (%v), want %q", i, st.ETag, err, info.ETag)
		}
	}
}

func testAccents(t *testing.T, s storagetest.Store) {
	keys := []string{
		"émissions/été 2021/épisode 1.mp3",
		"émissions/été 2021/Ça va + 100% ?#&=.json",
		"émissions/hiver/「ラジオ」 🎙.txt",
		"émissions/long/" + strings.Repeat("é", 125) + ".mp3", // 254 bytes
	}
	for i, key := range keys {
		body := fmt.Sprintf("contenu %d", i)
		info := put(t, s, key, body)
		if info.Key != key {
			t.Errorf("Put(%q): got Key %q", key, info.Key)
		}
		if got, ginfo := get(t, s, key); got != body || ginfo.Key != key {
			t.Errorf("Get(%q): got %q with Key %q, want %q", key, got, ginfo.Key, body)
		}
		if st, err := s.Stat(t.Context(), key); err != nil || st.Key != key {
			t.Errorf("Stat(%q): got Key %q, %v", key, st.Key, err)
		}
	}
	want := slices.Sorted(slices.Values(keys))
	if got := listKeys(t, s, "émissions/"); !slices.Equal(got, want) {
		t.Errorf("List(émissions/): got %q, want %q", got, want)
	}
	if got := listKeys(t, s, "émissions/été 2021/é"); !slices.Equal(got, keys[:1]) {
		t.Errorf("List(émissions/été 2021/é): got %q, want %q", got, keys[:1])
	}
	for _, key := range keys {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Errorf("List after deletes: got %q, want nothing", got)
	}
}

func testInvalidKeys(t *testing.T, s storagetest.Store) {
	ctx := t.Context()
	bad := []string{
		"", "/etc/passwd", "../escape", "a/../../b", "a/./b", ".", "..", "a//b", "a/",
		`a\b`, `..\..\x`, "a\x00b", "a\nb", "\xff\xfe", strings.Repeat("k", 1025), "a/" + strings.Repeat("é", 128),
	}
	for _, key := range bad {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, ""); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q): got %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.PutIf(ctx, key, strings.NewReader("x"), 1, "", ""); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("PutIf(%q): got %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := s.Get(ctx, key, 0, -1); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Get(%q): got %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Stat(%q): got %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%q): got %v, want ErrInvalidKey", key, err)
		}
	}
	for _, prefix := range []string{"../", "a/../", "/abs", "a//", "x\x00"} {
		var gotErr error
		for _, err := range s.List(ctx, prefix) {
			gotErr = err
		}
		if !errors.Is(gotErr, storage.ErrInvalidKey) {
			t.Errorf("List(%q): got %v, want ErrInvalidKey", prefix, gotErr)
		}
	}
}

func listKeys(t *testing.T, s storagetest.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.List(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

func testListOrder(t *testing.T, s storagetest.Store) {
	// "x/a-b" < "x/a/c" < "x/ab": a folder's keys sort by "name/", not by
	// the folder name alone.
	keys := []string{"x/b", "x/a/d/e", "x/ab", "x/a-b", "x/a/c", "x/a/0", "y", "x0"}
	for _, k := range keys {
		put(t, s, k, k)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"x/a-b", "x/a/0", "x/a/c", "x/a/d/e", "x/ab", "x/b", "x0", "y"}},
		{"x/", []string{"x/a-b", "x/a/0", "x/a/c", "x/a/d/e", "x/ab", "x/b"}},
		{"x/a", []string{"x/a-b", "x/a/0", "x/a/c", "x/a/d/e", "x/ab"}},
		{"x/a/", []string{"x/a/0", "x/a/c", "x/a/d/e"}},
		{"x/a/d", []string{"x/a/d/e"}},
		{"x", []string{"x/a-b", "x/a/0", "x/a/c", "x/a/d/e", "x/ab", "x/b", "x0"}},
		{"x/b", []string{"x/b"}},
		{"x/bb", nil},
		{"z/", nil},
		{"x/a/d/e/", nil},
	}
	for _, tt := range tests {
		if got := listKeys(t, s, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q): got %q, want %q", tt.prefix, got, tt.want)
		}
	}
	// The consumer may stop early.
	var got []string
	for info, err := range s.List(t.Context(), "x/") {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		got = append(got, info.Key)
		if len(got) == 2 {
			break
		}
	}
	if want := []string{"x/a-b", "x/a/0"}; !slices.Equal(got, want) {
		t.Errorf("List stopped after 2: got %q, want %q", got, want)
	}
}

// testListMany lists more keys than one S3 page (1000) holds.
func testFolders(t *testing.T, s storagetest.Store) {
	for _, k := range []string{"shows/a-b/show.json", "shows/a/show.json", "shows/a/episodes/1.json", "shows/b/x/y.json", "shows/top.json", "other/z.json"} {
		put(t, s, k, "v")
	}
	folders := func(prefix string) []string {
		var out []string
		for name, err := range s.Folders(t.Context(), prefix) {
			if err != nil {
				t.Fatalf("Folders(%q): %v", prefix, err)
			}
			out = append(out, name)
		}
		return out
	}
	if got, want := folders("shows/"), []string{"a-b", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Folders(shows/): got %q, want %q", got, want)
	}
	if got, want := folders(""), []string{"other", "shows"}; !slices.Equal(got, want) {
		t.Errorf("Folders(\"\"): got %q, want %q", got, want)
	}
	if got := folders("nothing/"); len(got) != 0 {
		t.Errorf("Folders of a missing folder: got %q, want nothing", got)
	}
	for _, bad := range []string{"shows", "/shows/", "a//"} {
		for _, err := range s.Folders(t.Context(), bad) {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Folders(%q): got %v, want ErrInvalidKey", bad, err)
			}
		}
	}
}

func testListMany(t *testing.T, s storagetest.Store) {
	const n = 1010 // two pages of S3 listing
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/%02d/%04d.json", i%17, i)
	}
	etags := make(map[string]string, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for key := range work {
				info, err := s.Put(t.Context(), key, strings.NewReader(key), int64(len(key)), "application/json")
				if err != nil {
					t.Errorf("Put(%q): %v", key, err)
					continue
				}
				mu.Lock()
				etags[key] = info.ETag
				mu.Unlock()
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	put(t, s, "manz", "after") // just past the prefix
	slices.Sort(keys)
	var got []string
	for info, err := range s.List(t.Context(), "many/") {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		got = append(got, info.Key)
		if info.ETag != etags[info.Key] || info.Size != int64(len(info.Key)) {
			t.Errorf("List: got %q with ETag %q size %d, want ETag %q size %d", info.Key, info.ETag, info.Size, etags[info.Key], len(info.Key))
		}
	}
	if !slices.Equal(got, keys) {
		t.Errorf("List: got %d keys, want %d, in order", len(got), len(keys))
	}
}

// testFileOffset puts a file from an offset other than 0, larger than one
// multipart part: the store must start at the file's current offset.
func testFileOffset(t *testing.T, s storagetest.Store) {
	const size, skip = 20 << 20, 1 << 20
	body := pattern(size, 3)
	name := filepath.Join(t.TempDir(), "upload")
	if err := os.WriteFile(name, body, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(skip, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "file.mp3", f, size-skip, "audio/mpeg"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, _ := get(t, s, "file.mp3")
	if got != string(body[skip:]) {
		t.Errorf("got %d bytes, want the %d after the offset", len(got), size-skip)
	}
}

func testCanceled(t *testing.T, s storagetest.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Put(ctx, "canceled", strings.NewReader("x"), 1, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: got %v, want context.Canceled", err)
	}
	// A body that fails midway leaves no object.
	r := io.MultiReader(bytes.NewReader(pattern(2<<20, 1)), errReader{})
	if _, err := s.Put(t.Context(), "failed", r, -1, ""); err == nil {
		t.Error("Put of a failing body: got nil error")
	}
	if _, err := s.Stat(t.Context(), "failed"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after a failed Put: got %v, want fs.ErrNotExist", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// testBig streams 200 MiB of unknown size from a generator, then 40 MiB of
// known size (several S3 parts, from a reader without ReadAt); the heap
// must stay small.
func testBig(t *testing.T, s storagetest.Store) {
	const limit = 64 << 20
	for _, tt := range []struct {
		size  int64
		known bool
	}{{200 << 20, false}, {40 << 20, true}} {
		size, known := tt.size, tt.known
		n := int64(-1)
		if known {
			n = size
		}
		h := sha256.New()
		src := io.TeeReader(&genReader{left: size, seed: 42}, h)
		var info storage.ObjectInfo
		var err error
		peak := peakHeap(func() {
			info, err = s.Put(t.Context(), "big.mp3", src, n, "audio/mpeg")
		})
		if err != nil {
			t.Fatalf("Put %d MiB (known size %v): %v", size>>20, known, err)
		}
		t.Logf("Put %d MiB, known size %v: heap peak %.2f MiB above the start", size>>20, known, float64(peak)/(1<<20))
		if peak > limit {
			t.Errorf("Put %d MiB (known size %v): heap grew by %d MiB, want < %d MiB", size>>20, known, peak>>20, limit>>20)
		}
		if info.Size != size {
			t.Errorf("got Size %d, want %d", info.Size, size)
		}
		rc, _, err := s.Get(t.Context(), "big.mp3", 0, -1)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		h2 := sha256.New()
		_, err = io.Copy(h2, rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if !bytes.Equal(h.Sum(nil), h2.Sum(nil)) {
			t.Errorf("read back %d MiB: got other bytes than put", size>>20)
		}
	}
}

// peakHeap runs f and returns how far the in-use heap rose above its
// level before, sampled every few milliseconds.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(base)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load() - base
}

// pattern returns n pseudo-random bytes.
func pattern(n int64, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	r.Read(b)
	return b
}

// genReader yields left pseudo-random bytes without holding them.
type genReader struct {
	left int64
	seed uint64
	r    *rand.ChaCha8
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if g.r == nil {
		g.r = rand.NewChaCha8([32]byte{byte(g.seed)})
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, _ := g.r.Read(p)
	g.left -= int64(n)
	return n, nil
}
