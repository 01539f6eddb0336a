package web

import (
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
)

// uploadTranscript handles POST /studio/:show/:id/transcript: a WebVTT or
// SRT file (multipart field "file"), its language ("language", the show's
// when empty) and the episode's revision. The file is checked
// (episodes.ParseCues), stored and becomes the episode's transcript
// (podcast:transcript); a refused file shows the episode form again with
// the reason, in the page's language.
func (s *Server) uploadTranscript(c *gin.Context) {
	show, id := c.Param("show"), c.Param("id")
	cur, err := s.cfg.Catalog.Episode(show, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	const maxForm = episodes.MaxTranscriptBytes + 64<<10
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxForm)
	if err := c.Request.ParseMultipartForm(maxForm); err != nil {
		s.editFailed(c, cur, formOf(cur), err)
		return
	}
	fh, err := c.FormFile("file")
	if err != nil {
		s.editFailed(c, cur, formOf(cur), &episodes.TranscriptError{Kind: "empty"})
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(c, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, episodes.MaxTranscriptBytes+1))
	f.Close()
	if err != nil {
		s.fail(c, err)
		return
	}
	typ, err := transcriptType(fh.Filename, fh.Header.Get("Content-Type"))
	if err != nil {
		s.editFailed(c, cur, formOf(cur), err)
		return
	}
	rev := c.PostForm("revision")
	if rev == "" {
		rev = cur.Revision
	}
	_, err = s.cfg.Catalog.SetTranscript(c.Request.Context(), show, id, rev,
		episodes.TranscriptFile{Data: data, Type: typ, Language: strings.TrimSpace(c.PostForm("language"))})
	if err != nil {
		s.editFailed(c, cur, formOf(cur), err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "transcript stored", "show", show, "episode_id", id, "host", currentHost(c).Login)
	c.Redirect(http.StatusSeeOther, studioEpisodePath(show, id)+"?done=transcript")
}

// transcriptType is the type of an uploaded transcript, from its
// extension (.vtt, .srt), else from the type the browser sent.
func transcriptType(name, sent string) (string, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".vtt":
		return episodes.TypeWebVTT, nil
	case ".srt":
		return episodes.TypeSRT, nil
	}
	switch strings.ToLower(strings.TrimSpace(strings.Split(sent, ";")[0])) {
	case episodes.TypeWebVTT:
		return episodes.TypeWebVTT, nil
	case episodes.TypeSRT, "application/srt", "text/srt":
		return episodes.TypeSRT, nil
	}
	return "", &episodes.TranscriptError{Kind: "type"}
}

// transcriptProblem is what a host reads of a refused transcript.
func transcriptProblem(te *episodes.TranscriptError) problem {
	switch te.Kind {
	case "timing", "backwards", "header":
		return problem{Status: http.StatusBadRequest, Code: "invalid_transcript", key: "error.transcript." + te.Kind, args: []any{te.Line}}
	case "too_large":
		return problem{Status: http.StatusRequestEntityTooLarge, Code: "invalid_transcript", key: "error.transcript.too_large", args: []any{byteCount(te.Limit)}}
	}
	return problem{Status: http.StatusBadRequest, Code: "invalid_transcript", key: "error.transcript." + te.Kind}
}
