// `ferry verify --versions`: compares the version histories of two versioned buckets. For
// every key, DST's versions and delete markers must be SRC's, in the same order (newest
// first): each pair both delete markers, or both versions of the same size whose ETags agree.
// Version ids are never compared (each store makes its own).
//
// ETags of a pair of versions: equal, or both plain MD5s and different (a difference), or
// anything else (two multipart layouts, an opaque ETag): only the sizes were checked, and the
// key is reported size-only unless something else differs. No bytes are read.
//
// Memory: one key's history per side at a time (the listings are streamed).
#pragma once

#include <span>
#include <stop_token>

#include "base/status.h"
#include "storage/backend.h"
#include "verify/compare.h"
#include "verify/report.h"

namespace ferry::verify {

// The verdict on two histories of one key, newest first. Pure.
// kDiffer with a reason ("versions: 3 in SRC, 2 in DST", "versions: #2 (newest = #1) size"),
// kSizeOnly when some pair's ETags could not be compared, else kIdentical ("versions").
struct HistoryVerdict {
  Verdict verdict = Verdict::kIdentical;
  std::string reason;
};
HistoryVerdict CompareHistories(std::span<const storage::ObjectInfo> src,
                                std::span<const storage::ObjectInfo> dst);

// Lists the versions of both sides and reports one entry per key (sizes and ETags of the
// newest entries). kNotSupported when a side has no version listing (a local folder).
Status RunVerifyVersions(storage::Backend& src, storage::Backend& dst, Report& report,
                         std::stop_token stop);

}  // namespace ferry::verify
