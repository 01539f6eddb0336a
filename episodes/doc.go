// Package episodes is antenne's domain: shows, episodes and their
// publication states, their validation, the ingest of an uploaded
// recording into an episode, and the catalog kept in an object store
// (bucket.Store) as JSON documents written with conditional writes.
//
// What a recording is (formats, tags, chapters, duration) is
// episodes/audio's business; making it podcast-ready is a Transcoder's
// (episodes/audio/ffmpeg). episodes imports no package of antenne but
// those two, and knows nothing of HTTP, HTML, passwords or any storage SDK.
package episodes
