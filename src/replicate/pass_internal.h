// Internals of RunPass shared by pass.cc (listing, batching, threads), key.cc (one key's
// versions to every destination) and copy_version.cc (one version's bytes). Not a public API.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "replicate/pass.h"

namespace ferry::replicate::internal {

// One key of the source: its versions oldest first, and what the store knows of them.
struct KeyWork {
  std::string key;
  std::vector<storage::ObjectInfo> versions;  // oldest first
  std::vector<VersionStatus> rows;            // the store's rows of this key (this source)
  std::set<std::string> written_here;         // versions of this source a pass wrote here
  std::vector<VersionStatus> written_rows;    // ... and their COMPLETED rows (other sources)
};

// Replicates one key's versions to every destination (key.cc). Per-version failures are
// recorded and counted; the returned error is a failed status store (fatal for the pass).
// `first_seen_ns`: when each enabled rule was first seen (existing_objects = off).
Status ReplicateKey(const PassOptions& o, const std::map<std::string, int64_t>& first_seen_ns,
                    KeyWork& work, PassStats& stats, std::stop_token stop);

// Writes `version` (with details; read from `src`) to `key` on `dst` with `spec` (copy_version.cc).
Result<storage::WriteResult> CopyVersion(const PassOptions& o, storage::Backend& src,
                                         storage::Backend& dst,
                                         const storage::ObjectInfo& version,
                                         const std::string& key, storage::WriteSpec spec,
                                         PassStats& stats, std::stop_token stop);

// The HTTP status an error stands for in the completion report (S3's usual answer for it).
int HttpStatusFor(ErrorCode code);

}  // namespace ferry::replicate::internal
