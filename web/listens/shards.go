package listens

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// Row is an aggregate: the listens of an episode by one app family on one
// UTC day. It is all that leaves memory.
type Row struct {
	Day     string `json:"day"` // 2006-01-02, UTC
	Show    string `json:"show"`
	Episode string `json:"episode"` // episode ID
	App     string `json:"app"`
	Count   int64  `json:"listens"`
}

// shardPrefix is where the shards live: listens/<day>/<replica>.json.
const shardPrefix = "listens/"

// maxShardBytes bounds what is read of one shard.
const maxShardBytes = 32 << 20

// shardDoc is one replica's counts of one day.
type shardDoc struct {
	Day     string `json:"day"`
	Replica string `json:"replica"`
	Rows    []Row  `json:"rows"`
}

func shardKey(day, replica string) string { return shardPrefix + day + "/" + replica + ".json" }

// flushAttempts bounds the read-add-write rounds of one shard when
// another process writes it at the same time.
const flushAttempts = 5

// Flush adds the counts made since the last flush to the replica's
// shards. Counts it could not store stay in memory for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	c.rotate()
	batch := c.pending
	c.pending = map[Row]int64{}
	c.mu.Unlock()
	if len(batch) == 0 || c.store == nil {
		return nil
	}
	byDay := map[string]map[Row]int64{}
	for r, n := range batch {
		if byDay[r.Day] == nil {
			byDay[r.Day] = map[Row]int64{}
		}
		byDay[r.Day][r] = n
	}
	var errs []error
	for _, day := range slices.Sorted(maps.Keys(byDay)) {
		if err := c.addToShard(ctx, day, byDay[day]); err != nil {
			errs = append(errs, err)
			c.mu.Lock()
			for r, n := range byDay[day] {
				c.pending[r] += n
			}
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// addToShard reads the replica's shard of day, adds counts and writes it
// back if nobody wrote it meanwhile, else tries again.
func (c *Counter) addToShard(ctx context.Context, day string, counts map[Row]int64) error {
	key := shardKey(day, c.replica)
	for range flushAttempts {
		doc, etag, err := readShard(ctx, c.store, key)
		if err != nil && !errors.Is(err, bucket.ErrNotFound) {
			return err
		}
		sum := map[Row]int64{}
		for _, r := range doc.Rows {
			n := r.Count
			r.Count = 0
			sum[r] += n
		}
		for r, n := range counts {
			sum[r] += n
		}
		doc = shardDoc{Day: day, Replica: c.replica, Rows: sortedRows(sum)}
		_, err = bucket.Write(ctx, c.store, key, doc, etag)
		if errors.Is(err, bucket.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write listens shard %s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("write listens shard %s: still changing after %d attempts", key, flushAttempts)
}

// readShard reads one shard and its ETag; a missing one is ErrNotFound.
func readShard(ctx context.Context, store bucket.Store, key string) (shardDoc, string, error) {
	var doc shardDoc
	etag, err := bucket.ReadLimit(ctx, store, key, &doc, maxShardBytes)
	return doc, etag, err
}

// sortedRows turns sums into rows in (day, show, episode, app) order.
func sortedRows(sum map[Row]int64) []Row {
	rows := make([]Row, 0, len(sum))
	for r, n := range sum {
		if n == 0 {
			continue
		}
		r.Count = n
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.Show, b.Show),
			strings.Compare(a.Episode, b.Episode), strings.Compare(a.App, b.App))
	})
	return rows
}

// shardCache keeps the shards read, by key, with their ETag: a shard is
// read again only when the listing shows it changed. It holds one small
// document per replica and day.
type shardCache struct {
	mu    sync.Mutex
	byKey map[string]cachedShard
}

type cachedShard struct {
	etag string
	rows []Row
}

// Rows sums the stored counts of every replica for the UTC days from
// through to (2006-01-02, inclusive), one row per (day, show, episode,
// app). Counts not yet flushed are not included. The counter keeps the
// shards it read and reads again only those that changed.
func (c *Counter) Rows(ctx context.Context, from, to string) ([]Row, error) {
	if c == nil || c.store == nil {
		return nil, nil
	}
	return c.shards.read(ctx, c.store, from, to)
}

// Read is Rows for a process that does not count (the CLI): it reads the
// shards of store once.
func Read(ctx context.Context, store bucket.Store, from, to string) ([]Row, error) {
	var cache shardCache
	return cache.read(ctx, store, from, to)
}

func (sc *shardCache) read(ctx context.Context, store bucket.Store, from, to string) ([]Row, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.byKey == nil {
		sc.byKey = map[string]cachedShard{}
	}
	sum := map[Row]int64{}
	seen := map[string]bool{}
	for info, err := range store.List(ctx, shardPrefix) {
		if err != nil {
			return nil, fmt.Errorf("list listens shards: %w", err)
		}
		day, _, ok := strings.Cut(strings.TrimPrefix(info.Key, shardPrefix), "/")
		if !ok || day < from || day > to {
			continue
		}
		seen[info.Key] = true
		cached, ok := sc.byKey[info.Key]
		if !ok || cached.etag != info.ETag {
			doc, etag, err := readShard(ctx, store, info.Key)
			if errors.Is(err, bucket.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			cached = cachedShard{etag: etag, rows: doc.Rows}
			sc.byKey[info.Key] = cached
		}
		for _, r := range cached.rows {
			n := r.Count
			r.Count = 0
			sum[r] += n
		}
	}
	for k := range sc.byKey {
		day, _, _ := strings.Cut(strings.TrimPrefix(k, shardPrefix), "/")
		if day >= from && day <= to && !seen[k] {
			delete(sc.byKey, k)
		}
	}
	return sortedRows(sum), nil
}

// flushInterval is how often Run stores the counts.
const flushInterval = time.Minute

// Run stores the counts every minute, and starts each UTC day's salt at
// midnight even when no request comes, until ctx ends. Failures go to
// onError (the counts are kept for the next try). The caller flushes once
// more after the server has stopped.
func (c *Counter) Run(ctx context.Context, onError func(error)) {
	if c == nil {
		return
	}
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		next := c.now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		midnight := time.NewTimer(next.Sub(c.now()) + time.Second)
		select {
		case <-ctx.Done():
			midnight.Stop()
			return
		case <-midnight.C:
			c.mu.Lock()
			c.rotate()
			c.mu.Unlock()
		case <-tick.C:
			midnight.Stop()
			if err := c.Flush(ctx); err != nil && onError != nil {
				onError(err)
			}
		}
	}
}

// ByEpisode sums rows of show by episode ID.
func ByEpisode(rows []Row, show string) map[string]int64 {
	out := map[string]int64{}
	for _, r := range rows {
		if r.Show == show {
			out[r.Episode] += r.Count
		}
	}
	return out
}
