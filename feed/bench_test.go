package feed

import (
	"io"
	"testing"
)

// BenchmarkWrite1000 generates the feed of a show with 1,000 published
// episodes (target: under 50 ms per feed), with the show notes already
// rendered (warm: the feed is rebuilt after an edit) and not (cold: the
// first build after start).
func BenchmarkWrite1000(b *testing.B) {
	for _, bc := range []struct {
		name string
		cold bool
	}{{"warm", false}, {"cold", true}} {
		b.Run(bc.name, func(b *testing.B) {
			show, eps := manyEpisodes(1000)
			// Every episode has its own notes, as in a real show.
			for i, ep := range eps {
				ep.Notes = ep.Title + "\n\n" + ep.Notes + "\n\nÉpisode n°" + string(rune('0'+i%10))
			}
			opts := testOptions(b)
			if err := Write(io.Discard, show, eps, opts); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if bc.cold {
					forgetNotes()
				}
				if err := Write(io.Discard, show, eps, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
