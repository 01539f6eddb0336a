// Package episodes is antenne's domain: shows, episodes and their
// publication states, the ingest of an uploaded recording (format sniffing,
// tags, duration, transcoding) and the catalog kept in an object store
// (Blobs).
//
// It imports no other package of antenne and knows nothing of HTTP, HTML or
// any storage SDK.
package episodes
