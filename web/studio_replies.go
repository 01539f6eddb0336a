package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/federation"
)

// The moderation of listeners' replies, for the hosts of a show:
//
//	GET  /studio/:show/replies   the replies of every published episode,
//	                             with the blocks and the approval setting
//	POST /studio/:show/replies   action=approval (approval=on|""),
//	                             approve|hide|unhide (episode, id),
//	                             block|unblock (who: account URL or domain)

// repliesPage is the view of templates/studio_replies.html.
type repliesPage struct {
	Show       *episodes.Show
	Moderation federation.Moderation
	Episodes   []episodeReplies
	Error      string
}

type episodeReplies struct {
	Episode *episodes.Episode
	Thread  federation.Thread
	Replies []replyView
}

func (s *Server) studioReplies(c *gin.Context) {
	f := s.cfg.Federation
	sh, err := s.cfg.Catalog.Show(c.Param("show"))
	if err != nil || f == nil {
		s.notFound(c)
		return
	}
	ctx := c.Request.Context()
	page := repliesPage{Show: sh}
	if page.Moderation, err = f.ModerationOf(ctx, sh.Slug); err != nil {
		s.fail(c, err)
		return
	}
	eps, err := s.cfg.Catalog.Episodes(sh.Slug, episodes.ListOptions{Status: episodes.Published})
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, e := range eps {
		th, err := f.ThreadForHosts(ctx, sh.Slug, e.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		if len(th.Replies) == 0 && th.Likes == 0 && th.Boosts == 0 {
			continue
		}
		er := episodeReplies{Episode: e, Thread: th}
		for _, r := range th.Replies {
			rv := replyView{Reply: r, Content: safeReply(r.Content)}
			if u, err := url.Parse(r.Author); err == nil {
				rv.Domain = u.Hostname()
			}
			er.Replies = append(er.Replies, rv)
		}
		page.Episodes = append(page.Episodes, er)
	}
	if c.Query("error") != "" {
		page.Error = tr(langOf(c), "replies.error")
	}
	s.render(c, http.StatusOK, "studio_replies", sh.Title, page)
}

func (s *Server) moderateReplies(c *gin.Context) {
	f := s.cfg.Federation
	slug := c.Param("show")
	if _, err := s.cfg.Catalog.Show(slug); err != nil || f == nil {
		s.notFound(c)
		return
	}
	ctx := c.Request.Context()
	ep, id, who := c.PostForm("episode"), c.PostForm("id"), c.PostForm("who")
	var err error
	switch c.PostForm("action") {
	case "approval":
		err = f.SetApproval(ctx, slug, c.PostForm("approval") == "on")
	case "approve":
		err = f.ApproveReply(ctx, slug, ep, id)
	case "hide", "unhide":
		err = f.HideReply(ctx, slug, ep, id, c.PostForm("action") == "hide")
	case "block":
		err = f.Block(ctx, slug, who)
	case "unblock":
		err = f.Unblock(ctx, slug, who)
	default:
		c.String(http.StatusBadRequest, tr(langOf(c), "replies.error"))
		return
	}
	target := "/studio/" + url.PathEscape(slug) + "/replies"
	if err != nil {
		s.log.WarnContext(ctx, "moderate replies", "show", slug, "action", c.PostForm("action"), "err", err)
		target += "?error=1"
	}
	c.Redirect(http.StatusSeeOther, target)
}
