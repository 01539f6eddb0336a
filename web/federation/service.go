package federation

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
	"github.com/picasoft/antenne/storage/bucket"
)

// Config is what federation needs.
type Config struct {
	// Catalog is the catalog of shows and episodes (required).
	Catalog *episodes.Service
	// Store keeps the keys, followers, announcements and deliveries
	// (required).
	Store bucket.Store
	// Links is antenne's public URL scheme (required): the actors live
	// under its base URL and the handle of a show is
	// @<show>@<host of the base URL>.
	Links feed.Links
	// Client makes every outgoing request (keys of remote actors,
	// deliveries). It must refuse loopback and private addresses unless
	// the operator allows them: build it with feed/fetch (required).
	Client *http.Client
	// Logger receives what goes wrong in the background.
	Logger *slog.Logger
	// Software is antenne's version, for NodeInfo.
	Software string
	// Deliveries bounds the deliveries in flight on this replica; 32
	// when zero. At most 2 of them go to one host.
	Deliveries int
	// DeliveryTimeout bounds one delivery; 15 s when zero.
	DeliveryTimeout time.Duration
	// RetryBase is the wait after a first failed delivery, doubled at each
	// further failure up to 6 hours; 30 s when zero. Deliveries are
	// abandoned three days after they were queued.
	RetryBase time.Duration
	// MaxFollowersPerHost bounds the followers of one show on one remote
	// host (registrable domain); 2000 when zero.
	MaxFollowersPerHost int
	// Poll is how often the background work looks at the catalog (for
	// scheduled episodes whose time came) and at the outbox (for
	// deliveries queued by other replicas); 15 s when zero.
	Poll time.Duration
}

// Service is a fediverse presence for every show of the catalog. Its
// methods are safe for concurrent use.
type Service struct {
	cfg   Config
	u     urls
	host  string // of the base URL: the domain of the handles
	log   *slog.Logger
	keys  *keyring
	cache *remoteCache
	// fetches bounds the remote documents being fetched.
	fetches fetchSlots
	// kick wakes the delivery loop when this replica queued something.
	kick chan struct{}
	// records caches what was announced of each episode; followers,
	// where to deliver to each show's followers.
	records   *docCache[record]
	followers followerIndexes
	// pending is what this replica knows of the queued deliveries;
	// leases takes them.
	pending outbox
	leases  *bucket.Leases
	// replays remembers the signatures of the inbox requests accepted.
	replays replayGuard
	// threads caches the replies read for pages; authors, the names of
	// their authors.
	threads threadCache
	authors fetchedCache[author]
}

// New checks cfg and returns the service. Start its background work with
// Run.
func New(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Store == nil || cfg.Client == nil || cfg.Links.IsZero() {
		return nil, errors.New("federation: catalog, store, client and links are required")
	}
	host, err := hostOf(cfg.Links.Base())
	if err != nil {
		return nil, err
	}
	if cfg.Deliveries <= 0 {
		cfg.Deliveries = deliveriesInFlight
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = deliveryTimeout
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.MaxFollowersPerHost <= 0 {
		cfg.MaxFollowersPerHost = maxFollowersPerHost
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 15 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	leases, err := bucket.NewLeases(bucket.LeaseConfig{Owner: rand.Text(), Duration: leaseTime})
	if err != nil {
		return nil, err
	}
	return &Service{
		leases:  leases,
		cfg:     cfg,
		u:       urls{base: cfg.Links.Base()},
		host:    host,
		log:     log,
		keys:    newKeyring(cfg.Store),
		cache:   newRemoteCache(),
		kick:    make(chan struct{}, 1),
		records: newDocCache[record](),
	}, nil
}

// Handle is the fediverse handle of a show, e.g. @lvel@radio.picasoft.net.
func (s *Service) Handle(show string) string { return "@" + show + "@" + s.host }

// federated returns the show when it exists and its federation is on.
func (s *Service) federated(slug string) (*episodes.Show, bool) {
	sh, err := s.cfg.Catalog.Show(slug)
	if err != nil || sh.FediverseOff {
		return nil, false
	}
	return sh, true
}

// Run does the background work until ctx ends: it announces the
// publications, updates and removals of episodes (on each change of the
// catalog, and every Poll for scheduled episodes) and delivers the queued
// activities. Any number of replicas may run it on one bucket.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.runAnnouncer(ctx) }()
	go func() { defer wg.Done(); s.runDeliveries(ctx) }()
	go func() { defer wg.Done(); s.runSweeper(ctx) }()
	wg.Wait()
}

// wake asks the delivery loop to look at the outbox now.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
