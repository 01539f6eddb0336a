package storage_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
)

func TestObserveReportsFailuresOnly(t *testing.T) {
	m := storagetest.StartMinIO(t)
	var mu sync.Mutex
	failures := map[string]int{}
	s := storage.Observe(m.NewS3(t), func(op string, err error) {
		mu.Lock()
		defer mu.Unlock()
		failures[op]++
	})
	ctx := t.Context()
	// Answers of the contract are not failures.
	s.Stat(ctx, "missing")
	s.PutIf(ctx, "k", strings.NewReader("a"), 1, "text/plain", "")
	s.PutIf(ctx, "k", strings.NewReader("b"), 1, "text/plain", "")
	s.Put(ctx, "../escape", strings.NewReader("a"), 1, "text/plain")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	s.Stat(cancelled, "k")
	if len(failures) != 0 {
		t.Errorf("failures reported for contract answers: %v", failures)
	}
	m.Stop()
	s.Stat(ctx, "k")
	for range s.List(ctx, "") {
	}
	mu.Lock()
	defer mu.Unlock()
	if failures["stat"] != 1 || failures["list"] != 1 {
		t.Errorf("with MinIO stopped: got failures %v, want one stat and one list", failures)
	}
}
