// Large-object checkpoints: SaveUpload, SavePart, LoadUpload, ClearUpload (writes fenced by the
// job's lease), and the record of the uploads ferry started: ListStartedUploads, ForgetUpload.
#include <limits>

#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

// A checkpoint's row: (job, destination, object_key) = $1, $2, $3 in every statement below.
constexpr char kRef[] = "job = $1 AND destination = $2 AND object_key = $3";

constexpr char kUpsertPart[] =
    "INSERT INTO part_checkpoints (job, destination, object_key, part_number, etag, crc32c,"
    " size) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (job, destination, object_key, part_number) DO UPDATE SET"
    " etag = excluded.etag, crc32c = excluded.crc32c, size = excluded.size";

Status ValidatePart(const PartCheckpoint& part) {
  if (part.part_number < 1) return Status::InvalidArgument("part number must be at least 1");
  if (part.size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument("part size out of range");
  }
  return Status::Ok();
}

Status UpsertPart(SqlTx& tx, JobId job, const UploadRef& ref, const PartCheckpoint& part) {
  return tx
      .Exec(kUpsertPart, {job, ref.destination, ref.key, int64_t{part.part_number}, part.etag,
                          int64_t{part.crc32c}, static_cast<int64_t>(part.size)})
      .status();
}

std::string Where(std::string_view table) {
  return "FROM " + std::string(table) + " WHERE " + kRef;
}

}  // namespace

Status SqlJobStore::SaveUpload(const Lease& lease, const UploadCheckpoint& upload) {
  if (upload.part_size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument("part size out of range");
  }
  for (const PartCheckpoint& part : upload.parts) FERRY_RETURN_IF_ERROR(ValidatePart(part));
  const JobId job = lease.job;
  const UploadRef ref = upload.ref();
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_RETURN_IF_ERROR(HoldLease(tx, lease, now));
    FERRY_RETURN_IF_ERROR(
        tx.Exec("DELETE " + Where("part_checkpoints"), {job, ref.destination, ref.key}).status());
    const bool creating = upload.upload_id.empty();
    FERRY_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO upload_checkpoints (job, destination, object_key, upload_id,"
                " part_size, source, creating) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                " ON CONFLICT (job, destination, object_key) DO UPDATE SET"
                " upload_id = excluded.upload_id, part_size = excluded.part_size,"
                " source = excluded.source, creating = excluded.creating",
                {job, ref.destination, ref.key, upload.upload_id,
                 static_cast<int64_t>(upload.part_size), upload.source,
                 creating ? now : int64_t{0}})
            .status());
    for (const PartCheckpoint& part : upload.parts) {
      FERRY_RETURN_IF_ERROR(UpsertPart(tx, job, ref, part));
    }
    if (creating) return Status::Ok();  // no upload yet: nothing started
    // Recorded with the destination it is on (the run's unless the checkpoint names one), so
    // that the clean-up of abandoned uploads knows this one is ferry's (and whose).
    return tx
        .Exec("INSERT INTO started_uploads (destination, upload_id, object_key, job, run,"
              " started, finished) SELECT CASE WHEN $5 = '' THEN r.destination ELSE $5 END,"
              " $2, $3, j.id, j.run, $4, 0"
              " FROM jobs j JOIN runs r ON r.id = j.run WHERE j.id = $1"
              " ON CONFLICT (destination, upload_id) DO UPDATE SET"
              " object_key = excluded.object_key, job = excluded.job, run = excluded.run,"
              " started = excluded.started, finished = 0",
              {job, upload.upload_id, upload.key, now, ref.destination})
        .status();
  });
}

Status SqlJobStore::SavePart(const Lease& lease, const UploadRef& ref, const PartCheckpoint& part) {
  FERRY_RETURN_IF_ERROR(ValidatePart(part));
  const JobId job = lease.job;
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_RETURN_IF_ERROR(HoldLease(tx, lease, NowMs()));
    FERRY_ASSIGN_OR_RETURN(
        SqlRows upload,
        tx.Exec("SELECT 1 " + Where("upload_checkpoints"), {job, ref.destination, ref.key}));
    if (upload.rows.empty()) {
      return Status::FailedPrecondition("job " + std::to_string(job) +
                                        " has no saved upload of " + ref.key +
                                        " to add part " + std::to_string(part.part_number) +
                                        " to");
    }
    return UpsertPart(tx, job, ref, part);
  });
}

Status SqlJobStore::SaveSharedPart(const Lease& lease, JobId owner, const UploadRef& ref,
                                   std::string_view upload_id, const PartCheckpoint& part) {
  FERRY_RETURN_IF_ERROR(ValidatePart(part));
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_RETURN_IF_ERROR(HoldLease(tx, lease, NowMs()));
    // Read in the transaction that writes the part: an owner that cleared or replaced its
    // upload meanwhile (ClearUpload, SaveUpload) deleted its parts with it, so no part of an
    // older upload is ever added to a newer one.
    FERRY_ASSIGN_OR_RETURN(
        SqlRows upload,
        tx.Exec("SELECT 1 " + Where("upload_checkpoints") + " AND upload_id = $4",
                {owner, ref.destination, ref.key, upload_id}));
    if (upload.rows.empty()) {
      return Status::NotFound("job " + std::to_string(owner) + " has no upload " +
                              std::string(upload_id) + " of " + ref.key + " any more");
    }
    return UpsertPart(tx, owner, ref, part);
  });
}

Result<std::optional<UploadCheckpoint>> SqlJobStore::LoadUpload(JobId job, const UploadRef& ref) {
  std::optional<UploadCheckpoint> out;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.reset();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows upload,
        tx.Exec("SELECT upload_id, part_size, source, creating " + Where("upload_checkpoints"),
                {job, ref.destination, ref.key}));
    if (upload.rows.empty()) return CheckJobExists(tx, job);
    UploadCheckpoint u;
    u.key = ref.key;
    u.destination = ref.destination;
    u.upload_id = CellText(upload.rows[0][0]);
    u.part_size = static_cast<uint64_t>(CellInt(upload.rows[0][1]));
    u.source = CellText(upload.rows[0][2]);
    if (const int64_t creating = CellInt(upload.rows[0][3]); creating != 0) {
      u.creating_since = FromMs(creating);
    }
    FERRY_ASSIGN_OR_RETURN(SqlRows parts,
                           tx.Exec("SELECT part_number, etag, crc32c, size " +
                                       Where("part_checkpoints") + " ORDER BY part_number",
                                   {job, ref.destination, ref.key}));
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

Status SqlJobStore::ClearUpload(const Lease& lease, const UploadRef& ref) {
  const JobId job = lease.job;
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_RETURN_IF_ERROR(HoldLease(tx, lease, now));
    FERRY_RETURN_IF_ERROR(
        tx.Exec("UPDATE started_uploads SET finished = $4 WHERE job = $1 AND finished = 0"
                " AND upload_id IN (SELECT upload_id " + Where("upload_checkpoints") + ")",
                {job, ref.destination, ref.key, now})
            .status());
    FERRY_RETURN_IF_ERROR(
        tx.Exec("DELETE " + Where("part_checkpoints"), {job, ref.destination, ref.key}).status());
    return tx.Exec("DELETE " + Where("upload_checkpoints"), {job, ref.destination, ref.key})
        .status();
  });
}

Result<std::vector<StartedUpload>> SqlJobStore::ListStartedUploads(std::string_view destination) {
  std::vector<StartedUpload> out;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    // Live: a run may still resume it. NULLs (a purged job or run, no checkpoint) are not live.
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT s.upload_id, s.destination, s.object_key, s.job, s.run, s.started,"
                " CASE WHEN j.state IN ('queued', 'leased') AND r.state <> 'done'"
                " AND u.upload_id = s.upload_id THEN 1 ELSE 0 END"
                " FROM started_uploads s LEFT JOIN jobs j ON j.id = s.job"
                " LEFT JOIN runs r ON r.id = s.run LEFT JOIN upload_checkpoints u"
                " ON u.job = s.job AND u.upload_id = s.upload_id"
                " WHERE s.destination = $1 AND s.finished = 0"
                " ORDER BY s.started, s.upload_id",
                {destination}));
    for (const SqlRow& row : rows.rows) {
      StartedUpload u;
      u.upload_id = CellText(row[0]);
      u.destination = CellText(row[1]);
      u.key = CellText(row[2]);
      u.job = CellInt(row[3]);
      u.run = CellInt(row[4]);
      u.started = FromMs(CellInt(row[5]));
      u.live = CellInt(row[6]) != 0;
      out.push_back(std::move(u));
    }
    return Status::Ok();
  }));
  return out;
}

Status SqlJobStore::ForgetUpload(std::string_view destination, std::string_view upload_id) {
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE started_uploads SET finished = $3 WHERE destination = $1"
                " AND upload_id = $2 RETURNING job",
                {destination, upload_id, now}));
    if (rows.rows.empty()) {
      return Status::NotFound("no started upload " + std::string(upload_id) + " on " +
                              std::string(destination));
    }
    const int64_t job = CellInt(rows.rows[0][0]);
    // The job's checkpoint names an upload that is gone: forget it, unless a worker holds the
    // job (its checkpoints are its own; a lost upload fails its attempt, and the next one starts
    // anew).
    FERRY_ASSIGN_OR_RETURN(
        SqlRows stale,
        tx.Exec("SELECT u.destination, u.object_key FROM upload_checkpoints u"
                " JOIN jobs j ON j.id = u.job"
                " WHERE u.job = $1 AND u.upload_id = $2 AND j.state <> 'leased'",
                {job, upload_id}));
    for (const SqlRow& row : stale.rows) {
      const std::string destination = CellText(row[0]);
      const std::string key = CellText(row[1]);
      FERRY_RETURN_IF_ERROR(
          tx.Exec("DELETE " + Where("part_checkpoints"), {job, destination, key}).status());
      FERRY_RETURN_IF_ERROR(
          tx.Exec("DELETE " + Where("upload_checkpoints"), {job, destination, key}).status());
    }
    return Status::Ok();
  });
}

}  // namespace ferry::jobs::internal
