package episodes

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Transcript types a host uploads from the studio: the two formats
// podcast apps show in sync with the audio.
const (
	TypeWebVTT = "text/vtt"
	TypeSRT    = "application/x-subrip"
)

// TranscriptError explains why a transcript file was refused. It matches
// ErrInvalid, so that the web answers 400.
type TranscriptError struct {
	// Kind is one of "type", "empty", "too_large", "encoding", "header",
	// "timing", "backwards" (a cue ends before it starts), "no_cue".
	Kind string
	// Line is the line of the file at fault (from 1), 0 when none.
	Line int
	// Limit is the size limit in bytes, for "too_large".
	Limit int64
}

func (e *TranscriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("transcript refused: %s at line %d", e.Kind, e.Line)
	}
	return "transcript refused: " + e.Kind
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *TranscriptError) Is(target error) bool { return target == ErrInvalid }

// Cue is one timed piece of a transcript.
type Cue struct {
	Start, End time.Duration
	// Text is the cue's text, lines joined by a space, without WebVTT
	// tags (<v Alice>, <i>...).
	Text string
}

// ParseCues reads a WebVTT (TypeWebVTT) or SRT (TypeSRT) transcript and
// returns its cues in file order. It refuses, with a *TranscriptError, a
// file larger than MaxTranscriptBytes, not UTF-8, a WebVTT file without
// its WEBVTT header, a cue whose timing line cannot be read or ends
// before it starts, and a file without any cue. Work is linear in the
// size of data.
func ParseCues(typ string, data []byte) ([]Cue, error) {
	switch {
	case typ != TypeWebVTT && typ != TypeSRT:
		return nil, &TranscriptError{Kind: "type"}
	case len(bytes.TrimSpace(data)) == 0:
		return nil, &TranscriptError{Kind: "empty"}
	case len(data) > MaxTranscriptBytes:
		return nil, &TranscriptError{Kind: "too_large", Limit: MaxTranscriptBytes}
	case !utf8.Valid(data):
		return nil, &TranscriptError{Kind: "encoding"}
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n")
	i := 0
	if typ == TypeWebVTT {
		if first := lines[0]; first != "WEBVTT" && !strings.HasPrefix(first, "WEBVTT ") && !strings.HasPrefix(first, "WEBVTT\t") {
			return nil, &TranscriptError{Kind: "header", Line: 1}
		}
		// Skip the header block (up to the first blank line).
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
	}
	var cues []Cue
	for i < len(lines) {
		// A block: lines up to a blank line.
		for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
			i++
		}
		if i >= len(lines) {
			break
		}
		start := i
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
		block := lines[start:i]
		if typ == TypeWebVTT && isVTTMetaBlock(block[0]) {
			continue
		}
		// The timing line is the first (WebVTT without identifier) or
		// the second (SRT's number, WebVTT's identifier).
		t := 0
		if !strings.Contains(block[0], "-->") {
			t = 1
		}
		if t >= len(block) || !strings.Contains(block[t], "-->") {
			if looksLikeTiming(block[0]) {
				t = 0 // a timing with a broken arrow, not an identifier
			}
			return nil, &TranscriptError{Kind: "timing", Line: start + min(t, len(block)-1) + 1}
		}
		from, to, ok := parseTiming(block[t], typ)
		if !ok {
			return nil, &TranscriptError{Kind: "timing", Line: start + t + 1}
		}
		if to < from {
			return nil, &TranscriptError{Kind: "backwards", Line: start + t + 1}
		}
		var words []string
		for _, l := range block[t+1:] {
			if l = strings.TrimSpace(stripTags(l)); l != "" {
				words = append(words, l)
			}
		}
		cues = append(cues, Cue{Start: from, End: to, Text: strings.Join(words, " ")})
	}
	if len(cues) == 0 {
		return nil, &TranscriptError{Kind: "no_cue"}
	}
	return cues, nil
}

// looksLikeTiming reports whether line starts like a timestamp (a digit,
// then a colon soon after).
func looksLikeTiming(line string) bool {
	line = strings.TrimSpace(line)
	return len(line) > 0 && line[0] >= '0' && line[0] <= '9' && strings.Contains(line[:min(len(line), 4)], ":")
}

func isVTTMetaBlock(first string) bool {
	for _, p := range []string{"NOTE", "STYLE", "REGION"} {
		if first == p || strings.HasPrefix(first, p+" ") || strings.HasPrefix(first, p+"\t") {
			return true
		}
	}
	return false
}

// parseTiming reads "00:01:02.500 --> 00:01:05.000 [settings]" (WebVTT,
// hours optional) or "00:01:02,500 --> 00:01:05,000" (SRT).
func parseTiming(line, typ string) (from, to time.Duration, ok bool) {
	a, b, found := strings.Cut(line, "-->")
	if !found {
		return 0, 0, false
	}
	bf := strings.Fields(b)
	if len(bf) == 0 {
		return 0, 0, false
	}
	from, ok1 := parseTimestamp(strings.TrimSpace(a), typ)
	to, ok2 := parseTimestamp(bf[0], typ)
	return from, to, ok1 && ok2
}

// parseTimestamp reads [hh:]mm:ss.ttt (WebVTT) or hh:mm:ss,ttt (SRT).
func parseTimestamp(s, typ string) (time.Duration, bool) {
	sep := "."
	if typ == TypeSRT {
		sep = ","
	}
	clock, frac, ok := strings.Cut(s, sep)
	if !ok || len(frac) != 3 {
		return 0, false
	}
	parts := strings.Split(clock, ":")
	if len(parts) < 2 || len(parts) > 3 || typ == TypeSRT && len(parts) != 3 {
		return 0, false
	}
	ms, err := strconv.Atoi(frac)
	if err != nil || !allDigits(frac) {
		return 0, false
	}
	var total int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || !allDigits(p) || len(p) < 2 || (i > 0 && (n > 59 || len(p) != 2)) || n > 1_000_000 {
			return 0, false
		}
		total = total*60 + n
	}
	return time.Duration(total)*time.Second + time.Duration(ms)*time.Millisecond, true
}

// allDigits reports whether s is only ASCII digits: strconv.Atoi also
// takes a sign, and "-00:01.000" is no time of a recording.
func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stripTags removes WebVTT's <...> tags and decodes its few entities.
func stripTags(s string) string {
	if strings.ContainsRune(s, '<') {
		var b strings.Builder
		in := false
		for _, r := range s {
			switch {
			case r == '<':
				in = true
			case r == '>' && in:
				in = false
			case !in:
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&nbsp;", " ", "&lrm;", "", "&rlm;", "").Replace(s)
}

// SetTranscript checks a WebVTT or SRT transcript (ParseCues), stores it
// and makes it the episode's transcript (podcast:transcript), replacing
// any previous one, whose object is then removed. language is a BCP 47
// code; the show's language when empty. revision works as in
// UpdateEpisode. Errors: *TranscriptError for a refused file, ErrNotFound,
// ErrConflict; nothing is kept of a refused or conflicting transcript.
func (s *Service) SetTranscript(ctx context.Context, show, id, revision string, tf TranscriptFile) (*Episode, error) {
	typ, _, _ := strings.Cut(tf.Type, ";")
	typ = strings.ToLower(strings.TrimSpace(typ))
	if typ == "application/srt" {
		typ = TypeSRT
	}
	if _, err := ParseCues(typ, tf.Data); err != nil {
		return nil, err
	}
	old, err := s.Episode(show, id)
	if err != nil {
		return nil, err
	}
	if tf.Language == "" {
		if sh, err := s.Show(show); err == nil {
			tf.Language = sh.Language
		}
	}
	if tf.Language != "" {
		if err := CheckLanguage("transcript.language", tf.Language); err != nil {
			return nil, err
		}
	}
	tf.Type = typ
	t, err := s.storeTranscript(ctx, show, &tf)
	if err != nil {
		return nil, err
	}
	e, err := s.UpdateEpisode(ctx, show, id, revision, func(e *Episode) error {
		e.Transcript = t
		return nil
	})
	if err != nil {
		if old.Transcript == nil || old.Transcript.Key != t.Key {
			s.deleteUnreferenced(context.WithoutCancel(ctx), []string{t.Key})
		}
		return nil, err
	}
	if old.Transcript != nil && old.Transcript.Key != t.Key {
		s.deleteUnreferenced(ctx, []string{old.Transcript.Key})
	}
	return e, nil
}
