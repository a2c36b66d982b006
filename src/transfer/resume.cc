// OpenOrResumeUpload: the journal's resume protocol (resume.h, journal.h).
#include "transfer/resume.h"

#include <algorithm>

#include "obs/log.h"
#include "transfer/verify.h"

namespace ferry::transfer {
namespace {

// Aborts the destination's pending uploads of the key started since `since` (less the margin):
// those an attempt created and died before recording.
Status AbortUnrecorded(const ResumeRequest& r, std::chrono::system_clock::time_point since,
                       ResumedUpload& out, std::stop_token stop) {
  const auto from = since - kUnrecordedUploadMargin;
  FERRY_ASSIGN_OR_RETURN(std::vector<storage::Backend::PendingUpload> pending,
                         r.dst->ListPendingUploads(r.dst_key, stop));
  for (const storage::Backend::PendingUpload& p : pending) {
    if (p.key != r.dst_key || p.started < from) continue;
    Status aborted = r.dst->AbortPendingUpload(p, stop);
    if (!aborted.ok()) return aborted.WithContext("abort unrecorded upload of " + r.dst_key);
    out.uploads_restarted += 1;
    obs::Log(obs::Level::kInfo, "aborted an upload an interrupted attempt left unrecorded",
             {{"key", r.dst_key}, {"upload", p.upload_id}});
  }
  return Status::Ok();
}

// Adopts the recorded parts the store still holds with the same size.
Status AdoptParts(const UploadJournal::Upload& recorded, uint64_t size, ResumedUpload& out,
                  std::stop_token stop) {
  // Kept in its Result and read by reference: moving the optional<vector> out trips a false
  // maybe-uninitialized warning in GCC 12.
  auto listed = out.writer->ListStoredParts(stop);
  if (!listed.ok()) return listed.status();
  const std::optional<std::vector<storage::StoredPart>>& stored = listed.value();
  for (const UploadJournal::Part& p : recorded.parts) {
    if (p.part_number < 1 || p.part_number > out.parts) continue;
    if (p.size != out.PartLength(p.part_number, size)) continue;
    storage::StoredPart part{p.part_number, "", p.size};
    if (stored) {  // the store is the truth: a recorded part must be there, same size
      auto it = std::find_if(stored->begin(), stored->end(),
                             [&](const auto& s) { return s.part_number == p.part_number; });
      if (it == stored->end() || it->size != p.size) continue;
      part.etag = it->etag;
    }
    if (!out.writer->AdoptPartChecked(part, p.crc32c)) continue;  // lost: send again
    const auto index = static_cast<size_t>(p.part_number - 1);
    // S3 part ETags are the parts' MD5s; elsewhere the journal recorded them.
    if (auto md5 = ParseMd5Hex(part.etag.empty() ? p.md5 : part.etag)) {
      out.part_md5s[index] = *md5;
      out.md5_known[index] = 1;
    }
    out.adopted[index] = true;
    out.part_crcs[index] = p.crc32c;
    out.parts_resumed += 1;
    out.bytes_resumed += p.size;
  }
  return Status::Ok();
}

// Sizes the per-part vectors of `out` for an object of `size` in parts of out.part_size.
void SizeParts(uint64_t size, ResumedUpload& out) {
  out.parts = static_cast<int>((size + out.part_size - 1) / out.part_size);
  out.part_crcs.assign(static_cast<size_t>(out.parts), 0);
  out.adopted.assign(static_cast<size_t>(out.parts), false);
  out.part_md5s.assign(static_cast<size_t>(out.parts), checksum::Md5Digest{});
  out.md5_known.assign(static_cast<size_t>(out.parts), 0);
}

// ResumeRequest::resume_only: the recorded upload as it is, or kFailedPrecondition.
Result<ResumedUpload> ResumeRecorded(const ResumeRequest& r,
                                     const std::optional<UploadJournal::Upload>& recorded,
                                     std::stop_token stop) {
  const auto gone = [&](std::string_view why) {
    return Status::FailedPrecondition("the upload of " + r.dst_key + " " + std::string(why));
  };
  if (!recorded || recorded->upload_id.empty() || recorded->part_size == 0 || !r.resume) {
    return gone("is not recorded");
  }
  if (r.server_side || recorded->source != r.pin ||
      (r.fixed_part_size && recorded->part_size != r.part_size)) {
    return gone("was made from another version of the source or in other parts");
  }
  ResumedUpload out;
  out.part_size = recorded->part_size;
  auto writer = r.resume(recorded->upload_id, recorded->part_size);
  if (!writer.ok()) {
    if (writer.status().code() == ErrorCode::kNotFound) return gone("is gone from the store");
    return writer.status().WithContext("resume upload of " + r.dst_key);
  }
  out.writer = std::move(writer).value();
  SizeParts(r.size, out);
  Status adopted = AdoptParts(*recorded, r.size, out, stop);
  if (!adopted.ok()) return adopted.WithContext("list parts of " + r.dst_key);
  return out;
}

}  // namespace

Result<ResumedUpload> OpenOrResumeUpload(const ResumeRequest& r, std::stop_token stop) {
  if (r.dst == nullptr || !r.open || r.part_size == 0) {
    return Status::Internal("an upload without destination, opener or part size");
  }
  ResumedUpload out;
  out.part_size = r.part_size;
  std::optional<UploadJournal::Upload> recorded;
  if (r.journal != nullptr) {
    FERRY_ASSIGN_OR_RETURN(recorded, r.journal->Load());
  }
  if (r.resume_only) return ResumeRecorded(r, recorded, stop);
  if (recorded && recorded->upload_id.empty()) {
    // The last attempt died between creating an upload and recording it.
    FERRY_RETURN_IF_ERROR(AbortUnrecorded(r, recorded->creating_since, out, stop));
    recorded.reset();
  }
  // Parts of another version of the source (it was overwritten between attempts), or of
  // another layout than the one chosen to reproduce the source's ETag, are never mixed in: that
  // upload is aborted and the copy starts over. So is a server-side copy's (parts copied on the
  // server are cheap to copy again).
  if (recorded && (r.server_side || recorded->source != r.pin ||
                   (r.fixed_part_size && recorded->part_size != r.part_size))) {
    out.uploads_restarted += 1;
    Status aborted = r.dst->AbortPendingUpload({r.dst_key, recorded->upload_id, {}, false}, stop);
    if (!aborted.ok()) {
      obs::Log(obs::Level::kWarn, "abort of a stale upload failed",
               {{"key", r.dst_key}, {"error", aborted.message()}});
    }
    recorded.reset();
  }
  if (recorded && recorded->part_size > 0 && r.resume) {
    auto writer = r.resume(recorded->upload_id, recorded->part_size);
    if (writer.ok()) {
      out.writer = std::move(writer).value();
      out.part_size = recorded->part_size;
    } else if (writer.status().code() != ErrorCode::kNotFound) {
      return writer.status().WithContext("resume upload of " + r.dst_key);
    }
  }
  SizeParts(r.size, out);
  if (out.writer) {
    Status adopted = AdoptParts(*recorded, r.size, out, stop);
    if (!adopted.ok()) return adopted.WithContext("list parts of " + r.dst_key);
    return out;
  }
  if (r.journal != nullptr) FERRY_RETURN_IF_ERROR(r.journal->Creating(r.pin));
  Result<std::unique_ptr<storage::ChunkWriter>> writer = r.open(out.part_size);
  if (!writer.ok()) return writer.status().WithContext("start upload of " + r.dst_key);
  out.writer = std::move(writer).value();
  if (r.journal != nullptr) {
    Status begun = r.journal->Begin(out.writer->upload_id(), out.part_size, r.pin);
    if (!begun.ok()) {
      // Unrecorded (the lease was lost): no attempt would ever find it again.
      Status aborted = out.writer->Abort();
      out.writer.reset();
      if (!aborted.ok()) begun = begun.WithContext("(abort also failed: " + aborted.message() + ")");
      return begun;
    }
  }
  return out;
}

bool KeepForJournal(const Status& failure, const UploadJournal* journal, bool server_side) {
  return !failure.ok() && journal != nullptr && !server_side &&
         (failure.transient() || failure.code() == ErrorCode::kCancelled);
}

Status EndFailedUpload(storage::ChunkWriter& writer, UploadJournal* journal, bool keep,
                       Status failure) {
  if (keep && journal != nullptr) {
    writer.Detach();  // the next attempt resumes from the journal
    return failure;
  }
  Status aborted = writer.Abort();
  if (!aborted.ok()) failure = failure.WithContext("(abort also failed: " + aborted.message() + ")");
  if (journal != nullptr) (void)journal->Clear();
  return failure;
}

}  // namespace ferry::transfer
