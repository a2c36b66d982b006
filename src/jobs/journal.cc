#include "jobs/worker_internal.h"

namespace ferry::jobs {

Result<std::optional<transfer::UploadJournal::Upload>> StoreJournal::Load() {
  FERRY_ASSIGN_OR_RETURN(auto saved, store_.LoadUpload(job_));
  if (!saved || saved->key != key_) return std::optional<Upload>();
  Upload u;
  u.upload_id = saved->upload_id;
  u.part_size = saved->part_size;
  for (const auto& p : saved->parts) u.parts.push_back({p.part_number, p.crc32c, p.size});
  return std::optional<Upload>(std::move(u));
}

Status StoreJournal::Begin(const std::string& upload_id, uint64_t part_size) {
  UploadCheckpoint c;
  c.key = key_;
  c.upload_id = upload_id;
  c.part_size = part_size;
  return store_.SaveUpload(job_, c);
}

Status StoreJournal::PartDone(const Part& part) {
  return store_.SavePart(job_, PartCheckpoint{part.part_number, "", part.crc32c, part.size});
}

Status StoreJournal::Clear() { return store_.ClearUpload(job_); }

}  // namespace ferry::jobs
