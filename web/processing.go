package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
)

// The processing of uploaded recordings (episodes' ingest jobs), as the
// API and the studio show it:
//
//	POST /api/v1/shows/:show/episodes/:id/retry   queue a failed job again (202)
//	GET  /studio/:show/:id/progress               the job's state, as JSON for studio.js
//	POST /studio/:show/:id/retry                  the studio's retry button

// processingJSON is the processing of an episode's recording in the API.
type processingJSON struct {
	// State is queued, running, failed or done.
	State episodes.JobState `json:"state"`
	// Progress is the percentage done, 0 to 100.
	Progress int `json:"progress"`
	// Error says why processing failed (state failed), else null.
	Error *processingError `json:"error"`
}

type processingError struct {
	Code    string `json:"code"`    // episodes.Failure* key
	Message string `json:"message"` // in English: the catalogue's text of the key, and the reason
}

func (s *Server) processingJSON(e *episodes.Episode) processingJSON {
	js := s.cfg.Catalog.JobStatus(e)
	j := processingJSON{State: js.State, Progress: percent(js.Progress)}
	if f := js.Failure; f != nil {
		j.Error = &processingError{Code: f.Key, Message: failureMessage(langEN, f)}
	}
	return j
}

// percent is a fraction as a whole percentage, rounded down so that 100
// means done.
func percent(f float64) int { return int(math.Floor(math.Max(0, math.Min(f, 1)) * 100)) }

// episodeLocation is the API URL of an episode, for Location headers.
func episodeLocation(show, id string) string {
	return "/api/v1/shows/" + url.PathEscape(show) + "/episodes/" + url.PathEscape(id)
}

// answerAccepted answers 202 with the episode and where to follow it.
func (s *Server) answerAccepted(c *gin.Context, e *episodes.Episode) {
	c.Header("Location", episodeLocation(e.Show, e.ID))
	s.answerEpisode(c, http.StatusAccepted, e)
}

func (s *Server) apiRetry(c *gin.Context) {
	e, err := s.cfg.Catalog.RetryJob(c.Request.Context(), c.Param("show"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "episode processing retried", "show", e.Show, "episode_id", e.ID, "host", currentHost(c).Login)
	s.answerAccepted(c, e)
}

// progressJSON is what studio.js polls: the job's state and the text to
// show, in the page's language.
type progressJSON struct {
	Processing processingJSON  `json:"processing"`
	Status     episodes.Status `json:"status"`
	Label      string          `json:"label"`
	PublicURL  string          `json:"public_url,omitempty"`
}

// processingLabel is the text a host reads of an episode's state: "en
// attente", "traitement 37 %", "échec : …", else its status.
func (s *Server) processingLabel(lang string, e *episodes.Episode) string {
	js := s.cfg.Catalog.JobStatus(e)
	switch js.State {
	case episodes.JobQueued:
		return tr(lang, "job.queued")
	case episodes.JobRunning:
		return tr(lang, "job.running", percent(js.Progress))
	case episodes.JobFailed:
		return tr(lang, "job.failed", failureMessage(lang, js.Failure))
	}
	return tr(lang, "status."+string(e.Status(s.cfg.Catalog.Now())))
}

// failureMessage is the host's message for a failed job: the
// catalogue's text for its key, then the recording's reason (English)
// when there is one. Nothing else of the error is stored or shown.
func failureMessage(lang string, f *episodes.Failure) string {
	msg := msgKey{key: "job.failure." + f.Key, fallback: tr(lang, "error.internal")}.in(lang)
	if f.Reason != "" {
		msg += " (" + f.Reason + ")"
	}
	return msg
}

func (s *Server) studioProgress(c *gin.Context) {
	e, err := s.cfg.Catalog.Episode(c.Param("show"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	st := e.Status(s.cfg.Catalog.Now())
	p := progressJSON{Processing: s.processingJSON(e), Status: st, Label: s.processingLabel(langOf(c), e)}
	if st == episodes.Published {
		p.PublicURL = episodePath(e.Show, e.Slug)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, p)
}

func (s *Server) studioRetry(c *gin.Context) {
	show, id := c.Param("show"), c.Param("id")
	cur, err := s.cfg.Catalog.Episode(show, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.cfg.Catalog.RetryJob(c.Request.Context(), show, id); err != nil {
		s.editFailed(c, cur, formOf(cur), err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "episode processing retried", "show", show, "episode_id", id, "host", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, studioEpisodePath(show, id)+"?done=retry")
}

// progressPath is the studio's progress URL of an episode.
func progressPath(show, id string) string {
	return fmt.Sprintf("%s/progress", studioEpisodePath(show, id))
}
