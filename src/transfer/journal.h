// UploadJournal: where the engine checkpoints a multipart copy as it goes (the upload id, then
// each finished part with its CRC32C), so that a copy interrupted by a crash continues with the
// parts that are missing instead of starting over. jobs/ implements it on the JobStore; a run
// without a state store passes none.
//
// Resume protocol (TransferEngine::StartMultipart): Load; if an upload is recorded with the same
// part size and the same source pin (the source version its parts were read from: ETag,
// version id, size, mtime), Backend::ResumeChunkWriter reopens it and the parts both recorded
// here and present on the store (ChunkWriter::ListStoredParts, the truth on S3) with the same
// size are adopted, not sent again; their recorded CRCs (and MD5s) feed the checks. A recorded
// upload of another source version is aborted and the copy starts over: parts of two versions
// are never mixed. Anything else is re-sent.
//
// No upload is ever unknown to the journal: Creating is recorded before the store is asked to
// create one, Begin right after. An attempt that died in between (a SIGKILL, a lost lease)
// leaves a Creating record: the next attempt aborts the destination's pending uploads of the
// key started since then (less a margin for clocks) before it creates its own. A Begin that
// fails (the lease was lost) aborts the upload just created: no store will ever know it.
//
// Thread-safety: PartDone is called concurrently from the workers of one object.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ferry::transfer {

class UploadJournal {
 public:
  struct Part {
    int part_number = 0;
    uint32_t crc32c = 0;
    uint64_t size = 0;
    std::string md5;  // hex MD5 of the part's bytes, "" when not computed
  };
  struct Upload {
    std::string upload_id;
    uint64_t part_size = 0;
    std::string source;  // SourcePin() of the source version the parts were read from
    std::vector<Part> parts;
    // Set (and upload_id empty) when an attempt recorded Creating and not Begin: when it was
    // about to create an upload.
    std::chrono::system_clock::time_point creating_since{};
  };

  virtual ~UploadJournal() = default;
  virtual Result<std::optional<Upload>> Load() = 0;
  // Records that an upload of the source version `source` is about to be created (forgetting
  // any earlier one and its parts). An error means no upload may be created.
  virtual Status Creating(const std::string& source) = 0;
  // Records a new upload (forgetting any earlier one and its parts) of the source version
  // `source` (SourcePin).
  virtual Status Begin(const std::string& upload_id, uint64_t part_size,
                       const std::string& source) = 0;
  virtual Status PartDone(const Part& part) = 0;
  // The upload completed or was aborted: nothing to resume.
  virtual Status Clear() = 0;
};

// The identity of the source version an upload's parts are read from: ETag, version id, size
// and modification time (ns), as one string. Two versions of an object never share one.
std::string SourcePin(const std::string& etag, const std::string& version_id, uint64_t size,
                      int64_t mtime_ns);

}  // namespace ferry::transfer
