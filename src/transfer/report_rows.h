// The rows a cp/sync run gives its per-object report (TransferOptions::report; report/row.h,
// docs/design/report.md): a copy's outcome, a skip and the comparison that decided it, a
// delete. Pure functions of what the engine and the planner know at those points.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "report/row.h"
#include "storage/object_info.h"

namespace ferry::transfer {

struct CopyRequest;

// What proved the bytes of a copy that succeeded, from the engine's word for it (`what`:
// "copied", "copied (server-side)", "copied (server-side, multipart)", ...): "none" when
// `unverified` (CopyRequest::unverified: nothing could check it); "server-side" for a single
// server-side copy (the store copied its own bytes, nothing compared); "md5-multipart" for a
// server-side multipart copy (its ETag compared with the source's, the layout reproduced);
// else the strongest checksum the source declared, which the engine checks the bytes read
// against (an additional x-amz-checksum-* by its lower-case name, ferry's "crc32c", a plain
// "md5" ETag, an "md5-multipart" layout), or "local-file" for a local source declaring none
// (the read is the file itself).
std::string CopyChecksumUsed(const storage::ObjectInfo& src, std::string_view what,
                             bool local_source, bool unverified);

// What the comparison behind a skip looked at, from the planner's reason (plan/decide.h):
// "etag", "checksum" (additional checksums or ferry's CRC32C), "content" (bytes read and
// compared), "mtime" (size and modification time, or the destination is newer), "size-only".
std::string SkipChecksumUsed(std::string_view reason);

// A copy's row: copied, would-copy (a dry run), skipped (found unchanged, or gone, after a
// closer look), not-copied (an archived source) or failed. `what` is the engine's word
// (nullptr: nothing written).
struct CopyRowInput {
  const CopyRequest& request;
  const char* what = nullptr;
  const Status& status;
  bool dry_run = false;
  bool not_copied = false;
  std::string checksum;  // CopyChecksumUsed, for a copy that succeeded
};
report::Row CopyRow(const CopyRowInput& in);

// A skip decided on the listing (no request yet).
report::Row SkipRow(const storage::ObjectInfo& src, std::string_view reason);

// A delete of a destination key: deleted, would-delete or failed.
report::Row DeleteRow(std::string key, const Status& status, bool dry_run);

// A move's delete of a source object (transfer/move_source.h): deleted-source,
// would-delete-source or failed (operation "delete-source").
report::Row SourceDeleteRow(std::string key, const Status& status, bool dry_run);

// A key a --files-from list or an S3 Inventory named that the source does not have (any more):
// skipped, not a failure; its error_code "NotFound" and error_message `why` say so (the
// report's one skipped row with an error).
report::Row NotOnSourceRow(std::string key, std::string_view why);

}  // namespace ferry::transfer
