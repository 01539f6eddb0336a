package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestShowsEditFediverse turns a show's fediverse account off and on and
// sets its hashtags from the command line; a bad value exits 2.
func TestShowsEditFediverse(t *testing.T) {
	c := newCLI(t)
	c.ok("shows", "create", "lvel", "--title", "La Voix est Libre")
	show := func() (off bool, tags []string) {
		var shows []struct {
			Slug         string   `json:"slug"`
			FediverseOff bool     `json:"fediverse_off"`
			Hashtags     []string `json:"hashtags"`
		}
		if err := json.Unmarshal([]byte(c.ok("shows", "list", "--json")), &shows); err != nil || len(shows) != 1 {
			t.Fatalf("shows list --json: %v %+v", err, shows)
		}
		return shows[0].FediverseOff, shows[0].Hashtags
	}
	if off, _ := show(); off {
		t.Fatal("a new show has federation off, want on by default")
	}
	c.ok("shows", "edit", "lvel", "--fediverse=off", "--hashtag", "#Picasoft", "--hashtag", "logiciel_libre")
	if off, tags := show(); !off || !slices.Equal(tags, []string{"Picasoft", "logiciel_libre"}) {
		t.Errorf("after --fediverse=off: off %v, hashtags %q", off, tags)
	}
	c.ok("shows", "edit", "lvel", "--fediverse=on")
	if off, _ := show(); off {
		t.Error("after --fediverse=on the show is still off")
	}
	if code, _, errOut := c.run("shows", "edit", "lvel", "--fediverse=maybe"); code != 2 || !strings.Contains(errOut, "on or off") {
		t.Errorf("--fediverse=maybe: exit %d %q, want 2 naming on or off", code, errOut)
	}
	if code, _, errOut := c.run("shows", "edit", "lvel", "--hashtag", "pas un tag"); code != 1 || !strings.Contains(errOut, "hashtag") {
		t.Errorf("--hashtag with a space: exit %d %q, want 1 naming the hashtag", code, errOut)
	}
}
