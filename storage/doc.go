// Package storage keeps objects (keys, bytes, ETags, content types) in a
// local folder (Dir, the default) or an S3-compatible bucket (S3). It knows
// nothing of episodes: the episodes package declares the interface it needs
// (episodes.Blobs) and both stores satisfy it.
//
// Contract, common to both stores:
//   - Keys are slash-separated UTF-8 paths relative to the store's root.
//     Empty keys, absolute keys, keys with a "." or ".." element, a NUL
//     byte, a backslash or an empty element are refused with ErrInvalidKey.
//   - A missing key gives an error wrapping fs.ErrNotExist.
//   - PutIf whose condition fails gives an error wrapping ErrConflict, which
//     itself wraps fs.ErrExist. Among concurrent PutIf calls with the same
//     condition on one key, exactly one succeeds.
//   - Put streams: memory stays bounded whatever the object's size.
//   - List yields objects in lexical key order, all pages included.
//   - ETags are opaque, unquoted, and change on every write.
//   - All methods are safe for concurrent use.
package storage
