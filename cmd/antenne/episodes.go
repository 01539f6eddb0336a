package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/picasoft/antenne/episodes"
)

var episodesCommand = command{
	name:    "episodes",
	summary: "list, show, publish, schedule, unpublish and delete episodes",
	usage: `usage: antenne episodes list [--show S] [--status draft|scheduled|published] [--json]
       antenne episodes show EPISODE [--show S] [--json]
       antenne episodes publish EPISODE [--show S]
       antenne episodes schedule EPISODE --at 2021-03-05T09:30 [--show S]
       antenne episodes unpublish EPISODE [--show S]
       antenne episodes delete EPISODE [--show S]

EPISODE is an episode's id or slug. --show may be left out when there is one
show. Times are Paris time unless they carry a zone (RFC 3339). delete removes
the episode and its files for good.`,
	run: runEpisodes,
}

func runEpisodes(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "episodes", args, map[string]func(context.Context, *env, []string) error{
		"list":      episodesList,
		"show":      episodesShow,
		"publish":   episodesChange("publish"),
		"schedule":  episodesChange("schedule"),
		"unpublish": episodesChange("unpublish"),
		"delete":    episodesChange("delete"),
	})
}

// episodeJSON is an episode as the CLI prints it for scripts.
type episodeJSON struct {
	*episodes.Episode
	Status          episodes.Status `json:"status"`
	DurationSeconds float64         `json:"duration_seconds"`
	URL             string          `json:"url"`
}

func (c *catalogCmd) episodeJSON(ep *episodes.Episode) episodeJSON {
	return episodeJSON{
		Episode:         ep,
		Status:          ep.Status(c.svc.Now()),
		DurationSeconds: ep.Media.Duration.Seconds(),
		URL:             c.episodeURL(ep),
	}
}

func episodesList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("episodes list")
	showFlag := fs.String("show", "", "")
	status := fs.String("status", "", "")
	asJSON := fs.Bool("json", false, "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("episodes list takes no argument")
	}
	switch episodes.Status(*status) {
	case "", episodes.Draft, episodes.Scheduled, episodes.Published:
	default:
		return usageErrorf("--status: %q is not draft, scheduled or published", *status)
	}
	show, err := c.showSlug(*showFlag)
	if err != nil {
		return err
	}
	eps, err := c.svc.Episodes(show, episodes.ListOptions{Status: episodes.Status(*status)})
	if err != nil {
		return err
	}
	if *asJSON {
		out := []episodeJSON{}
		for _, ep := range eps {
			out = append(out, c.episodeJSON(ep))
		}
		return writeJSON(e, out)
	}
	if len(eps) == 0 {
		fmt.Fprintln(e.stderr, "no episode: publish one with `antenne publish FILE`")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tPUBLISHED\tDURATION\tSLUG\tTITLE")
	now := c.svc.Now()
	for _, ep := range eps {
		when := "-"
		if !ep.PublishAt.IsZero() {
			when = ep.PublishAt.In(episodes.Paris()).Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ep.ID, ep.Status(now), when, episodes.FormatDuration(ep.Media.Duration), ep.Slug, ep.Title)
	}
	return tw.Flush()
}

func episodesShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags("episodes show")
	showFlag := fs.String("show", "", "")
	asJSON := fs.Bool("json", false, "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("episodes show: want one EPISODE (id or slug)")
	}
	show, err := c.showSlug(*showFlag)
	if err != nil {
		return err
	}
	ep, err := c.episode(show, fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, c.episodeJSON(ep))
	}
	printEpisode(e, c, ep)
	return nil
}

func printEpisode(e *env, c *catalogCmd, ep *episodes.Episode) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(episodes.Paris()).Format("2006-01-02 15:04 MST")
	}
	line("title", ep.Title)
	if ep.Theme != "" {
		line("theme", ep.Theme)
	}
	line("id", ep.ID)
	line("slug", ep.Slug)
	line("status", string(ep.Status(c.svc.Now())))
	line("aired", date(ep.AiredAt))
	line("published", date(ep.PublishAt))
	line("duration", episodes.FormatDuration(ep.Media.Duration))
	line("media", fmt.Sprintf("%s, %s, %d bytes", ep.Media.Key, ep.Media.Type, ep.Media.Size))
	if ep.Original != nil {
		line("original", fmt.Sprintf("%s, %s, %d bytes", ep.Original.Key, ep.Original.Type, ep.Original.Size))
	}
	if l := ep.Media.Loudness; l != nil {
		line("loudness", fmt.Sprintf("%.1f LUFS, true peak %.1f dBTP", l.Integrated, l.TruePeak))
	}
	var people []string
	for _, p := range ep.Persons {
		people = append(people, p.Name+" ("+p.Role+")")
	}
	line("people", strings.Join(people, ", "))
	for i, ch := range ep.Chapters {
		line(fmt.Sprintf("chapter %d", i+1), episodes.FormatDuration(ch.Start)+" "+ch.Title)
	}
	line("url", c.episodeURL(ep))
	tw.Flush()
}

// episodesChange makes the subcommands that change an episode's state.
func episodesChange(action string) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		fs := newFlags("episodes " + action)
		showFlag := fs.String("show", "", "")
		at := fs.String("at", "", "")
		c, err := openCatalog(ctx, e, fs, args)
		if err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageErrorf("episodes %s: want one EPISODE (id or slug)", action)
		}
		if (action == "schedule") != (*at != "") {
			if action == "schedule" {
				return usageErrorf("episodes schedule: --at is required, like --at 2021-03-05T09:30")
			}
			return usageErrorf("episodes %s: --at goes with schedule only", action)
		}
		show, err := c.showSlug(*showFlag)
		if err != nil {
			return err
		}
		ep, err := c.episode(show, fs.Arg(0))
		if err != nil {
			return err
		}
		switch action {
		case "publish":
			ep, err = c.svc.Publish(ctx, show, ep.ID, ep.Revision)
		case "schedule":
			var when time.Time
			if when, err = episodes.ParsePublication(episodes.PublishLater, *at, c.svc.Now()); err != nil {
				return flagError("--at", err)
			}
			ep, err = c.svc.Schedule(ctx, show, ep.ID, ep.Revision, when)
		case "unpublish":
			ep, err = c.svc.Unpublish(ctx, show, ep.ID, ep.Revision)
		case "delete":
			if err = c.svc.DeleteEpisode(ctx, show, ep.ID, ep.Revision); err == nil {
				fmt.Fprintf(e.stdout, "episode %s deleted\n", ep.Slug)
				return nil
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "episode %s: %s", ep.Slug, ep.Status(c.svc.Now()))
		if !ep.PublishAt.IsZero() {
			fmt.Fprintf(e.stdout, " (%s)", ep.PublishAt.In(episodes.Paris()).Format("2006-01-02 15:04 MST"))
		}
		fmt.Fprintf(e.stdout, "\n%s\n", c.episodeURL(ep))
		return nil
	}
}
