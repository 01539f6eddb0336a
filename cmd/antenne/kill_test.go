package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestMain lets the test binary act as antenne itself, for tests that
// must kill a real process.
func TestMain(m *testing.M) {
	if os.Getenv("ANTENNE_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestKillDuringPublish kills `antenne publish` of a large file at several
// points: no episode document may point to a missing object, and after a
// sweep no orphan object remains.
func TestKillDuringPublish(t *testing.T) {
	t.Parallel()
	big := episodestest.BigMP3(t, 150<<20)
	s3cfg := storagetest.S3Config(t)
	// Time one whole publish, then kill others at points spread over it:
	// while receiving, probing, storing the media and writing the document.
	full := newCLI(t)
	full.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	start := time.Now()
	full.ok("publish", big)
	whole := time.Since(start)
	t.Logf("a whole publish of %d MiB takes %v", 150, whole)
	for _, where := range []string{"Dir", "S3"} {
		// part < 0 kills as soon as the media object is stored, just before
		// the document: the window that leaves orphans.
		for i, part := range []float64{0.05, 0.3, 0.6, 0.8, 0.9, 0.97, 1.1, -1} {
			delay := time.Duration(part * float64(whole))
			name := fmt.Sprintf("%s/%.0f%%", where, part*100)
			if part < 0 {
				name = where + "/media-stored"
			}
			t.Run(name, func(t *testing.T) {
				vars := map[string]string{"ANTENNE_DATA_DIR": t.TempDir()}
				var store storage.Store
				if where == "S3" {
					bucket := fmt.Sprintf("antenne-kill-%d-%d", time.Now().UnixNano()%1e9, i)
					vars["ANTENNE_S3_ENDPOINT"] = s3cfg.Endpoint
					vars["ANTENNE_S3_ACCESS_KEY"] = s3cfg.AccessKey
					vars["ANTENNE_S3_SECRET_KEY"] = s3cfg.SecretKey
					vars["ANTENNE_S3_SECURE"] = "false"
					vars["ANTENNE_S3_PATH_STYLE"] = "true"
					vars["ANTENNE_S3_BUCKET"] = bucket
					vars["ANTENNE_S3_CREATE_BUCKET"] = "true"
					cfg := s3cfg
					cfg.Bucket, cfg.CreateBucket = bucket, true
					s, err := storage.NewS3(t.Context(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					store = s
				} else {
					d, err := storage.NewDir(vars["ANTENNE_DATA_DIR"])
					if err != nil {
						t.Fatal(err)
					}
					store = d
				}
				c := &cli{t: t, vars: vars}
				c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")

				cmd := exec.Command(os.Args[0], "publish", big, "--title", "Gros fichier")
				cmd.Env = append(os.Environ(), "ANTENNE_TEST_RUN_MAIN=1", "TMPDIR="+t.TempDir())
				for k, v := range vars {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				if part >= 0 {
					time.Sleep(delay)
				} else {
					waitForMedia(t, store)
				}
				cmd.Process.Kill()
				err := cmd.Wait()
				finished := err == nil

				clk := func() time.Time { return time.Now().Add(2 * time.Hour) }
				svc := episodes.NewService(store, episodes.Options{Now: clk})
				if err := svc.Load(t.Context()); err != nil {
					t.Fatal(err)
				}
				eps, _ := svc.Episodes("lvel", episodes.ListOptions{})
				// Killed before the document, no episode; after it (the
				// process was still exiting), one whole episode, which the
				// check below verifies object by object.
				if len(eps) > 1 || (len(eps) == 1 && part >= 0 && part < 0.5) {
					t.Errorf("after a kill at %v: got %d episodes (publish finished: %v)", delay, len(eps), finished)
				}
				r, err := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Problems) > 0 {
					t.Errorf("after a kill: problems %+v", r.Problems)
				}
				if _, err := svc.Sweep(t.Context()); err != nil {
					t.Fatal(err)
				}
				if r, _ := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true}); !r.OK() {
					t.Errorf("after the sweep: problems %+v, orphans %v", r.Problems, r.Orphans)
				}
				t.Logf("killed: %d orphans swept, finished=%v", len(r.Orphans), finished)
			})
		}
	}
}

// waitForMedia returns once the store holds a media object, or after 30 s.
func waitForMedia(t *testing.T, store storage.Store) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for info, err := range store.List(t.Context(), "shows/lvel/media/") {
			if err == nil && info.Key != "" {
				return
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("no media object appeared within 30 s")
}
