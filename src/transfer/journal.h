// UploadJournal: where the engine checkpoints a multipart copy as it goes (the upload id, then
// each finished part with its CRC32C), so that a copy interrupted by a crash continues with the
// parts that are missing instead of starting over. jobs/ implements it on the JobStore; a run
// without a state store passes none.
//
// Resume protocol (TransferEngine::StartMultipart): Load; if an upload is recorded with the same
// part size, Backend::ResumeChunkWriter reopens it and the parts both recorded here and present
// on the store (ChunkWriter::ListStoredParts, the truth on S3) with the same size are adopted,
// not sent again; their recorded CRCs feed the full-object checksum. Anything else is re-sent.
//
// Thread-safety: PartDone is called concurrently from the workers of one object.
#pragma once

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
  };
  struct Upload {
    std::string upload_id;
    uint64_t part_size = 0;
    std::vector<Part> parts;
  };

  virtual ~UploadJournal() = default;
  virtual Result<std::optional<Upload>> Load() = 0;
  // Records a new upload (forgetting any earlier one and its parts).
  virtual Status Begin(const std::string& upload_id, uint64_t part_size) = 0;
  virtual Status PartDone(const Part& part) = 0;
  // The upload completed or was aborted: nothing to resume.
  virtual Status Clear() = 0;
};

}  // namespace ferry::transfer
