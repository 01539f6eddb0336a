// Command gencatalog fills a store with a show of many published episodes,
// quickly, for the HTTP benchmarks (bench/feed.sh): documents are written
// through episodes.Service, media are small objects written directly (no
// ingest, no ffmpeg), except one large one for the download benchmark.
//
// usage: gencatalog [-episodes 1000] [-media-size 8388608] [-show lvel] [-base URL]
//
// The store is the one antenne's configuration names: ANTENNE_S3_ENDPOINT,
// ANTENNE_S3_BUCKET, ANTENNE_S3_ACCESS_KEY, ANTENNE_S3_SECRET_KEY (MinIO,
// plain HTTP, path style, bucket created), else the folder ANTENNE_DATA_DIR.
// It prints, one per line: media_key=KEY of the large object and, on S3,
// presigned=URL to download it from the store directly.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/bucket"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("episodes", 1000, "number of published episodes")
	mediaSize := flag.Int64("media-size", 8<<20, "size in bytes of the large media object")
	show := flag.String("show", "lvel", "show slug")
	base := flag.String("base", "http://127.0.0.1:8080", "antenne's base URL, for the show's podcast:guid")
	flag.Parse()
	ctx := context.Background()

	var store bucket.Store
	endpoint := os.Getenv("ANTENNE_S3_ENDPOINT")
	cfg := storage.S3Config{
		Endpoint:     endpoint,
		Bucket:       os.Getenv("ANTENNE_S3_BUCKET"),
		AccessKey:    os.Getenv("ANTENNE_S3_ACCESS_KEY"),
		SecretKey:    os.Getenv("ANTENNE_S3_SECRET_KEY"),
		PathStyle:    true,
		CreateBucket: true,
	}
	if endpoint != "" {
		s3, err := storage.NewS3(ctx, cfg)
		if err != nil {
			return err
		}
		store = s3
	} else {
		dir, err := storage.NewDir(os.Getenv("ANTENNE_DATA_DIR"))
		if err != nil {
			return err
		}
		store = dir
	}

	svc := episodes.NewService(store, episodes.Options{})
	if err := svc.Load(ctx); err != nil {
		return err
	}
	if _, err := svc.CreateShow(ctx, episodes.Show{
		Slug:        *show,
		Title:       "La Voix est Libre",
		Description: "L'émission de Picasoft sur les libertés numériques, chaque vendredi sur Graf'hit.",
		Author:      "Picasoft",
		Owner:       episodes.Owner{Name: "Picasoft", Email: "radio@picasoft.net"},
		Categories:  []episodes.Category{{Name: "Technology"}},
		AirSlot:     &episodes.AirSlot{Weekday: time.Friday, Hour: 9, Minute: 30, Station: "Graf'hit"},
	}, *base+"/"+*show+"/feed.xml"); err != nil {
		return err
	}

	start := time.Now().Add(-time.Duration(*n+1) * 24 * time.Hour)
	for i := range *n {
		key := fmt.Sprintf("shows/%s/media/episode-%04d.mp3", *show, i)
		body := bytes.Repeat([]byte{byte(i)}, 2048)
		if _, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "audio/mpeg"); err != nil {
			return err
		}
		if _, err := svc.CreateEpisode(ctx, &episodes.Episode{
			Show:  *show,
			Title: fmt.Sprintf("Épisode %d : les communs, le libre & la vie privée", i+1),
			Notes: fmt.Sprintf("Dans cet épisode n°**%d**, on parle de [Picasoft](https://picasoft.net), des *communs* "+
				"et de la vie privée en ligne.\n\n## Au programme\n\n- les CHATONS\n- le chiffrement\n- les licences libres\n\n"+
				"Musique : artiste libre sous CC BY-SA.", i+1),
			AiredAt:   start.Add(time.Duration(i) * 24 * time.Hour),
			PublishAt: start.Add(time.Duration(i)*24*time.Hour + time.Hour),
			Number:    i + 1,
			Persons:   []episodes.Person{{Name: "Alice", Role: "host"}, {Name: "Bob", Role: "guest"}},
			Media:     episodes.Media{Key: key, Type: "audio/mpeg", Size: int64(len(body)), Duration: 45 * time.Minute},
		}); err != nil {
			return err
		}
	}

	big := make([]byte, *mediaSize)
	rand.Read(big)
	key := fmt.Sprintf("shows/%s/media/large.mp3", *show)
	if _, err := store.Put(ctx, key, bytes.NewReader(big), int64(len(big)), "audio/mpeg"); err != nil {
		return err
	}
	if _, err := svc.CreateEpisode(ctx, &episodes.Episode{
		Show: *show, Title: "Le grand épisode", PublishAt: time.Now().Add(-time.Minute),
		Media: episodes.Media{Key: key, Type: "audio/mpeg", Size: int64(len(big)), Duration: 45 * time.Minute},
	}); err != nil {
		return err
	}
	fmt.Println("media_key=" + key)
	if endpoint != "" {
		c, err := minio.New(endpoint, &minio.Options{
			Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Region:       "us-east-1",
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return err
		}
		u, err := c.PresignedGetObject(ctx, cfg.Bucket, key, 24*time.Hour, url.Values{})
		if err != nil {
			return err
		}
		fmt.Println("presigned=" + u.String())
	}
	return nil
}
