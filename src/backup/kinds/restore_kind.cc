// The "restore" kind (restore_kind.h).
#include "backup/kinds/restore_kind.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backup/catalog.h"
#include "backup/restore.h"
#include "jobs/job_report.h"
#include "jobs/kinds/lease_fence.h"
#include "jobs/run_context.h"
#include "obs/log.h"
#include "storage/key.h"

namespace ferry::backup {
namespace {

using jobs::JobContext;
using jobs::JobResult;
using json = nlohmann::json;

class RestoreHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kRestoreKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // Its targets are looked at and written as tasks of the worker's executor, a quarter of its
  // concurrency at a time at most (the executor bounds them whatever this says).
  size_t ObjectsInFlight(const jobs::Job&, const jobs::RunContext&,
                         const jobs::WorkerOptions& options) const override {
    return static_cast<size_t>(std::max(1, options.concurrency / 4));
  }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    auto job = DecodeRestoreJob(j.spec.payload);
    if (!job.ok()) return jobs::FailedAtOnce(job.status());
    state::SqlSession* session = ctx.store.session();
    if (session == nullptr) {
      return jobs::FailedAtOnce(Status::FailedPrecondition(
          "a restore job needs the catalog: a SQLite or PostgreSQL state store"));
    }
    auto catalog = CatalogStore::Open(*session);
    if (!catalog.ok()) return jobs::EndedWith(catalog.status(), j.attempts);
    const std::string& location = ctx.run.run.spec.source;
    auto selected = SelectForRestore(**catalog, location, job->selection);
    if (!selected.ok()) {
      if (selected.status().code() == ErrorCode::kNotFound) {
        return jobs::FailedAtOnce(selected.status());  // selecting again finds nothing either
      }
      return jobs::EndedWith(selected.status(), j.attempts);
    }
    RestoreOptions o;
    o.force = job->force;
    o.storage_class = job->storage_class;
    o.preserve_lock = job->preserve_lock;
    o.executor = ctx.options.executor;  // the worker's: targets looked at and written as its tasks
    jobs::LeaseFence fence(ctx);
    o.before_write = [&fence] { return fence.Check(); };
    // --report: a row per entry selected (backup::Written, Identical, ...), this attempt's
    const std::shared_ptr<jobs::RunReport> report = jobs::ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    o.report = rows.get();
    auto r = RestoreEntries(*ctx.run.src, selected->rows, *ctx.run.dst, o, ctx.cancel);
    JobResult result = Ended(r, *selected, ctx);
    if (report != nullptr) jobs::RecordAttempt(*report, *rows, j, result);
    return result;
  }

 private:
  // The job's outcome from the restore's result: done, retried, or dead at once (kept targets).
  static JobResult Ended(const Result<RestoreResult>& r, const RestoreRows& selected,
                         JobContext& ctx) {
    const jobs::Job& j = ctx.claimed.job;
    const std::string& location = ctx.run.run.spec.source;
    if (!r.ok()) {
      const Status s = r.status().WithContext("restore from " + location);
      obs::Log(obs::Level::kWarn, "restore failed", {{"error", s.message()}});
      return jobs::EndedWith(s, j.attempts);
    }
    ctx.stats.objects_copied += r->objects_written;
    ctx.stats.bytes_copied += r->bytes_written;
    ctx.stats.bytes_moved += r->bytes_written;
    ctx.stats.objects_skipped += r->identical;
    ctx.stats.markers_skipped += r->markers_skipped;
    obs::Log(obs::Level::kInfo, "restored",
             {{"run", ctx.run.run.id},
              {"from", location},
              {"to", ctx.run.run.spec.destination},
              {"objects", selected.rows.size()},
              {"written", r->objects_written},
              {"bytes", r->bytes_written},
              {"identical", r->identical},
              {"kept", r->kept},
              {"failed", r->failures.size()},
              {"deleted_left_out", selected.deleted_left_out},
              {"archives_read", r->archives_read}});
    if (!r->failures.empty()) {
      const auto& [key, why] = r->failures.front();
      return jobs::EndedWith(
          Status::Unavailable(std::to_string(r->failures.size()) +
                              " targets could not be restored; first: " +
                              storage::PrintableKey(key) + ": " + why),
          j.attempts);
    }
    if (r->kept > 0) {
      // restoring again would keep them again
      return jobs::FailedAtOnce(Status::AlreadyExists(
          std::to_string(r->kept) +
          " targets exist and differ, kept (a restore with --force overwrites them); first: " +
          storage::PrintableKey(r->kept_keys.front())));
    }
    return JobResult{};
  }
};

}  // namespace

std::string EncodeRestoreJob(const RestoreJob& job) {
  const RestoreSelection& s = job.selection;
  json j = {{"key", s.key},
            {"prefix", s.prefix},
            {"has_prefix", s.has_prefix},
            {"version", s.version},
            {"at_ms", s.at_ms},
            {"include_deleted", s.include_deleted},
            {"force", job.force},
            {"storage_class", job.storage_class}};
  if (job.preserve_lock) j["preserve_lock"] = true;  // only when set: older payloads read as before
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<RestoreJob> DecodeRestoreJob(const std::string& text) {
  try {
    const json j = json::parse(text);
    RestoreJob job;
    RestoreSelection& s = job.selection;
    s.key = j.at("key").get<std::string>();
    s.prefix = j.at("prefix").get<std::string>();
    s.has_prefix = j.at("has_prefix").get<bool>();
    s.version = j.at("version").get<std::string>();
    s.at_ms = j.at("at_ms").get<int64_t>();
    s.include_deleted = j.at("include_deleted").get<bool>();
    job.force = j.at("force").get<bool>();
    job.storage_class = j.at("storage_class").get<std::string>();
    if (j.contains("preserve_lock")) job.preserve_lock = j.at("preserve_lock").get<bool>();
    return job;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("restore job payload: ") + e.what());
  }
}

std::shared_ptr<const jobs::JobHandler> MakeRestoreHandler() {
  return std::make_shared<RestoreHandler>();
}

}  // namespace ferry::backup
