// The "cache-warm" kind (warm_kind.h).
#include "cache/kinds/warm_kind.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cache/index.h"
#include "cache/locks.h"
#include "jobs/job_report.h"
#include "jobs/run_context.h"
#include "obs/log.h"

namespace ferry::cache {
namespace {

using jobs::JobContext;
using jobs::JobResult;
using json = nlohmann::json;

class WarmHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kWarmKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  // It lists the source under its prefixes as it goes.
  bool uses_lister_slot() const override { return true; }
  // Its copies are sessions on the worker's executor (which bounds them whatever this says).
  size_t ObjectsInFlight(const jobs::Job&, const jobs::RunContext&,
                         const jobs::WorkerOptions& options) const override {
    return static_cast<size_t>(std::max(1, options.concurrency / 4));
  }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    auto job = DecodeWarmJob(j.spec.payload);
    if (!job.ok()) return jobs::FailedAtOnce(job.status());
    state::SqlSession* session = ctx.store.session();
    if (session == nullptr) {
      return jobs::FailedAtOnce(Status::FailedPrecondition(
          "a cache-warm job needs the cache's index: a SQLite or PostgreSQL state store"));
    }
    Clock& clock = ClockOr(ctx.options.clock);
    auto index = CacheIndex::Open(*session, clock, job->cache_name);
    if (!index.ok()) return jobs::EndedWith(index.status(), j.attempts);
    PrefixLocks locks(*session, clock, job->cache_name);
    WarmOptions o;
    // one owner per job and attempt: a retry on this worker does not take its own hold for a
    // live one
    o.owner = ctx.options.owner + "/job-" + std::to_string(j.id) + "." +
              std::to_string(j.attempts);
    o.lock_ttl = job->lock_ttl;
    o.record_batch = job->record_batch;
    o.transfer.verbose = ctx.options.verbose;
    const WarmContext wc{.source = *ctx.run.src,
                         .cache = *ctx.run.dst,
                         .index = **index,
                         .locks = locks,
                         .executor = *ctx.options.executor};
    // --report: this attempt's rows (cache::warm_rows), recorded as a transfer job's
    const std::shared_ptr<jobs::RunReport> report = jobs::ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    o.report = rows.get();
    JobResult result = Ended(job->request, wc, o, ctx);
    if (report != nullptr) jobs::RecordAttempt(*report, *rows, j, result);
    return result;
  }

 private:
  // Warms the request: the job's outcome, its tally what the attempt cached.
  static JobResult Ended(const WarmRequest& request, const WarmContext& wc, const WarmOptions& o,
                         JobContext& ctx) {
    const jobs::Job& j = ctx.claimed.job;
    auto r = Warm(request, wc, o, ctx.cancel);
    if (!r.ok()) {
      const Status s = r.status().WithContext("cache warm of " + ctx.run.run.spec.source);
      obs::Log(obs::Level::kWarn, "cache warm failed", {{"error", s.message()}});
      // a request that can never run: at once
      return s.code() == ErrorCode::kInvalidArgument ? jobs::FailedAtOnce(s)
                                                     : jobs::EndedWith(s, j.attempts);
    }
    ctx.stats.objects_listed += r->listed;
    ctx.stats.objects_copied += r->copied;
    ctx.stats.bytes_copied += r->bytes;
    ctx.stats.bytes_moved += r->bytes;
    ctx.stats.objects_skipped += r->skipped;
    obs::Log(obs::Level::kInfo, "cache warmed",
             {{"run", ctx.run.run.id},
              {"source", ctx.run.run.spec.source},
              {"cache", ctx.run.run.spec.destination},
              {"listed", r->listed},
              {"copied", r->copied},
              {"bytes", r->bytes},
              {"skipped", r->skipped},
              {"joined", r->joined},
              {"failed", r->failed}});
    // What this attempt cached counts whatever its outcome: a retry finds those objects
    // cached and skips them (the run-end notification sums the tallies, app/notify_run.h).
    JobResult result;
    if (r->failed > 0) {
      std::string first;
      if (!r->failures.empty()) first = "; first: " + r->failures.front().key + ": " +
                                        r->failures.front().error;
      result = jobs::EndedWith(
          Status::Unavailable(std::to_string(r->failed) + " objects could not be cached" + first),
          j.attempts);
    }
    result.outcome.tally = {.objects = r->copied, .bytes = r->bytes};
    return result;
  }
};

}  // namespace

std::string EncodeWarmJob(const WarmJob& job) {
  json j = {{"cache_name", job.cache_name},
            {"prefixes", job.request.prefixes},
            {"ttl_s", job.request.ttl.count()},
            {"force", job.request.force},
            {"lock_ttl_ms", job.lock_ttl.count()},
            {"record_batch", job.record_batch}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<WarmJob> DecodeWarmJob(const std::string& text) {
  try {
    const json j = json::parse(text);
    WarmJob job;
    job.cache_name = j.at("cache_name").get<std::string>();
    job.request.prefixes = j.at("prefixes").get<std::vector<std::string>>();
    job.request.ttl = std::chrono::seconds(j.at("ttl_s").get<int64_t>());
    job.request.force = j.at("force").get<bool>();
    job.lock_ttl = std::chrono::milliseconds(j.at("lock_ttl_ms").get<int64_t>());
    job.record_batch = j.at("record_batch").get<size_t>();
    if (job.record_batch == 0) return Status::InvalidArgument("cache-warm job: record_batch 0");
    if (job.lock_ttl < std::chrono::seconds(1)) {
      return Status::InvalidArgument("cache-warm job: lock_ttl under a second");
    }
    return job;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("cache-warm job payload: ") + e.what());
  }
}

std::shared_ptr<const jobs::JobHandler> MakeWarmHandler() {
  return std::make_shared<WarmHandler>();
}

}  // namespace ferry::cache
