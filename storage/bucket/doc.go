// Package bucket is the coordination layer over the object store: the one
// place where antenne's replicas (and the CLI, one more replica) agree on
// anything. Everything that keeps state goes through it; nothing above it
// writes a conditional put by hand.
//
// It offers, each written once:
//
//   - Store, the object store as its consumers need it (storage.Dir and
//     storage.S3 satisfy it);
//   - documents: JSON objects read with their revision (the store's ETag),
//     created if absent, updated if unchanged, bounded in size both ways
//     (nothing is written that could not be read back), with a schema
//     version (Read, Create, Update, Write);
//   - leases (Leases): a document held by one owner until a time, taken,
//     renewed and released by conditional writes;
//   - claims (Claim, Release): a unique name held by one owner;
//   - sharded counters (WriteShard, SumShards): one document per replica,
//     summed by readers.
//
// The rules these keep (../../DESIGN.md, "Coordination rules"):
//
//   - A lease lasts at least twice the store operation timeout (OpTimeout),
//     so that one hung write cannot outlive it; its expiry is computed from
//     the time of the write, not from a time taken before waiting; and a
//     holder considers it lost from the time the write began plus its
//     duration, minus one OpTimeout of margin.
//   - Every side effect done under a lease is fenced by a revision the
//     store checks (a write with If-Match), never by the holder's belief.
//   - Nothing is deleted on a lost race without re-reading what references
//     it; a claim is never deleted, only released by a conditional write,
//     so that a claim taken over meanwhile is never lost.
//   - A replica never contradicts a record from its cache alone: it
//     re-reads the document it would contradict.
package bucket
