// What cp/sync write besides the bytes, from the command line (docs/design/integrity.md §7):
// --checksum-algorithm (an S3 additional checksum on every object written), --metadata K=V,
// --content-type and --metadata-directive COPY|REPLACE (transfer::MetadataOverrides).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "checksum/additional.h"
#include "transfer/engine.h"

namespace ferry::app {

struct WriteFlags {
  std::string checksum_algorithm{};   // --checksum-algorithm ("" = keep the source's)
  std::vector<std::string> metadata{};  // --metadata K=V, repeatable
  std::string content_type{};         // --content-type
  std::string metadata_directive{};   // --metadata-directive: "", COPY or REPLACE
  bool any() const {
    return !checksum_algorithm.empty() || !metadata.empty() || !content_type.empty() ||
           !metadata_directive.empty();
  }
};

// --checksum-algorithm: CRC32, CRC32C, CRC64NVME, SHA1 or SHA256 (any case); nullopt for "".
Result<std::optional<checksum::Algorithm>> ParseChecksumAlgorithmFlag(const std::string& value);

// --metadata, --content-type and --metadata-directive. Names are lower-cased (S3 keeps them so)
// and must be HTTP token characters, not ferry's own "ferry-*"; values printable ASCII (S3
// carries user metadata in HTTP headers). kInvalidArgument naming the flag otherwise.
Result<transfer::MetadataOverrides> ParseMetadataFlags(const WriteFlags& flags);

}  // namespace ferry::app
