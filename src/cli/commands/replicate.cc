// ferry replicate SRC: one replication pass over SRC by the rules of the config
// ([[replication.rules]]) or of an S3 ReplicationConfiguration JSON file (--replication-config),
// recording each version's status in the state store. The pass is a durable run of that store
// (replicate-scan and replicate-keys jobs, src/replicate/kinds/) that this command
// works on and `ferry worker --state` processes share; a rerun resumes an unfinished one. A dry
// run is one pass in this process (replicate::RunPass) and records nothing.
// `ferry replicate status`: replicate_status.cc.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stop_token>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/durable.h"
#include "app/replication.h"
#include "app/state_files.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/limits_options.h"
#include "app/kinds.h"
#include "cli/commands/replicate_internal.h"
#include "jobs/kinds/registry.h"
#include "replicate/kinds/kinds.h"
#include "transport/kinds/kinds.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "plan/filter.h"
#include "replicate/pass.h"
#include "replicate/payload.h"
#include "replicate/report.h"
#include "replicate/rules.h"
#include "replicate/sla.h"
#include "replicate/status_store.h"
#include "replicate/transport.h"
#include "state/state.h"
#include "state/state_url.h"
#include "transfer/executor.h"
#include "transport/store.h"

namespace ferry::cli {
namespace {

struct ReplicateArgs {
  std::string src;
  std::string rules_json;
  std::string state;
  std::string report;
  bool dry_run = false;
  bool retry_failed = false;
  bool json = false;
  bool restart = false;
  bool detach = false;  // --detach: the run queued (or found unfinished) for workers, not worked
  int concurrency = 0;
  std::string memory;  // --memory: the buffer budget of the process's executor
  int batch_versions = 200;
  ListingArgs listing;
};


Result<replicate::RuleSet> LoadRules(const ReplicateArgs& a, const app::Config& config) {
  if (a.rules_json.empty()) {
    if (config.replication.rules.rules.empty()) {
      return Status::InvalidArgument(
          "no replication rules: add [[replication.rules]] to the config or give "
          "--replication-config FILE.json");
    }
    return config.replication.rules;
  }
  std::ifstream in(a.rules_json, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read --replication-config " + a.rules_json);
  std::ostringstream text;
  text << in.rdbuf();
  FERRY_ASSIGN_OR_RETURN(replicate::RuleSet rules,
                         replicate::ParseS3ReplicationJson(text.str(), a.rules_json,
                                                           config.replication.buckets));
  if (Status s = replicate::Validate(rules); !s.ok()) return s.WithContext(a.rules_json);
  return rules;
}

// A pass as a durable run: which, whether it resumed, where it ended.
struct DurableOutcome {
  jobs::RunId run = 0;
  bool resumed = false;
  jobs::RunProgress progress = jobs::RunProgress::kWorking;
  jobs::TimePoint created;
  bool detached = false;  // --detach: queued for workers, nothing replicated here
};

// The staged archives of a discarded run leave staging (replicate::DiscardRunArchives): its
// unpack jobs are gone with it, so nothing else would ever delete them. The staging locations
// are those of the run's own rules (a restart may change them). `listing`: each staging
// location is listed (a keys job killed between its upload and its progress rows left an
// archive without rows); otherwise staging is touched only when a progress row of the run is
// not done (no request at all for a run already discarded).
Status DiscardArchives(jobs::JobStore& store, app::Wiring& wiring, const jobs::Run& run,
                       bool listing, std::stop_token stop) {
  auto stored = replicate::DecodeDurablePass(run.spec.options);
  if (!stored.ok()) return Status::Ok();  // not a replication pass: no archives of ours
  std::set<std::string> names_of_staging;
  for (const replicate::Rule& r : stored->rules.rules) {
    for (const replicate::Destination& d : r.destinations) {
      if (d.transport.compress) names_of_staging.insert(d.transport.staging);
    }
  }
  if (names_of_staging.empty() || store.session() == nullptr) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<transport::TransportStore> archives,
                         transport::TransportStore::Open(*store.session()));
  replicate::RunArchiveNames names;
  names.run = run.id;
  names.source = run.spec.source;
  names.created_ticks = run.created.time_since_epoch().count();
  if (!listing) {
    bool open = false;
    for (const std::string& name : names_of_staging) {
      FERRY_ASSIGN_OR_RETURN(std::vector<transport::ArchiveRow> rows, archives->Rows(name));
      for (const transport::ArchiveRow& row : rows) {
        open = open || (row.state != transport::ArchiveState::kDone &&
                        names.IsOfRun(name, row.archive));
      }
    }
    if (!open) return Status::Ok();
  }
  std::map<std::string, std::unique_ptr<storage::Backend>> opened;
  for (const std::string& name : names_of_staging) {
    auto loc = app::ParseLocation(name);
    if (!loc.ok()) return loc.status().WithContext("staging of run " + std::to_string(run.id));
    auto backend = wiring.OpenBackend(*loc, true);
    if (!backend.ok()) {
      return backend.status().WithContext("staging " + name + " of discarded run " +
                                          std::to_string(run.id));
    }
    opened[name] = std::move(*backend);
  }
  std::map<std::string, storage::Backend*> staging;
  for (const auto& [name, backend] : opened) staging[name] = backend.get();
  return replicate::DiscardRunArchives(names, staging, *archives, stop)
      .status()
      .WithContext("the staged archives of discarded run " + std::to_string(run.id));
}

// Ends `run` for good (--restart). A worker still working on one of its keys jobs learns it at
// its next lease renewal and stops; until its lease has run out, a new run's job for the same
// key could write a version it writes too. So this waits for the leases the run's jobs held
// when they were removed (as they were when removed, a renewal racing the removal included;
// those of dead processes of this machine are ended at once), and the new pass starts after.
// Then the run's staged archives leave staging (DiscardArchives): no unpack job of it can run
// any more.
Status DiscardRun(jobs::JobStore& store, app::Wiring& wiring, const jobs::Run& run,
                  std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, run.id).status());
  jobs::TimePoint until{};
  FERRY_ASSIGN_OR_RETURN(uint64_t removed, store.AbandonRun(run.id, &until));
  obs::Log(obs::Level::kWarn, "discarded unfinished run " + std::to_string(run.id) + ": " +
                                  std::to_string(removed) + " jobs removed");
  FERRY_RETURN_IF_ERROR(app::WaitForLeases(until, run.id, stop));
  return DiscardArchives(store, wiring, run, /*listing=*/true, stop)
      .WithContext("--restart");
}

// Every pass first settles the source's recently abandoned runs (failed, with no job left that
// `ferry jobs redrive` could revive: a --restart, or `ferry jobs purge --dead-too`): it waits
// for the leases their jobs held when they were removed (the run records them), so that no
// worker still on one of them writes a version this pass writes too, and deletes their staged
// archives, whose versions would otherwise count as in transit with no unpack job left. That
// heals a --restart interrupted while it waited (Ctrl-C), whatever command comes next. A
// --restart lists each staging location (`listing`); other passes touch staging only for a run
// with progress rows not done. The 20 most recent runs of the store are looked at.
Status SettleAbandonedRuns(jobs::JobStore& store, app::Wiring& wiring, const std::string& source,
                           bool listing, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::vector<jobs::Run> runs, store.ListRuns(20));
  for (const jobs::Run& run : runs) {
    if (run.spec.source != source || run.state != jobs::RunState::kFailed) continue;
    FERRY_ASSIGN_OR_RETURN(jobs::RunCounts c, store.CountJobs(run.id));
    if (c.jobs[static_cast<size_t>(jobs::JobState::kQueued)] +
            c.jobs[static_cast<size_t>(jobs::JobState::kLeased)] +
            c.jobs[static_cast<size_t>(jobs::JobState::kDead)] >
        0) {
      continue;  // failed with dead jobs: `ferry jobs redrive` may revive it
    }
    FERRY_RETURN_IF_ERROR(app::WaitForLeases(run.leases_until, run.id, stop));
    FERRY_RETURN_IF_ERROR(DiscardArchives(store, wiring, run, listing, stop));
  }
  return Status::Ok();
}

// One durable pass as the command asks for it (RunDurablePass).
struct DurablePassRequest {
  const replicate::DurablePass& pass;  // the source, rules and options of the pass
  const std::string& destination;      // the run's destination, as the store records it
  const ReplicateArgs& args;           // the command line (listing options, --memory, --restart)
};

// Finds the unfinished run of `request.pass` (same source, rules and options) or creates one
// with its first replicate-scan job, then works on it in this process, beside any `ferry
// worker` of the store, until it is done or blocked on dead jobs. `stats`: what this process
// replicated. An unfinished run of the source with other rules or options (or another command)
// is refused unless --restart discards it.
Result<DurableOutcome> RunDurablePass(jobs::JobStore& store, app::Wiring& wiring,
                                      const DurablePassRequest& request,
                                      replicate::PassStats& stats, std::stop_token stop) {
  const replicate::DurablePass& pass = request.pass;
  const std::string& destination = request.destination;
  const ReplicateArgs& a = request.args;
  jobs::WorkerOptions w;
  FERRY_RETURN_IF_ERROR(ApplyListingOptions(a.listing, w));
  jobs::RunOptions ro;
  ro.command = "replicate";
  ro.multipart_threshold = pass.multipart_threshold;
  ro.part_size = pass.part_size;
  ro.server_side_copy_limit = pass.server_side_copy_limit;
  FERRY_ASSIGN_OR_RETURN(std::string options,
                         replicate::EncodeDurablePass(pass, jobs::EncodeRunOptions(ro)));
  DurableOutcome out;
  FERRY_ASSIGN_OR_RETURN(std::optional<jobs::Run> existing,
                         store.FindUnfinishedRun(pass.source, destination));
  if (existing && existing->spec.continuous) {
    return Status::InvalidArgument("source " + pass.source + " is replicated continuously by run " +
                                   std::to_string(existing->id) +
                                   " (ferry serve): its scan and events already replicate it");
  }
  if (existing) {
    // Concurrency and batch size change nothing of what the pass does: they may differ.
    auto stored = replicate::DecodeDurablePass(existing->spec.options);
    std::string why;
    if (!stored.ok()) {
      why = "is not a replication pass";
    } else {
      replicate::DurablePass same = *stored;
      same.concurrency = pass.concurrency;
      same.batch_versions = pass.batch_versions;
      auto before = replicate::EncodeDurablePass(same, "{}");
      auto now = replicate::EncodeDurablePass(pass, "{}");
      if (!before.ok() || !now.ok() || *before != *now) {
        why = "has other rules or options";
      }
    }
    if (a.restart) {
      FERRY_RETURN_IF_ERROR(DiscardRun(store, wiring, *existing, stop));
      existing.reset();
    } else if (!why.empty()) {
      return Status::InvalidArgument(
          "unfinished run " + std::to_string(existing->id) + " from " + pass.source + " to " +
          destination + " " + why +
          "; rerun its command to finish it, or add --restart to discard it and start a new pass");
    }
  }
  FERRY_RETURN_IF_ERROR(SettleAbandonedRuns(store, wiring, pass.source, a.restart, stop));
  if (existing) {
    out.run = existing->id;
    out.resumed = true;
    out.created = existing->created;
    obs::Log(obs::Level::kInfo, "resuming replication run " + std::to_string(out.run),
             {{"source", pass.source}});
    FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, out.run).status());
  } else {
    jobs::RunSpec spec{pass.source, destination, options};
    jobs::JobSpec scan;
    scan.kind = replicate::kReplicateScanKind;
    scan.payload = jobs::EncodeScan(jobs::KeyRange{});
    scan.max_attempts = ro.max_attempts;
    FERRY_ASSIGN_OR_RETURN(out.run, store.CreateRun(spec, {scan}));  // one transaction
    FERRY_ASSIGN_OR_RETURN(jobs::Run created, store.GetRun(out.run));
    out.created = created.created;
  }
  if (a.detach) {
    out.detached = true;
    return out;
  }
  // This process serves the replication kinds of its own run; its replicate-keys jobs count
  // into `stats`.
  const jobs::KindRegistry kinds = app::ReplicationKinds(&stats);
  // Compressed transport: the unpack jobs without a region here, and a worker of its own for
  // each region named (as `ferry worker --role unpack --region NAME` would serve them).
  std::set<std::string> regions;
  for (const replicate::Rule& r : pass.rules.rules) {
    for (const replicate::Destination& d : r.destinations) {
      if (d.transport.compress && !d.transport.region.empty()) regions.insert(d.transport.region);
    }
  }
  w.owner = jobs::DefaultOwner();
  w.only_run = out.run;
  w.exit_when_done = true;
  w.registry = &kinds;
  w.concurrency = std::max(16, pass.concurrency * 4);
  if (!a.memory.empty()) {
    FERRY_ASSIGN_OR_RETURN(w.memory_budget, plan::ParseSize(a.memory));
  }
  // One executor for every worker of this process: one budget of requests and of memory.
  transfer::ExecutorOptions eo;
  eo.concurrency = w.concurrency;
  eo.memory_budget = w.memory_budget;
  transfer::Executor executor(eo);
  LimitRequestsInFlight(eo.concurrency);
  w.executor = &executor;
  transfer::Stats transfer_stats;
  std::vector<std::unique_ptr<jobs::Worker>> unpackers;
  for (const std::string& region : regions) {
    jobs::WorkerOptions u = w;
    u.region = region;
    u.kinds = {transport::kUnpackKind};
    unpackers.push_back(
        std::make_unique<jobs::Worker>(store, app::OpenerFor(wiring), u, transfer_stats));
  }
  // One stop for every worker of this process: the command's, the end of the run, or a
  // region's worker that failed (its jobs would wait forever).
  std::stop_source halt;
  std::stop_callback forward(stop, [&halt] { halt.request_stop(); });
  std::vector<Status> unpacked(unpackers.size());
  Status main;
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < unpackers.size(); ++i) {
      threads.emplace_back([&, i] {
        unpacked[i] = unpackers[i]->Run(halt.get_token());
        if (!unpacked[i].ok()) halt.request_stop();
      });
    }
    jobs::Worker worker(store, app::OpenerFor(wiring), w, transfer_stats);
    main = worker.Run(halt.get_token(), &out.progress);
    halt.request_stop();
  }
  for (const Status& s : unpacked) {
    if (!s.ok() && s.code() != ErrorCode::kCancelled) return s;
  }
  FERRY_RETURN_IF_ERROR(main);
  return out;
}

void PrintSummary(const ReplicateArgs& a, const replicate::PassStats& s, const Status& result,
                  const std::optional<DurableOutcome>& durable) {
  const std::pair<const char*, const std::atomic<uint64_t>*> fields[] = {
      {"versions_listed", &s.versions_listed}, {"replicated", &s.replicated},
      {"delete_markers", &s.delete_markers},   {"already_completed", &s.already},
      {"replicas_skipped", &s.replicas},       {"recovered", &s.recovered},
      {"kept_current", &s.restored},           {"failed", &s.failed},
      {"would_replicate", &s.planned},         {"bytes", &s.bytes},
      {"server_side_copies", &s.server_side}, {"server_side_part_copies", &s.server_side_parts},
      {"unverified", &s.unverified}, {"kms_not_selected", &s.kms_not_selected},
      {"parts_resumed", &s.parts_resumed}, {"bytes_resumed", &s.bytes_resumed},
      {"tags_synced", &s.tags_synced}, {"transported", &s.transported},
      {"transport_archives", &s.transport_archives},
      {"transport_bytes_in", &s.transport_bytes_in},
      {"transport_bytes_wire", &s.transport_bytes_wire}};
  if (a.json) {
    nlohmann::json j;
    for (const auto& [name, value] : fields) j[name] = value->load();
    j["dry_run"] = a.dry_run;
    if (durable) {
      j["run"] = durable->run;
      j["resumed"] = durable->resumed;
    }
    j["ok"] = result.ok() && s.failed.load() == 0;
    if (!result.ok()) j["error"] = result.message();
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  if (a.dry_run) {
    std::printf("dry run: %llu versions would be replicated (%llu listed)\n",
                static_cast<unsigned long long>(s.planned.load()),
                static_cast<unsigned long long>(s.versions_listed.load()));
    return;
  }
  std::printf(
      "replicated %llu versions (%llu delete markers, %llu bytes, %llu server-side), "
      "%llu already completed, %llu replicas skipped, %llu failed\n",
      static_cast<unsigned long long>(s.replicated.load()),
      static_cast<unsigned long long>(s.delete_markers.load()),
      static_cast<unsigned long long>(s.bytes.load()),
      static_cast<unsigned long long>(s.server_side.load()),
      static_cast<unsigned long long>(s.already.load()),
      static_cast<unsigned long long>(s.replicas.load()),
      static_cast<unsigned long long>(s.failed.load()));
  if (s.unverified.load() > 0) {
    std::printf("%llu versions replicated unverified: no checksum they declare could prove "
                "the bytes read\n",
                static_cast<unsigned long long>(s.unverified.load()));
  }
  if (s.kms_not_selected.load() > 0) {
    std::printf("%llu versions not replicated: they are encrypted (SSE-KMS or SSE-C) and their rule "
                "does not select SseKmsEncryptedObjects\n",
                static_cast<unsigned long long>(s.kms_not_selected.load()));
  }
  if (s.parts_resumed.load() > 0) {
    std::printf("resumed interrupted uploads: %llu parts (%llu bytes) already written were not "
                "sent again\n",
                static_cast<unsigned long long>(s.parts_resumed.load()),
                static_cast<unsigned long long>(s.bytes_resumed.load()));
  }
  if (s.transport_archives.load() > 0) {
    std::printf("transported %llu versions in %llu archives (%llu bytes in, %llu on the wire)\n",
                static_cast<unsigned long long>(s.transported.load()),
                static_cast<unsigned long long>(s.transport_archives.load()),
                static_cast<unsigned long long>(s.transport_bytes_in.load()),
                static_cast<unsigned long long>(s.transport_bytes_wire.load()));
  }
}

int RunReplicate(const ReplicateArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto rules = LoadRules(a, *config);
  if (!rules.ok()) return ReportError(rules.status());
  if (a.dry_run && a.detach) {
    return ReportError(Status::InvalidArgument("--dry-run cannot be combined with --detach"));
  }
  if (a.dry_run && a.retry_failed) {
    return ReportError(Status::InvalidArgument("--dry-run cannot be combined with --retry-failed"));
  }
  if (a.concurrency < 0 || a.concurrency > 1024) {
    return ReportError(Status::InvalidArgument("--concurrency: must be between 1 and 1024"));
  }
  if (!a.memory.empty()) {
    auto memory = plan::ParseSize(a.memory);
    if (!memory.ok()) return ReportError(memory.status().WithContext("--memory"));
    if (*memory == 0) return ReportError(Status::InvalidArgument("--memory: must be above 0"));
  }
  // Destinations are recorded under their canonical names, like the source.
  auto targets = app::ResolveReplication(a.src, *rules);
  if (!targets.ok()) return ReportError(targets.status());
  const std::vector<std::pair<std::string, app::Location>>& dests = targets->destinations;
  const std::string source_name = targets->source_name;

  replicate::PassOptions o;
  o.concurrency = a.concurrency > 0 ? a.concurrency : config->transfer.concurrency.value_or(16);
  o.concurrency = std::min(o.concurrency, 256);
  if (config->transfer.multipart_threshold) {
    o.multipart_threshold = *plan::ParseSize(*config->transfer.multipart_threshold);
  }
  if (config->transfer.part_size) o.part_size = *plan::ParseSize(*config->transfer.part_size);
  if (config->replication.server_side_copy_limit) {
    o.server_side_copy_limit = *config->replication.server_side_copy_limit;
  }
  app::Wiring wiring(std::move(config).value());
  auto opened = app::OpenReplication(wiring, *targets, ctx.stop);
  if (!opened.ok()) return ReportError(opened.status());
  for (const auto& [name, dst] : opened->destinations) o.destinations[name] = dst.get();

  o.source_name = source_name;
  o.source = opened->source.get();
  o.rules = &*rules;
  o.clock = &SystemClock::Default();
  o.dry_run = a.dry_run;
  o.retry_failed_only = a.retry_failed;
  replicate::PassStats stats;
  Status result;
  std::unique_ptr<state::SqlSession> session;
  std::unique_ptr<jobs::JobStore> jobs_store;
  std::unique_ptr<replicate::StatusStore> store;
  std::optional<DurableOutcome> durable;
  if (a.dry_run) {
    // A dry run reads the statuses when there are any, so that it shows only what is left.
    if (!a.state.empty() || std::ifstream(DefaultReplicationStatePath())) {
      auto opened_session = OpenReplicationState(a.state);
      if (!opened_session.ok()) return ReportError(opened_session.status());
      session = std::move(*opened_session);
      auto opened_store = replicate::StatusStore::Open(*session);
      if (!opened_store.ok()) return ReportError(opened_store.status());
      store = std::move(*opened_store);
    }
    o.store = store.get();  // only read
    std::mutex print_mu;
    o.plan = [&](const std::string& line) {
      std::lock_guard lock(print_mu);
      std::printf("would replicate: %s\n", line.c_str());
    };
    result = replicate::RunPass(o, stats, ctx.stop);
  } else {
    auto opened_jobs =
        jobs::OpenJobStore(a.state.empty() ? DefaultReplicationStatePath() : a.state);
    if (!opened_jobs.ok()) return ReportError(opened_jobs.status());
    jobs_store = std::move(*opened_jobs);
    if (jobs_store->session() == nullptr) {
      return ReportError(Status::InvalidArgument("--state: replication needs a SQL state store"));
    }
    auto opened_store = replicate::StatusStore::Open(*jobs_store->session());
    if (!opened_store.ok()) return ReportError(opened_store.status());
    store = std::move(*opened_store);
    replicate::DurablePass pass;
    pass.source = source_name;
    pass.rules = *rules;
    pass.concurrency = o.concurrency;
    pass.retry_failed_only = o.retry_failed_only;
    pass.batch_versions = static_cast<uint64_t>(a.batch_versions);
    pass.multipart_threshold = o.multipart_threshold;
    pass.part_size = o.part_size;
    pass.server_side_copy_limit = o.server_side_copy_limit;
    // The SLA gauges (replicate/sla.h) from the status store: at the start, every 30 s while
    // the pass runs (for --metrics-listen), and at its end (for --metrics-file).
    replicate::SlaMetrics sla(obs::DefaultRegistry(), source_name, &*rules);
    Result<DurableOutcome> outcome = Status::Internal("no pass");
    {
      replicate::SlaRefresher refresh(sla, *store, SystemClock::Default());
      outcome = RunDurablePass(
          *jobs_store, wiring, {.pass = pass, .destination = dests.front().first, .args = a},
          stats, ctx.stop);
    }
    if (!outcome.ok()) result = outcome.status();
    if (outcome.ok()) durable = *outcome;
    if (durable && durable->detached) {
      std::fprintf(stderr, "replication run %lld %s; workers: ferry worker --state %s\n",
                   static_cast<long long>(durable->run),
                   durable->resumed ? "is unfinished (not queued again)" : "queued",
                   state::RedactUrl(a.state.empty() ? DefaultReplicationStatePath() : a.state)
                       .c_str());
      return 0;
    }
    if (durable && ctx.stop.stop_requested()) {
      result = Status::Cancelled("replication pass interrupted; rerun to resume run " +
                                 std::to_string(durable->run));
    } else if (durable && durable->progress != jobs::RunProgress::kDone) {
      const std::string url =
          state::RedactUrl(a.state.empty() ? DefaultReplicationStatePath() : a.state);
      result = Status::Unavailable("run " + std::to_string(durable->run) +
                                   " failed with dead jobs: see ferry jobs dlq --state " + url +
                                   "; ferry jobs redrive, then rerun");
    }
  }
  PrintSummary(a, stats, result, durable);
  // The report and the exit code come from the status store: every version of the pass,
  // whichever process replicated it.
  uint64_t failures = stats.failed.load();
  if (durable) {
    auto failed = store->CountSince(
        source_name, replicate::VersionState::kFailed,
        std::chrono::duration_cast<std::chrono::nanoseconds>(durable->created.time_since_epoch())
            .count());
    if (!failed.ok()) return ReportError(failed.status());
    failures += static_cast<uint64_t>(*failed);
  }
  if (!a.report.empty() && store != nullptr) {
    auto rows = store->Rows(source_name, std::nullopt);
    if (!rows.ok()) return ReportError(rows.status());
    Status s = replicate::WriteReport(
        replicate::ReportRows(*rows,
                              targets->source.is_s3() ? targets->source.bucket
                                                      : targets->source.path,
                              targets->source.prefix),
        a.report);
    if (!s.ok()) return ReportError(s);
  }
  if (!result.ok()) return ReportError(result);
  return failures > 0 ? 1 : 0;
}

}  // namespace

std::string DefaultReplicationStatePath() { return app::StateDir() + "/replication.db"; }

Result<std::unique_ptr<state::SqlSession>> OpenReplicationState(const std::string& url) {
  static SystemClock clock;
  return state::OpenSession(url.empty() ? DefaultReplicationStatePath() : url, clock);
}

void RegisterReplicate(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<ReplicateArgs>();
  auto status_args = std::make_shared<StatusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replicate",
      "replicate every version of SRC to the destinations of its replication rules (one pass); "
      "`ferry replicate status` shows the replica status");
  cmd->add_option("SRC", args->src, "the source: NAME:bucket/prefix or s3://bucket/prefix");
  cmd->add_option("--replication-config", args->rules_json,
                  "S3 ReplicationConfiguration JSON (as `aws s3api get-bucket-replication` "
                  "prints it); bucket ARNs map to locations in [replication.buckets]");
  cmd->add_option("--state", args->state,
                  "state store of replica statuses and of the pass's jobs, which `ferry worker "
                  "--state` processes share (SQLite path or postgres://...; default "
                  "replication.db in ~/.local/state/ferry)");
  cmd->add_flag("-n,--dry-run", args->dry_run, "print what each rule would replicate");
  cmd->add_flag("--retry-failed", args->retry_failed, "replicate only the FAILED versions again");
  cmd->add_option("--report", args->report,
                  "write the completion report to PREFIX.csv and PREFIX.json (S3 Batch "
                  "Operations columns)");
  cmd->add_flag("--json", args->json, "print the summary as JSON");
  cmd->add_option("--concurrency", args->concurrency,
                  "the process runs 4 x N requests at once, at least 16 (default N = 16): keys, "
                  "and the parts of large versions");
  cmd->add_option("--memory", args->memory,
                  "buffer memory budget of the process, every version byte held counted in "
                  "it (default 128MiB)");
  cmd->add_option("--batch-versions", args->batch_versions,
                  "versions per replicate-keys job; a key's versions stay in one job "
                  "(default 200)")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--detach", args->detach,
                "queue the pass as a run of the state store and return: `ferry worker --state` "
                "serves it (a pass left unfinished is not queued twice)");
  cmd->add_flag("--restart", args->restart,
                "discard the unfinished pass of this source in the state store and start anew");
  AddListingOptions(cmd, args->listing);
  CLI::App* status = cmd->add_subcommand("status", "counts per rule and destination, failures");
  status->add_option("--state", status_args->state, "state store (as for ferry replicate)");
  status->add_option("--source", status_args->source, "only this source location");
  status->add_flag("--json", status_args->json, "print as JSON");
  status->callback(
      [status_args, &ctx] { ctx.exit_code = RunReplicateStatus(*status_args, ctx); });
  cmd->callback([cmd, status, args, &ctx] {
    if (status->parsed()) return;
    if (args->src.empty()) {
      ctx.exit_code = ReportError(Status::InvalidArgument("replicate: SRC is required"));
      return;
    }
    ctx.exit_code = RunReplicate(*args, ctx);
  });
}

}  // namespace ferry::cli
