package storage_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/picasoft/antenne/storage/storagetest"
)

// BenchmarkList lists 10,000 small documents, like a catalog load.
func BenchmarkList(b *testing.B) {
	const n = 10000
	for _, st := range storagetest.Stores(b) {
		b.Run(st.Name, func(b *testing.B) {
			var wg sync.WaitGroup
			work := make(chan int)
			for range 8 {
				wg.Go(func() {
					for i := range work {
						key := fmt.Sprintf("shows/lvel/episodes/%05d.json", i)
						if _, err := st.Store.Put(b.Context(), key, strings.NewReader("{}"), 2, "application/json"); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for i := range n {
				work <- i
			}
			close(work)
			wg.Wait()
			for b.Loop() {
				count := 0
				for _, err := range st.Store.List(b.Context(), "shows/") {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				if count != n {
					b.Fatalf("listed %d, want %d", count, n)
				}
			}
		})
	}
}
