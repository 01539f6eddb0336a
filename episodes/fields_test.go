package episodes

import (
	"reflect"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
)

func TestFieldsFromTags(t *testing.T) {
	t.Parallel()
	paris := Paris() // embedded zone data: never missing
	pic := &audio.Picture{MIMEType: "image/png", Data: []byte("x")}
	tests := []struct {
		name string
		tags audio.Tags
		want EpisodeFields
	}{
		{"everything", audio.Tags{Title: "T", Comment: "N", Date: "2020-10-02T09:30", Track: 3, Picture: pic,
			Chapters: []audio.Chapter{{Start: 0, Title: "a"}, {Start: time.Minute, Title: "b"}}},
			EpisodeFields{Title: "T", Notes: "N", AiredAt: time.Date(2020, 10, 2, 9, 30, 0, 0, paris), Number: 3, Artwork: pic,
				Chapters: []Chapter{{Start: 0, End: time.Minute, Title: "a"}, {Start: time.Minute, End: 2 * time.Minute, Title: "b"}}}},
		{"date only", audio.Tags{Date: "2020-10-02"}, EpisodeFields{AiredAt: time.Date(2020, 10, 2, 0, 0, 0, 0, paris), DateOnly: true}},
		{"zoned date", audio.Tags{Date: "2020-10-02T07:30:00Z"}, EpisodeFields{AiredAt: time.Date(2020, 10, 2, 7, 30, 0, 0, time.UTC)}},
		{"year", audio.Tags{Date: "2019"}, EpisodeFields{AiredAt: time.Date(2019, 1, 1, 0, 0, 0, 0, paris), DateOnly: true}},
		{"bad date", audio.Tags{Date: "hier"}, EpisodeFields{}},
		{"album when no title", audio.Tags{Album: "Picasoft"}, EpisodeFields{Title: "Picasoft"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FieldsFromTags(tt.tags, 2*time.Minute, paris)
			if !got.AiredAt.Equal(tt.want.AiredAt) {
				t.Errorf("aired: got %v, want %v", got.AiredAt, tt.want.AiredAt)
			}
			got.AiredAt, tt.want.AiredAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
