// Internals of RunPass shared by pass.cc (listing, batching, threads), key.cc (one key's
// versions to every destination) and copy_version.cc (one version's bytes). Not a public API.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <cstddef>

#include "replicate/pass.h"
#include "replicate/sla.h"
#include "transfer/journal.h"

namespace ferry::replicate::internal {

// One key of the source: its versions oldest first, and what the store knows of them.
struct KeyWork {
  std::string key;
  std::vector<storage::ObjectInfo> versions;  // oldest first
  std::vector<VersionStatus> rows;            // the store's rows of this key (this source)
  std::set<std::string> written_here;         // versions of this source a pass wrote here
  std::vector<VersionStatus> written_rows;    // ... and their COMPLETED rows (other sources)
};

using replicate::PassScope;

// Replicates one key's versions to every destination (key.cc). Per-version failures are
// recorded and counted; the returned error is a failed status store (fatal for the pass). Every
// version recorded COMPLETED or FAILED is reported to `sla`.
Status ReplicateKey(const PassOptions& o, const PassScope& scope, KeyWork& work,
                    PassStats& stats, SlaMetrics& sla, std::stop_token stop);

// A version read before its writes: its details from the read's reply (so no HEAD is needed)
// and its bytes: the whole version (`whole`), or the first part of a chunked write, in a buffer
// of the executor's pool (counted in its ByteBudget). A key holds one buffer at a time: a chunked
// write gives this one back before it borrows the buffer of its later parts (a second
// destination then reads the first part again), so keys waiting for budget hold none of it.
struct ReadAhead {
  storage::ObjectInfo details;
  transfer::BufferPool::Buffer buffer;
  bool whole = false;
  std::span<std::byte> data() const { return buffer.data(); }
};

// A buffer of `size` bytes from `o.executor`'s pool; kCancelled when `stop` is requested while
// it waits for budget.
Result<transfer::BufferPool::Buffer> Borrow(const PassOptions& o, uint64_t size,
                                            std::stop_token stop);

// Reads `version` (a listing entry) of `src` with its details (tags read only when the reply
// counts some): whole when `dst` takes it in one write, else its first part. kFailedPrecondition
// when the reply's size is not the listing's.
Result<ReadAhead> ReadVersionAhead(const PassOptions& o, storage::Backend& src,
                                   storage::Backend& dst, const storage::ObjectInfo& version,
                                   std::stop_token stop);

// One version to write to a destination (CopyVersion).
struct VersionCopy {
  storage::Backend& src;               // the backend the version is read (or copied) from
  storage::Backend& dst;               // the backend it is written to
  const storage::ObjectInfo& version;  // the version, with its details
  const std::string& key;              // the key it is written to on `dst`
  storage::WriteSpec spec;             // how it is written (its size is the version's)
  // The version's bytes read before its writes (ReadVersionAhead): used when they fit, given
  // back otherwise. May be null: the version is read here.
  ReadAhead* ahead = nullptr;
  // Checkpoints of a chunked write (transfer/resume.h): parts an interrupted attempt wrote are
  // not sent again. May be null: no resume.
  std::shared_ptr<transfer::UploadJournal> journal;
};

// Writes `copy.version` (with details; read from `copy.src`) to `copy.key` on `copy.dst` with
// `copy.spec` (copy_version.cc): a server-side copy where `dst` can copy from `src` (one
// CopyObject up to SingleCopyLimit, UploadPartCopy parts above it), else read (the bytes in
// `copy.ahead` are used when given) and written with checks.
Result<storage::WriteResult> CopyVersion(const PassOptions& o, VersionCopy copy,
                                         PassStats& stats, std::stop_token stop);

// True when CopyVersion copies a version of `size` bytes from `src` to `dst` on the server.
bool CopiesOnServer(const PassOptions& o, storage::Backend& src, storage::Backend& dst,
                    uint64_t size);
// The largest version copied with one server-side request.
uint64_t SingleCopyLimit(const PassOptions& o, const storage::Backend& dst);
// The part size of a chunked write (or server-side part copy) of `size` bytes to `dst`.
uint64_t PartSizeFor(const PassOptions& o, const storage::Backend& dst, uint64_t size);

// replica_modifications (modifications.cc): when the key's current version at the source was
// replicated by a rule with replica_modifications (or is a replica that a pass from such a
// destination wrote), its tags are compared with the digest recorded when both sides last
// agreed, and copied to the other side's version when they differ (PutVersionTags; the row's
// digest is then updated). `read_tags`: tags of versions read in this pass, by version id (no
// request for them). Failures are counted and logged; the error is a failed status store.
// A tag set copied by a repair scan (o.scan_repairs) is counted in `sla`.
Status SyncTags(const PassOptions& o, const KeyWork& work,
                const std::map<std::string, storage::Tags>& read_tags, PassStats& stats,
                SlaMetrics& sla, std::stop_token stop);

// The failure of a version whose bytes, read twice alike, a check refused (CopyVersion): what
// it declares (a ferry-crc32c any writer can set, an ETag) is not what it holds. A lasting
// property of the version, not a transfer fault: it is recorded FAILED without holding back the
// key's newer versions, and a later normal pass does not read it again while its row says so
// and its ETag is the same (--retry-failed does). The message holds kReadTwiceAlike.
inline constexpr std::string_view kReadTwiceAlike = "its bytes, read twice alike";
bool IsLastingRefusal(const Status& s);
bool IsLastingRefusal(const VersionStatus& row);  // a FAILED row of such a failure

// The HTTP status an error stands for in the completion report (S3's usual answer for it).
int HttpStatusFor(ErrorCode code);

}  // namespace ferry::replicate::internal
