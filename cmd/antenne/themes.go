package main

import (
	"context"
	"fmt"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/web/listens"
)

var themesCommand = command{
	name:    "themes",
	summary: "list the themes of a semester's episodes, for the association's report",
	usage: `usage: antenne themes --season CODE [--show S] [--format md|latex|csv|json]
                      [--lang fr|en] [--intro] [--listens]

Prints the themes of the episodes aired in a university semester, in the
order they aired: A20 is autumn 2020 (1 August 2020 to 31 January 2021),
P21 spring 2021 (1 February to 31 July 2021), Paris time. An episode's
theme is its theme field, or its title. Only published episodes count.

  --season CODE   A20, P21, or with the full year: A2020
  --format F      md (a bullet list, the default), latex (an itemize
                  environment), csv or json (aired date, title, theme,
                  duration, URL, hosts and guests of each episode)
  --lang L        language of the introduction: fr (default) or en
  --intro         start with "Les thèmes suivants auront été abordés ce semestre :"
  --listens       add each episode's listens during the semester (UTC days
                  from its first to its last day, every replica's counts):
                  "(42 écoutes)" after each theme, a listens column in CSV
                  and JSON

The same exports are served at /<show>/seasons/<code>/themes.md, .tex, .csv
and .json. A semester without episodes prints nothing and says so on stderr.`,
	run: runThemes,
}

func runThemes(ctx context.Context, e *env, args []string) error {
	fs := newFlags("themes")
	var (
		season = fs.String("season", "", "")
		show   = fs.String("show", "", "")
		format = fs.String("format", "md", "")
		lang   = fs.String("lang", "fr", "")
		intro  = fs.Bool("intro", false, "")
		counts = fs.Bool("listens", false, "")
	)
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("themes: unexpected argument %q (see `antenne help themes`)", fs.Arg(0))
	}
	if *season == "" {
		return usageErrorf("themes: --season is required, like --season A20 or --season P21")
	}
	sem, err := episodes.ParseSemester(*season)
	if err != nil {
		return usageErrorf("--season: %v", err)
	}
	f, err := feed.ParseThemesFormat(*format)
	if err != nil {
		return usageErrorf("--format: %v", err)
	}
	slug, err := c.showSlug(*show)
	if err != nil {
		return err
	}
	all, err := c.svc.Episodes(slug, episodes.ListOptions{})
	if err != nil {
		return err
	}
	eps := episodes.InSemester(all, sem, c.svc.Now())
	opts := feed.ThemesOptions{
		Format: f,
		Lang:   *lang,
		Intro:  *intro,
		Links:  c.links,
	}
	if *counts {
		from, to := sem.Days()
		rows, err := listens.Read(ctx, c.store, from, to)
		if err != nil {
			return err
		}
		opts.Listens = listens.ByEpisode(rows, slug)
	}
	out, err := feed.Themes(eps, opts)
	if err != nil {
		// Themes fails on its options only: an unknown language.
		return usageErrorf("themes: %v", err)
	}
	if len(out) == 0 {
		fmt.Fprintf(e.stderr, "no published episode aired in %s (%s)\n", sem, sem.Name(*lang))
		return nil
	}
	_, err = e.stdout.Write(out)
	return err
}
