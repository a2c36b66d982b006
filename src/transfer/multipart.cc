// TransferEngine: objects copied in parts. StartMultipart reads the source's details, opens (or,
// from the journal's checkpoints, resumes) a ChunkWriter and queues one task per part still
// missing; every part reads its range into a buffer borrowed from the executor's BufferPool,
// records the range's CRC32C and writes it from the same buffer (or copies it on the server),
// then checkpoints it. The worker that finishes the last part verifies the combined checksum
// and commits. On failure the upload is aborted, unless the failure is transient and a journal
// keeps its parts for the next attempt.
#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "checksum/checksum.h"
#include "transfer/content.h"
#include "transfer/engine.h"
#include "transfer/resume.h"
#include "transfer/verify.h"
#include "obs/log.h"

namespace ferry::transfer {

struct TransferEngine::Upload {
  CopyRequest request;  // request.src holds the source's details
  std::unique_ptr<storage::ChunkWriter> writer;
  uint64_t part_size = 0;
  int parts = 0;
  bool server_side = false;
  std::optional<uint32_t> expected_crc;  // declared by the source, verified before Commit
  SourceCheck check;                     // what the source declares (verify.h)
  // The parts reproduce the source's multipart layout, so the MD5 of the part MD5s must equal
  // its ETag's digest; `layout_exact` when the store told the part size (else it is guessed,
  // and a mismatch may be a wrong guess: the object is then counted as unverified).
  bool layout_verify = false;
  bool layout_exact = false;
  std::vector<uint32_t> part_crcs;       // index part_number - 1; each written by one task
  std::vector<checksum::Md5Digest> part_md5s;  // with track_md5(); index part_number - 1
  // With track_md5(); one byte per part, not vector<bool>: parts set theirs concurrently.
  std::vector<uint8_t> md5_known;
  // Part MD5s are needed to check the parts against the source (CheckLayout).
  bool track_md5() const { return !server_side && !expected_crc && (layout_verify || check.md5); }
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

// The part size of a multipart copy, and how its parts are checked against the source.
struct PartLayout {
  uint64_t part_size = 0;
  bool verify = false;  // the parts reproduce the source's layout (Upload::layout_verify)
  bool exact = false;   // the store told the part size: not a guess (Upload::layout_exact)
};

// The part size that reproduces the layout of a source whose ETag is "<md5>-N", if the
// destination accepts it: the exact one where the store tells it, else the likeliest guess.
// Otherwise `part_size`, unverified.
PartLayout ChooseLayout(storage::Backend& src, const storage::Features& dst,
                        const SourceCheck& check, const storage::ObjectInfo& object,
                        uint64_t part_size, std::stop_token stop) {
  PartLayout layout{.part_size = part_size};
  if (!check.multipart || check.parts > dst.max_parts) return layout;
  auto usable = [&](uint64_t p) {
    return p <= dst.max_part_size && (check.parts == 1 || p >= dst.min_part_size);
  };
  auto told = src.FirstPartSize(object, stop);
  if (told.ok() && *told && usable(**told) &&
      (object.size + **told - 1) / **told == static_cast<uint64_t>(check.parts)) {
    layout.part_size = **told;
    layout.verify = layout.exact = true;
    return layout;
  }
  for (uint64_t p : CandidatePartSizes(object.size, check.parts, 16)) {
    if (!usable(p)) continue;
    layout.part_size = p;
    layout.verify = true;
    return layout;
  }
  return layout;
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
  upload->check = CheckOf(upload->src());
  if (!upload->expected_crc) {
    const PartLayout layout = ChooseLayout(src_, dst_.features(), upload->check, upload->src(),
                                           upload->part_size, stop);
    upload->part_size = layout.part_size;
    upload->layout_verify = layout.verify;
    upload->layout_exact = layout.exact;
  }
  if (!upload->expected_crc && !server_side && src_.features().cheap_reads) {
    // The checksum of a local file is known before the upload starts and checked at its end.
    FERRY_ASSIGN_OR_RETURN(ContentDigest pre, ReadDigest(src_, upload->src(), budget_,
                                                         upload->part_size, false, stop));
    upload->expected_crc = pre.crc32c;
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
    Push([this, upload, part](std::stop_token st) {
           WithJointStop(st, upload->request.cancel,
                         [&](std::stop_token joint) { RunPart(upload, part, joint); });
         },
         true);
  }
  return Status::Ok();
}

// Opens a new upload, or resumes the one the journal recorded (resume.h): parts recorded there
// and present on the store with the same size are adopted (not sent again), if they were read
// from this very version of the source.
Status TransferEngine::OpenOrResume(Upload& upload, std::stop_token stop) {
  const storage::ObjectInfo& src = upload.src();
  const std::string& dst_key = upload.request.destination_key();
  storage::WriteSpec spec = SpecFor(src, upload.expected_crc);
  Degrade(spec);
  ResumeRequest r{
      .dst = &dst_,
      .dst_key = dst_key,
      .journal = upload.request.journal.get(),
      .pin = SourcePin(src.etag, src.version_id, src.size,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(
                           src.mtime.time_since_epoch())
                           .count()),
      .size = src.size,
      .part_size = upload.part_size,
      .fixed_part_size = upload.layout_verify,
      .server_side = upload.server_side,
      .open = [&](uint64_t part_size) -> Result<std::unique_ptr<storage::ChunkWriter>> {
        Result<std::unique_ptr<storage::ChunkWriter>> writer = Status::Internal("not opened");
        FERRY_RETURN_IF_ERROR(WriteDegrading(spec, [&](const storage::WriteSpec& s) {
          writer = dst_.OpenChunkWriter(dst_key, s, part_size, stop);
          return writer.status();
        }));
        return writer;
      },
      .resume = [&](const std::string& upload_id,
                    uint64_t part_size) -> Result<std::unique_ptr<storage::ChunkWriter>> {
        return dst_.ResumeChunkWriter(dst_key, upload_id, spec, part_size, stop);
      }};
  FERRY_ASSIGN_OR_RETURN(ResumedUpload opened, OpenOrResumeUpload(r, stop));
  stats_.uploads_restarted += static_cast<uint64_t>(opened.uploads_restarted);
  stats_.parts_resumed += static_cast<uint64_t>(opened.parts_resumed);
  stats_.bytes_moved += opened.bytes_resumed;
  upload.writer = std::move(opened.writer);
  upload.part_size = opened.part_size;
  upload.parts = opened.parts;
  upload.adopted = std::move(opened.adopted);
  upload.part_crcs = std::move(opened.part_crcs);
  upload.part_md5s = std::move(opened.part_md5s);
  upload.md5_known = std::move(opened.md5_known);
  return Status::Ok();
}

void TransferEngine::RunPart(const std::shared_ptr<Upload>& upload, int part_number,
                             std::stop_token stop) {
  const uint64_t offset = static_cast<uint64_t>(part_number - 1) * upload->part_size;
  const uint64_t length = upload->PartLength(part_number);
  Status s = upload->error();  // after one part failed, the others are not worth sending
  if (s.ok() && stop.stop_requested()) s = Status::Cancelled("cancelled");
  if (s.ok() && upload->server_side) {
    s = upload->writer->CopyChunk(part_number, src_, upload->src(), offset, length, stop);
  } else if (s.ok()) {
    // A pooled buffer: the GET writes into it and the PUT sends from it, with no other copy.
    std::optional<BufferPool::Buffer> buffer = executor_.buffers().Borrow(length, stop);
    if (!buffer) {
      s = Status::Cancelled("cancelled");
    } else {
      const std::span<std::byte> data = buffer->data();
      const auto index = static_cast<size_t>(part_number - 1);
      s = src_.ReadAt(upload->src().key, offset, data, upload->src().etag, stop);
      if (s.ok()) {
        const uint32_t crc = checksum::Crc32c(data);
        upload->part_crcs[index] = crc;
        s = upload->writer->WriteChunk(part_number, offset, data, stop);
        if (s.ok() && upload->track_md5()) {
          // The store's MD5 of the bytes it received (it checked them against what was sent:
          // signed payload or Content-MD5) is the MD5 of what was read; hashed here only where
          // the store reports none.
          auto stored = ParseMd5Hex(upload->writer->WrittenPartMd5(part_number));
          upload->part_md5s[index] = stored ? *stored : checksum::Md5(data);
          upload->md5_known[index] = 1;
        }
        if (s.ok() && upload->request.journal) {
          std::string md5;
          if (upload->track_md5()) md5 = checksum::Hex(upload->part_md5s[index]);
          s = upload->request.journal->PartDone({part_number, crc, length, md5});
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

// Checks the parts sent against what the source declares when it is not ferry's CRC: the
// digest of a reproduced multipart layout, or the MD5 of a large object written in one PUT.
// Counts the object as unverified where nothing could check it.
Status TransferEngine::CheckLayout(Upload& upload, std::stop_token stop) {
  const bool md5_source = upload.check.md5.has_value();
  if (!upload.layout_verify && !md5_source) {
    // A local file read is the source itself; a remote object without a checksum is reported.
    if (!src_.features().cheap_reads) stats_.objects_unverified += 1;
    return Status::Ok();
  }
  if (std::find(upload.md5_known.begin(), upload.md5_known.end(), 0) !=
      upload.md5_known.end()) {
    stats_.objects_unverified += 1;  // resumed parts whose MD5 the store does not report
    return Status::Ok();
  }
  if (upload.layout_verify && MultipartDigest(upload.part_md5s) == *upload.check.multipart) {
    return Status::Ok();
  }
  if (upload.layout_verify && upload.layout_exact) {
    return Status::DataLoss("bytes read from " + upload.src().key +
                            " do not match the source's ETag " + upload.src().etag +
                            " (corrupted on the way); upload aborted");
  }
  // Read the object again, in order: parts that read differently twice were corrupted on the
  // way (the upload is aborted and done again). A source written in one PUT has its MD5 in its
  // ETag, which an in-order read can compute (parts finish in any order, and MD5s cannot be
  // combined). With a guessed layout that does not reproduce the ETag, parts that read the
  // same twice are what the source serves, and only its ETag could not confirm them.
  checksum::Md5Hasher whole;
  for (int i = 1; i <= upload.parts; ++i) {
    std::optional<BufferPool::Buffer> buffer =
        executor_.buffers().Borrow(upload.PartLength(i), stop);
    if (!buffer) return Status::Cancelled("cancelled");
    const std::span<std::byte> data = buffer->data();
    FERRY_RETURN_IF_ERROR(src_.ReadAt(upload.src().key,
                                      static_cast<uint64_t>(i - 1) * upload.part_size, data,
                                      upload.src().etag, stop));
    if (checksum::Md5(data) != upload.part_md5s[static_cast<size_t>(i - 1)]) {
      stats_.checksum_retries += 1;
      return Status::DataLoss("part " + std::to_string(i) + " of " + upload.src().key +
                              " read differently twice (corrupted on the way); upload aborted");
    }
    if (md5_source) whole.Update(data);
  }
  if (md5_source && whole.Finish() == *upload.check.md5) return Status::Ok();
  stats_.objects_unverified += 1;
  return Status::Ok();
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
      if (s = CheckLayout(*upload, stop); s.ok()) {
        upload->writer->AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
      }
    }
  }
  if (s.ok() && upload->server_side) {
    // Servers that ignore the copy's If-Match on part copies (RGW) may have mixed a newer
    // version in: the source must still be the version the parts were copied from.
    auto now = src_.Stat(key, false, stop);
    if (!now.ok()) {
      s = now.status().WithContext("stat source before completing");
    } else if (now->etag != upload->src().etag || now->size != upload->src().size) {
      s = Status::FailedPrecondition("source " + key + " changed during the server-side copy");
    }
  }
  if (s.ok() && upload->request.before_write) s = upload->request.before_write();
  Result<storage::WriteResult> committed =
      s.ok() ? upload->writer->Commit(stop) : Result<storage::WriteResult>(s);
  s = committed.status();
  if (s.ok() && upload->writer->tags_not_kept()) {  // a store without tags: learnt for the run
    no_tags_ = true;
    stats_.tags_not_kept += 1;
  }
  if (s.ok() && upload->server_side) {
    // The server copied the bytes; with the source's layout its ETag proves they are the same.
    if (!upload->layout_verify || committed->etag != upload->src().etag) {
      stats_.objects_unverified += 1;
    }
  }
  if (!s.ok()) {
    UploadJournal* journal = upload->request.journal.get();
    s = EndFailedUpload(*upload->writer, journal,
                        KeepForJournal(s, journal, upload->server_side), s);
  } else if (upload->request.journal) {
    (void)upload->request.journal->Clear();
  }
  Complete(upload->request,
           upload->server_side ? "copied (server-side, multipart)" : "copied (multipart)",
           s.ok() ? s : s.WithContext("multipart copy of " + key), upload->src().size);
  upload->writer.reset();
}

}  // namespace ferry::transfer
