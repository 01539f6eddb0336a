package audio

import (
	"testing"

	"github.com/picasoft/antenne/episodes/episodestest"
)

// What the external tests of this folder (transcode_test.go, which
// exercises episodes/audio/ffmpeg on these fixtures) need of the internal
// test helpers.

// Fixture is a generated recording and what it carries.
type Fixture struct {
	Name, Path                         string
	Tagged, Cover, Chapters, Transcode bool
}

func exported(f fixture) Fixture {
	return Fixture{f.name, f.path, f.tagged, f.cover, f.chapters, f.transcode}
}

func Fixtures(t testing.TB) []Fixture {
	var list []Fixture
	for _, f := range fixtures(t) {
		list = append(list, exported(f))
	}
	return list
}

func FixtureNamed(t testing.TB, name string) Fixture {
	t.Helper()
	return exported(fixtureNamed(t, name))
}

var (
	NeedTool        = episodestest.NeedTool
	FFmpeg          = ffmpeg
	DecodedDuration = decodedDuration
	WAVFile         = wavFile
	WantTags        = wantTags
	WantChapters    = wantChapters
	BenchFile       = benchFile
)
