package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// TestCLIFrench: with a French locale the command line speaks French,
// from the studio's catalogue: the help, the check with the directory
// checklist (each missing item saying why), publish's report. Without
// one, English.
func TestCLIFrench(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Tags: map[string]string{"title": "Les communs"}})

	if out := c.ok("help"); !strings.Contains(out, "upload a recording and publish it") || !strings.Contains(out, "commands:") {
		t.Errorf("help without a locale: want English:\n%s", out)
	}
	if out := c.ok("check", "--no-hash"); !strings.Contains(out, "lvel: not yet ready for Apple Podcasts and Spotify") || !strings.Contains(out, "Apple Podcasts requires it") {
		t.Errorf("check without a locale: want the checklist in English:\n%s", out)
	}

	c.vars["LANG"] = "fr_FR.UTF-8"
	if out := c.ok("help"); !strings.Contains(out, "envoyer un enregistrement et le publier") || !strings.Contains(out, "commandes :") {
		t.Errorf("help in French: got\n%s", out)
	}
	out := c.ok("check", "--no-hash")
	for _, want := range []string{
		"émissions : 1",
		"lvel : pas encore prête pour Apple Podcasts et Spotify, il manque :",
		"Une catégorie : Apple Podcasts l'exige pour classer l'émission",
		"Le courriel du propriétaire : Apple Podcasts et Spotify y envoient le code",
		"tout va bien",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check in French: no %q in\n%s", want, out)
		}
	}
	if _, _, errOut := c.run("publish", "--draft", mp3); !strings.Contains(errOut, "brouillon « Les communs » enregistré") {
		t.Errorf("publish --draft in French: got %q", errOut)
	}
	if code, _, errOut := c.run("nope"); code != 2 || !strings.Contains(errOut, "commande inconnue") {
		t.Errorf("unknown command in French: got %d %q", code, errOut)
	}
	c.vars["LANG"], c.vars["LC_ALL"] = "fr_FR.UTF-8", "C"
	if out := c.ok("help"); !strings.Contains(out, "commands:") {
		t.Errorf("LC_ALL=C: want English:\n%s", out)
	}
}

// TestServeTranscoderMakesOpus: the transcoder antenne serve wires (which
// logs each transcode) still makes the Opus version.
func TestServeTranscoderMakesOpus(t *testing.T) {
	var tr episodes.Transcoder = loggedTranscoder{Transcoder: ffmpeg.New("", 1), log: slog.New(slog.DiscardHandler)}
	if _, ok := tr.(episodes.OpusEncoder); !ok {
		t.Fatal("antenne serve's transcoder hides the Opus encoder: no Opus version would be made")
	}
}
