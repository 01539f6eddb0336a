package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage"
	"github.com/picasoft/antenne/web/accounts"
)

// catalogCmd is a command working on the catalog of the configured store.
type catalogCmd struct {
	cfg   *config
	svc   *episodes.Service
	store storage.Store
	hosts *accounts.Service
	links feed.Links
}

// openCatalog parses args with fs (the command's own flags plus the
// configuration's), opens the configured store and loads the catalog.
func openCatalog(ctx context.Context, e *env, fs *flag.FlagSet, args []string) (*catalogCmd, error) {
	cfg, err := loadConfig(fs, e.getenv, args)
	if err != nil {
		return nil, err
	}
	return catalogFrom(ctx, cfg)
}

// catalogFrom opens the store cfg names and loads the catalog.
func catalogFrom(ctx context.Context, cfg *config) (*catalogCmd, error) {
	store, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	l, err := links(cfg)
	if err != nil {
		return nil, err
	}
	transcoder := ffmpeg.New(cfg.FFmpeg, cfg.IngestWorkers)
	transcoder.MaxDuration = cfg.MaxDuration // counted on the decoded audio too
	svc := episodes.NewService(store, episodes.Options{Transcoder: transcoder, MaxDuration: cfg.MaxDuration})
	if err := svc.Load(ctx); err != nil {
		return nil, fmt.Errorf("load the catalog: %w", err)
	}
	hosts := accounts.New(store, svc, nil)
	if err := hosts.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load the host accounts: %w", err)
	}
	return &catalogCmd{cfg: cfg, svc: svc, store: store, hosts: hosts, links: l}, nil
}

// showSlug returns the show named by flag (or the only one).
func (c *catalogCmd) showSlug(flagValue string) (string, error) {
	if flagValue != "" {
		if _, err := c.svc.Show(flagValue); err != nil {
			return "", fmt.Errorf("no show %q (see `antenne shows list`)", flagValue)
		}
		return flagValue, nil
	}
	shows := c.svc.Shows()
	switch len(shows) {
	case 0:
		return "", errors.New("there is no show yet: create one with `antenne shows create SLUG --title TITLE`")
	case 1:
		return shows[0].Slug, nil
	}
	var slugs []string
	for _, sh := range shows {
		slugs = append(slugs, sh.Slug)
	}
	return "", usageErrorf("there are several shows (%s): say which with --show", strings.Join(slugs, ", "))
}

// episode finds an episode of show by id or slug.
func (c *catalogCmd) episode(show, ref string) (*episodes.Episode, error) {
	if e, err := c.svc.Episode(show, ref); err == nil {
		return e, nil
	}
	e, err := c.svc.EpisodeBySlug(show, ref)
	if err != nil {
		return nil, fmt.Errorf("no episode %q in show %q (see `antenne episodes list`)", ref, show)
	}
	return e, nil
}

// feedURL is the public URL of a show's feed.
func (c *catalogCmd) feedURL(show string) string {
	return c.links.Feed(show)
}

// episodeURL is the public URL of an episode's page.
func (c *catalogCmd) episodeURL(e *episodes.Episode) string {
	return c.links.Episode(e.Show, e.Slug)
}

// flagError is the usage error of a flag whose value the domain refused:
// the reason, in English, without the field's JSON name.
func flagError(flag string, err error) error {
	var fe *episodes.FieldError
	if errors.As(err, &fe) {
		return usageErrorf("%s: %s", flag, fe.Reason)
	}
	return usageErrorf("%s: %v", flag, err)
}

// isTerminal reports whether w is a terminal, for progress bars.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// subcommand dispatches `antenne NAME SUB ...` to the named function.
func subcommand(ctx context.Context, e *env, name string, args []string, subs map[string]func(context.Context, *env, []string) error) error {
	if len(args) == 0 {
		return usageErrorf("%s: missing subcommand (see `antenne help %s`)", name, name)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return flag.ErrHelp
	}
	f, ok := subs[args[0]]
	if !ok {
		return usageErrorf("%s: unknown subcommand %q (see `antenne help %s`)", name, args[0], name)
	}
	return f(ctx, e, args[1:])
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
