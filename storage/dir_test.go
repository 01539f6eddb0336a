package storage_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
)

func TestDirFiles(t *testing.T) {
	d := storagetest.Dir(t)
	ctx := t.Context()
	put(t, d, "shows/lvel/media/ep1.mp3", "ID3 audio")

	// The object is a plain file at its key.
	b, err := os.ReadFile(filepath.Join(d.Path(), "shows", "lvel", "media", "ep1.mp3"))
	if err != nil || string(b) != "ID3 audio" {
		t.Errorf("file of the object: got %q, %v, want %q", b, err, "ID3 audio")
	}

	// Leftover temporary files never show.
	tmp := filepath.Join(d.Path(), ".antenne", "tmp", "leftover.tmp")
	if err := os.WriteFile(tmp, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file put there by hand shows, with a guessed content type.
	if err := os.WriteFile(filepath.Join(d.Path(), "shows", "lvel", "cover.png"), []byte("PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for info, err := range d.List(ctx, "") {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		got = append(got, info.Key+" "+info.ContentType)
		if info.ETag == "" {
			t.Errorf("List: %q has no ETag", info.Key)
		}
	}
	want := []string{"shows/lvel/cover.png image/png", "shows/lvel/media/ep1.mp3 text/plain"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("List: got %q, want %q", got, want)
	}

	// The store's own folder is not a key.
	for _, key := range []string{".antenne/tmp/leftover.tmp", ".antenne"} {
		if _, err := d.Stat(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Stat(%q): got %v, want ErrInvalidKey", key, err)
		}
	}
	if got := listKeys(t, d, ".antenne/"); len(got) != 0 {
		t.Errorf("List(.antenne/): got %q, want nothing", got)
	}

	// A key cannot be both an object and the folder of other keys.
	if _, err := d.Put(ctx, "shows/lvel/media/ep1.mp3/x", strings.NewReader("x"), 1, ""); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Put below an object: got %v, want ErrInvalidKey", err)
	}
	if _, err := d.Put(ctx, "shows/lvel", strings.NewReader("x"), 1, ""); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Put on a folder of keys: got %v, want ErrInvalidKey", err)
	}
	if err := d.Delete(ctx, "shows/lvel"); err != nil {
		t.Errorf("Delete of a folder name: got %v, want nil", err)
	}

	// Deleting the last objects prunes the empty folders.
	for _, key := range []string{"shows/lvel/media/ep1.mp3", "shows/lvel/cover.png"} {
		if err := d.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(d.Path(), "shows")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("folder shows after deleting its last object: got %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(d.Path(), ".antenne", "meta", "shows")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sidecar folder after deleting the last object: got %v, want it removed", err)
	}
}

func TestDirSymlinkEscape(t *testing.T) {
	d := storagetest.Dir(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(d.Path(), "link")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(t.Context(), "link/secret", 0, -1); err == nil {
		t.Error("Get through a symlink out of the folder: got nil error")
	}
	if _, err := d.Put(t.Context(), "link/new", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("Put through a symlink out of the folder: got nil error")
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file written outside the folder: got %v, want none", err)
	}
}

func TestDirSameBytesNewETag(t *testing.T) {
	d := storagetest.Dir(t)
	a := put(t, d, "doc.json", "{}")
	b := put(t, d, "doc.json", "{}")
	if a.ETag == b.ETag {
		t.Errorf("rewrite with the same bytes: got ETag %q twice, want a new one", a.ETag)
	}
}

// A reader keeps the version it opened while the key is rewritten.
func TestDirReaderKeepsVersion(t *testing.T) {
	d := storagetest.Dir(t)
	put(t, d, "ep.mp3", "old version")
	rc, info, err := d.Get(t.Context(), "ep.mp3", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	put(t, d, "ep.mp3", "new version!")
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != "old version" || info.Size != int64(len("old version")) {
		t.Errorf("read after a rewrite: got %q (%d bytes), %v, want %q", b, info.Size, err, "old version")
	}
}

// A crash between the sidecar's rename and the object's leaves a sidecar
// of another version: the object stays readable with a derived ETag.
func TestDirStaleSidecar(t *testing.T) {
	d := storagetest.Dir(t)
	put(t, d, "a.json", "{}")
	side := filepath.Join(d.Path(), ".antenne", "meta", "a.json")
	if err := os.WriteFile(side, []byte(`{"etag":"bogus","content_type":"x/y","size":2,"inode":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := d.Stat(t.Context(), "a.json")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.ETag == "bogus" || info.ETag == "" || info.ContentType != "application/json" {
		t.Errorf("Stat with a stale sidecar: got ETag %q, type %q, want a derived ETag and application/json", info.ETag, info.ContentType)
	}
	// The derived ETag works for conditional puts.
	if _, err := d.PutIf(t.Context(), "a.json", strings.NewReader("[]"), 2, "application/json", info.ETag); err != nil {
		t.Errorf("PutIf with the derived ETag: %v", err)
	}
}

func TestNewDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", file, filepath.Join(file, "below")} {
		if d, err := storage.NewDir(path); err == nil {
			d.Close()
			t.Errorf("NewDir(%q): got nil error", path)
		}
	}

	// Temporary files of crashed writers go after a day.
	dir := t.TempDir()
	d, err := storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	old := filepath.Join(dir, ".antenne", "tmp", "old.tmp")
	recent := filepath.Join(dir, ".antenne", "tmp", "recent.tmp")
	for _, name := range []string{old, recent} {
		if err := os.WriteFile(name, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	d, err = storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file of yesterday: got %v, want it removed", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("recent temporary file: got %v, want it kept", err)
	}
}

func TestDirPing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d, err := storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(t.Context()); err == nil {
		t.Error("Ping after the folder was removed: got nil error")
	}
}

// TestDirProcesses races conditional puts from several processes sharing
// one folder: exactly one wins each time.
func TestDirProcesses(t *testing.T) {
	const procs = 6
	dir := t.TempDir()
	d, err := storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	syncDir := t.TempDir()
	etag := ""
	for round, phase := range []string{"absent", "if-match", "if-match"} {
		goFile := filepath.Join(syncDir, fmt.Sprintf("go-%d", round))
		cmds := make([]*exec.Cmd, procs)
		outs := make([]*strings.Builder, procs)
		for i := range cmds {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDirHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				"ANTENNE_DIR_HELPER=1",
				"ANTENNE_DIR_HELPER_DIR="+dir,
				"ANTENNE_DIR_HELPER_READY="+filepath.Join(syncDir, fmt.Sprintf("ready-%d-%d", round, i)),
				"ANTENNE_DIR_HELPER_GO="+goFile,
				"ANTENNE_DIR_HELPER_IFMATCH="+etag,
				fmt.Sprintf("ANTENNE_DIR_HELPER_BODY=process %d, round %d", i, round),
			)
			outs[i] = &strings.Builder{}
			cmd.Stdout, cmd.Stderr = outs[i], outs[i]
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i] = cmd
		}
		// Release all processes at once, when each has opened the store.
		deadline := time.Now().Add(30 * time.Second)
		for i := range procs {
			for {
				if _, err := os.Stat(filepath.Join(syncDir, fmt.Sprintf("ready-%d-%d", round, i))); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("helper %d not ready: %s", i, outs[i])
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if err := os.WriteFile(goFile, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		wins := 0
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper %d: %v: %s", i, err, outs[i])
			}
			switch out := outs[i].String(); {
			case strings.Contains(out, "RESULT won"):
				wins++
			case strings.Contains(out, "RESULT conflict"):
			default:
				t.Errorf("round %d (%s), helper %d: got %q, want won or conflict", round, phase, i, out)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d (%s): got %d winning processes, want 1", round, phase, wins)
		}
		info, err := d.Stat(t.Context(), "shared.json")
		if err != nil {
			t.Fatal(err)
		}
		if info.ETag == etag {
			t.Fatalf("round %d: ETag did not change", round)
		}
		etag = info.ETag
	}
}

// TestDirHelperProcess is one contender of TestDirProcesses.
func TestDirHelperProcess(t *testing.T) {
	if os.Getenv("ANTENNE_DIR_HELPER") == "" {
		return
	}
	d, err := storage.NewDir(os.Getenv("ANTENNE_DIR_HELPER_DIR"))
	if err != nil {
		fmt.Println("RESULT error", err)
		os.Exit(1)
	}
	os.WriteFile(os.Getenv("ANTENNE_DIR_HELPER_READY"), nil, 0o644)
	for {
		if _, err := os.Stat(os.Getenv("ANTENNE_DIR_HELPER_GO")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	body := os.Getenv("ANTENNE_DIR_HELPER_BODY")
	_, err = d.PutIf(t.Context(), "shared.json", strings.NewReader(body), int64(len(body)), "application/json", os.Getenv("ANTENNE_DIR_HELPER_IFMATCH"))
	switch {
	case err == nil:
		fmt.Println("RESULT won")
	case errors.Is(err, storage.ErrConflict):
		fmt.Println("RESULT conflict")
	default:
		fmt.Println("RESULT error", err)
	}
	os.Exit(0)
}

// Deletes prune folders that concurrent puts of neighbours are filling.
func TestDirPruneRace(t *testing.T) {
	d := storagetest.Dir(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			key := fmt.Sprintf("p/q/r/%d.json", w)
			for range 100 {
				if _, err := d.Put(t.Context(), key, strings.NewReader("{}"), 2, ""); err != nil {
					t.Errorf("Put(%q): %v", key, err)
					return
				}
				if err := d.Delete(t.Context(), key); err != nil {
					t.Errorf("Delete(%q): %v", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := listKeys(t, d, ""); len(got) != 0 {
		t.Errorf("List: got %q, want nothing", got)
	}
	if _, err := os.Stat(filepath.Join(d.Path(), "p")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("folder p: got %v, want it pruned", err)
	}
}
