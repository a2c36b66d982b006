// MergeListings: the streaming merge of two key-ordered listings (rclone's fs/march). The sync
// driver lists the source and the destination, and this walks both cursors in step, telling a
// ListingVisitor for every key whether it exists on the source only, on the destination only,
// or on both. What to do with each key is decided elsewhere (plan/decide.h).
//
// Memory is O(1) in the number of objects: only the current object of each side and the
// previous key of each side are held.
//
// Keys are compared as unsigned bytes (std::string_view::compare, whose char_traits<char>
// compares as unsigned char), which is the order S3 ListObjectsV2 returns (UTF-8 binary order)
// and the order Backend::List promises.
//
// Thread-safety: MergeListings is a pure function of its arguments; it calls the cursors and
// the visitor from the calling thread only.
#pragma once

#include "base/status.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::plan {

// Receives the merged listing, in ascending byte order of key. The references are valid only
// during the call. Returning a non-OK status stops the merge; MergeListings returns it unchanged.
class ListingVisitor {
 public:
  virtual ~ListingVisitor() = default;
  // `src.key` exists on the source only.
  virtual Status SourceOnly(const storage::ObjectInfo& src) = 0;
  // `dst.key` exists on the destination only.
  virtual Status DestinationOnly(const storage::ObjectInfo& dst) = 0;
  // src.key == dst.key.
  virtual Status Both(const storage::ObjectInfo& src, const storage::ObjectInfo& dst) = 0;
};

// Walks both cursors to their end, calling `visitor` once per distinct key.
//
// Returns:
//  - OK when both cursors reached their end and every visitor call returned OK.
//  - The first non-OK status of a cursor or of the visitor, unchanged; nothing more is read or
//    visited after it.
//  - kInternal when a cursor yields a key that is not strictly greater than its previous key
//    (out of order or duplicate); the message names the side and both keys. A listing bug must
//    never turn into deletes, so the check runs as each object is read, before it is visited.
//
// A streaming merge can only detect disorder when the offending key arrives, and by then
// DestinationOnly may already have been called for keys that a correct listing would have
// matched. Visitors that delete must therefore queue deletions and carry them out only after
// MergeListings has returned OK (rclone's --delete-after, its default).
Status MergeListings(storage::ListingCursor& src, storage::ListingCursor& dst,
                     ListingVisitor& visitor);

}  // namespace ferry::plan
