// [[schedules]] in ferry serve (docs/design/serve.md, "Schedules"): the config's schedules
// checked (PlanSchedules), and a ServeInstance's scheduler (serve/scheduler.h) whose
// occurrences become durable runs of the state store, as `ferry sync --state URL --detach`,
// `ferry cache warm --detach` and `ferry backup --state URL` queue them; a catalog prune runs
// in the serve that claimed its occurrence (PruneNow). Every serve sharing the store works on the running runs of its schedules (a
// worker each, on the instance's executor), so a run goes on when the serve that started it is
// killed; `ferry worker`s of the store may work on them too.

#include <nlohmann/json.hpp>

#include "app/backup_prune.h"
#include "app/backup_run.h"
#include "app/cache_open.h"
#include "app/delete_limits.h"
#include "app/durable.h"
#include "app/kinds.h"
#include "app/location.h"
#include "app/views.h"
#include "cache/kinds/warm_kind.h"
#include "backup/catalog_prune.h"
#include "jobs/payload.h"
#include "serve/daemon/instance.h"
#include "obs/log.h"
#include "plan/filter.h"

namespace ferry::serve::daemon {

namespace {

constexpr std::string_view kBackupCommand = "backup";
constexpr std::string_view kPruneCommand = "catalog-prune";

app::BackupRunSpec BackupSpecOf(const app::ScheduleConfig& c) {
  return {.source = c.source,
          .location = c.location,
          .compress_level = c.compress_level,
          .archive_size = c.archive_size,
          .max_attempts = c.max_attempts};
}

// The locations a schedule names, by key.
std::vector<std::pair<const char*, const std::string*>> Locations(const app::ScheduleConfig& c) {
  if (c.command == cache::kWarmCommand) return {{"source", &c.source}, {"cache", &c.cache}};
  if (c.command == kBackupCommand) return {{"source", &c.source}, {"location", &c.location}};
  if (c.command == kPruneCommand) return {{"location", &c.location}};
  return {{"source", &c.source}, {"destination", &c.destination}};
}

}  // namespace

Result<std::vector<serve::ScheduleSpec>> PlanSchedules(app::Wiring& wiring) {
  std::vector<serve::ScheduleSpec> out;
  for (const app::ScheduleConfig& c : wiring.config().schedules) {
    const std::string where = "[[schedules]] '" + c.name + "'";
    FERRY_ASSIGN_OR_RETURN(serve::ScheduleAt at, serve::ParseAt(c.at, c.tz));
    if (c.command == kBackupCommand || c.command == kPruneCommand) {
      // a backup location is an S3 one, as for the commands
      if (Result<app::BackupLocation> loc = app::ParseBackupLocation(c.location); !loc.ok()) {
        return loc.status().WithContext(where + ": 'location'");
      }
    }
    for (const auto& [key, text] : Locations(c)) {
      Result<app::Location> loc = app::ParseLocation(*text);
      if (!loc.ok()) return loc.status().WithContext(where + ": '" + key + "'");
      // an unknown remote, a bad endpoint: refused now, not at 02:00
      Result<std::unique_ptr<storage::Backend>> opened = wiring.OpenBackend(*loc, false);
      if (!opened.ok()) return opened.status().WithContext(where + ": '" + key + "'");
    }
    if (c.command == kBackupCommand) {
      if (auto options = app::BackupRunOptions(BackupSpecOf(c)); !options.ok()) {
        return options.status().WithContext(where);
      }
    }
    const app::SyncSettings& keys = wiring.config().sync;
    if (c.command == "sync" && (keys.max_transfer || keys.max_duration || keys.cutoff_mode)) {
      // [sync]'s cutoffs are the command's: `ferry sync` stops its own worker at the deadline,
      // and no deadline stops the workers of serve's durable runs. Said, never ignored quietly.
      obs::Log(obs::Level::kWarn,
               where + ": [sync] max_transfer, max_duration and cutoff_mode apply to the ferry "
                       "sync command only: this scheduled sync runs without them");
    }
    // `tz` is part of the schedule's identity: a changed zone starts it afresh (since)
    out.push_back({.name = c.name,
                   .at_text = c.tz.empty() ? c.at : c.at + " " + c.tz,
                   .at = at,
                   .grace = c.grace});
  }
  return out;
}

namespace {

std::string Iso(int64_t ms) { return app::When(jobs::TimePoint(std::chrono::milliseconds(ms))); }

}  // namespace

std::string WithSchedules(const std::string& status_json, serve::Scheduler& scheduler) {
  nlohmann::json doc = nlohmann::json::parse(status_json, nullptr, false);
  if (doc.is_discarded()) return status_json;
  Result<std::vector<serve::ScheduleView>> views = scheduler.Views(5);
  if (!views.ok()) {
    doc["schedules_error"] = views.status().message();
    return doc.dump();
  }
  nlohmann::json list = nlohmann::json::array();
  for (const serve::ScheduleView& v : *views) {
    nlohmann::json recent = nlohmann::json::array();
    for (const serve::Occurrence& o : v.recent) {
      recent.push_back({{"due", Iso(o.due_ms)},
                        {"outcome", o.outcome},
                        {"run", o.run},
                        {"owner", o.owner},
                        {"error", o.error}});
    }
    const int64_t next_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(v.next.time_since_epoch()).count();
    list.push_back({{"name", v.name}, {"at", v.at}, {"next", Iso(next_ms)}, {"recent", recent}});
  }
  doc["schedules"] = list;
  return doc.dump();
}

Status ServeInstance::BeginSchedules() {
  if (plan_.schedules.empty()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(schedule_store_, serve::ScheduleStore::Open(*store_.session()));
  serve::SchedulerHooks hooks;
  hooks.start = [this](size_t index, serve::TimePoint due, std::stop_token stop) {
    return StartOccurrence(index, due, stop);
  };
  hooks.serve_run = [this](jobs::RunId run) { ServeScheduledRun(run); };
  scheduler_ = std::make_unique<serve::Scheduler>(
      plan_.schedules, *schedule_store_, store_, std::move(hooks),
      serve::SchedulerOptions{.owner = worker_options_.owner});
  scheduler_->Start();
  return Status::Ok();
}

namespace {

// A cache-warm occurrence, queued as `ferry cache warm SRC --prefix P... --cache DST --ttl T
// --detach` queues it (the command's default lock ttl and record batch), told to the config's
// [[notify]] targets when it ends, as a scheduled backup is (app::RunDurable); the cache index
// and locks are those of this state store.
Result<jobs::RunId> QueueWarm(jobs::JobStore& store, const app::Config& config,
                              const app::ScheduleConfig& c) {
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(c.cache));
  return app::QueueWarmRun(
      store, c.source, c.cache,
      cache::WarmJob{.cache_name = app::CacheName(loc),
                     .request = cache::WarmRequest{.prefixes = c.prefixes, .ttl = c.ttl, .force = false},
                     .lock_ttl = std::chrono::seconds(30),
                     .record_batch = 200},
      config.notify);
}

// A backup occurrence, queued as `ferry backup SRC BACKUP_LOC --state URL` queues its run
// (PrepareBackupRun), detached: the catalog is this state store's. The deletions noted by
// earlier runs whose listing completed become tombstones first (`ferry backup` records them
// when its run ends; here the next occurrence does).
Result<jobs::RunId> QueueBackup(jobs::JobStore& store, app::Wiring& wiring,
                                const jobs::WorkerOptions& worker, transfer::Stats& stats,
                                const app::ScheduleConfig& c, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(app::PreparedBackup p,
                         app::PrepareBackupRun(store, wiring, BackupSpecOf(c)));
  if (p.catalog) {
    Result<uint64_t> settled = app::SettleDeletions(store, *p.catalog, p.location.text, 0);
    if (!settled.ok()) return settled.status().WithContext("recording deletions");
  }
  p.request.worker = worker;
  p.request.detach = true;
  FERRY_ASSIGN_OR_RETURN(app::DurableRunResult r,
                         app::RunDurable(store, wiring, p.request, stats, stop));
  return r.run;
}

// A catalog-prune occurrence: `ferry catalog prune BACKUP_LOC --keep-last N --keep-within W
// --max-delete L --state URL`, run here and now (no job kind: docs/design/serve.md,
// "Schedules"). Its limit is the entry's max_delete, else [catalog] max_delete: a prune past it
// forgets nothing and the occurrence fails with the refusal (app/delete_limits.h).
Status PruneNow(jobs::JobStore& store, app::Wiring& wiring, const app::ScheduleConfig& c,
                std::stop_token stop) {
  state::SqlSession* session = store.session();
  if (session == nullptr) return Status::FailedPrecondition("the state store holds no catalog");
  FERRY_ASSIGN_OR_RETURN(app::BackupLocation loc, app::ParseBackupLocation(c.location));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> backend,
                         wiring.OpenBackend(loc.location, false));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<backup::CatalogStore> catalog,
                         backup::CatalogStore::Open(*session));
  const backup::RetentionPolicy policy{
      .keep_last = c.keep_last,
      .keep_within_ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.keep_within).count()};
  FERRY_ASSIGN_OR_RETURN(
      app::NamedDeleteLimit limit,
      app::ResolveDeleteLimit("", c.max_delete ? c.max_delete : wiring.config().catalog.max_delete,
                              c.max_delete ? "[[schedules]] '" + c.name + "' max_delete"
                                           : std::string("[catalog] max_delete")));
  FERRY_ASSIGN_OR_RETURN(backup::PruneResult r,
                         app::PruneBackupLocation(*catalog, *backend, loc, policy, false,
                                                  SystemClock::Default(), stop,
                                                  app::PruneDeleteCheck(limit, false)));
  obs::Log(obs::Level::kInfo,
           "schedule " + c.name + ": catalog prune of " + loc.text + ": " +
               std::to_string(r.plan.dropped.size()) + " versions dropped, " +
               std::to_string(r.plan.kept) + " kept, " + std::to_string(r.archives_deleted) +
               " archives deleted");
  return Status::Ok();
}

}  // namespace

Result<jobs::RunId> ServeInstance::StartOccurrence(size_t index, serve::TimePoint due,
                                                   std::stop_token stop) {
  (void)due;
  const app::ScheduleConfig& c = plan_.wiring->config().schedules.at(index);
  if (c.command == cache::kWarmCommand) return QueueWarm(store_, plan_.wiring->config(), c);
  if (c.command == kBackupCommand) {
    return QueueBackup(store_, *plan_.wiring, worker_options_, stats_, c, stop);
  }
  if (c.command == kPruneCommand) {
    FERRY_RETURN_IF_ERROR(PruneNow(store_, *plan_.wiring, c, stop));
    return jobs::RunId{0};  // done here (SchedulerHooks::start)
  }
  app::DurableRunRequest req;
  req.source = c.source;
  req.destination = c.destination;
  req.options.command = "sync";
  req.options.delete_extra = c.delete_extra;
  // [sync] max_delete guards a scheduled sync's deletes as it guards `ferry sync`'s.
  const std::optional<plan::DeleteLimit>& max_delete = plan_.wiring->config().sync.max_delete;
  if (c.delete_extra && max_delete) req.options.max_delete = *max_delete;
  // [transfer]'s part sizes, as `ferry sync` takes them (checked when the config was read)
  const app::TransferDefaults& t = plan_.wiring->config().transfer;
  if (t.multipart_threshold) req.options.multipart_threshold = *plan::ParseSize(*t.multipart_threshold);
  if (t.part_size) req.options.part_size = *plan::ParseSize(*t.part_size);
  req.worker = worker_options_;
  req.detach = true;
  // An unfinished run of the pair (the previous occurrence still at work) is joined, not
  // doubled; one of other options (another command, a changed `delete`) is refused: failed.
  FERRY_ASSIGN_OR_RETURN(app::DurableRunResult r,
                         app::RunDurable(store_, *plan_.wiring, req, stats_, stop));
  return r.run;
}

void ServeInstance::ServeScheduledRun(jobs::RunId run) {
  std::lock_guard lock(scheduled_mu_);
  if (stopping_.load()) return;
  for (auto it = scheduled_.begin(); it != scheduled_.end();) {
    it = it->second.ended->load() ? scheduled_.erase(it) : std::next(it);  // joins
  }
  if (scheduled_.contains(run)) return;
  jobs::WorkerOptions o = worker_options_;
  o.only_run = run;
  o.exit_when_done = true;
  ScheduledWorker w;
  w.worker = std::make_unique<jobs::Worker>(store_, app::OpenerFor(*plan_.wiring), o, stats_);
  w.ended = std::make_shared<std::atomic<bool>>(false);
  jobs::Worker* worker = w.worker.get();
  std::shared_ptr<std::atomic<bool>> ended = w.ended;
  std::stop_token halt = halt_.get_token();
  w.thread = std::jthread([worker, ended, halt, run] {
    Status s = worker->Run(halt);
    if (!s.ok() && s.code() != ErrorCode::kCancelled) {
      obs::Log(obs::Level::kWarn, "scheduled run " + std::to_string(run) + ": " + s.message());
    }
    ended->store(true);
  });
  scheduled_.emplace(run, std::move(w));
}

void ServeInstance::StopSchedules() {
  if (scheduler_) scheduler_->Stop();
  halt_.request_stop();
  std::lock_guard lock(scheduled_mu_);
  scheduled_.clear();  // joins: halt_ stops each worker
}

}  // namespace ferry::serve::daemon
