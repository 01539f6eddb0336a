package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/picasoft/antenne/episodes"
)

var publishCommand = command{
	name:    "publish",
	summary: "upload a recording and publish it (now, later, or as a draft)",
	usage: `usage: antenne publish FILE [--show S] [--title T] [--theme T] [--aired DATE]
                       [--at TIME | --draft] [--season N] [--number N]
                       [--host NAME]... [--guest NAME]...
                       [--server URL --token T [--no-wait]]

Reads the recording (MP3, M4A, or a Mumble WAV, FLAC, Ogg Vorbis or Opus,
which are converted to MP3), fills the episode from its tags and from the
flags (the flags win), stores it and publishes it now, at --at, or keeps it
as a draft with --draft. Prints the episode's public URL.

  --show S        the show; may be left out when there is one
  --title T       title (default: the recording's title tag, else the file name)
  --theme T       theme for the semester report (default: the title)
  --aired DATE    when it went on air: 2020-10-02 or 2020-10-02T09:30 (Paris time)
  --at TIME       publish later, at that time (Paris time unless a zone is given)
  --draft         do not publish yet
  --season N, --number N   season and episode numbers
  --host NAME, --guest NAME   people of the episode; repeatable

The same file twice is refused with the existing episode's id. The store is
the one ANTENNE_* names (see antenne help serve).

With --server URL (or ANTENNE_SERVER) the recording is sent to a running
antenne through its API instead, with the token of --token (or
ANTENNE_TOKEN; create one with antenne hosts token create LOGIN):

  antenne publish --server https://radio.example --token ant_... FILE

It shows one progress bar for the sending and one for the server's
processing (a recording that needs converting), and returns when the
episode is ready; with --no-wait it returns once the server has the
recording safe (HTTP 202) and prints the episode's API URL.`,
	run: runPublish,
}

func runPublish(ctx context.Context, e *env, args []string) error {
	fs := newFlags("publish")
	var (
		show           = fs.String("show", "", "")
		title          = fs.String("title", "", "")
		theme          = fs.String("theme", "", "")
		aired          = fs.String("aired", "", "")
		at             = fs.String("at", "", "")
		draft          = fs.Bool("draft", false, "")
		season, number int
		hosts, guests  stringList
	)
	fs.IntVar(&season, "season", 0, "")
	fs.IntVar(&number, "number", 0, "")
	fs.Var(&hosts, "host", "")
	fs.Var(&guests, "guest", "")
	server := fs.String("server", "", "")
	token := fs.String("token", "", "")
	noWait := fs.Bool("no-wait", false, "")
	cfg, err := loadConfig(fs, e.getenv, args)
	if err != nil {
		return err
	}
	*server = cmp.Or(*server, e.getenv("ANTENNE_SERVER"))
	*token = cmp.Or(*token, e.getenv("ANTENNE_TOKEN"))
	if *server != "" {
		if fs.NArg() != 1 {
			return usageErrorf("publish: want one FILE (see `antenne help publish`)")
		}
		if *draft && *at != "" {
			return usageErrorf("publish: --draft and --at exclude each other")
		}
		if season != 0 || number != 0 || len(hosts) > 0 || len(guests) > 0 {
			return usageErrorf("publish --server: --season, --number, --host and --guest are set afterwards in the studio or with PATCH")
		}
		return publishRemote(ctx, e, remotePublish{
			server: *server, token: *token, show: *show, file: fs.Arg(0), noWait: *noWait,
			fields: map[string]string{"title": *title, "theme": *theme, "aired": *aired, "at": *at, "draft": strconv.FormatBool(*draft)},
		})
	}
	c, err := catalogFrom(ctx, cfg)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("publish: want one FILE (see `antenne help publish`)")
	}
	if *noWait {
		return usageErrorf("publish: --no-wait goes with --server; a local publish is done when it returns")
	}
	up := episodes.Upload{Title: *title, Theme: *theme, Season: season, Number: number}
	if *aired != "" {
		if up.AiredAt, err = episodes.ParseParisTime("aired_at", *aired); err != nil {
			return flagError("--aired", err)
		}
	}
	mode := episodes.PublishNow
	switch {
	case *draft:
		mode = episodes.PublishDraft
	case *at != "":
		mode = episodes.PublishLater
	}
	if up.PublishAt, err = episodes.ParsePublication(mode, *at, c.svc.Now()); err != nil {
		return flagError("--at", err)
	}
	for _, h := range hosts {
		up.Persons = append(up.Persons, episodes.Person{Name: h, Role: episodes.RoleHost})
	}
	for _, g := range guests {
		up.Persons = append(up.Persons, episodes.Person{Name: g, Role: episodes.RoleGuest})
	}
	if up.Show, err = c.showSlug(*show); err != nil {
		return err
	}

	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("publish: %s is a folder, not a recording", path)
	}
	f.Close()
	bar := e.progressBar()
	defer bar.finish()
	up.Name = filepath.Base(path)
	up.Path = path
	up.Progress = bar.update

	ep, err := c.svc.Ingest(ctx, up)
	bar.finish()
	var dup *episodes.DuplicateError
	if errors.As(err, &dup) {
		return fmt.Errorf("%s was already uploaded as episode %s (%q): nothing done", path, dup.EpisodeID, dup.Title)
	}
	if err != nil {
		return fmt.Errorf("publish %s: %w", path, err)
	}
	status := ep.Status(c.svc.Now())
	switch status {
	case episodes.Published:
		fmt.Fprintln(e.stderr, e.t("cli.publish.published", ep.Title, episodes.FormatDuration(ep.Media.Duration)))
	case episodes.Scheduled:
		fmt.Fprintln(e.stderr, e.t("cli.publish.scheduled", ep.Title, ep.PublishAt.In(episodes.Paris()).Format(time.DateTime+" MST")))
	default:
		fmt.Fprintln(e.stderr, e.t("cli.publish.draft", ep.Title, ep.Slug))
	}
	fmt.Fprintln(e.stdout, c.episodeURL(ep))
	return nil
}
