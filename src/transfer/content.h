// Content digests computed by reading an object, for what no stored checksum tells: the CRC32C
// pre-pass over a local file before a multipart upload, and `--checksum` comparisons where a
// side declares no checksum (a user's own files, objects written by other tools).
//
// Reads go through Backend::ReadAt in chunks, each under the run's ByteBudget, pinned to the
// object's ETag when it has one (a concurrent overwrite fails instead of mixing versions).
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>

#include "base/status.h"
#include "checksum/checksum.h"
#include "storage/backend.h"
#include "transfer/budget.h"

namespace ferry::transfer {

struct ContentDigest {
  uint32_t crc32c = 0;
  std::optional<checksum::Md5Digest> md5;  // only when asked for
};

// Reads all of `object` in chunks of `chunk` bytes and digests it (CRC32C, plus MD5 when
// `with_md5`).
Result<ContentDigest> ReadDigest(storage::Backend& backend, const storage::ObjectInfo& object,
                                 ByteBudget& budget, uint64_t chunk, bool with_md5,
                                 std::stop_token stop);

// One side of a comparison (SameContent): an object and the backend that holds it. Not owned.
struct StoredObject {
  storage::Backend& backend;
  const storage::ObjectInfo& object;
};

// Whether `src` and `dst` (same size, details fetched) hold the same bytes. Uses what each
// side's store computed (a full-object x-amz-checksum-* of one algorithm on both, a plain MD5
// ETag) and reads only what is missing (ReadDigest, in chunks of `chunk` bytes): the side
// without an MD5 ETag, both when neither has one. ferry's CRC32C (a writer's claim,
// docs/design/integrity.md) is never used: equal claims over different bytes are not "same".
Result<bool> SameContent(const StoredObject& src, const StoredObject& dst, ByteBudget& budget,
                         uint64_t chunk, std::stop_token stop);

}  // namespace ferry::transfer
