package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/picasoft/antenne/feed/importer"
)

var importCommand = command{
	name:    "import",
	summary: "move a podcast published elsewhere to antenne, keeping its episodes and subscribers",
	usage: `usage: antenne import FEED_URL_OR_FILE [--show SLUG] [--feed-url URL] [--dry-run]

Reads the podcast feed of another host (Castopod, Podlove, AzuraCast,
Anchor/Spotify, a static file...), creates the show with the podcast's
identity (its podcast:guid, else the one computed from the OLD feed URL)
and imports every episode: title, notes, date (as aired and published),
GUID kept exactly (podcast apps see the same episodes, not new ones),
season, number, type, artwork, chapters and transcript. Media are
downloaded, checked and measured; where the feed's length, type or
duration is wrong, antenne's values win and the difference is reported.

Run it again to import what is missing: episodes already imported (same
GUID) are skipped, so an interrupted import resumes where it stopped.
A broken episode (missing media, invalid date) is reported and the others
are imported.

  --show SLUG     the show to create or resume (default: from the feed's title)
  --feed-url URL  the old feed's URL, for a FILE that names neither its URL
                  nor a podcast:guid
  --dry-run       tell what would be imported, change nothing

Exits 0 when every episode was imported or skipped, 1 when some failed,
2 on bad usage. Each media may be at most ANTENNE_MAX_UPLOAD bytes. The store
is the one ANTENNE_* names (see antenne help serve). See docs/import.md
(in the source tree) for what to do on the old host afterwards.`,
	run: runImport,
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags("import")
	var (
		show    = fs.String("show", "", "")
		feedURL = fs.String("feed-url", "", "")
		dryRun  = fs.Bool("dry-run", false, "")
	)
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("import: want one FEED_URL_OR_FILE (see `antenne help import`)")
	}
	if *feedURL != "" && !strings.HasPrefix(*feedURL, "http://") && !strings.HasPrefix(*feedURL, "https://") {
		return usageErrorf("--feed-url: %q is not an http or https URL", *feedURL)
	}
	out := e.stdout
	opts := importer.Options{
		Show:         *show,
		FeedURL:      *feedURL,
		DryRun:       *dryRun,
		UserAgent:    "antenne/" + version(),
		MaxMediaSize: c.cfg.MaxUpload,
		AllowPrivate: c.cfg.FetchAllowPrivate,
		Progress: func(i, n int, it importer.ItemReport) {
			if it.Outcome == "" {
				fmt.Fprintf(out, "[%d/%d] downloading  %s\n", i, n, it.Title)
				return
			}
			line := fmt.Sprintf("[%d/%d] %-12s %s", i, n, it.Outcome, it.Title)
			if it.Reason != "" {
				line += ": " + it.Reason
			}
			fmt.Fprintln(out, line)
			for _, note := range it.Notes {
				fmt.Fprintln(out, "        note: "+note)
			}
		},
	}
	opts.ShowReady = func(rep *importer.Report) {
		switch {
		case rep.Show != nil && rep.ShowCreated:
			fmt.Fprintf(out, "created the show %s (podcast:guid %s)\n", rep.Show.Slug, rep.Show.GUID)
		case rep.Show != nil:
			fmt.Fprintf(out, "importing into the existing show %s\n", rep.Show.Slug)
		}
		for _, w := range rep.Warnings {
			fmt.Fprintln(out, "warning: "+w)
		}
	}
	rep, err := importer.Import(ctx, c.svc, fs.Arg(0), opts)
	if err != nil {
		if len(rep.Items) > 0 {
			fmt.Fprintf(out, "stopped: %d imported; run the same command again to go on\n", rep.Count(importer.Imported))
		}
		return err
	}
	failed := rep.Count(importer.Failed)
	if *dryRun {
		fmt.Fprintf(out, "dry run: %d to import, %d already imported, %d would fail\n",
			rep.Count(importer.WouldImport), rep.Count(importer.Skipped), failed)
	} else {
		fmt.Fprintf(out, "%d imported, %d skipped (already imported), %d failed\n",
			rep.Count(importer.Imported), rep.Count(importer.Skipped), failed)
	}
	if failed > 0 {
		fmt.Fprintln(out, "failed:")
		for _, it := range rep.Items {
			if it.Outcome == importer.Failed {
				fmt.Fprintf(out, "  %s (guid %s): %s\n", it.Title, it.GUID, it.Reason)
			}
		}
	}
	if rep.Show != nil && !*dryRun {
		fmt.Fprintf(out, "antenne's feed: %s\n", c.links.Feed(rep.Show.Slug))
		fmt.Fprintf(out, "next: set <itunes:new-feed-url>%s</itunes:new-feed-url> on the old feed %s\n", c.links.Feed(rep.Show.Slug), rep.OldFeedURL)
	}
	if failed > 0 {
		return errors.New("import: some episodes failed (see above); fix them and run the same command again")
	}
	return nil
}
