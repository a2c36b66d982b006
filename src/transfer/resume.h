// One multipart upload opened or resumed from its journal: the resume protocol of journal.h in
// one place, used by every copy that writes an object in parts (TransferEngine's multipart
// copies, replication's chunked writes of large versions). The caller decides how the upload is
// written (its spec, how a refused spec degrades) through `open`/`resume`; this decides which
// upload is used and which of its parts are already on the store.
//
// Protocol (journal.h): Load; a Creating record without an upload (an attempt died between
// asking the store and recording) aborts the destination's pending uploads of the key started
// since then; a recorded upload of another source pin, of another part size where the caller's
// layout is fixed, or of a server-side copy is aborted and a new one is opened; else the recorded
// upload is reopened and the parts both recorded and listed by the store with the same size are
// adopted (their recorded CRC32C, and MD5 from the store's part ETag or the journal). A new
// upload is recorded Creating before it is opened and Begin after; a Begin that fails aborts it.
//
// After the upload (the caller's part): PartDone per part written; Clear once committed;
// EndFailedUpload after a failure, which keeps the upload for the next attempt (writer detached)
// where the caller's job will be tried again (sync: KeepForJournal, a transient failure or a
// cancellation; replication: a cancellation only), else aborts it and clears the journal.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "checksum/checksum.h"
#include "storage/backend.h"
#include "transfer/journal.h"

namespace ferry::transfer {

// How far before a Creating record an unrecorded upload may have started by the store's clock
// (S3 reports whole seconds; a remote store's clock may differ from ours).
inline constexpr std::chrono::seconds kUnrecordedUploadMargin{30};

struct ResumeRequest {
  storage::Backend* dst = nullptr;
  std::string dst_key;
  UploadJournal* journal = nullptr;  // null: a new upload, nothing recorded
  std::string pin;                   // SourcePin of the source version the parts are read from
  uint64_t size = 0;                 // the object's size
  uint64_t part_size = 0;            // the part size chosen for a new upload
  // The part size is fixed (it reproduces the source's multipart layout): a recorded upload of
  // another part size is not resumed.
  bool fixed_part_size = false;
  // A server-side copy: recorded uploads are aborted, never resumed (their parts are cheap).
  bool server_side = false;
  // Only the recorded upload may be used (part jobs: the upload is another job's): one that
  // is missing, of another source pin or part size, or gone from the store is
  // kFailedPrecondition; nothing is created or aborted.
  bool resume_only = false;
  // Opens a new upload of `part_size` parts on dst_key.
  std::function<Result<std::unique_ptr<storage::ChunkWriter>>(uint64_t part_size)> open;
  // Reopens the recorded upload `upload_id` of `part_size` parts (Backend::ResumeChunkWriter);
  // kNotFound when the store no longer has it (a new one is then opened).
  std::function<Result<std::unique_ptr<storage::ChunkWriter>>(const std::string& upload_id,
                                                              uint64_t part_size)>
      resume;
};

struct ResumedUpload {
  std::unique_ptr<storage::ChunkWriter> writer;
  uint64_t part_size = 0;
  int parts = 0;
  // Index part_number - 1. adopted: already on the store, not to be sent; part_crcs/part_md5s
  // of adopted parts come from the journal (MD5 known where md5_known is 1).
  std::vector<bool> adopted;
  std::vector<uint32_t> part_crcs;
  std::vector<checksum::Md5Digest> part_md5s;
  std::vector<uint8_t> md5_known;  // one byte per part (parts set theirs concurrently)
  int uploads_restarted = 0;       // stale or unrecorded uploads aborted
  int parts_resumed = 0;
  uint64_t bytes_resumed = 0;

  uint64_t PartLength(int part_number, uint64_t size) const {
    const uint64_t offset = static_cast<uint64_t>(part_number - 1) * part_size;
    return std::min(part_size, size - offset);
  }
};

// Opens a new upload or resumes the journal's (see the protocol above). Errors: the journal's
// (no upload is then left unrecorded), the store's.
Result<ResumedUpload> OpenOrResumeUpload(const ResumeRequest& request, std::stop_token stop);

// Whether a failed upload with `journal` is kept for the next attempt (transient failures and
// cancellations of a copy that is not server-side) rather than aborted.
bool KeepForJournal(const Status& failure, const UploadJournal* journal, bool server_side);

// Ends an upload that failed with `failure`: kept for the next attempt (the writer detached,
// the journal left as it is) when `keep` and a journal is given, else aborted and the journal
// cleared. Returns `failure`, with the abort's failure added.
Status EndFailedUpload(storage::ChunkWriter& writer, UploadJournal* journal, bool keep,
                       Status failure);

}  // namespace ferry::transfer
