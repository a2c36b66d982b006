// ferry cache warm SRC --prefix P... --cache DST --ttl 24h [--force] [--json]
// ferry cache warm --request FILE.json [--cache DST]
// Copies what is not cached (or changed) under the prefixes into the cache, renews the rest,
// and prints the result of the request (cache/warm.h).
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/engine.h"
#include "app/notify_run.h"
#include "cli/commands/cache_internal.h"
#include "cli/commands/cost_report.h"
#include "cli/commands/report_flags.h"
#include "cache/kinds/warm_kind.h"
#include "cache/warm_plan.h"
#include "estimate/planned_requests.h"
#include "jobs/job_store.h"
#include "jobs/payload.h"
#include "jobs/worker.h"
#include "obs/log.h"
#include "plan/filter.h"
#include "state/state_url.h"

namespace ferry::cli::cache_cmd {
namespace {

struct WarmArgs {
  std::string src;
  std::vector<std::string> prefixes;
  std::string cache;
  std::string ttl;
  bool force = false;
  bool json = false;
  std::string request;
  std::string state;
  int concurrency = 64;
  std::string lock_ttl = "30s";
  int record_batch = 200;
  bool detach = false;
  bool dry_run = false;  // --dry-run: what would be copied and its estimated cost
  ReportArgs report;  // --report: a row per object listed (report_flags.h, cache::warm_rows)
  std::vector<std::string> notify;  // --notify URL: besides the config's [[notify]]
};

// The request as given on the command line or in a request file (whose values the command
// line may complete but not contradict).
Result<std::pair<std::string, cache::WarmRequest>> BuildRequest(WarmArgs& a) {
  cache::WarmRequest r;
  std::string src = a.src;
  if (!a.request.empty()) {
    if (!a.prefixes.empty() || !a.ttl.empty() || !a.src.empty()) {
      return Status::InvalidArgument(
          "--request: give SRC, --prefix and --ttl in the request file, not on the command line");
    }
    std::ifstream in(a.request, std::ios::binary);
    if (!in) return Status::InvalidArgument("--request: cannot read " + a.request);
    // At most one byte more than a request may hold: ParseRequestJson refuses that.
    std::string text(cache::kMaxRequestBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    FERRY_ASSIGN_OR_RETURN(cache::RequestFile f, cache::ParseRequestJson(text));
    src = cache::BucketLocation(f.bucket);
    r.prefixes = f.prefixes;
    r.ttl = f.ttl;
    r.force = f.force_copy || a.force;
    if (a.cache.empty()) {
      if (f.directory_bucket.empty()) {
        return Status::InvalidArgument("request file: no \"directory_bucket\" and no --cache");
      }
      a.cache = cache::BucketLocation(f.directory_bucket);
    }
  } else {
    if (src.empty()) return Status::InvalidArgument("cache warm: SRC (or --request) is required");
    if (a.prefixes.empty()) {
      return Status::InvalidArgument("cache warm: at least one --prefix (\"\" = the whole bucket)");
    }
    if (a.ttl.empty()) return Status::InvalidArgument("cache warm: --ttl is required");
    FERRY_ASSIGN_OR_RETURN(r.ttl, cache::ParseTtl(a.ttl));
    r.prefixes = a.prefixes;
    r.force = a.force;
  }
  return std::make_pair(src, r);
}

nlohmann::json FailuresJson(const std::vector<cache::KeyFailure>& failures, bool with_request) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : failures) {
    nlohmann::json j = {{"key", f.key}, {"error", f.error}};
    if (with_request) {
      j["request"] = f.request;
      j["at_ms"] = f.at_ms;
    }
    out.push_back(j);
  }
  return out;
}

void Print(const cache::WarmResult& r, bool json, const std::vector<StoreRunCost>& costs) {
  if (json) {
    nlohmann::json j = {{"prefixes", r.prefixes},
                        {"listed", r.listed},
                        {"copied", r.copied},
                        {"skipped", r.skipped},
                        {"joined", r.joined},
                        {"failed", r.failed},
                        {"bytes", r.bytes},
                        {"seconds", r.seconds},
                        {"index_transactions", r.index_transactions},
                        {"overlapping", r.overlapping},
                        {"waited_for", r.waited_for},
                        {"taken_over", r.taken_over},
                        {"failures", FailuresJson(r.failures, false)},
                        {"earlier_failures", FailuresJson(r.earlier_failures, true)},
                        {"cost", StoreCostsJson(costs)}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  for (const auto& f : r.failures) std::printf("failed: %s: %s\n", f.key.c_str(), f.error.c_str());
  for (const auto& f : r.earlier_failures) {
    std::printf("earlier failure (request %s): %s: %s\n", f.request.c_str(), f.key.c_str(),
                f.error.c_str());
  }
  for (const auto& w : r.overlapping) std::printf("overlapping request in flight: %s\n", w.c_str());
  for (const auto& w : r.waited_for) std::printf("waited for keys of request %s\n", w.c_str());
  for (const auto& w : r.taken_over) std::printf("took over the work of %s\n", w.c_str());
  std::printf(
      "cache warm: %llu copied (%llu bytes), %llu skipped as cached (%llu copied by an "
      "overlapping request), %llu failed, %llu earlier failures, %.1fs\n",
      static_cast<unsigned long long>(r.copied), static_cast<unsigned long long>(r.bytes),
      static_cast<unsigned long long>(r.skipped), static_cast<unsigned long long>(r.joined),
      static_cast<unsigned long long>(r.failed),
      static_cast<unsigned long long>(r.earlier_failures.size()), r.seconds);
  PrintStoreCostLines(stdout, costs, false);
}

// What the request cost at each store (docs/design/cost.md): the source read, the cache
// written (and what keeping the bytes copied costs there a month, in STANDARD).
std::vector<StoreRunCost> WarmCosts(const app::Config& config, const std::string& cache,
                                    uint64_t bytes_copied) {
  std::vector<StoreRunCost> costs = MeasuredStoreCosts(config);
  if (auto loc = app::ParseLocation(cache); loc.ok()) {
    AddStoredBytes(costs, StoreLabelOf(*loc), bytes_copied, "");
  }
  return costs;
}

// --dry-run: what the request would copy (cache::PlanWarm: the source listed, the index read,
// nothing held, claimed or written) and the estimate of what that would send and cost at each
// store (estimate/planned_requests.h), beside the LISTs the plan really sent.
int PrintWarmDryRun(const WarmArgs& a, const std::string& src, const cache::WarmRequest& request,
                    storage::Backend& source, cache::CacheIndex& index, const app::Config& config,
                    std::stop_token stop) {
  auto plan = cache::PlanWarm(request, source, index, stop);
  if (!plan.ok()) return ReportError(plan.status());
  std::vector<StoreRunCost> costs = MeasuredStoreCosts(config);
  auto src_loc = app::ParseLocation(src);
  auto cache_loc = app::ParseLocation(a.cache);
  if (src_loc.ok() && cache_loc.ok()) {
    estimate::StoreUsages usages;
    estimate::AddPlannedCopies(usages, {.from = StoreLabelOf(*src_loc),
                                        .to = StoreLabelOf(*cache_loc),
                                        .objects = plan->to_copy,
                                        .bytes = plan->bytes_to_copy,
                                        .deletes = 0,
                                        .source_deletes = 0});
    AddEstimatedUsage(costs, config, usages);
    AddStoredBytes(costs, StoreLabelOf(*cache_loc), plan->bytes_to_copy, "");
  }
  if (a.json) {
    nlohmann::json cost = StoreCostsJson(costs);
    cost["estimate"] = true;
    const nlohmann::json j = {{"dry_run", true},          {"prefixes", plan->prefixes},
                              {"listed", plan->listed},   {"would_copy", plan->to_copy},
                              {"bytes", plan->bytes_to_copy}, {"cached", plan->cached},
                              {"cost", cost}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("dry run: %llu objects (%llu bytes) would be copied into the cache, %llu cached "
              "(renewed), %llu listed\n",
              static_cast<unsigned long long>(plan->to_copy),
              static_cast<unsigned long long>(plan->bytes_to_copy),
              static_cast<unsigned long long>(plan->cached),
              static_cast<unsigned long long>(plan->listed));
  PrintStoreCostLines(stdout, costs, true);
  return 0;
}

// --detach: the request queued as a run of the state store with its one cache-warm job
// (cache/kinds/warm_kind.h), for `ferry worker --state` to serve.
int QueueWarm(const WarmArgs& a, const std::string& src, const cache::WarmJob& job,
              const std::vector<notify::Target>& targets, const jobs::ReportOptions& report) {
  const std::string state = app::CacheStateUrl(a.state);
  auto store = jobs::OpenJobStore(state);
  if (!store.ok()) return ReportError(store.status());
  // The worker that ends the run writes its notifications (docs/design/notify.md).
  Result<jobs::RunId> run = app::QueueWarmRun(**store, src, a.cache, job, targets, report);
  if (!run.ok()) return ReportError(run.status());
  std::fprintf(stderr, "cache warm run %lld queued; workers: ferry worker --state %s\n",
               static_cast<long long>(*run), state::RedactUrl(state).c_str());
  if (a.json) {
    std::printf("%s\n", nlohmann::json({{"run", *run}, {"queued", true}}).dump().c_str());
  }
  return 0;
}

// The request's end told to `targets` (app/notify_run.h); `r` null when it failed as a whole.
void NotifyWarmEnd(const std::vector<notify::Target>& targets, const WarmArgs& a,
                   const std::string& src, const cache::WarmResult* r, const Status& status,
                   std::chrono::system_clock::time_point started, app::Wiring& wiring,
                   std::stop_token stop) {
  if (targets.empty()) return;
  app::InMemoryRunFacts facts;
  facts.command = "cache warm";
  facts.source = src;
  facts.destination = a.cache;
  facts.status = status;
  facts.started = started;
  facts.ended = std::chrono::system_clock::now();
  facts.report = a.report.settings.location;
  if (r != nullptr) {
    facts.counts = {.copied = r->copied, .skipped = r->skipped, .failed = r->failed,
                    .deleted = 0, .bytes = r->bytes};
    for (const cache::KeyFailure& f : r->failures) {
      facts.errors.push_back("copy " + f.key + ": " + f.error);
    }
  }
  app::NotifyInMemoryRun(targets, facts, wiring, stop);
}

int RunWarm(WarmArgs a, Context& ctx) {
  if (Status s = CheckReportArgs(a.report, /*durable=*/a.detach); !s.ok()) return ReportError(s);
  if (a.dry_run && (a.detach || a.report.settings.wanted())) {
    return ReportError(Status::InvalidArgument(
        std::string("--dry-run and ") + (a.detach ? "--detach" : "--report") +
        ": give one of them"));
  }
  auto built = BuildRequest(a);
  if (!built.ok()) return ReportError(built.status());
  auto& [src_text, request] = *built;
  auto lock_ttl = plan::ParseAge(a.lock_ttl);
  if (!lock_ttl.ok()) return ReportError(lock_ttl.status().WithContext("--lock-ttl"));
  if (lock_ttl->count() < 1) return ReportError(Status::InvalidArgument("--lock-ttl: at least 1s"));
  auto opened = Open(ctx, a.cache, a.state);
  if (!opened.ok()) return ReportError(opened.status());
  auto targets = app::RunTargets(opened->wiring->config(), a.notify);  // before any copy
  if (!targets.ok()) return ReportError(targets.status());
  auto src = OpenChecked(ctx, *opened->wiring, src_text, "source");
  if (!src.ok()) return ReportError(src.status());
  if (a.dry_run) {
    return PrintWarmDryRun(a, src_text, request, **src, *opened->index,
                           opened->wiring->config(), ctx.stop);
  }
  if (a.detach) {
    if (request.prefixes.empty()) {
      return ReportError(Status::InvalidArgument("cache warm: no prefixes to warm"));
    }
    jobs::ReportOptions report;
    if (a.report.settings.wanted()) {  // checked now, in one line; the worker writes the rows
      auto checked = app::OpenReport::Open(*opened->wiring, a.report.settings, {}, ctx.stop);
      if (!checked.ok()) return ReportError(checked.status());
      report = {.location = a.report.settings.location,
                .format = a.report.settings.format,
                .level = a.report.settings.level};
    }
    return QueueWarm(a, src_text,
                     cache::WarmJob{.cache_name = opened->cache_name,
                                    .request = request,
                                    .lock_ttl = *lock_ttl,
                                    .record_batch = static_cast<size_t>(a.record_batch)},
                     *targets, report);
  }
  // The engine (app/engine.h): --concurrency requests in flight, 256MiB of buffers.
  auto engine = app::Engine::Open(app::EngineSettings{.profile = app::EngineProfile::kRequests,
                                                      .concurrency = a.concurrency,
                                                      .default_concurrency = 64,
                                                      .default_memory = 256ull << 20},
                                  opened->wiring->config().transfer);
  if (!engine.ok()) return ReportError(engine.status());
  auto report = OpenReportOnly(a.report, *opened->wiring, ctx.stop);  // checked before a copy
  if (!report.ok()) return ReportError(report.status());
  cache::WarmOptions options;
  options.report = *report ? &(*report)->writer() : nullptr;
  options.owner = jobs::DefaultOwner();
  options.lock_ttl = *lock_ttl;
  options.record_batch = static_cast<size_t>(a.record_batch);
  options.transfer.verbose = ctx.global.verbose;
  cache::WarmContext wc{.source = **src,
                        .cache = *opened->cache,
                        .index = *opened->index,
                        .locks = *opened->locks,
                        .executor = (*engine)->executor()};
  const auto started = std::chrono::system_clock::now();
  auto r = cache::Warm(request, wc, options, ctx.stop);
  const int code = r.ok() ? (r->failed > 0 ? 1 : 0) : ReportError(r.status());
  std::string cost;  // the report's "cost"
  if (r.ok()) {
    const std::vector<StoreRunCost> costs = WarmCosts(opened->wiring->config(), a.cache, r->bytes);
    Print(*r, a.json, costs);
    cost = StoreCostsJson(costs).dump();
  }
  // after the summary: a receiver that is down delays only the exit
  NotifyWarmEnd(*targets, a, src_text, r.ok() ? &*r : nullptr, r.status(), started,
                *opened->wiring, ctx.stop);
  if (Status s = FinishReportOnly(report->get(), r.status(), cost); !s.ok()) {
    ReportError(s);
    return code == 0 ? 1 : code;
  }
  return code;
}

}  // namespace

void RegisterWarm(CLI::App* cache, Context& ctx) {
  auto args = std::make_shared<WarmArgs>();
  CLI::App* cmd = cache->add_subcommand(
      "warm",
      "copy what is not cached (or changed) under the prefixes into the cache; renew "
      "the expiry of what is");
  cmd->add_option("SRC", args->src, "the source: s3://bucket, NAME:bucket/prefix or a folder");
  cmd->add_option("--prefix", args->prefixes,
                  "a key prefix to warm (repeatable; \"\" = the whole bucket)")
      ->allow_extra_args(false);
  cmd->add_option("--cache", args->cache, "the cache location (e.g. a directory bucket)");
  cmd->add_option("--ttl", args->ttl, "how long the objects stay cached (24h, 90m, 2d)");
  cmd->add_flag("--force", args->force, "copy everything again (after gray failures)");
  cmd->add_flag("--json", args->json, "print the result as JSON on stdout");
  cmd->add_option("--request", args->request,
                  "a JSON request file: {\"bucket\", \"prefixes\", \"ttl\" (hours), "
                  "\"directory_bucket\", \"force_copy\"}");
  cmd->add_option("--state", args->state, kStateHelp);
  cmd->add_option("--concurrency", args->concurrency, "requests in flight (default 64)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--record-batch", args->record_batch,
                  "copies recorded in the cache index per transaction (default 200; at least "
                  "every 100 ms): a request killed loses at most one batch of records, whose "
                  "objects the next request copies again")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--lock-ttl", args->lock_ttl,
                  "lease of the prefix hold, renewed every third; a dead request's hold is "
                  "taken over after it (default 30s)");
  cmd->add_flag("--detach", args->detach,
                "queue the request as a run of the state store and return: `ferry worker "
                "--state` serves it");
  cmd->add_flag("-n,--dry-run", args->dry_run,
                "print what would be copied and the estimate of its requests, bytes out and "
                "cost at each store; the source is listed, nothing is copied, held or renewed");
  AddReportOptions(cmd, args->report);  // report_flags.h
  cmd->add_option("--notify", args->notify,
                  "tell URL when the request ends (http(s)://... webhook, sns:TOPIC_ARN, "
                  "sqs:QUEUE_URL; repeatable), besides the config's [[notify]] "
                  "(docs/design/notify.md)");
  cmd->callback([args, &ctx] { ctx.exit_code = RunWarm(*args, ctx); });
}

}  // namespace ferry::cli::cache_cmd
