package main

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web"
)

// progressBar draws one line of progress on a terminal, for work that
// takes more than a second: the stage, a bar, the percentage and the time
// left in the stage.
type progressBar struct {
	w       io.Writer
	enabled bool

	mu         sync.Mutex
	start      time.Time
	stage      string
	stageStart time.Time
	// lang is the language of the stage names and of "left" ("" is
	// English).
	lang  string
	last  time.Time
	shown bool
}

const (
	progressDelay = time.Second
	progressEvery = 100 * time.Millisecond
	progressWidth = 30
)

// newProgressBar draws on w when enabled (w is a terminal).
func newProgressBar(w io.Writer, enabled bool) *progressBar {
	now := time.Now()
	return &progressBar{w: w, enabled: enabled, start: now, stageStart: now}
}

// update reports that done (0 to 1) of stage is done. It is safe for
// concurrent use.
func (p *progressBar) update(stage string, done float64) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if stage != p.stage {
		p.stage, p.stageStart = stage, now
	}
	if now.Sub(p.start) < progressDelay || (now.Sub(p.last) < progressEvery && done < 1) {
		return
	}
	p.last = now
	p.shown = true
	done = min(max(done, 0), 1)
	filled := int(done * progressWidth)
	left := "--:--"
	if elapsed := now.Sub(p.stageStart); done > 0.01 && elapsed > 0 {
		remaining := time.Duration(float64(elapsed) * (1 - done) / done)
		left = episodes.FormatDuration(remaining)
	}
	lang := cmp.Or(p.lang, "en")
	name := stage
	if key := "cli.stage." + stage; web.HasMessage(key) {
		name = web.Message(lang, key)
	}
	fmt.Fprint(p.w, "\r\033[K"+web.Message(lang, "cli.progress", name,
		strings.Repeat("=", filled)+strings.Repeat(" ", progressWidth-filled), done*100, left))
}

// finish clears the line if anything was drawn.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// progressReader reports the bytes read from r out of size.
type progressReader struct {
	r     io.Reader
	size  int64
	read  int64
	stage string
	bar   *progressBar
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.size > 0 {
		p.bar.update(p.stage, float64(p.read)/float64(p.size))
	}
	return n, err
}
