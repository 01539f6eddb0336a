package audio

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestProbeFixtures(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			p, err := Probe(t.Context(), f.path)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			data, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			checks := []struct {
				what      string
				got, want any
			}{
				{"format", p.Format, f.format},
				{"codec", p.Codec, f.codec},
				{"sample rate", p.SampleRate, f.sampleRate},
				{"channels", p.Channels, f.channels},
				{"MP3 header", p.MP3Header, f.mp3Header},
				{"VBR", p.VBR, f.vbr},
				{"size", p.Size, int64(len(data))},
				{"sha256", p.SHA256, hex.EncodeToString(sum[:])},
				{"needs transcode", p.NeedsTranscode(), f.transcode},
				{"truncated", p.Truncated, false},
				{"cover", p.Picture != nil, f.cover},
				{"bits per sample", p.BitsPerSample, f.bits},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
				}
			}
			want := decodedDuration(t, f.path)
			if d := p.Duration - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("duration: got %v, want %v (ffmpeg's decoded duration) within 50ms", p.Duration, want)
			}
			switch {
			case p.Bitrate <= 0:
				t.Errorf("bitrate: got %d, want > 0", p.Bitrate)
			case f.bitrate > 0 && !f.approx && p.Bitrate != f.bitrate:
				t.Errorf("bitrate: got %d, want %d", p.Bitrate, f.bitrate)
			case f.approx && (p.Bitrate < f.bitrate*3/4 || p.Bitrate > f.bitrate*5/4):
				t.Errorf("bitrate: got %d, want %d within 25%%", p.Bitrate, f.bitrate)
			}
			if f.tagged {
				got := p.Tags
				got.Picture, got.Chapters = nil, nil
				if !reflect.DeepEqual(got, wantTags) {
					t.Errorf("tags:\ngot  %+v\nwant %+v", got, wantTags)
				}
			}
			if f.cover {
				png, _ := os.ReadFile(fixtureDir + "/cover.png")
				if p.Picture.MIMEType != "image/png" || !reflect.DeepEqual(p.Picture.Data, png) {
					t.Errorf("cover: got %s of %d bytes, want the image/png of %d bytes", p.Picture.MIMEType, len(p.Picture.Data), len(png))
				}
			}
			if f.chapters {
				got := p.Tags.ChaptersUntil(3 * time.Second)
				if !reflect.DeepEqual(got, wantChapters) {
					t.Errorf("chapters:\ngot  %+v\nwant %+v", got, wantChapters)
				}
			}
		})
	}
}

func TestProbeID3v1(t *testing.T) {
	p, err := Probe(t.Context(), fixtureNamed(t, "id3v1.mp3").path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Vieux tag" || p.Artist != "Picasoft" || p.Date != "2019" || p.Track != 7 {
		t.Errorf("ID3v1 title, artist, date, track: got %q, %q, %q, %d, want %q, %q, %q, %d",
			p.Title, p.Artist, p.Date, p.Track, "Vieux tag", "Picasoft", "2019", 7)
	}
}

func TestProbeRefusesNonAudio(t *testing.T) {
	dir := t.TempDir()
	png, err := os.ReadFile(fixtureNamed(t, "cbr-info.mp3").path)
	_ = png
	if err != nil {
		t.Fatal(err)
	}
	cover, err := os.ReadFile(fixtureDir + "/cover.png")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want FileKind
	}{
		{"empty", nil, KindEmpty},
		{"png", cover, KindPNG},
		{"text", []byte("Bonjour, voici les notes de l'émission.\n"), KindText},
		{"html", []byte("<!DOCTYPE html><html><body>404</body></html>"), KindHTML},
		{"pdf", []byte("%PDF-1.7\n\x00\x01\x02"), KindPDF},
		{"random", randomBytes(1 << 16), KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dir + "/" + tt.name + ".mp3"
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Probe(t.Context(), path)
			if !errors.Is(err, ErrUnsupportedAudio) {
				t.Fatalf("got %v, want ErrUnsupportedAudio", err)
			}
			var u *UnsupportedAudioError
			if !errors.As(err, &u) || u.Kind != tt.want {
				t.Fatalf("got %v, want kind %q", err, tt.want)
			}
		})
	}
}

// randomBytes is deterministic noise.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
