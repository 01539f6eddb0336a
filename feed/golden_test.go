package feed

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the golden files: go test ./feed -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or writes got there under
// -update. The failure shows both texts.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (rewrite it with go test ./feed -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rewrite it with go test ./feed -update when the change is right)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
