package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// badInput is one file of the bad-input corpus.
type badInput struct {
	name string
	data []byte
	// decodable is true when ffmpeg decodes some audio from the file, so
	// that a result must match ffmpeg's duration.
	decodable bool
	// maxDuration, when set, bounds the duration of a result: audio
	// followed by garbage lasts no longer than the audio.
	maxDuration time.Duration
}

// badCorpus builds the corpus: truncations of every fixture, hostile
// headers and garbage.
func badCorpus(t *testing.T) []badInput {
	var corpus []badInput
	for _, f := range fixtures(t) {
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 4, 11, 27, 100, 1000, len(data) / 2, len(data) - 1} {
			corpus = append(corpus, badInput{name: fmt.Sprintf("%s-cut-%d", f.name, n), data: data[:n], decodable: n == len(data)/2})
		}
		// A valid start followed by garbage.
		garbage := append(append([]byte{}, data[:len(data)/3]...), randomBytes(len(data))...)
		in := badInput{name: f.name + "-garbage", data: garbage}
		if f.format == FormatMP3 {
			in.maxDuration = 1100 * time.Millisecond
		}
		corpus = append(corpus, in)
		// Flipped bytes all over.
		flipped := append([]byte{}, data...)
		for i := 7; i < len(flipped); i += 97 {
			flipped[i] ^= 0x5a
		}
		corpus = append(corpus, badInput{name: f.name + "-flipped", data: flipped})
	}
	mp3, err := os.ReadFile(fixtureNamed(t, "bare.mp3").path)
	if err != nil {
		t.Fatal(err)
	}
	// ID3 headers claiming huge tags: the largest synchsafe size (256 MiB)
	// and raw 0xff bytes (2-4 GB if read as a plain integer).
	corpus = append(corpus,
		badInput{name: "id3-256MiB", data: append([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), mp3...)},
		badInput{name: "id3-2GB", data: append([]byte("ID3\x03\x00\x00\x7f\xff\xff\xff"), mp3...)},
		badInput{name: "id3-only", data: []byte("ID3\x04\x00\x00\x00\x00\x00\x0aTIT2\x00\x00\x00\x00\x00\x00")},
	)
	// FLAC with a huge metadata block, and the tiny FLAC whose picture
	// and comment lengths make naive readers allocate gigabytes.
	var huge bytes.Buffer
	huge.WriteString("fLaC")
	huge.Write([]byte{0x00, 0, 0, 34})
	huge.Write(bytes.Repeat([]byte{0x11}, 34))
	huge.Write([]byte{0x86, 0xff, 0xff, 0xff})
	huge.Write(randomBytes(100))
	corpus = append(corpus, badInput{name: "flac-huge-block", data: huge.Bytes()})
	var bomb bytes.Buffer
	bomb.WriteString("fLaC")
	streaminfo := make([]byte, 34)
	binary.BigEndian.PutUint64(streaminfo[10:], 44100<<44|1<<41|15<<36|44100)
	bomb.Write([]byte{0x00, 0, 0, 34})
	bomb.Write(streaminfo)
	bomb.Write([]byte{0x04, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // vendor length 4 GiB
	bomb.Write([]byte{0x86, 0, 0, 12, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	bomb.Write([]byte{0xff, 0xf8, 0x69, 0x08, 0x00})
	corpus = append(corpus, badInput{name: "flac-alloc-bomb", data: bomb.Bytes()})
	// Hostile MP4: a moov claiming 4 GiB, sample tables claiming billions.
	corpus = append(corpus,
		badInput{name: "mp4-moov-4GiB", data: append([]byte("\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A \xff\xff\xff\xffmoov"), randomBytes(64)...)},
		badInput{name: "mp4-no-moov", data: []byte("\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A \x00\x00\x00\x10mdat\x00\x00\x00\x00\x00\x00\x00\x00")},
		badInput{name: "wav-no-data", data: wavFile(1, 48000, 24, nil)[:36]},
		badInput{name: "wav-zero-channels", data: wavFile(0, 48000, 24, make([]byte, 300))},
		badInput{name: "wav-huge-data", data: func() []byte {
			w := wavFile(1, 48000, 16, make([]byte, 4800))
			binary.LittleEndian.PutUint32(w[40:], 0x7fffffff)
			return w
		}()},
		badInput{name: "ogg-header-only", data: []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e\x01vorbis")},
		badInput{name: "zero-bytes", data: nil},
		badInput{name: "random", data: randomBytes(1 << 20)},
		badInput{name: "zeros", data: make([]byte, 1<<20)},
		badInput{name: "sync-bytes", data: bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x64}, 1<<14)},
	)
	return corpus
}

// TestBadInput checks that every file of the bad-input corpus gives a
// clear error or a correct partial result, without a panic, a hang or
// more than 64 MiB of allocations.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, in := range badCorpus(t) {
		t.Run(in.name, func(t *testing.T) {
			path := filepath.Join(dir, in.name+".mp3")
			if err := os.WriteFile(path, in.data, 0o644); err != nil {
				t.Fatal(err)
			}
			type result struct {
				p     *ProbeResult
				err   error
				alloc uint64
			}
			done := make(chan result, 1)
			go func() {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				p, err := Probe(t.Context(), path)
				runtime.ReadMemStats(&after)
				// Allocations, plus stack growth (deep recursion).
				alloc := after.TotalAlloc - before.TotalAlloc
				if after.StackSys > before.StackSys {
					alloc += after.StackSys - before.StackSys
				}
				done <- result{p, err, alloc}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("Probe did not return within 20s")
			}
			if r.alloc > 64<<20 {
				t.Errorf("allocated %d MiB, want at most 64", r.alloc>>20)
			}
			t.Logf("alloc %d KiB, err %v", r.alloc>>10, r.err)
			if r.err != nil {
				if !errors.Is(r.err, ErrUnsupportedAudio) {
					t.Errorf("got error %v, want one wrapping ErrUnsupportedAudio", r.err)
				}
				return
			}
			t.Logf("duration %v truncated %v", r.p.Duration, r.p.Truncated)
			if r.p.Duration <= 0 || r.p.SampleRate <= 0 || r.p.Channels <= 0 {
				t.Errorf("got duration %v, rate %d, channels %d, want all > 0", r.p.Duration, r.p.SampleRate, r.p.Channels)
			}
			if in.maxDuration > 0 && r.p.Duration > in.maxDuration {
				t.Errorf("duration: got %v, want at most %v", r.p.Duration, in.maxDuration)
			}
			if in.decodable {
				want := decodedDuration(t, path)
				if d := r.p.Duration - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
					t.Errorf("duration: got %v, want %v (ffmpeg's) within 50ms", r.p.Duration, want)
				}
			}
		})
	}
}

// TestTruncatedMP3 is the case of a VBR MP3 whose Xing header claims more
// than the file holds: the duration is what the file holds.
func TestTruncatedMP3(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "long.mp3")
	ffmpeg(t, "-f", "lavfi", "-i", "aevalsrc=sin(440*2*PI*t)*(0.2+0.7*mod(t\\,1)):s=44100:d=30", "-c:a", "libmp3lame", "-q:a", "4", src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.mp3")
	if err := os.WriteFile(cut, data[:len(data)*7/30], 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Probe(t.Context(), cut)
	if err != nil {
		t.Fatal(err)
	}
	want := decodedDuration(t, cut)
	if d := p.Duration - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("duration: got %v, want %v within 50ms", p.Duration, want)
	}
	if !p.Truncated {
		t.Errorf("truncated: got false, want true")
	}
}

// TestMP4NestedTagBoxes feeds the tag reader a moov whose ilst holds a
// million nested ilst boxes: dhowden/tag would recurse once per box.
func TestMP4NestedTagBoxes(t *testing.T) {
	const depth = 1 << 20
	ilst := make([]byte, 0, 8*depth)
	for i := range depth {
		ilst = binary.BigEndian.AppendUint32(ilst, uint32(8*(depth-i)))
		ilst = append(ilst, "ilst"...)
	}
	box := func(typ string, payload []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(payload)))
		return append(append(b, typ...), payload...)
	}
	moov := box("udta", box("meta", append([]byte{0, 0, 0, 0}, ilst...)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, _ := readTags(bytes.NewReader(nil), 0, FormatM4A, moov, flacMeta{}, nil)
	runtime.ReadMemStats(&after)
	if !reflect.DeepEqual(got, Tags{}) {
		t.Errorf("got %+v, want no tags", got)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("allocated %d MiB, want at most 64", n>>20)
	}
	// Deep recursion shows in stack memory, not in allocations.
	if n := int64(after.StackSys) - int64(before.StackSys); n > 16<<20 {
		t.Errorf("stack grew by %d MiB, want at most 16", n>>20)
	}
}
