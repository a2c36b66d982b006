// Large-object checkpoints: SaveUpload, SavePart, LoadUpload, ClearUpload.
#include <limits>

#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

constexpr char kUpsertPart[] =
    "INSERT INTO parts (job, part_number, etag, crc32c, size) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (job, part_number) DO UPDATE SET etag = excluded.etag,"
    " crc32c = excluded.crc32c, size = excluded.size";

Status ValidatePart(const PartCheckpoint& part) {
  if (part.part_number < 1) return Status::InvalidArgument("part number must be at least 1");
  if (part.size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument("part size out of range");
  }
  return Status::Ok();
}

Status UpsertPart(SqlTx& tx, JobId job, const PartCheckpoint& part) {
  return tx
      .Exec(kUpsertPart, {job, int64_t{part.part_number}, part.etag, int64_t{part.crc32c},
                          static_cast<int64_t>(part.size)})
      .status();
}

}  // namespace

Status SqlJobStore::SaveUpload(JobId job, const UploadCheckpoint& upload) {
  if (upload.part_size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument("part size out of range");
  }
  for (const PartCheckpoint& part : upload.parts) FERRY_RETURN_IF_ERROR(ValidatePart(part));
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_RETURN_IF_ERROR(CheckJobExists(tx, job));
    FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM parts WHERE job = $1", {job}).status());
    FERRY_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO uploads (job, object_key, upload_id, part_size)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (job) DO UPDATE SET"
                " object_key = excluded.object_key, upload_id = excluded.upload_id,"
                " part_size = excluded.part_size",
                {job, upload.key, upload.upload_id, static_cast<int64_t>(upload.part_size)})
            .status());
    for (const PartCheckpoint& part : upload.parts) {
      FERRY_RETURN_IF_ERROR(UpsertPart(tx, job, part));
    }
    return Status::Ok();
  });
}

Status SqlJobStore::SavePart(JobId job, const PartCheckpoint& part) {
  FERRY_RETURN_IF_ERROR(ValidatePart(part));
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(SqlRows upload, tx.Exec("SELECT 1 FROM uploads WHERE job = $1", {job}));
    if (upload.rows.empty()) {
      FERRY_RETURN_IF_ERROR(CheckJobExists(tx, job));
      return Status::FailedPrecondition("job " + std::to_string(job) +
                                        " has no saved upload to add part " +
                                        std::to_string(part.part_number) + " to");
    }
    return UpsertPart(tx, job, part);
  });
}

Result<std::optional<UploadCheckpoint>> SqlJobStore::LoadUpload(JobId job) {
  std::optional<UploadCheckpoint> out;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.reset();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows upload,
        tx.Exec("SELECT object_key, upload_id, part_size FROM uploads WHERE job = $1", {job}));
    if (upload.rows.empty()) return CheckJobExists(tx, job);
    UploadCheckpoint u;
    u.key = CellText(upload.rows[0][0]);
    u.upload_id = CellText(upload.rows[0][1]);
    u.part_size = static_cast<uint64_t>(CellInt(upload.rows[0][2]));
    FERRY_ASSIGN_OR_RETURN(SqlRows parts,
                           tx.Exec("SELECT part_number, etag, crc32c, size FROM parts"
                                   " WHERE job = $1 ORDER BY part_number",
                                   {job}));
    for (const SqlRow& row : parts.rows) {
      PartCheckpoint p;
      p.part_number = static_cast<int>(CellInt(row[0]));
      p.etag = CellText(row[1]);
      p.crc32c = static_cast<uint32_t>(CellInt(row[2]));
      p.size = static_cast<uint64_t>(CellInt(row[3]));
      u.parts.push_back(std::move(p));
    }
    out = std::move(u);
    return Status::Ok();
  }));
  return out;
}

Status SqlJobStore::ClearUpload(JobId job) {
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM parts WHERE job = $1", {job}).status());
    FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec("DELETE FROM uploads WHERE job = $1", {job}));
    return rows.changes == 0 ? CheckJobExists(tx, job) : Status::Ok();
  });
}

}  // namespace ferry::jobs::internal
