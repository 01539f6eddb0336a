package feed

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/picasoft/antenne/episodes"
)

// ChaptersType is the MIME type of JSON chapters, for podcast:chapters and
// the Content-Type of chapters.json.
const ChaptersType = "application/json+chapters"

// jsonChapters is the Podcasting 2.0 JSON chapters document, version 1.2.0:
// https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md
type jsonChapters struct {
	Version     string        `json:"version"`
	Title       string        `json:"title,omitempty"`
	PodcastName string        `json:"podcastName,omitempty"`
	Chapters    []jsonChapter `json:"chapters"`
}

type jsonChapter struct {
	StartTime float64 `json:"startTime"`
	EndTime   float64 `json:"endTime,omitempty"`
	Title     string  `json:"title,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// ChaptersJSON renders the episode's chapters as a Podcasting 2.0 JSON
// chapters document (version 1.2.0), the body of
// Links.Chapters(show, episode): {"version":"1.2.0","title":...,
// "podcastName":...,"chapters":[{"startTime":0,"title":...},...]}.
// Times are in seconds, with millisecond precision; chapters come sorted by
// start time (stable); endTime and url appear when set. An episode without
// chapters gives an empty list, not an error. The output ends with a
// newline and is deterministic. show may be nil (no podcastName).
func ChaptersJSON(show *episodes.Show, ep *episodes.Episode) ([]byte, error) {
	if ep == nil {
		return nil, fmt.Errorf("chapters: no episode")
	}
	doc := jsonChapters{Version: "1.2.0", Title: xmlText(ep.Title), Chapters: []jsonChapter{}}
	if show != nil {
		doc.PodcastName = xmlText(show.Title)
	}
	chs := slices.Clone(ep.Chapters)
	slices.SortStableFunc(chs, func(a, b episodes.Chapter) int { return cmp.Compare(a.Start, b.Start) })
	for _, c := range chs {
		if c.Start < 0 {
			return nil, fmt.Errorf("chapters of episode %q: chapter %q starts at %v", ep.ID, c.Title, c.Start)
		}
		jc := jsonChapter{StartTime: millis(c.Start.Seconds()), Title: xmlText(c.Title), URL: webURL(c.URL)}
		if c.End > c.Start {
			jc.EndTime = millis(c.End.Seconds())
		}
		doc.Chapters = append(doc.Chapters, jc)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("chapters of episode %q: %w", ep.ID, err)
	}
	return buf.Bytes(), nil
}

// millis rounds seconds to the millisecond.
func millis(s float64) float64 {
	return float64(int64(s*1000+0.5)) / 1000
}
