// TransferEngine: objects copied in parts. StartMultipart reads the source's details, opens (or,
// from the journal's checkpoints, resumes) a ChunkWriter and queues one task per part still
// missing; every part reads its range into a buffer taken from the ByteBudget, records the
// range's CRC32C and writes it (or copies it on the server), then checkpoints it. The worker that
// finishes the last part verifies the combined checksum and commits. On failure the upload is
// aborted, unless the failure is transient and a journal keeps its parts for the next attempt.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "checksum/checksum.h"
#include "transfer/engine.h"

namespace ferry::transfer {

struct TransferEngine::Upload {
  CopyRequest request;  // request.src holds the source's details
  std::unique_ptr<storage::ChunkWriter> writer;
  uint64_t part_size = 0;
  int parts = 0;
  bool server_side = false;
  std::optional<uint32_t> expected_crc;  // declared by the source, verified before Commit
  std::vector<uint32_t> part_crcs;       // index part_number - 1; each written by one task
  std::vector<bool> adopted;             // parts already on the store (resumed)
  std::atomic<int> remaining{0};
  std::mutex mu;
  Status first_error;  // GUARDED_BY(mu)

  const storage::ObjectInfo& src() const { return request.src; }
  uint64_t PartLength(int part_number) const {
    const uint64_t offset = static_cast<uint64_t>(part_number - 1) * part_size;
    return std::min(part_size, src().size - offset);
  }
  void Fail(const Status& s) {
    std::lock_guard lock(mu);
    if (first_error.ok()) first_error = s;
  }
  Status error() {
    std::lock_guard lock(mu);
    return first_error;
  }
};

namespace {

// CRC32C of a whole object read range by range: used for sources whose reads are cheap (local
// files) so that the checksum is known before the upload starts and can be verified at its end.
Result<uint32_t> PrepassCrc(storage::Backend& src, const storage::ObjectInfo& object,
                            ByteBudget& budget, uint64_t chunk, std::stop_token stop) {
  if (!budget.Acquire(chunk, stop)) return Status::Cancelled("cancelled");
  BudgetLease lease(budget, chunk);
  std::unique_ptr<std::byte[]> buffer(new std::byte[chunk]);
  uint32_t crc = 0;
  for (uint64_t off = 0; off < object.size; off += chunk) {
    const uint64_t n = std::min(chunk, object.size - off);
    std::span<std::byte> data(buffer.get(), n);
    FERRY_RETURN_IF_ERROR(src.ReadAt(object.key, off, data, object.etag, stop));
    crc = checksum::Crc32c(data, crc);
  }
  return crc;
}

}  // namespace

Status TransferEngine::StartMultipart(CopyRequest& request, bool server_side,
                                      std::stop_token stop) {
  const storage::ObjectInfo& listed = request.src;
  auto details = src_.Stat(listed.key, /*with_tags=*/true, stop);
  if (!details.ok()) return details.status().WithContext("stat " + src_.Describe() + listed.key);
  if (details->size != listed.size) {
    return Status::FailedPrecondition("object " + listed.key + " changed while listing");
  }
  auto upload = std::make_shared<Upload>();
  upload->request = request;
  upload->request.src = std::move(details).value();
  upload->request.src.mtime = listed.mtime;
  if (upload->request.src.etag.empty()) upload->request.src.etag = listed.etag;
  upload->server_side = server_side;
  upload->part_size = PartSizeFor(listed.size);
  upload->expected_crc = upload->src().crc32c();
  if (!upload->expected_crc && !server_side && src_.features().cheap_reads) {
    FERRY_ASSIGN_OR_RETURN(upload->expected_crc,
                           PrepassCrc(src_, upload->src(), budget_, upload->part_size, stop));
  }
  FERRY_RETURN_IF_ERROR(OpenOrResume(*upload, stop));
  stats_.objects_multipart += 1;
  std::vector<int> todo;
  for (int part = 1; part <= upload->parts; ++part) {
    if (!upload->adopted[static_cast<size_t>(part - 1)]) todo.push_back(part);
  }
  upload->remaining = static_cast<int>(todo.size());
  if (todo.empty()) {  // every part survived the crash: only the commit is left
    upload->remaining = 1;
    Push([this, upload](std::stop_token st) {
      if (upload->remaining.fetch_sub(1) == 1) FinishUpload(upload, st);
    }, true);
    return Status::Ok();
  }
  for (int part : todo) {
    Push([this, upload, part](std::stop_token st) { RunPart(upload, part, st); }, true);
  }
  return Status::Ok();
}

// Opens a new upload, or resumes the one the journal recorded: parts recorded there and present
// on the store with the same size are adopted (not sent again).
Status TransferEngine::OpenOrResume(Upload& upload, std::stop_token stop) {
  const storage::ObjectInfo& src = upload.src();
  const storage::WriteSpec spec = SpecFor(src, upload.expected_crc);
  std::optional<UploadJournal::Upload> recorded;
  if (upload.request.journal) {
    FERRY_ASSIGN_OR_RETURN(recorded, upload.request.journal->Load());
  }
  if (recorded && !upload.server_side && recorded->part_size > 0) {
    auto writer = dst_.ResumeChunkWriter(src.key, recorded->upload_id, spec,
                                         recorded->part_size, stop);
    if (writer.ok()) {
      upload.writer = std::move(writer).value();
      upload.part_size = recorded->part_size;
    } else if (writer.status().code() != ErrorCode::kNotFound) {
      return writer.status().WithContext("resume upload of " + src.key);
    }
  }
  upload.parts = static_cast<int>((src.size + upload.part_size - 1) / upload.part_size);
  upload.part_crcs.assign(static_cast<size_t>(upload.parts), 0);
  upload.adopted.assign(static_cast<size_t>(upload.parts), false);
  if (upload.writer) {
    // Kept in its Result and read by reference: moving the optional<vector> out trips a false
    // maybe-uninitialized warning in GCC 12.
    auto listed = upload.writer->ListStoredParts(stop);
    if (!listed.ok()) return listed.status().WithContext("list parts of " + src.key);
    const std::optional<std::vector<storage::StoredPart>>& stored = listed.value();
    for (const UploadJournal::Part& p : recorded->parts) {
      if (p.part_number < 1 || p.part_number > upload.parts) continue;
      if (p.size != upload.PartLength(p.part_number)) continue;
      storage::StoredPart part{p.part_number, "", p.size};
      if (stored) {  // the store is the truth: a recorded part must be there, same size
        auto it = std::find_if(stored->begin(), stored->end(),
                               [&](const auto& s) { return s.part_number == p.part_number; });
        if (it == stored->end() || it->size != p.size) continue;
        part.etag = it->etag;
      }
      upload.writer->AdoptPart(part);
      upload.adopted[static_cast<size_t>(p.part_number - 1)] = true;
      upload.part_crcs[static_cast<size_t>(p.part_number - 1)] = p.crc32c;
      stats_.parts_resumed += 1;
      stats_.bytes_moved += p.size;
    }
    return Status::Ok();
  }
  auto writer = dst_.OpenChunkWriter(src.key, spec, upload.part_size, stop);
  if (!writer.ok()) return writer.status().WithContext("start upload of " + src.key);
  upload.writer = std::move(writer).value();
  if (upload.request.journal && !upload.server_side) {
    FERRY_RETURN_IF_ERROR(
        upload.request.journal->Begin(upload.writer->upload_id(), upload.part_size));
  }
  return Status::Ok();
}

void TransferEngine::RunPart(const std::shared_ptr<Upload>& upload, int part_number,
                             std::stop_token stop) {
  const uint64_t offset = static_cast<uint64_t>(part_number - 1) * upload->part_size;
  const uint64_t length = upload->PartLength(part_number);
  Status s = upload->error();  // after one part failed, the others are not worth sending
  if (s.ok() && upload->server_side) {
    s = upload->writer->CopyChunk(part_number, src_, upload->src(), offset, length, stop);
  } else if (s.ok()) {
    if (!budget_.Acquire(length, stop)) {
      s = Status::Cancelled("cancelled");
    } else {
      BudgetLease lease(budget_, length);
      std::unique_ptr<std::byte[]> buffer(new std::byte[length]);
      std::span<std::byte> data(buffer.get(), length);
      s = src_.ReadAt(upload->src().key, offset, data, upload->src().etag, stop);
      if (s.ok()) {
        const uint32_t crc = checksum::Crc32c(data);
        upload->part_crcs[static_cast<size_t>(part_number - 1)] = crc;
        s = upload->writer->WriteChunk(part_number, offset, data, stop);
        if (s.ok() && upload->request.journal) {
          s = upload->request.journal->PartDone({part_number, crc, length});
        }
      }
    }
  }
  if (s.ok()) {
    stats_.bytes_moved += length;
  } else {
    upload->Fail(s.WithContext("part " + std::to_string(part_number)));
  }
  if (upload->remaining.fetch_sub(1) == 1) FinishUpload(upload, stop);
}

void TransferEngine::FinishUpload(const std::shared_ptr<Upload>& upload, std::stop_token stop) {
  const std::string& key = upload->src().key;
  Status s = upload->error();
  if (s.ok() && !upload->server_side) {
    uint32_t crc = 0;
    for (int i = 1; i <= upload->parts; ++i) {
      crc = checksum::Crc32cCombine(crc, upload->part_crcs[static_cast<size_t>(i - 1)],
                                    upload->PartLength(i));
    }
    if (upload->expected_crc && *upload->expected_crc != crc) {
      s = Status::DataLoss("checksum mismatch: source " + checksum::Hex32(*upload->expected_crc) +
                           ", sent " + checksum::Hex32(crc) + "; upload aborted");
    } else if (!upload->expected_crc) {
      upload->writer->AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
    }
  }
  if (s.ok()) s = upload->writer->Commit(stop).status();
  const bool keep = !s.ok() && upload->request.journal && !upload->server_side &&
                    (s.transient() || s.code() == ErrorCode::kCancelled);
  if (keep) {
    upload->writer->Detach();  // the next attempt resumes from the journal
  } else {
    if (!s.ok()) {
      Status abort = upload->writer->Abort();
      if (!abort.ok()) s = s.WithContext("(abort also failed: " + abort.message() + ")");
    }
    if (upload->request.journal) (void)upload->request.journal->Clear();
  }
  Complete(upload->request,
           upload->server_side ? "copied (server-side, multipart)" : "copied (multipart)",
           s.ok() ? s : s.WithContext("multipart copy of " + key), upload->src().size);
  upload->writer.reset();
}

}  // namespace ferry::transfer
