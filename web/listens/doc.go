// Package listens counts the listens of episodes without keeping anything
// about a listener.
//
// # What a listen is
//
// A listen is one episode downloaded by one listener on one UTC day. The
// listener is known only by a key: HMAC-SHA256 under a random salt of the
// client's address (an IPv6 address cut to its /64, the block a home or a
// phone gets) and user agent. The salt is drawn when the counter starts and
// again at each midnight UTC; it lives in memory only and is never logged
// or stored, so yesterday's keys cannot be recomputed by anyone, antenne
// included.
//
// For each (episode, key) of the day the counter keeps the byte ranges
// actually sent (merged intervals). The pair counts once, when those bytes
// reach the part of the file before the audio (the ID3 tag and its artwork,
// estimated as the file size less duration × bitrate) plus one minute of
// audio at the file's bitrate, or the whole file when it is shorter. So a
// full download counts 1, the same listener again that day still 1, twenty
// ranged requests that together cover the file 1, a request cut after a few
// kilobytes 0. A "Range: bytes=0-1" probe (Apple's players send one before
// playing) is ignored, and so are user agents the table useragents.json
// marks as bots (crawlers, feed fetchers, link previews, scripts).
//
// When media are redirected to a public bucket URL (ANTENNE_MEDIA_URL),
// antenne never sees the bytes: a listen then counts at the redirect, once
// per (episode, key, day) (see Counter.Redirected), within the address's
// cap. This is an estimate: an app that follows the redirect and stops at
// once counts too.
//
// # Bounded memory
//
// A day keeps at most Options.MaxListeners (episode, key) pairs and each
// pair at most maxSpans byte ranges. Past the ranges' cap the smallest
// range is dropped (the pair may then count later than it should, never
// earlier). Past the pairs' cap, the pairs not yet counted that have
// received the fewest bytes are forgotten first, then the pairs that
// counted longest ago, down to three quarters of the cap: a newcomer is
// always tracked (Counter.Dropped counts the pairs forgotten), and a
// forgotten listener may count once more that day. Pairs that have
// counted keep no ranges. Everything of a day is forgotten at the next
// midnight UTC, with the salt.
//
// # Per address
//
// One address (keyed like a listener, without the user agent) adds at
// most Options.MaxPerAddress listens to an episode in a day, whatever
// user agents it sends; past that no pair is kept for it (Counter.Capped
// counts the listens refused). The day keeps at most MaxListeners such
// counts, forgetting those that counted least. A request without a user
// agent is not counted.
//
// # Bytes that count
//
// Listen.Done takes the reads as sent (all of them for a response written
// whole, all but the last for one cut short); Listen.DoneAcked takes only
// the first bytes read that the client acknowledged, which the web gives
// for a cut response from the connection's TCP acknowledgements.
//
// # What is stored
//
// Only aggregates leave memory: (day, show, episode, app family, count).
// Each replica adds its counts to its own shard, listens/<day>/<replica>.json,
// every minute and on shutdown (Counter.Flush), with conditional writes,
// so that two processes using the same replica name never lose a count.
// Readers sum every shard of a day (Counter.Rows).
package listens
