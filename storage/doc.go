// Package storage keeps objects (keys, bytes, ETags, content types) in a
// local folder (Dir, the default) or an S3-compatible bucket (S3). It knows
// nothing of what the objects mean: storage/bucket, the coordination layer
// above it, declares the interface it needs (bucket.Store) and both stores
// satisfy it.
//
// Contract, common to both stores:
//   - Keys are slash-separated UTF-8 paths relative to the store's root, at
//     most 1024 bytes, 255 per element. Empty keys, absolute keys, keys with a "." or ".."
//     element, an empty element (// or a trailing /), a backslash, a NUL
//     byte or another control character are refused with ErrInvalidKey
//     (see CheckKey). Dir also reserves the top-level name ".antenne" and
//     cannot hold both "a" and "a/b".
//   - A missing key gives an error wrapping fs.ErrNotExist.
//   - PutIf whose condition fails gives an error wrapping ErrConflict, which
//     itself wraps fs.ErrExist. Among concurrent PutIf calls with the same
//     condition on one key, exactly one succeeds. An ETag condition on a
//     missing key fails too.
//   - Put streams: memory stays bounded whatever the object's size (S3:
//     about one multipart part, 16 MiB by default). A body shorter than
//     the size announced fails the write, which then leaves nothing.
//   - Get reads a byte range: offset, and length bytes or to the end when
//     length < 0. Its ObjectInfo describes the whole object. A range
//     reaching past the end is cut; an offset past the end gives
//     ErrInvalidRange.
//   - List yields objects in lexical (byte) key order, all pages included,
//     for any string prefix (not only folder prefixes). Listed ObjectInfo
//     may have an empty ContentType (S3 listings do not carry it).
//   - ETags are opaque, unquoted, and change whenever the bytes change.
//     Dir makes a new one on every write; S3 servers hash the content, so
//     rewriting the very same bytes may keep the ETag (an If-Match made
//     from it then still succeeds, harmlessly: nothing was lost).
//   - Ping reports whether the store is reachable (for readiness checks).
//   - All methods are safe for concurrent use.
package storage
