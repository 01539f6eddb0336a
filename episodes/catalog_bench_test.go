package episodes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// BenchmarkColdLoad10000 loads a catalog of 10,000 episodes from MinIO
// into a new Service, as a replica does at start (target: under 5 s).
//
//	.ci/with-minio go test -run '^$' -bench ColdLoad -benchtime 3x ./episodes
func BenchmarkColdLoad10000(b *testing.B) {
	const n = 10_000
	blobs := storagetest.S3(b)
	ctx := b.Context()
	svc := episodes.NewService(blobs, episodes.Options{})
	if _, err := svc.CreateShow(ctx, episodes.Show{Slug: "lvel", Title: "La Voix est Libre"}, "https://radio.picasoft.net/lvel/feed.xml"); err != nil {
		b.Fatal(err)
	}
	// Write the documents directly, in parallel: going through
	// CreateEpisode would only make the set-up slower.
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, 1)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				id := fmt.Sprintf("0000-%05d", i)
				e := episodes.Episode{
					Version: 1, ID: id, Show: "lvel", Slug: fmt.Sprintf("episode-%d", i), GUID: id,
					Title: fmt.Sprintf("Épisode %d : les communs numériques", i), Notes: "Des **notes** de quelques lignes.",
					PublishAt: time.Date(2020, 1, 1, 9, 30, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
					Type:      episodes.Full,
					Media:     episodes.Media{Key: fmt.Sprintf("shows/lvel/media/episode-%d.mp3", i), Type: "audio/mpeg", Size: 40e6, Duration: 40 * time.Minute, SHA256: "00"},
				}
				data, _ := json.Marshal(e)
				if _, err := blobs.PutIf(ctx, "shows/lvel/episodes/"+id+".json", bytes.NewReader(data), int64(len(data)), "application/json", ""); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.Logf("wrote %d episode documents in %v", n, time.Since(start).Round(time.Millisecond))

	// A first replica reads every document (no index yet) and writes the
	// index, as serve does within 30 s of starting.
	start = time.Now()
	first := episodes.NewService(blobs, episodes.Options{})
	if err := first.Load(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("cold load without index: %v", time.Since(start).Round(time.Millisecond))
	if err := first.WriteIndexes(ctx); err != nil {
		b.Fatal(err)
	}

	for b.Loop() {
		replica := episodes.NewService(blobs, episodes.Options{})
		if err := replica.Load(ctx); err != nil {
			b.Fatal(err)
		}
		if got := replica.EpisodeCount(); got != n {
			b.Fatalf("loaded %d episodes, want %d", got, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/load")
}
