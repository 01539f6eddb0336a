// Package websub tells WebSub hubs (https://www.w3.org/TR/websub/) when a
// show's feed changes, so that they push it to their subscribers at once
// instead of waiting for their next poll.
//
// A change is pinged once whatever the number of replicas: the feed's
// version is recorded in shows/<show>/websub.json with a conditional
// write, and only the replica whose write succeeds pings. The record says
// whether the pings are done; a record left undone by a replica that died
// is taken over by another after a while.
package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// Config is what the pinger needs.
type Config struct {
	// Hubs are the hub URLs (ANTENNE_WEBSUB_HUBS); none turns pinging off.
	Hubs []string
	// FeedURL is the public URL of a show's feed, the topic of the pings.
	FeedURL func(show string) string
	// Store keeps what was pinged (required).
	Store bucket.Store
	// Client sends the pings; it must refuse private addresses unless the
	// operator allows them (feed/fetch).
	Client *http.Client
	// Logger receives the failures.
	Logger *slog.Logger
	// Poll is how often the feeds are compared with what was pinged; 2 s
	// when zero. Comparing is cheap: feeds are rebuilt only when the
	// catalog changed.
	Poll time.Duration
	// RetryBase is the wait before the second attempt of a ping, doubled
	// before each further one (5 attempts in all); 10 s when zero.
	RetryBase time.Duration
}

// Pinger pings the hubs after each change of a feed.
type Pinger struct {
	cfg Config
	log *slog.Logger
	// seen is the feed version this replica last dealt with, per show.
	mu   sync.Mutex
	seen map[string]string
}

// Ping bounds.
const (
	pingTimeout = 15 * time.Second
	attempts    = 5
	// stalled is how long a record may stay unpinged before another
	// replica takes it over.
	stalled = 5 * time.Minute
)

// New returns a pinger.
func New(cfg Config) (*Pinger, error) {
	if cfg.Store == nil || cfg.Client == nil || cfg.FeedURL == nil {
		return nil, errors.New("websub: store, client and feed URLs are required")
	}
	for _, h := range cfg.Hubs {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("websub: hub %q is not an absolute http(s) URL", h)
		}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pinger{cfg: cfg, log: log, seen: map[string]string{}}, nil
}

// ParseHubs reads ANTENNE_WEBSUB_HUBS: hub URLs separated by commas.
func ParseHubs(v string) []string {
	var hubs []string
	for h := range strings.SplitSeq(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hubs = append(hubs, h)
		}
	}
	return hubs
}

// Run compares the feeds' versions (show -> version, e.g. web's
// Server.FeedVersions) with what was pinged, every Poll, until ctx ends.
// Without hubs it returns at once.
func (p *Pinger) Run(ctx context.Context, versions func() map[string]string) {
	if len(p.cfg.Hubs) == 0 {
		return
	}
	tick := time.NewTicker(p.cfg.Poll)
	defer tick.Stop()
	for {
		p.Check(ctx, versions())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// record is what was pinged of a show's feed.
type record struct {
	Version string    `json:"version"` // the feed's version (ETag)
	Pinged  bool      `json:"pinged"`  // every hub was told, or gave up
	Changed time.Time `json:"changed"`
}

func recordKey(show string) string { return "shows/" + show + "/websub.json" }

// Check pings the hubs for every feed whose version differs from the one
// recorded, unless another replica does.
func (p *Pinger) Check(ctx context.Context, versions map[string]string) {
	for show, v := range versions {
		p.mu.Lock()
		done := p.seen[show] == v
		p.mu.Unlock()
		if done {
			continue
		}
		if err := p.check(ctx, show, v); err != nil {
			p.log.WarnContext(ctx, "websub: record a feed change", "show", show, "err", err)
			continue
		}
		p.mu.Lock()
		p.seen[show] = v
		p.mu.Unlock()
	}
}

func (p *Pinger) check(ctx context.Context, show, version string) error {
	var rec record
	etag, err := p.read(ctx, show, &rec)
	if err != nil && !errors.Is(err, bucket.ErrNotFound) {
		return err
	}
	if err == nil && rec.Version == version && (rec.Pinged || time.Since(rec.Changed) < stalled) {
		return nil // pinged, or being pinged by another replica
	}
	rec = record{Version: version, Changed: time.Now().UTC()}
	etag, err = p.write(ctx, show, rec, etag)
	if errors.Is(err, bucket.ErrConflict) {
		return nil // another replica took this change
	}
	if err != nil {
		return err
	}
	p.pingAll(ctx, show)
	rec.Pinged = true
	if _, err := p.write(ctx, show, rec, etag); err != nil && !errors.Is(err, bucket.ErrConflict) {
		return err
	}
	return nil
}

// pingAll tells every hub, each with its retries, in parallel.
func (p *Pinger) pingAll(ctx context.Context, show string) {
	topic := p.cfg.FeedURL(show)
	var wg sync.WaitGroup
	for _, hub := range p.cfg.Hubs {
		wg.Go(func() {
			wait := p.cfg.RetryBase
			for i := 1; ; i++ {
				err := p.ping(ctx, hub, topic)
				if err == nil {
					return
				}
				if i == attempts {
					p.log.WarnContext(ctx, "websub: hub unreachable, giving up", "hub", hub, "topic", topic, "err", err)
					return
				}
				p.log.InfoContext(ctx, "websub: ping failed, will retry", "hub", hub, "topic", topic, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				wait *= 2
			}
		})
	}
	wg.Wait()
}

// ping posts hub.mode=publish for topic to hub (WebSub section 7, as hubs
// implement it).
func (p *Pinger) ping(ctx context.Context, hub, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hub answered %s", resp.Status)
	}
	return nil
}

// maxRecordBytes bounds a record read back from the store.
const maxRecordBytes = 64 << 10

func (p *Pinger) read(ctx context.Context, show string, rec *record) (string, error) {
	return bucket.ReadLimit(ctx, p.cfg.Store, recordKey(show), rec, maxRecordBytes)
}

func (p *Pinger) write(ctx context.Context, show string, rec record, ifMatch string) (string, error) {
	return bucket.Write(ctx, p.cfg.Store, recordKey(show), rec, ifMatch)
}
