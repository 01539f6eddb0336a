package episodes

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const sampleVTT = "\ufeffWEBVTT - La Voix est Libre\n\nNOTE made by hand\n\n1\n00:00:01.000 --> 00:00:04.500 align:start\n<v Alice>Bonjour</v> et bienvenue\nsur Graf'hit &amp; ailleurs.\n\n00:01:02.250 --> 00:01:05.000\nLes communs.\n"

const sampleSRT = "1\r\n00:00:01,000 --> 00:00:04,500\r\nBonjour\r\n\r\n2\r\n01:00:02,250 --> 01:00:05,000\r\nFin.\r\n"

func TestParseCues(t *testing.T) {
	cues, err := ParseCues(TypeWebVTT, []byte(sampleVTT))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cue{
		{Start: time.Second, End: 4500 * time.Millisecond, Text: "Bonjour et bienvenue sur Graf'hit & ailleurs."},
		{Start: 62250 * time.Millisecond, End: 65 * time.Second, Text: "Les communs."},
	}
	if len(cues) != len(want) || cues[0] != want[0] || cues[1] != want[1] {
		t.Errorf("WebVTT: got %+v, want %+v", cues, want)
	}
	cues, err = ParseCues(TypeSRT, []byte(sampleSRT))
	if err != nil || len(cues) != 2 || cues[1].Start != time.Hour+2250*time.Millisecond || cues[1].Text != "Fin." {
		t.Errorf("SRT: got %+v, %v", cues, err)
	}
	bad := []struct {
		name, typ, data string
		kind            string
		line            int
	}{
		{"no header", TypeWebVTT, "00:00:01.000 --> 00:00:02.000\nx\n", "header", 1},
		{"comma in WebVTT", TypeWebVTT, "WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nx\n", "timing", 3},
		{"end before start", TypeSRT, "1\n00:00:05,000 --> 00:00:02,000\nx\n", "backwards", 2},
		{"text where a timing goes", TypeSRT, "1\nBonjour\n\n", "timing", 2},
		{"minutes out of range", TypeWebVTT, "WEBVTT\n\n00:61:00.000 --> 00:62:00.000\nx\n", "timing", 3},
		{"negative start", TypeWebVTT, "WEBVTT\n\n-00:01.000 --> 00:02.000\nx\n", "timing", 3},
		{"negative end", TypeSRT, "1\n00:00:01,000 --> -00:00:02,000\nx\n", "timing", 2},
		{"signed seconds", TypeWebVTT, "WEBVTT\n\n00:+1.000 --> 00:02.000\nx\n", "timing", 3},
		{"signed milliseconds", TypeSRT, "1\n00:00:01,+00 --> 00:00:02,000\nx\n", "timing", 2},
		{"no cue", TypeWebVTT, "WEBVTT\n\nNOTE nothing\n", "no_cue", 0},
		{"empty", TypeSRT, "  \n", "empty", 0},
		{"not UTF-8", TypeSRT, "1\n00:00:01,000 --> 00:00:02,000\n\xe9t\xe9\n", "encoding", 0},
		{"other type", "text/html", "<p>x</p>", "type", 0},
		{"too large", TypeSRT, strings.Repeat("1\n00:00:01,000 --> 00:00:02,000\nx\n\n", MaxTranscriptBytes/30), "too_large", 0},
	}
	for _, tt := range bad {
		_, err := ParseCues(tt.typ, []byte(tt.data))
		var te *TranscriptError
		if !errors.As(err, &te) || te.Kind != tt.kind || te.Line != tt.line || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want a %s error at line %d", tt.name, err, tt.kind, tt.line)
		}
	}
}

// FuzzParseCues: any bytes, as WebVTT or SRT, are either refused with a
// *TranscriptError or give cues that start at or after 0 and end at or
// after their start, never a panic.
func FuzzParseCues(f *testing.F) {
	for _, seed := range []string{sampleVTT, sampleSRT, "WEBVTT\n\n-00:01.000 --> 00:02.000\nx\n", "1\n00:00:01,+00 --> 00:00:02,000\nx\n",
		"WEBVTT\n\nNOTE x\n\nSTYLE\n::cue {}\n\n00:00.000 --> 00:01.000\n<v A>a &amp; b</v>\n"} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, data string, vtt bool) {
		typ := TypeSRT
		if vtt {
			typ = TypeWebVTT
		}
		cues, err := ParseCues(typ, []byte(data))
		if err != nil {
			var te *TranscriptError
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want a *TranscriptError", err)
			}
			return
		}
		if len(cues) == 0 {
			t.Fatal("no error and no cue")
		}
		for i, c := range cues {
			if c.Start < 0 || c.End < c.Start {
				t.Fatalf("cue %d: %v --> %v", i, c.Start, c.End)
			}
		}
	})
}
