package listens

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// addToShard adds counts to the replica's shard of day, with a
// conditional write (bucket.Modify).
func (c *Counter) addToShard(ctx context.Context, day string, counts map[Row]int64) error {
	key := shardKey(day, c.replica)
	_, err := bucket.Modify(ctx, c.store, key, maxShardBytes, func(doc *shardDoc, _ bool) error {
		sum := map[Row]int64{}
		for _, r := range doc.Rows {
			n := r.Count
			r.Count = 0
			sum[r] += n
		}
		for r, n := range counts {
			sum[r] += n
		}
		*doc = shardDoc{Day: day, Replica: c.replica, Rows: sortedRows(sum)}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write listens shard %s: %w", key, err)
	}
	return nil
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

// shardCache keeps the shards read: a shard is read again only when the
// listing shows it changed. It holds one small document per replica and
// day.
type shardCache = bucket.Collection[shardDoc]

func newShardCache() *shardCache { return bucket.NewCollection[shardDoc](maxShardBytes) }

// Rows sums the stored counts of every replica for the UTC days from
// through to (2006-01-02, inclusive), one row per (day, show, episode,
// app). Counts not yet flushed are not included. The counter keeps the
// shards it read and reads again only those that changed.
func (c *Counter) Rows(ctx context.Context, from, to string) ([]Row, error) {
	if c == nil || c.store == nil {
		return nil, nil
	}
	return readShards(ctx, c.shards, c.store, from, to)
}

// Read is Rows for a process that does not count (the CLI): it reads the
// shards of store once.
func Read(ctx context.Context, store bucket.Store, from, to string) ([]Row, error) {
	return readShards(ctx, newShardCache(), store, from, to)
}

// readShards sums the shards of the days from through to, read through
// cache.
func readShards(ctx context.Context, cache *shardCache, store bucket.Store, from, to string) ([]Row, error) {
	inDays := func(key string) bool {
		day, _, ok := strings.Cut(strings.TrimPrefix(key, shardPrefix), "/")
		return ok && day >= from && day <= to
	}
	docs, unreadable, err := cache.List(ctx, store, shardPrefix, inDays)
	if err != nil {
		return nil, fmt.Errorf("read listens shards: %w", err)
	}
	if len(unreadable) > 0 {
		return nil, fmt.Errorf("read listens shards: %s cannot be read", strings.Join(unreadable, ", "))
	}
	sum := map[Row]int64{}
	for _, d := range docs {
		for _, r := range d.V.Rows {
			n := r.Count
			r.Count = 0
			sum[r] += n
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
