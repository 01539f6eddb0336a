package web

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/storage/storagetest"
)

// fixture is a site whose show has artwork and five episodes: three
// published (an MP3 with chapters, notes, hosts and a guest; an M4A; a
// Mumble WAV transcoded to MP3, whose original is kept and published), a draft and one
// scheduled an hour after the site's clock.
type fixture struct {
	*site
	mp3, m4a, wav, draft, scheduled *episodes.Episode
}

func newFixture(t testing.TB, store storagetest.Store, o siteOptions) *fixture {
	t.Helper()
	s := newSite(t, store, o)
	ctx := context.Background()
	if _, err := s.svc.SetShowArtwork(ctx, s.show, "", squarePNG(t)); err != nil {
		t.Fatal(err)
	}
	// The show publishes its originals (private by default), so that
	// the tests see them: TestOriginalsPrivateByDefault turns it off.
	if _, err := s.svc.UpdateShow(ctx, s.show, "", func(sh *episodes.Show) error { sh.OriginalsPublic = true; return nil }); err != nil {
		t.Fatal(err)
	}
	f := &fixture{site: s}
	f.mp3 = s.ingest("mp3", 440, episodes.Upload{
		Title:     "Vie privée & <script>alert(1)</script>",
		Notes:     "Les **logiciels libres** et la vie privée.\n\n- un\n- deux",
		AiredAt:   time.Date(2021, 2, 5, 9, 30, 0, 0, time.UTC),
		PublishAt: s.clock.Now(),
		Persons: []episodes.Person{
			{Name: "Alice", Role: episodes.RoleHost},
			{Name: "Bob <b>", Role: episodes.RoleGuest},
		},
	})
	vtt := []byte("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nBonjour et bienvenue.\n")
	const vttKey = "shows/lvel/transcripts/vie-privee.vtt"
	if _, err := store.Put(ctx, vttKey, bytes.NewReader(vtt), int64(len(vtt)), "text/vtt"); err != nil {
		t.Fatal(err)
	}
	var err error
	f.mp3, err = s.svc.UpdateEpisode(ctx, s.show, f.mp3.ID, "", func(e *episodes.Episode) error {
		e.Chapters = []episodes.Chapter{{Start: 0, Title: "Intro"}, {Start: time.Second, Title: "Sujet"}}
		e.Transcript = &episodes.Transcript{Key: vttKey, Type: "text/vtt", Language: "fr"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Add(time.Minute)
	f.m4a = s.ingest("m4a", 523, episodes.Upload{Title: "Les communs", AiredAt: time.Date(2021, 2, 12, 9, 30, 0, 0, time.UTC), PublishAt: s.clock.Now()})
	s.clock.Add(time.Minute)
	f.wav = s.ingest("wav", 660, episodes.Upload{Title: "Enregistrement Mumble", AiredAt: time.Date(2021, 2, 19, 9, 30, 0, 0, time.UTC), PublishAt: s.clock.Now()})
	s.clock.Add(time.Minute)
	f.draft = s.ingest("mp3", 880, episodes.Upload{Title: "Brouillon"})
	f.scheduled = s.ingest("m4a", 990, episodes.Upload{Title: "Programmé", PublishAt: s.clock.Now().Add(time.Hour)})
	if f.wav.Original == nil {
		t.Fatalf("the WAV was not transcoded: %+v", f.wav.Media)
	}
	return f
}

// forStores runs fn on a fixture over each store (Dir, and S3 when the
// test MinIO is there).
func forStores(t *testing.T, o siteOptions, fn func(t *testing.T, f *fixture)) {
	storagetest.Run(t, func(t *testing.T, store storagetest.Store) {
		fn(t, newFixture(t, store, o))
	})
}
