package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/federation"
)

var checkCommand = command{
	name:    "check",
	summary: "verify the bucket: documents, objects, sizes, hashes, slugs, orphans",
	usage: `usage: antenne check [--repair] [--no-hash]

Reads the whole store that ANTENNE_* names and verifies that every show and
episode document parses, that every object a document references exists
with the recorded size and SHA-256, and lists the objects no document
references (orphans, left by an interrupted upload or a failed delete).
It also checks that no two episodes of a show share a slug, that every
slug is claimed for its episode (shows/<show>/slugs/<slug>.json, what makes
slugs unique across replicas) and that no claim is left without its
episode, and that every fediverse document (followers, announce records,
deliveries) can be read: replicas skip one that cannot (too large, not
JSON), and --repair removes it.

  --repair    remove the orphans older than an hour (younger ones may belong
              to an upload in progress and are left alone); fix the slugs:
              of episodes sharing a slug the oldest keeps it, the others get
              the next free one and their old page URL redirects (301) to
              the new one; missing claims are written, abandoned ones
              removed; unreadable fediverse documents are removed. The same
              bucket always gets the same repair.
  --no-hash   compare sizes only, without reading every object

It then tells, for each show, what Apple Podcasts and Spotify still need
of it (artwork, category, owner's e-mail, author, description, language)
and why; that is advice, it does not change the exit status.

Exits 0 when all is well (or was repaired), 1 when a problem remains.`,
	run: runCheck,
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags("check")
	repair := fs.Bool("repair", false, "")
	noHash := fs.Bool("no-hash", false, "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("check takes no argument")
	}
	bar := e.progressBar()
	r, err := c.svc.Check(ctx, episodes.CheckOptions{
		SkipHashes: *noHash,
		Progress:   func(done, total int) { bar.update("checking", float64(done)/float64(total)) },
	})
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, e.t("cli.check.counts", r.Shows, r.Episodes, r.Objects))
	for _, p := range r.Problems {
		key := p.Key
		if key == "" {
			key = "-"
		}
		fmt.Fprintf(e.stdout, "PROBLEM %-11s %s: %s\n", p.Kind, key, p.Detail)
	}
	for _, p := range r.Slugs {
		fmt.Fprintf(e.stdout, "SLUG    %-14s %s: %s\n", p.Kind, p.Key, p.Detail)
	}
	slugProblems := len(r.Slugs)
	if *repair && slugProblems > 0 {
		done, err := c.svc.RepairSlugs(ctx)
		for _, d := range done {
			fmt.Fprintf(e.stdout, "repair: %s %s: %s\n", d.Action, d.Key, d.Detail)
		}
		if err != nil {
			return fmt.Errorf("repair the slugs: %w", err)
		}
		slugProblems = 0
	}
	for _, o := range r.Orphans {
		fmt.Fprintf(e.stdout, "ORPHAN  %s (%d bytes, %s)\n", o.Key, o.Size, o.ModTime.Format("2006-01-02 15:04"))
	}
	for _, o := range r.RecentOrphans {
		fmt.Fprintf(e.stdout, "RECENT  %s (%d bytes, %s): maybe an upload in progress, left alone\n", o.Key, o.Size, o.ModTime.Format("2006-01-02 15:04"))
	}
	orphans := len(r.Orphans)
	if *repair && orphans > 0 {
		removed, err := c.svc.Sweep(ctx)
		fmt.Fprintf(e.stdout, "repair: %d orphans removed\n", len(removed))
		if err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		orphans -= len(removed)
	}
	var shows []string
	for _, sh := range c.svc.Shows() {
		shows = append(shows, sh.Slug)
	}
	fedProblems, fedRemoved, err := federation.Check(ctx, c.store, shows, *repair)
	for _, p := range fedProblems {
		fmt.Fprintf(e.stdout, "PROBLEM %-11s %s: %s\n", "federation", p.Key, p.Detail)
	}
	for _, key := range fedRemoved {
		fmt.Fprintf(e.stdout, "repair: removed %s\n", key)
	}
	if err != nil {
		return fmt.Errorf("check the federation documents: %w", err)
	}
	fedLeft := len(fedProblems) - len(fedRemoved)
	printReadiness(e, c.svc.Shows())
	switch {
	case len(r.Problems) > 0:
		return fmt.Errorf("%d problems found", len(r.Problems))
	case slugProblems > 0:
		return fmt.Errorf("%d slug problems found: run antenne check --repair to fix them", slugProblems)
	case orphans > 0:
		return errors.New("orphans found: run antenne check --repair to remove them")
	case fedLeft > 0:
		return fmt.Errorf("%d unreadable federation documents: run antenne check --repair to remove them", fedLeft)
	}
	fmt.Fprintln(e.stdout, e.t("cli.check.ok"))
	return nil
}

// printReadiness tells, for each show, what Apple Podcasts and Spotify
// still need of it and why (episodes.Show.DirectoryReadiness, in the
// studio's words). It is advice: it does not change the exit status.
func printReadiness(e *env, shows []*episodes.Show) {
	for _, sh := range shows {
		if sh.ReadyForDirectories() {
			fmt.Fprintln(e.stdout, e.t("cli.check.ready", sh.Slug))
			continue
		}
		fmt.Fprintln(e.stdout, e.t("cli.check.notready", sh.Slug))
		for _, it := range sh.DirectoryReadiness() {
			if !it.OK {
				fmt.Fprintln(e.stdout, e.t("cli.check.item", e.t("ready."+it.Key), e.t("ready."+it.Key+".why")))
			}
		}
		fmt.Fprintln(e.stdout, e.t("cli.check.fix", sh.Slug))
	}
}
