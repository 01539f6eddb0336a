package federation

import (
	"errors"
	"fmt"
)

// What antenne accepts from the fediverse, in one place: the README's
// security table lists these bounds.
const (
	// maxURLLength bounds every URL or id taken from a remote document or
	// activity (actor ids, inboxes, key ids, activity ids): longer ones
	// are refused. Mastodon's own URLs are under 200 bytes.
	maxURLLength = 2048
	// maxTypeLength bounds an activity's type.
	maxTypeLength = 64
	// maxKeyPEMLength bounds a remote public key's PEM, and maxKeyBits its
	// size: an RSA key of 4096 bits is 800 bytes of PEM.
	maxKeyPEMLength = 16 << 10
	maxKeyBits      = 8192
	// maxCacheBytes bounds the memory the cache of remote keys, and the
	// one of remote actors, take (counted from the lengths of what they
	// keep); the oldest entries go first when one is full.
	maxCacheBytes = 4 << 20
	// maxFollowersPerHost bounds the followers of one show on one remote
	// host (by registrable domain, see hostGroup) unless
	// Config.MaxFollowersPerHost says otherwise: a Follow beyond it is
	// refused (403).
	maxFollowersPerHost = 2000
	// maxRemembered bounds the signatures of accepted inbox requests
	// remembered at once (each until its Date is more than maxClockSkew
	// old, see replayGuard); past it, senders get 503 until some are
	// forgotten.
	maxRemembered = 100000
)

// errTooLong is a field of a remote document or activity longer than its
// bound.
var errTooLong = errors.New("field too long")

// checkLength fails when s is longer than max bytes.
func checkLength(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s: %w (%d bytes, at most %d)", what, errTooLong, len(s), max)
	}
	return nil
}
