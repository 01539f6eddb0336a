package storage_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/picasoft/antenne/storage/storagetest"
)

// BenchmarkPut streams 64 MiB of unknown size into each store and reports
// the heap's peak growth during one put.
//
//	go test -run '^$' -bench Put -benchtime 5x ./storage
func BenchmarkPut(b *testing.B) {
	const size = 64 << 20
	for _, st := range storagetest.Stores(b) {
		b.Run(st.Name, func(b *testing.B) {
			b.SetBytes(size)
			var peak uint64
			for i := 0; b.Loop(); i++ {
				var err error
				p := peakHeap(func() {
					_, err = st.Store.Put(b.Context(), fmt.Sprintf("bench/%d.mp3", i%2), &genReader{left: size, seed: uint64(i)}, -1, "audio/mpeg")
				})
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkGet reads 64 MiB back from each store.
func BenchmarkGet(b *testing.B) {
	const size = 64 << 20
	for _, st := range storagetest.Stores(b) {
		b.Run(st.Name, func(b *testing.B) {
			if _, err := st.Store.Put(b.Context(), "bench.mp3", &genReader{left: size}, size, "audio/mpeg"); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			for b.Loop() {
				rc, _, err := st.Store.Get(b.Context(), "bench.mp3", 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}
