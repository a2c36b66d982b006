// StoreJournal: the checkpoints of one upload of a job (a transfer job's large object, a
// replicate-keys job's large version) in the JobStore.
#include "jobs/journal.h"

namespace ferry::jobs {

Result<std::optional<transfer::UploadJournal::Upload>> StoreJournal::Load() {
  FERRY_ASSIGN_OR_RETURN(auto saved, store_.LoadUpload(lease_.job, ref_));
  if (!saved) return std::optional<Upload>();
  Upload u;
  u.upload_id = saved->upload_id;
  u.part_size = saved->part_size;
  u.source = saved->source;
  u.creating_since = saved->creating_since;
  for (const auto& p : saved->parts) u.parts.push_back({p.part_number, p.crc32c, p.size, p.etag});
  return std::optional<Upload>(std::move(u));
}

Status StoreJournal::Begin(const std::string& upload_id, uint64_t part_size,
                           const std::string& source) {
  UploadCheckpoint c;
  c.key = ref_.key;
  c.destination = ref_.destination;
  c.upload_id = upload_id;
  c.part_size = part_size;
  c.source = source;
  return Fenced(store_.SaveUpload(lease_, c));
}

Status StoreJournal::Creating(const std::string& source) {
  UploadCheckpoint c;
  c.key = ref_.key;
  c.destination = ref_.destination;
  c.source = source;
  return Fenced(store_.SaveUpload(lease_, c));
}

Status StoreJournal::PartDone(const Part& part) {
  return Fenced(
      store_.SavePart(lease_, ref_, PartCheckpoint{part.part_number, part.md5, part.crc32c, part.size}));
}

Status StoreJournal::Clear() { return Fenced(store_.ClearUpload(lease_, ref_)); }

Status StoreJournal::Fenced(Status s) {
  if (s.code() != ErrorCode::kFailedPrecondition && s.code() != ErrorCode::kNotFound) return s;
  // Another worker holds the job now (or it is gone): its upload is the new holder's to
  // resume, never ours to abort.
  if (on_lost_) on_lost_(s);
  return Status::Cancelled("lease lost: " + s.message());
}

}  // namespace ferry::jobs
