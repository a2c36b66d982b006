// RunDurableReplication (replication_run.h): a replication pass as a durable run of the state
// store, opened or resumed, worked on in this process; --restart's discard and the settling of
// abandoned runs.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/durable.h"
#include "app/kinds.h"
#include "app/notify_run.h"
#include "app/replication_run.h"
#include "base/clock.h"
#include "obs/log.h"
#include "replicate/kinds/kinds.h"
#include "replicate/transport.h"
#include "transport/kinds/kinds.h"
#include "transport/store.h"

namespace ferry::app {
namespace {

// The staged archives of a discarded run leave staging (replicate::DiscardRunArchives): its
// unpack jobs are gone with it, so nothing else would ever delete them. The staging locations
// are those of the run's own rules (a restart may change them). `listing`: each staging
// location is listed (a keys job killed between its upload and its progress rows left an
// archive without rows); otherwise staging is touched only when a progress row of the run is
// not done (no request at all for a run already discarded).
Status DiscardReplicationArchives(jobs::JobStore& store, Wiring& wiring, const jobs::Run& run,
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
    auto loc = ParseLocation(name);
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
// Then the run's staged archives leave staging (DiscardReplicationArchives): no unpack job of
// it can run any more.
Status DiscardReplicationRun(jobs::JobStore& store, Wiring& wiring, const jobs::Run& run,
                             Clock& clock, std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, run.id).status());
  jobs::TimePoint until{};
  FERRY_ASSIGN_OR_RETURN(uint64_t removed, store.AbandonRun(run.id, &until));
  obs::Log(obs::Level::kWarn, "discarded unfinished run " + std::to_string(run.id) + ": " +
                                  std::to_string(removed) + " jobs removed");
  FERRY_RETURN_IF_ERROR(WaitForLeases(until, run.id, stop, clock));
  return DiscardReplicationArchives(store, wiring, run, /*listing=*/true, stop)
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
Status SettleAbandonedReplicationRuns(jobs::JobStore& store, Wiring& wiring,
                                      const std::string& source, bool listing,
                                      Clock& clock, std::stop_token stop) {
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
    FERRY_RETURN_IF_ERROR(WaitForLeases(run.leases_until, run.id, stop, clock));
    FERRY_RETURN_IF_ERROR(DiscardReplicationArchives(store, wiring, run, listing, stop));
  }
  return Status::Ok();
}

// The run options a pass records beside its rules (what a worker copies with).
jobs::RunOptions ReplicationRunOptions(const replicate::DurablePass& pass,
                                       const plan::DeleteLimit& max_delete) {
  jobs::RunOptions ro;
  ro.command = "replicate";
  ro.max_delete = max_delete;  // the guard every worker applies (jobs/delete_guard.h)
  ro.multipart_threshold = pass.multipart_threshold;
  ro.part_size = pass.part_size;
  ro.server_side_copy_limit = pass.server_side_copy_limit;
  return ro;
}

// Why `existing` cannot resume with `max_delete`: "" when it was made with the same limit.
std::string DeleteLimitMismatch(const jobs::Run& existing, const plan::DeleteLimit& max_delete) {
  auto stored = jobs::DecodeRunOptions(existing.spec.options);
  const std::string before = stored.ok() ? stored->max_delete.Text() : "";
  if (before == max_delete.Text()) return "";
  return "was started with " +
         (before.empty() ? std::string("no --max-delete") : "--max-delete " + before);
}

// The run of the pass: the unfinished one of its source and destination, resumed (or
// discarded on --restart, or refused when it is not this pass), else a new one with its first
// replicate-scan job in one transaction. The source's abandoned runs are settled in between.
Result<ReplicationDurableSummary> OpenReplicationRun(jobs::JobStore& store, Wiring& wiring,
                                                     const DurableReplicationRequest& request,
                                                     std::stop_token stop) {
  const replicate::DurablePass& pass = request.pass;
  const std::string& destination = request.destination;
  const bool restart = request.settings.restart;
  Clock& clock = ClockOr(request.settings.worker.clock);
  const jobs::RunOptions ro = ReplicationRunOptions(pass, request.settings.max_delete);
  FERRY_ASSIGN_OR_RETURN(std::string options,
                         replicate::EncodeDurablePass(pass, jobs::EncodeRunOptions(ro)));
  ReplicationDurableSummary out;
  FERRY_ASSIGN_OR_RETURN(std::optional<jobs::Run> existing,
                         store.FindUnfinishedRun(pass.source, destination));
  if (existing && existing->spec.continuous) {
    return Status::InvalidArgument("source " + pass.source + " is replicated continuously by run " +
                                   std::to_string(existing->id) +
                                   " (ferry serve): its scan and events already replicate it");
  }
  if (existing) {
    std::string why = ReplicationResumeMismatch(*existing, pass);
    if (why.empty()) why = DeleteLimitMismatch(*existing, request.settings.max_delete);
    if (restart) {
      FERRY_RETURN_IF_ERROR(DiscardReplicationRun(store, wiring, *existing, clock, stop));
      existing.reset();
    } else if (!why.empty()) {
      return Status::InvalidArgument(
          "unfinished run " + std::to_string(existing->id) + " from " + pass.source + " to " +
          destination + " " + why +
          "; rerun its command to finish it, or add --restart to discard it and start a new pass");
    }
  }
  FERRY_RETURN_IF_ERROR(
      SettleAbandonedReplicationRuns(store, wiring, pass.source, restart, clock, stop));
  if (existing) {
    out.run = existing->id;
    out.resumed = true;
    out.created = existing->created;
    obs::Log(obs::Level::kInfo, "resuming replication run " + std::to_string(out.run),
             {{"source", pass.source}});
    FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, out.run).status());
    return out;
  }
  jobs::RunSpec spec{pass.source, destination, options};
  jobs::JobSpec scan;
  scan.kind = replicate::kReplicateScanKind;
  scan.payload = jobs::EncodeScan(jobs::KeyRange{});
  scan.max_attempts = ro.max_attempts;
  // one transaction, with the notification targets: a worker may end a small pass at once
  FERRY_ASSIGN_OR_RETURN(jobs::NewRunStep with_targets,
                         RunTargetsStep(store, request.settings.notify));
  FERRY_ASSIGN_OR_RETURN(out.run, store.CreateRun(spec, {scan}, with_targets));
  FERRY_ASSIGN_OR_RETURN(jobs::Run created, store.GetRun(out.run));
  out.created = created.created;
  return out;
}

// The regions of the rules' compressed transport: each gets an unpack worker of its own in
// this process (as `ferry worker --role unpack --region NAME` would serve them).
std::set<std::string> ReplicationUnpackRegions(const replicate::RuleSet& rules) {
  std::set<std::string> regions;
  for (const replicate::Rule& r : rules.rules) {
    for (const replicate::Destination& d : r.destinations) {
      if (d.transport.compress && !d.transport.region.empty()) regions.insert(d.transport.region);
    }
  }
  return regions;
}

// Works on run `out.run` in this process until it is done or blocked on dead jobs: a worker
// of the replication kinds (its replicate-keys jobs count into `stats`; the unpack jobs without
// a region) and one unpack worker per region, all on the engine's executor (one budget of
// requests and of memory). `out.progress`: where the run ended.
Status WorkOnReplicationRun(jobs::JobStore& store, Wiring& wiring,
                            const DurableReplicationRequest& request,
                            ReplicationDurableSummary& out, replicate::PassStats& stats,
                            std::stop_token stop) {
  const jobs::KindRegistry kinds = ReplicationKinds(&stats);
  jobs::WorkerOptions w = request.settings.worker;
  w.owner = jobs::DefaultOwner();
  w.only_run = out.run;
  w.exit_when_done = true;
  w.registry = &kinds;
  // One executor for every worker of this process: one budget of requests and of memory.
  if (request.engine == nullptr) return Status::Internal("replication pass without an engine");
  w.concurrency = request.engine->requests();
  w.executor = &request.engine->executor();
  transfer::Stats transfer_stats;
  std::vector<std::unique_ptr<jobs::Worker>> unpackers;
  for (const std::string& region : ReplicationUnpackRegions(request.pass.rules)) {
    jobs::WorkerOptions u = w;
    u.region = region;
    u.kinds = {transport::kUnpackKind};
    unpackers.push_back(
        std::make_unique<jobs::Worker>(store, OpenerFor(wiring), u, transfer_stats));
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
    jobs::Worker worker(store, OpenerFor(wiring), w, transfer_stats);
    main = worker.Run(halt.get_token(), &out.progress);
    halt.request_stop();
  }
  for (const Status& s : unpacked) {
    if (!s.ok() && s.code() != ErrorCode::kCancelled) return s;
  }
  return main;
}

}  // namespace

std::string ReplicationResumeMismatch(const jobs::Run& existing,
                                      const replicate::DurablePass& pass) {
  auto stored = replicate::DecodeDurablePass(existing.spec.options);
  if (!stored.ok()) return "is not a replication pass";
  // Concurrency and batch size change nothing of what the pass does: they may differ.
  replicate::DurablePass same = *stored;
  same.concurrency = pass.concurrency;
  same.batch_versions = pass.batch_versions;
  auto before = replicate::EncodeDurablePass(same, "{}");
  auto now = replicate::EncodeDurablePass(pass, "{}");
  if (!before.ok() || !now.ok() || *before != *now) return "has other rules or options";
  return "";
}

Result<ReplicationDurableSummary> RunDurableReplication(jobs::JobStore& store, Wiring& wiring,
                                                        const DurableReplicationRequest& request,
                                                        replicate::PassStats& stats,
                                                        std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(ReplicationDurableSummary out,
                         OpenReplicationRun(store, wiring, request, stop));
  const std::vector<notify::Target>& targets = request.settings.notify;
  if (out.resumed && !targets.empty()) {  // a new run got them with its creation
    FERRY_RETURN_IF_ERROR(SetDurableRunTargets(store, out.run, targets).WithContext("--notify"));
  }
  if (request.settings.detach) {
    out.detached = true;
    return out;
  }
  FERRY_RETURN_IF_ERROR(WorkOnReplicationRun(store, wiring, request, out, stats, stop));
  if (!targets.empty()) DeliverRunNotifications(store, wiring, out.run, stop);
  return out;
}

}  // namespace ferry::app
