// Package feed turns a show and its episodes into bytes: the RSS 2.0
// document podcast apps subscribe to, the JSON chapters of an episode, the
// HTML of show notes, and the public URL scheme that the web server shares
// with the feed.
//
// # Purity
//
// Every function is a pure function of its arguments: no clock, no
// environment, no network, no logging. The caller passes the build time
// (Options.BuildTime) and, if it differs, the instant that decides which
// episodes are published and the status of the live item (Options.Now). The same inputs give the same
// bytes, whatever the order of the episodes passed in. The only state is a
// bounded in-memory cache of rendered show notes, which changes speed, never
// output. Everything is safe for concurrent use.
//
// # The feed
//
// Write (or Build, which returns the bytes) writes RSS 2.0 with the itunes,
// podcast (https://podcastindex.org/namespace/1.0), content and atom
// namespaces, built with github.com/eduncan911/podcast v1.4.2. That library
// is unmaintained and lacks many tags, so its Podcast and Item are embedded
// in our own types, which add the missing tags and shadow two of its fields
// (guid, to add isPermaLink="false", and the items). Its traps are avoided:
// its enclosure type enum (whose zero value is audio/x-m4a and which has no
// audio/mp4) is overwritten by the media's own MIME type; every date is set
// so that it never stamps time.Now; its generator and "en-us" language are
// overwritten; itunes:author is the show's author name, never an e-mail.
//
// The caller passes all the episodes of the show; the feed lists those whose
// Status(Now) is Published, newest first by PublishAt (ties by ID). The
// channel carries title, link (the show's website, else its antenne page),
// description, language ("fr" when the show has none), copyright,
// generator, lastBuildDate, pubDate (of the newest episode), atom:link
// rel="self", image and itunes:image, itunes:author, itunes:owner,
// itunes:category (nested), itunes:explicit (true/false), itunes:type,
// itunes:new-feed-url, podcast:guid, podcast:locked (with owner),
// podcast:funding, podcast:license (lower-case SPDX identifier, with the
// Creative Commons deed as url), podcast:person (hosts), podcast:medium
// and podcast:updateFrequency (weekly rrule from the air slot), and, for a
// show with a live stream, one podcast:liveItem for the current or next
// broadcast (see LiveAt: pending, live, ended; start and end in the air
// slot's zone as RFC 3339 with the offset; the stream as enclosure; the
// show page as contentLink; a guid stable per broadcast). Each item
// carries title, itunes:title, link (the episode page), description,
// content:encoded, guid isPermaLink="false", pubDate (RFC 2822, UTC),
// enclosure (absolute URL, exact byte length, MIME type), itunes:duration
// (whole seconds, rounded), itunes:episode, itunes:season,
// itunes:episodeType, itunes:image (the episode's artwork, else the
// show's), itunes:explicit, podcast:season (with name when
// Options.Season gives one), podcast:episode, podcast:chapters,
// podcast:transcript, podcast:person (hosts and guests) and
// podcast:alternateEnclosure for the original of a transcoded upload (with
// podcast:source and a podcast:integrity SHA-256), and
// podcast:socialInteract protocol="activitypub" (the episode's fediverse
// post) when Options.SocialInteract gives one. Empty fields are left out.
//
// # Text
//
// Every string from the catalog loses the characters XML 1.0 forbids
// (control characters but tab, newline and carriage return; U+FFFE, U+FFFF;
// invalid UTF-8) and its surrounding white space; encoding/xml escapes the
// rest, so &, <, quotes, accents and emoji come out as written.
//
// Show notes are Markdown. RenderNotes turns them into HTML (goldmark,
// CommonMark plus GitHub's tables, strikethrough and autolinks) and
// sanitises it (bluemonday, an allow list: text structure, emphasis, lists,
// quotes, code, tables and http/https/mailto links; no script, style,
// image, iframe, event handler or javascript:/data: URL). That HTML is the
// item's content:encoded, in a CDATA section. The item's description is
// PlainNotes: the same notes as plain text (paragraphs separated by blank
// lines, "- " list items, link URLs in parentheses), cut at 4,000
// characters; the episode title when there are no notes.
//
// # URLs
//
// Links is the URL scheme (see its documentation for the table): pages and
// the feed under the base URL, media, originals and images under the media
// base URL when one is set, transcripts and JSON chapters under the base
// URL. Links.Object maps a store key shows/<show>/<dir>/<file> to its URL
// and ObjectKey maps a request path back to the key; keys of other kinds
// are refused with ErrNotPublic.
//
// # Reading other feeds
//
// Parse reads the feed of another host (the way in for a show that moves to
// antenne, see package feed/importer) into a Foreign value: channel and
// items as the feed writes them, with the broken forms found in the wild
// tolerated (undeclared or differently spelled namespaces, HTML entities,
// ISO-8859-1, RFC 2822 dates with zone names or without seconds, ISO 8601
// dates, durations in seconds, MM:SS or HH:MM:SS, missing or zero lengths,
// relative URLs). What cannot be read is left zero (a date keeps its error
// in DateError); only malformed XML and a document that is no RSS fail.
// Parse is pure too: it reads only the io.Reader it is given.
//
// # Errors
//
// Write refuses, with an error naming the show and the episode, a missing
// show, show title, Links or BuildTime, an unknown show or episode type, an
// air slot out of range, and a published episode without GUID, media type,
// positive media size, or with an object key that has no public URL. Nothing is written to w then. Drafts and
// scheduled episodes are not checked.
package feed
