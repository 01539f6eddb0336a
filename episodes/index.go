package episodes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/picasoft/antenne/storage/bucket"
)

// A show's index, shows/<show>/index.json, holds a copy of every episode
// document with its ETag, so that a replica starting cold reads one object
// instead of one per episode. It is only a cache: the listing of the
// episode documents stays authoritative, a copy whose ETag differs from
// the listed one is ignored and the document read, and a missing or broken
// index only makes the load slower. Replicas rewrite it, unconditionally,
// when their cache changed.
const (
	indexName = "index.json"
	// indexMinUse: below this many documents to read for a show, reading
	// them is as cheap as reading the index.
	indexMinUse = 50
	// maxIndexSize caps the index read.
	maxIndexSize = 512 << 20
)

func indexKey(show string) string { return showsPrefix + show + "/" + indexName }

type showIndex struct {
	Version  int          `json:"version"`
	Episodes []indexEntry `json:"episodes"`
}

type indexEntry struct {
	ETag    string   `json:"etag"`
	Episode *Episode `json:"episode"`
}

// useIndexes fills the episode documents of todo from the shows' indexes
// where the index holds the very version listed, and marks them fromIndex.
func useIndexes(ctx context.Context, blobs bucket.Store, todo []loaded) {
	perShow := map[string]int{}
	for _, d := range todo {
		if d.kind == episodeDoc {
			perShow[d.show]++
		}
	}
	for show, n := range perShow {
		if n < indexMinUse {
			continue
		}
		idx, err := readIndex(ctx, blobs, show)
		if err != nil {
			continue // a cache: without it, the documents are read
		}
		byID := make(map[string]indexEntry, len(idx.Episodes))
		for _, e := range idx.Episodes {
			if e.Episode != nil && e.Episode.Show == show && e.Episode.Version <= bucket.SchemaVersion {
				byID[e.Episode.ID] = e
			}
		}
		for i := range todo {
			d := &todo[i]
			if d.kind != episodeDoc || d.show != show {
				continue
			}
			if e, ok := byID[d.id]; ok && e.ETag == d.etag {
				d.epDoc, d.fromIndex = e.Episode, true
			}
		}
	}
}

func readIndex(ctx context.Context, blobs bucket.Store, show string) (*showIndex, error) {
	rc, _, err := blobs.Get(ctx, indexKey(show), 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var idx showIndex
	dec := json.NewDecoder(io.LimitReader(rc, maxIndexSize))
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("parse %s: %w", indexKey(show), err)
	}
	if idx.Version > bucket.SchemaVersion {
		return nil, errors.New("index of a newer antenne")
	}
	return &idx, nil
}

// WriteIndexes rewrites the index of every show whose cache changed since
// its last write. Run calls it every 30 s.
func (s *Service) WriteIndexes(ctx context.Context) error {
	c := s.cat
	c.mu.Lock()
	type snapshot struct {
		show string
		idx  showIndex
	}
	var snaps []snapshot
	for show := range c.dirty {
		st := c.shows[show]
		delete(c.dirty, show)
		if st == nil {
			continue
		}
		idx := showIndex{Version: bucket.SchemaVersion, Episodes: make([]indexEntry, 0, len(st.episodes))}
		for _, e := range st.episodes {
			idx.Episodes = append(idx.Episodes, indexEntry{ETag: e.etag, Episode: e.doc})
		}
		slices.SortFunc(idx.Episodes, func(a, b indexEntry) int { return strings.Compare(a.Episode.ID, b.Episode.ID) })
		snaps = append(snaps, snapshot{show, idx})
	}
	c.mu.Unlock()

	var errs []error
	for _, sn := range snaps {
		data, err := json.Marshal(&sn.idx)
		if err == nil {
			_, err = s.blobs.Put(ctx, indexKey(sn.show), bytes.NewReader(data), int64(len(data)), docType)
		}
		if err != nil {
			c.mu.Lock()
			c.dirty[sn.show] = true // try again next time
			c.mu.Unlock()
			errs = append(errs, fmt.Errorf("write the index of %s: %w", sn.show, err))
		}
	}
	return errors.Join(errs...)
}
