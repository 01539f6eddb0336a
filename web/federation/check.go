package federation

import (
	"context"
	"fmt"

	"github.com/picasoft/antenne/storage/bucket"
)

// Problem is a federation document that can never be read: over
// maxDocSize, or not the JSON it should be. Replicas skip it (and log
// it); Check lists it and may remove it.
type Problem struct {
	Key    string
	Detail string
}

// Check reads the followers and announce records of every show of shows,
// and the deliveries, and returns those that can never be read. With
// repair it removes each of them after reading it again (a document
// rewritten readable meanwhile is kept), and returns the keys it removed.
// A store that fails is an error, never a problem: nothing is removed on
// a failed read.
func Check(ctx context.Context, st bucket.Store, shows []string, repair bool) (problems []Problem, removed []string, err error) {
	prefixes := []string{outboxPrefix}
	for _, sh := range shows {
		prefixes = append(prefixes, followersPrefix(sh), recordsPrefix(sh))
	}
	for _, prefix := range prefixes {
		for info, err := range st.List(ctx, prefix) {
			if err != nil {
				return problems, removed, fmt.Errorf("list %s: %w", prefix, err)
			}
			bad, err := unreadable(ctx, st, info.Key)
			if err != nil {
				return problems, removed, err
			}
			if bad == nil {
				continue
			}
			problems = append(problems, Problem{Key: info.Key, Detail: bad.Error()})
			if !repair {
				continue
			}
			// Read again just before removing.
			if again, err := unreadable(ctx, st, info.Key); err != nil || again == nil {
				continue
			}
			if err := st.Delete(ctx, info.Key); err != nil {
				return problems, removed, fmt.Errorf("remove %s: %w", info.Key, err)
			}
			removed = append(removed, info.Key)
		}
	}
	return problems, removed, nil
}

// unreadable returns why the document at key can never be read, nil when
// it can (or is gone), or err when the store failed.
func unreadable(ctx context.Context, st bucket.Store, key string) (why, err error) {
	var doc map[string]any
	_, err = readJSON(ctx, st, key, &doc)
	switch {
	case err == nil, bucket.IsNotFound(err):
		return nil, nil
	case bucket.IsUnreadable(err):
		return err, nil
	}
	return nil, err
}
