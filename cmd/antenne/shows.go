package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/picasoft/antenne/episodes"
)

var showsCommand = command{
	name:    "shows",
	summary: "create, list and edit shows",
	usage: `usage: antenne shows create SLUG --title TITLE [SHOW FLAGS]
       antenne shows edit SLUG [SHOW FLAGS]
       antenne shows list [--json]

create makes a new show; its podcast:guid is computed once from its feed URL
(ANTENNE_BASE_URL/SLUG/feed.xml) and never changes. edit changes only the
fields whose flags are given.

show flags:
  --title TEXT           title
  --description TEXT     description
  --author NAME          author, as podcast apps show it
  --owner NAME           owner's name (itunes:owner)
  --email ADDRESS        owner's e-mail (itunes:owner, podcast:locked)
  --language CODE        fr (default), en...
  --category NAME        Apple category, "Name" or "Name/Subcategory"; repeatable
  --explicit             the show has explicit content
  --type TYPE            episodic (default) or serial
  --link URL             website
  --copyright TEXT       copyright line
  --license NAME         license, CC BY-SA 4.0 by default
  --license-url URL      the license's text
  --funding-url URL      where listeners can support the show
  --funding-text TEXT    the text of that link
  --air-day DAY          weekday it airs: monday..sunday (or lundi..dimanche)
  --air-time HH:MM       time it airs, Paris time
  --station TEXT         where it airs, e.g. "Graf'hit 94.9 FM"
  --host NAME            a regular host; repeatable
  --locked               ask platforms not to import the feed elsewhere
  --new-feed-url URL     the show moved there (itunes:new-feed-url)
  --semesters            number seasons by university semester (A20, P21...)
  --live-url URL         the station's web stream of the air slot: the feed
                         announces each broadcast (podcast:liveItem) and the
                         show page plays it during the slot
  --live-type TYPE       the stream's MIME type (default audio/mpeg)
  --live-minutes N       length of the slot in minutes (default 45)
  --skip-date DATE       a date without broadcast, YYYY-MM-DD; repeatable,
                         replaces the list (--skip-date "" empties it)
  --no-live              remove the live stream and its skipped dates
  --artwork FILE         square JPEG or PNG, 1400 to 3000 pixels
  --fediverse on|off     the show's fediverse account (on by default); off:
                         it disappears and nothing is sent to its followers
  --hashtag TAG          a hashtag (without #) of the posts on the fediverse;
                         repeatable

The store is the one ANTENNE_* names (see antenne help serve).`,
	run: runShows,
}

func runShows(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "shows", args, map[string]func(context.Context, *env, []string) error{
		"create": showsCreate,
		"edit":   showsEdit,
		"list":   showsList,
	})
}

// showFlags are the flags that set a show's fields.
type showFlags struct {
	fs                                             *flag.FlagSet
	title, description, author, owner, email, lang string
	categories, hosts                              stringList
	explicit, locked, semesters                    bool
	showType, link, copyright, license, licenseURL string
	fundingURL, fundingText                        string
	airDay, airTime, station, newFeedURL, artwork  string
	fediverse                                      string
	hashtags                                       stringList
	liveURL, liveType                              string
	liveMinutes                                    int
	skipDates                                      stringList
	noLive                                         bool
}

func newShowFlags(name string) *showFlags {
	f := &showFlags{fs: newFlags(name)}
	fs := f.fs
	fs.StringVar(&f.title, "title", "", "")
	fs.StringVar(&f.description, "description", "", "")
	fs.StringVar(&f.author, "author", "", "")
	fs.StringVar(&f.owner, "owner", "", "")
	fs.StringVar(&f.email, "email", "", "")
	fs.StringVar(&f.lang, "language", "", "")
	fs.Var(&f.categories, "category", "")
	fs.BoolVar(&f.explicit, "explicit", false, "")
	fs.StringVar(&f.showType, "type", "", "")
	fs.StringVar(&f.link, "link", "", "")
	fs.StringVar(&f.copyright, "copyright", "", "")
	fs.StringVar(&f.license, "license", "", "")
	fs.StringVar(&f.licenseURL, "license-url", "", "")
	fs.StringVar(&f.fundingURL, "funding-url", "", "")
	fs.StringVar(&f.fundingText, "funding-text", "", "")
	fs.StringVar(&f.airDay, "air-day", "", "")
	fs.StringVar(&f.airTime, "air-time", "", "")
	fs.StringVar(&f.station, "station", "", "")
	fs.Var(&f.hosts, "host", "")
	fs.BoolVar(&f.locked, "locked", false, "")
	fs.StringVar(&f.newFeedURL, "new-feed-url", "", "")
	fs.BoolVar(&f.semesters, "semesters", false, "")
	fs.StringVar(&f.artwork, "artwork", "", "")
	fs.StringVar(&f.fediverse, "fediverse", "", "")
	fs.Var(&f.hashtags, "hashtag", "")
	fs.StringVar(&f.liveURL, "live-url", "", "")
	fs.StringVar(&f.liveType, "live-type", "", "")
	fs.IntVar(&f.liveMinutes, "live-minutes", 0, "")
	fs.Var(&f.skipDates, "skip-date", "")
	fs.BoolVar(&f.noLive, "no-live", false, "")
	return f
}

// apply sets on sh the fields whose flags were given.
func (f *showFlags) apply(sh *episodes.Show) error {
	var err error
	f.fs.Visit(func(fl *flag.Flag) {
		if err != nil {
			return
		}
		switch fl.Name {
		case "title":
			sh.Title = f.title
		case "description":
			sh.Description = f.description
		case "author":
			sh.Author = f.author
		case "owner":
			sh.Owner.Name = f.owner
		case "email":
			sh.Owner.Email = f.email
		case "language":
			sh.Language = f.lang
		case "category":
			sh.Categories = nil
			for _, c := range f.categories {
				name, sub, _ := strings.Cut(c, "/")
				sh.Categories = append(sh.Categories, episodes.Category{Name: strings.TrimSpace(name), Sub: strings.TrimSpace(sub)})
			}
		case "explicit":
			sh.Explicit = f.explicit
		case "type":
			sh.Type = episodes.ShowType(f.showType)
		case "link":
			sh.Link = f.link
		case "copyright":
			sh.Copyright = f.copyright
		case "license":
			sh.License = f.license
		case "license-url":
			sh.LicenseURL = f.licenseURL
		case "funding-url", "funding-text":
			if sh.Funding == nil {
				sh.Funding = &episodes.Funding{}
			}
			sh.Funding.URL, sh.Funding.Text = f.fundingURL, f.fundingText
		case "air-day", "air-time", "station":
			err = f.applyAirSlot(sh)
		case "live-url", "live-type", "live-minutes", "skip-date":
			err = f.applyLive(sh)
		case "host":
			sh.Hosts = nil
			for _, h := range f.hosts {
				sh.Hosts = append(sh.Hosts, episodes.Person{Name: h, Role: episodes.RoleHost})
			}
		case "locked":
			sh.Locked = f.locked
		case "new-feed-url":
			sh.NewFeedURL = f.newFeedURL
		case "semesters":
			sh.SeasonsAreSemesters = f.semesters
		case "fediverse":
			switch strings.ToLower(f.fediverse) {
			case "on":
				sh.FediverseOff = false
			case "off":
				sh.FediverseOff = true
			default:
				err = usageErrorf("--fediverse: want on or off, got %q", f.fediverse)
			}
		case "hashtag":
			sh.Hashtags = nil
			for _, t := range f.hashtags {
				sh.Hashtags = append(sh.Hashtags, strings.TrimPrefix(strings.TrimSpace(t), "#"))
			}
		case "no-live":
			if f.noLive {
				sh.Live = nil
			}
		}
	})
	return err
}

// applyAirSlot sets the air slot from --air-day, --air-time and
// --station, keeping what the show has for the flags not given.
func (f *showFlags) applyAirSlot(sh *episodes.Show) error {
	if f.airDay == "" && f.airTime == "" && sh.AirSlot != nil {
		sh.AirSlot.Station = f.station
		return nil
	}
	if sh.AirSlot == nil && (f.airDay == "" || f.airTime == "") {
		return usageErrorf("give both --air-day and --air-time, like --air-day friday --air-time 09:30")
	}
	day, clock := f.airDay, f.airTime
	if sh.AirSlot != nil {
		day, clock = cmp.Or(day, strconv.Itoa(int(sh.AirSlot.Weekday))), cmp.Or(clock, sh.AirSlot.Clock())
	}
	a, err := episodes.ParseAirSlot(day, clock)
	if err != nil {
		return usageErrorf("--air-day %q --air-time %q: %v", day, clock, err)
	}
	if sh.AirSlot != nil {
		a.Station, a.Location = sh.AirSlot.Station, cmp.Or(sh.AirSlot.Location, a.Location)
	}
	if f.station != "" {
		a.Station = f.station
	}
	sh.AirSlot = &a
	return nil
}

// applyLive sets the live stream from the --live-* and --skip-date flags
// given, keeping the rest; the domain validates the result.
func (f *showFlags) applyLive(sh *episodes.Show) error {
	if f.noLive {
		return usageErrorf("--no-live cannot be given with --live-url, --live-type, --live-minutes or --skip-date")
	}
	if sh.Live == nil {
		sh.Live = &episodes.Live{}
	}
	if f.liveURL != "" {
		sh.Live.URL = f.liveURL
	}
	if f.liveType != "" {
		sh.Live.Type = f.liveType
	}
	if f.liveMinutes != 0 {
		sh.Live.Minutes = f.liveMinutes
	}
	if len(f.skipDates) > 0 {
		dates, err := episodes.ParseSkipDates(strings.Join(f.skipDates, ","))
		if err != nil {
			return usageErrorf("--skip-date: %v", err)
		}
		sh.Live.Skip = dates
	}
	if sh.Live.URL == "" {
		return usageErrorf("give the stream's address with --live-url")
	}
	return nil
}

func showsCreate(ctx context.Context, e *env, args []string) error {
	f := newShowFlags("shows create")
	c, err := openCatalog(ctx, e, f.fs, args)
	if err != nil {
		return err
	}
	if f.fs.NArg() != 1 {
		return usageErrorf("shows create: want one SLUG, like la-voix-est-libre")
	}
	sh := episodes.Show{Slug: f.fs.Arg(0)}
	if err := f.apply(&sh); err != nil {
		return err
	}
	if sh.Title == "" {
		return usageErrorf("shows create: --title is required")
	}
	created, err := c.svc.CreateShow(ctx, sh, c.feedURL(sh.Slug))
	if err != nil {
		return err
	}
	if f.artwork != "" {
		if created, err = setArtwork(ctx, c, created.Slug, f.artwork); err != nil {
			return fmt.Errorf("show %s created, but its artwork was refused: %w", sh.Slug, err)
		}
	}
	fmt.Fprintf(e.stdout, "show %s created\nfeed: %s\npodcast:guid: %s\n", created.Slug, c.feedURL(created.Slug), created.GUID)
	return nil
}

func setArtwork(ctx context.Context, c *catalogCmd, slug, path string) (*episodes.Show, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return c.svc.SetShowArtwork(ctx, slug, "", data)
}

func showsEdit(ctx context.Context, e *env, args []string) error {
	f := newShowFlags("shows edit")
	c, err := openCatalog(ctx, e, f.fs, args)
	if err != nil {
		return err
	}
	if f.fs.NArg() != 1 {
		return usageErrorf("shows edit: want one SLUG")
	}
	slug := f.fs.Arg(0)
	if _, err := c.svc.Show(slug); err != nil {
		return fmt.Errorf("no show %q (see `antenne shows list`)", slug)
	}
	if _, err := c.svc.UpdateShow(ctx, slug, "", f.apply); err != nil {
		return err
	}
	if f.artwork != "" {
		if _, err := setArtwork(ctx, c, slug, f.artwork); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "show %s saved\n", slug)
	return nil
}

func showsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("shows list")
	asJSON := fs.Bool("json", false, "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("shows list takes no argument")
	}
	shows := c.svc.Shows()
	if *asJSON {
		type showJSON struct {
			*episodes.Show
			FeedURL  string `json:"feed_url"`
			Episodes int    `json:"episodes"`
		}
		out := []showJSON{}
		for _, sh := range shows {
			eps, _ := c.svc.Episodes(sh.Slug, episodes.ListOptions{})
			out = append(out, showJSON{Show: sh, FeedURL: c.feedURL(sh.Slug), Episodes: len(eps)})
		}
		return writeJSON(e, out)
	}
	if len(shows) == 0 {
		fmt.Fprintln(e.stderr, "no show yet: create one with `antenne shows create SLUG --title TITLE`")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tTITLE\tEPISODES\tFEED")
	for _, sh := range shows {
		eps, _ := c.svc.Episodes(sh.Slug, episodes.ListOptions{})
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", sh.Slug, sh.Title, len(eps), c.feedURL(sh.Slug))
	}
	return tw.Flush()
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
