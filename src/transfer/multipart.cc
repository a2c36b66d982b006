// TransferEngine: objects copied in parts. StartMultipart reads the source's details, opens a
// ChunkWriter and queues one task per part; every part reads its range into a buffer taken
// from the ByteBudget, records the range's CRC32C and writes it (or copies it on the server).
// The worker that finishes the last part verifies the combined checksum and commits, or aborts
// when any part failed.
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "checksum/checksum.h"
#include "transfer/engine.h"

namespace ferry::transfer {

struct TransferEngine::Upload {
  storage::ObjectInfo src;
  std::unique_ptr<storage::ChunkWriter> writer;
  uint64_t part_size = 0;
  int parts = 0;
  bool server_side = false;
  std::optional<uint32_t> expected_crc;  // declared by the source, verified before Commit
  std::vector<uint32_t> part_crcs;       // index part_number - 1; each written by one task
  std::atomic<int> remaining{0};
  std::mutex mu;
  Status first_error;  // GUARDED_BY(mu)

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

Status TransferEngine::StartMultipart(const storage::ObjectInfo& listed, bool server_side,
                                      std::stop_token stop) {
  auto details = src_.Stat(listed.key, /*with_tags=*/true, stop);
  if (!details.ok()) return details.status().WithContext("stat " + src_.Describe() + listed.key);
  auto upload = std::make_shared<Upload>();
  upload->src = std::move(details).value();
  upload->src.mtime = listed.mtime;
  if (upload->src.size != listed.size) {
    return Status::FailedPrecondition("object " + listed.key + " changed while listing");
  }
  if (upload->src.etag.empty()) upload->src.etag = listed.etag;
  upload->server_side = server_side;
  upload->part_size = PartSizeFor(upload->src.size);
  upload->parts = static_cast<int>((upload->src.size + upload->part_size - 1) / upload->part_size);
  upload->part_crcs.assign(static_cast<size_t>(upload->parts), 0);
  upload->remaining = upload->parts;

  upload->expected_crc = upload->src.crc32c();
  if (!upload->expected_crc && !server_side && src_.features().cheap_reads) {
    FERRY_ASSIGN_OR_RETURN(upload->expected_crc,
                           PrepassCrc(src_, upload->src, budget_, upload->part_size, stop));
  }
  // Server-side copies keep the source's metadata as it is (its checksum, if any, stays true).
  auto writer = dst_.OpenChunkWriter(listed.key, SpecFor(upload->src, upload->expected_crc),
                                     upload->part_size, stop);
  if (!writer.ok()) return writer.status().WithContext("start upload of " + listed.key);
  upload->writer = std::move(writer).value();
  stats_.objects_multipart += 1;
  for (int part = 1; part <= upload->parts; ++part) {
    Push([this, upload, part](std::stop_token st) { RunPart(upload, part, st); }, true);
  }
  return Status::Ok();
}

void TransferEngine::RunPart(const std::shared_ptr<Upload>& upload, int part_number,
                             std::stop_token stop) {
  const uint64_t offset = static_cast<uint64_t>(part_number - 1) * upload->part_size;
  const uint64_t length = std::min(upload->part_size, upload->src.size - offset);
  Status s = upload->error();  // after one part failed, the others are not worth sending
  if (s.ok() && upload->server_side) {
    s = upload->writer->CopyChunk(part_number, src_, upload->src, offset, length, stop);
  } else if (s.ok()) {
    if (!budget_.Acquire(length, stop)) {
      s = Status::Cancelled("cancelled");
    } else {
      BudgetLease lease(budget_, length);
      std::unique_ptr<std::byte[]> buffer(new std::byte[length]);
      std::span<std::byte> data(buffer.get(), length);
      s = src_.ReadAt(upload->src.key, offset, data, upload->src.etag, stop);
      if (s.ok()) {
        upload->part_crcs[static_cast<size_t>(part_number - 1)] = checksum::Crc32c(data);
        s = upload->writer->WriteChunk(part_number, offset, data, stop);
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
  const std::string& key = upload->src.key;
  Status s = upload->error();
  if (s.ok() && !upload->server_side) {
    uint32_t crc = 0;
    for (int i = 0; i < upload->parts; ++i) {
      const uint64_t len = std::min(upload->part_size,
                                    upload->src.size - static_cast<uint64_t>(i) * upload->part_size);
      crc = checksum::Crc32cCombine(crc, upload->part_crcs[static_cast<size_t>(i)], len);
    }
    if (upload->expected_crc && *upload->expected_crc != crc) {
      s = Status::DataLoss("checksum mismatch: source " + checksum::Hex32(*upload->expected_crc) +
                           ", sent " + checksum::Hex32(crc) + "; upload aborted");
    } else if (!upload->expected_crc) {
      upload->writer->AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
    }
  }
  if (s.ok()) {
    auto etag = upload->writer->Commit(stop);
    s = etag.status();
  }
  if (!s.ok()) {
    Status abort = upload->writer->Abort();
    if (!abort.ok()) s = s.WithContext("(abort also failed: " + abort.message() + ")");
  }
  Done(key, upload->server_side ? "copied (server-side, multipart)" : "copied (multipart)",
       s.ok() ? s : s.WithContext("multipart copy of " + key), upload->src.size);
  upload->writer.reset();
}

}  // namespace ferry::transfer
