package audio

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

// addSeeds seeds a fuzz target with the fixtures (their first 12 KiB and
// last 4 KiB, for the parsers that read the end; small seeds keep the
// fuzzer fast) and the bad-input corpus's hostile headers.
func addSeeds(f *testing.F, formats ...Format) {
	if isFuzzWorker() {
		// Seeds are read by the coordinating process only: a worker,
		// which the fuzzer restarts often, need not run ffmpeg.
		return
	}
	for _, fx := range fixtures(f) {
		if len(formats) > 0 && !bytes.Contains([]byte(joinFormats(formats)), []byte("|"+string(fx.format)+"|")) {
			continue
		}
		data, err := os.ReadFile(fx.path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 16<<10 {
			data = append(append([]byte{}, data[:12<<10]...), data[len(data)-4<<10:]...)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"))
	f.Add([]byte("fLaC\x86\xff\xff\xff"))
	f.Add([]byte("\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A \xff\xff\xff\xffmoov"))
	f.Add(wavFile(1, 48000, 24, make([]byte, 30)))
}

// isFuzzWorker reports whether this process is a worker of `go test -fuzz`.
func isFuzzWorker() bool {
	w := flag.Lookup("test.fuzzworker")
	return w != nil && w.Value.String() == "true"
}

func joinFormats(fs []Format) string {
	s := "|"
	for _, f := range fs {
		s += string(f) + "|"
	}
	return s
}

// checkInfo checks the invariants of a parser's result.
func checkInfo(t *testing.T, info AudioInfo, err error) {
	t.Helper()
	if err != nil {
		return
	}
	if info.Duration < 0 || info.Bitrate < 0 || info.SampleRate < 0 || info.Channels < 0 {
		t.Fatalf("negative values in %+v", info)
	}
}

func FuzzSniff(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("Bonjour"))
	f.Fuzz(func(t *testing.T, b []byte) {
		format, err := Sniff(bytes.NewReader(b), int64(len(b)))
		if err == nil && format == "" {
			t.Fatal("no format and no error")
		}
		if err != nil && format != "" {
			t.Fatalf("format %q with error %v", format, err)
		}
	})
}

func FuzzMP3(f *testing.F) {
	addSeeds(f, FormatMP3)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseMP3(bytes.NewReader(b), int64(len(b)))
		checkInfo(t, info, err)
	})
}

func FuzzMP4(f *testing.F) {
	addSeeds(f, FormatM4A)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseMP4(bytes.NewReader(b), int64(len(b)))
		checkInfo(t, info, err)
	})
}

func FuzzFLAC(f *testing.F) {
	addSeeds(f, FormatFLAC)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseFLAC(bytes.NewReader(b), int64(len(b)))
		checkInfo(t, info, err)
	})
}

func FuzzOgg(f *testing.F) {
	addSeeds(f, FormatOgg, FormatOpus)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseOgg(bytes.NewReader(b), int64(len(b)))
		checkInfo(t, info, err)
	})
}

func FuzzWAV(f *testing.F) {
	addSeeds(f, FormatWAV)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseWAV(bytes.NewReader(b), int64(len(b)))
		checkInfo(t, info, err)
	})
}

// FuzzProbe runs the whole probe, tags included (dhowden/tag behind our
// size caps).
func FuzzProbe(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ProbeReader(bytes.NewReader(b), int64(len(b)))
		if err == nil {
			checkInfo(t, p.AudioInfo, nil)
			p.Tags.ChaptersUntil(p.Duration)
		}
	})
}

func FuzzID3Chapters(f *testing.F) {
	f.Add([]byte("ch0\x00\x00\x00\x00\x00\x00\x00\x03\xe8\xff\xff\xff\xff\xff\xff\xff\xffTIT2\x00\x00\x00\x0e\x00\x00\x00Introduction\x00"), true)
	f.Add([]byte("ch1\x00\x00\x00\x03\xe8\x00\x00\t\xc4\xff\xff\xff\xff\xff\xff\xff\xffTIT2\x00\x00\x00\x09\x00\x00\x01\xff\xfeE\x00n\x00\x00\x00"), false)
	f.Fuzz(func(t *testing.T, b []byte, synchsafe bool) {
		c, ok := parseCHAP(b, synchsafe)
		if ok && c.Start < 0 {
			t.Fatalf("negative start %v", c.Start)
		}
		parseCTOC(b)
	})
}
