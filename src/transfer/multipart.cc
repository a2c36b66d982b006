// TransferEngine: objects copied in parts. StartMultipart reads the source's details, opens (or,
// from the journal's checkpoints, resumes) a ChunkWriter and queues one task per part still
// missing; each moves its part as every copy in parts does (PartCopy, copy_bytes.h: read
// pinned into a buffer of the executor's pool, CRC32C recorded, written from the same buffer
// or copied on the server, checkpointed). The worker that finishes the last part verifies the
// combined checksum and commits. On failure the upload is aborted, unless the failure is
// transient and a journal keeps its parts for the next attempt.
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
#include "transfer/copy_bytes.h"
#include "transfer/engine.h"
#include "transfer/resume.h"
#include "transfer/verify.h"
#include "obs/log.h"

namespace ferry::transfer {

struct TransferEngine::Upload {
  CopyRequest request;  // request.src holds the source's details
  PartCopy copy;        // the source, the upload and what each part recorded (copy_bytes.h)
  PartLayout layout;    // the part size, and whether the parts reproduce the source's layout
  bool server_side = false;
  std::optional<uint32_t> expected_crc;  // declared by the source, verified before Commit
  SourceCheck check;                     // what the source declares (verify.h)
  // Part MD5s are needed to check the parts against the source (CheckParts).
  // Not when a declared full-object CRC can check the parts.
  bool track_md5() const {
    return !server_side && !expected_crc && !DeclaredCrcOf(check) && (layout.verify || check.md5);
  }
  std::atomic<int> remaining{0};
  std::mutex mu;
  Status first_error;  // GUARDED_BY(mu)

  const storage::ObjectInfo& src() const { return request.src; }
  void Fail(const Status& s) {
    std::lock_guard lock(mu);
    if (first_error.ok()) first_error = s;
  }
  Status error() {
    std::lock_guard lock(mu);
    return first_error;
  }
};

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
  upload->request.src.acl = listed.acl;  // read by RunCopy (--preserve-acl)
  if (upload->request.src.etag.empty()) upload->request.src.etag = listed.etag;
  upload->server_side = server_side;
  upload->layout.part_size = PartSizeFor(listed.size);
  upload->check = CheckOf(upload->src());
  // ferry's CRC32C is a writer's claim (docs/design/integrity.md §8): a full-object CRC the
  // store declares checks the parts instead, so a stale claim cannot fail the copy.
  upload->expected_crc =
      DeclaredCrcOf(upload->check) ? std::nullopt : upload->src().crc32c();
  if (!upload->expected_crc) {
    upload->layout = ChooseLayout(src_, dst_.features(), upload->check, upload->src(),
                                  upload->layout.part_size, stop);
  }
  // (Not for some parts alone: the job that opens the upload and completes it reads it.)
  if (!upload->expected_crc && !server_side && src_.features().cheap_reads &&
      (!request.only_parts || request.only_parts->open_upload)) {
    // The checksum of a local file is known before the upload starts and checked at its end.
    FERRY_ASSIGN_OR_RETURN(ContentDigest pre, ReadDigest(src_, upload->src(), budget_,
                                                         upload->layout.part_size, false, stop));
    upload->expected_crc = pre.crc32c;
  }
  FERRY_RETURN_IF_ERROR(OpenOrResume(*upload, stop));
  if (!request.only_parts) stats_.objects_multipart += 1;
  const std::vector<int> todo = PartsToSend(*upload);
  upload->remaining = static_cast<int>(todo.size());
  if (todo.empty()) {  // every part survived the crash: only the commit (if ours) is left
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
  // Without an expected CRC32C the source's own ferry-crc32c (a claim) is not carried over:
  // the CRC32C of the parts sent is stamped at the commit.
  if (!upload.expected_crc) spec.metadata.erase(storage::kMetaCrc32c);
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
      .part_size = upload.layout.part_size,
      .fixed_part_size = upload.layout.verify,
      .server_side = upload.server_side,
      .resume_only = upload.request.only_parts && !upload.request.only_parts->open_upload,
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
  if (!upload.request.only_parts) {  // some parts alone: the others are other copies' parts
    stats_.parts_resumed += static_cast<uint64_t>(opened.parts_resumed);
    stats_.bytes_moved += opened.bytes_resumed;
  }
  upload.copy = PartCopy{.src = &src_,
                         .object = upload.src(),
                         .upload = std::move(opened),
                         .journal = upload.request.journal.get(),
                         .buffers = &executor_.buffers(),
                         .track_md5 = upload.track_md5()};
  if (!upload.server_side) upload.copy.TrackDeclaredCrc(DeclaredCrcOf(upload.check));
  return Status::Ok();
}

// The parts this copy sends: those missing, or those of its range (CopyRequest::only_parts).
std::vector<int> TransferEngine::PartsToSend(const Upload& upload) {
  std::vector<int> todo = upload.copy.Missing();
  if (const auto& range = upload.request.only_parts) {
    std::erase_if(todo, [&](int part) { return part < range->first || part > range->last; });
  }
  return todo;
}

void TransferEngine::RunPart(const std::shared_ptr<Upload>& upload, int part_number,
                             std::stop_token stop) {
  Status s = upload->error();  // after one part failed, the others are not worth sending
  if (s.ok() && stop.stop_requested()) s = Status::Cancelled("cancelled");
  if (s.ok()) {
    s = upload->server_side ? upload->copy.CopyOnServer(part_number, stop)
                            : upload->copy.Send(part_number, stop);
  }
  if (s.ok()) {
    stats_.bytes_moved += upload->copy.Length(part_number);
  } else {
    upload->Fail(s.WithContext("part " + std::to_string(part_number)));
  }
  if (upload->remaining.fetch_sub(1) == 1) FinishUpload(upload, stop);
}

// Checks the parts sent against what the source declares when it is not ferry's CRC
// (CheckParts), and counts the object as unverified where nothing could. (A local file, read
// from the source itself, has its CRC known before the upload: it does not come here.)
Status TransferEngine::CheckLayout(Upload& upload, std::stop_token stop) {
  Result<bool> verified = CheckParts(upload.copy, upload.check, upload.layout, stop);
  if (!verified.ok()) {
    // A guessed layout's parts, or a plain MD5 source's, that read differently twice.
    if (verified.status().code() == ErrorCode::kDataLoss && !upload.layout.exact) {
      stats_.checksum_retries += 1;
    }
    return verified.status();
  }
  if (!*verified) {
    stats_.objects_unverified += 1;
    upload.request.unverified = true;
  }
  return Status::Ok();
}

void TransferEngine::FinishUpload(const std::shared_ptr<Upload>& upload, std::stop_token stop) {
  const std::string& key = upload->src().key;
  Status s = upload->error();
  storage::ChunkWriter& writer = *upload->copy.upload.writer;
  if (upload->request.only_parts) {
    // Another job completes the upload (or sends the parts that failed here again): kept.
    writer.Detach();
    upload->copy.upload.writer.reset();
    return Complete(upload->request, nullptr, s.ok() ? s : s.WithContext("parts of " + key), 0);
  }
  if (s.ok() && !upload->server_side) {
    const uint32_t crc = upload->copy.Crc32c();
    if (upload->expected_crc && *upload->expected_crc != crc) {
      s = Status::DataLoss("checksum mismatch: source " + checksum::Hex32(*upload->expected_crc) +
                           ", sent " + checksum::Hex32(crc) + "; upload aborted");
    } else if (!upload->expected_crc) {
      // The source's declared full-object CRC where it has one, else its ETag's layout.
      Result<std::optional<bool>> declared = CheckDeclaredParts(upload->copy, upload->check);
      if (!declared.ok()) {
        s = declared.status();
      } else if (!declared->has_value()) {
        s = CheckLayout(*upload, stop);
      }
      if (s.ok()) writer.AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
    }
  }
  if (s.ok() && upload->server_side) {
    // Servers that ignore the copy's If-Match on part copies (RGW) may have mixed a newer
    // version in: the source must still be the version the parts were copied from.
    s = CheckSourceUnchanged(src_, upload->src(), stop);
  }
  if (s.ok() && upload->request.before_write) s = upload->request.before_write();
  Result<storage::WriteResult> committed =
      s.ok() ? writer.Commit(stop) : Result<storage::WriteResult>(s);
  s = committed.status();
  if (s.ok() && upload->src().etag_opaque) stats_.objects_etag_encrypted += 1;
  if (s.ok() && writer.tags_not_kept()) {  // a store without tags: learnt for the run
    no_tags_ = true;
    stats_.tags_not_kept += 1;
  }
  if (s.ok() && upload->server_side) {
    // The server copied the bytes; with the source's layout its ETag proves they are the same.
    if (!upload->layout.verify || committed->etag != upload->src().etag) {
      stats_.objects_unverified += 1;
      upload->request.unverified = true;
    }
  }
  if (!s.ok()) {
    UploadJournal* journal = upload->request.journal.get();
    s = EndFailedUpload(writer, journal,
                        KeepForJournal(s, journal, upload->server_side), s);
  } else if (upload->request.journal) {
    (void)upload->request.journal->Clear();
  }
  Complete(upload->request,
           upload->server_side ? "copied (server-side, multipart)" : "copied (multipart)",
           s.ok() ? s : s.WithContext("multipart copy of " + key), upload->src().size);
  upload->copy.upload.writer.reset();
}

}  // namespace ferry::transfer
