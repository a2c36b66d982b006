#include "app/durable.h"
#include "app/notify_run.h"
#include "app/kinds.h"
#include "jobs/delete_guard.h"
#include "jobs/job_report.h"
#include "base/clock.h"
#include "obs/log.h"
#include "transport/run_archives.h"
#include "transport/store.h"
#include "verify/kinds/kinds.h"

#include <chrono>
#include <cstdio>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ferry::app {

jobs::BackendOpener OpenerFor(Wiring& wiring) {
  return [&wiring](const std::string& text,
                   bool destination) -> Result<std::unique_ptr<storage::Backend>> {
    FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(text));
    // Only a durable move deletes on a run's source: its folders stay (guards.md).
    return wiring.OpenBackend(loc, destination, /*keep_emptied_folders=*/!destination);
  };
}

Result<uint64_t> AbortAbandonedUploads(jobs::JobStore& store, std::string_view destination,
                                       storage::Backend& dst, jobs::TimePoint before,
                                       std::stop_token stop) {
  // Only uploads ferry recorded for this destination and that no run will resume; anything
  // else on the destination (other tools' uploads, a live run's journaled one) is not ours.
  FERRY_ASSIGN_OR_RETURN(std::vector<jobs::StartedUpload> started,
                         store.ListStartedUploads(destination));
  std::map<std::string, const jobs::StartedUpload*> abandoned;  // by upload id
  std::set<std::string> live;
  for (const jobs::StartedUpload& u : started) {
    if (!u.live) abandoned[u.upload_id] = &u;
    if (u.live) live.insert(u.upload_id);
  }
  // A local folder names ferry's temporary files as such: those of whole-object writes that a
  // killed run left behind are recorded nowhere, yet only ferry's (and no live run's), so the
  // destination is always looked at (one ListMultipartUploads on S3).
  FERRY_ASSIGN_OR_RETURN(auto pending, dst.ListPendingUploads("", stop));
  uint64_t aborted = 0;
  std::set<std::string> still_pending;
  for (const auto& upload : pending) {
    auto it = abandoned.find(upload.upload_id);
    if (it == abandoned.end() && upload.ferry_named && live.count(upload.upload_id) == 0 &&
        upload.started < before) {
      FERRY_RETURN_IF_ERROR(dst.AbortPendingUpload(upload, stop));
      ++aborted;
      continue;
    }
    if (it == abandoned.end() || it->second->key != upload.key) continue;
    still_pending.insert(upload.upload_id);
    if (upload.started >= before) continue;  // younger than the minimum age
    FERRY_RETURN_IF_ERROR(dst.AbortPendingUpload(upload, stop));
    FERRY_RETURN_IF_ERROR(store.ForgetUpload(destination, upload.upload_id));
    ++aborted;
  }
  // Recorded before the listing and not pending any more: completed, or aborted by someone
  // else. Nothing to abort; forget them so that they are not looked for again.
  for (const auto& [id, u] : abandoned) {
    if (still_pending.count(id) == 0 && u->started < before) {
      FERRY_RETURN_IF_ERROR(store.ForgetUpload(destination, id));
    }
  }
  return aborted;
}

namespace {

// The options as they decide what a run does, without the instant at which relative ages
// (--newer-than 2h) were turned into times: a rerun an hour later means the same run. A run
// stored before runs recorded their command matches either command (--delete, only sync's,
// still tells them apart).
std::string Comparable(jobs::RunOptions o, const std::string& command) {
  if (o.filter.newer_than) o.filter.newer_than = std::chrono::system_clock::time_point{};
  if (o.filter.older_than) o.filter.older_than = std::chrono::system_clock::time_point{};
  o.command = command;
  // Prices steer the adaptive level of later batches; a run resumes whatever they are now.
  o.transport.price_per_gib = -1;
  o.transport.price_per_cpu_second = -1;
  return jobs::EncodeRunOptions(o);
}

// The command a run was started with: recorded, or for old runs what --delete implies.
std::string CommandOf(const jobs::RunOptions& o) {
  if (!o.command.empty()) return o.command;
  return o.delete_extra ? "sync" : "cp";
}

// What differs between the stored options of a run and the options of this command, as the
// flags that set them.
std::vector<std::string> Differences(const jobs::RunOptions& run, jobs::RunOptions now) {
  // No --compress-level (0, adaptive) resumes a run at the level it was started with (a run of
  // a ferry from before the adaptive level stored level 3).
  if (now.transport.level == 0) now.transport.level = run.transport.level;
  std::vector<std::string> out;
  if (!run.command.empty() && run.command != now.command) {
    out.push_back("the command (" + now.command + ", not " + run.command + ")");
  }
  auto add = [&](bool differs, const char* flag) {
    if (differs) out.emplace_back(flag);
  };
  add(run.delete_extra != now.delete_extra, "--delete");
  add(run.max_delete.Text() != now.max_delete.Text(), "--max-delete");
  add(run.filter.include != now.filter.include, "--include");
  add(run.filter.exclude != now.filter.exclude, "--exclude");
  add(run.filter.min_size != now.filter.min_size, "--min-size");
  add(run.filter.max_size != now.filter.max_size, "--max-size");
  add(run.filter.newer_than.has_value() != now.filter.newer_than.has_value(), "--newer-than");
  add(run.filter.older_than.has_value() != now.filter.older_than.has_value(), "--older-than");
  add(run.decide.checksum != now.decide.checksum, "--checksum");
  add(run.decide.size_only != now.decide.size_only, "--size-only");
  add(run.decide.update_only_newer != now.decide.update_only_newer, "--update");
  add(run.storage_class != now.storage_class, "--storage-class");
  add(run.preserve_lock != now.preserve_lock, "--preserve-lock");
  add(run.preserve_acl != now.preserve_acl, "--preserve-acl");
  add(run.acl != now.acl, "--acl/--grants");
  add(run.checksum_algorithm != now.checksum_algorithm, "--checksum-algorithm");
  add(run.overrides != now.overrides, "--metadata/--content-type/--metadata-directive");
  add(run.restore.days != now.restore.days, "--restore-archived");
  add(run.backup_dir != now.backup_dir, "--backup-dir");
  add(run.backup_suffix != now.backup_suffix, "--suffix");
  add(run.delete_empty_src_dirs != now.delete_empty_src_dirs, "--delete-empty-src-dirs");
  add(run.restore.enabled() && run.restore.tier != now.restore.tier, "--restore-tier");
  add(run.restore.enabled() && run.restore.poll != now.restore.poll, "--restore-poll");
  add(run.restore.enabled() && run.restore.wait != now.restore.wait, "--restore-wait");
  add(run.multipart_threshold != now.multipart_threshold, "--multipart-threshold");
  add(run.part_size != now.part_size, "--part-size");
  add(run.server_side_copy_limit != now.server_side_copy_limit, "the server-side copy limit");
  add(run.max_attempts != now.max_attempts, "--max-attempts");
  add(run.part_jobs_min_parts != now.part_jobs_min_parts, "--part-jobs-min-parts");
  add(run.files_from != now.files_from, "--files-from");
  add(run.report != now.report, "--report/--report-format/--report-level");
  add(run.transport.enabled() != now.transport.enabled(), "--compress");
  add(run.transport.staging != now.transport.staging, "--staging");
  add(run.transport.level != now.transport.level, "--compress-level");
  add(run.transport.batch_bytes != now.transport.batch_bytes, "--archive-size");
  add(run.transport.region != now.transport.region, "--unpack-region");
  if (out.empty() && Comparable(run, run.command) != Comparable(now, run.command)) {
    out.emplace_back("its options");
  }
  return out;
}

// `text` as a shell word: quoted unless it is plain.
std::string ShellWord(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    plain = plain && (alnum || std::string_view("_-./:@%+=,").find(c) != std::string_view::npos);
  }
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string SizeText(uint64_t bytes) {
  static const struct {
    uint64_t unit;
    const char* suffix;
  } kUnits[] = {{1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (const auto& u : kUnits) {
    if (bytes >= u.unit && bytes % u.unit == 0) return std::to_string(bytes / u.unit) + u.suffix;
  }
  return std::to_string(bytes);
}

// An age as --newer-than takes it ("1d2h", "90s"), from the run's start and the time it made.
std::string AgeText(jobs::TimePoint created, jobs::TimePoint bound) {
  auto secs = std::chrono::round<std::chrono::seconds>(created - bound).count();
  if (secs <= 0) return "0s";
  std::string out;
  for (const auto& [unit, suffix] : {std::pair<int64_t, char>{86400, 'd'}, {3600, 'h'},
                                     {60, 'm'}, {1, 's'}}) {
    if (secs >= unit) out += std::to_string(secs / unit) + suffix;
    secs %= unit;
  }
  return out;
}

// The command line that started `run` (options at their defaults left out).
std::string CommandLine(const jobs::Run& run, const jobs::RunOptions& o,
                        const std::string& state) {
  const jobs::RunOptions d;
  std::string out = "ferry " + CommandOf(o) + " " + ShellWord(run.spec.source) + " " +
                    ShellWord(run.spec.destination);
  auto flag = [&](const char* name, const std::string& value = {}) {
    out += std::string(" ") + name;
    if (!value.empty()) out += " " + ShellWord(value);
  };
  if (!o.files_from.empty()) flag("--files-from", o.files_from);
  if (o.report.wanted()) {
    flag("--report", o.report.location);
    if (o.report.format != "csv") flag("--report-format", o.report.format);
    if (o.report.level != "changes") flag("--report-level", o.report.level);
  }
  if (o.delete_extra) flag("--delete");
  if (o.max_delete.enabled()) flag("--max-delete", o.max_delete.Text());
  for (const auto& g : o.filter.include) flag("--include", g);
  for (const auto& g : o.filter.exclude) flag("--exclude", g);
  if (o.filter.min_size) flag("--min-size", SizeText(*o.filter.min_size));
  if (o.filter.max_size) flag("--max-size", SizeText(*o.filter.max_size));
  if (o.filter.newer_than) flag("--newer-than", AgeText(run.created, *o.filter.newer_than));
  if (o.filter.older_than) flag("--older-than", AgeText(run.created, *o.filter.older_than));
  if (o.decide.checksum) flag("--checksum");
  if (o.decide.size_only) flag("--size-only");
  if (o.decide.update_only_newer) flag("--update");
  if (!o.storage_class.empty()) flag("--storage-class", o.storage_class);
  if (o.preserve_lock) flag("--preserve-lock");
  if (o.preserve_acl) flag("--preserve-acl");
  if (o.checksum_algorithm) {
    flag("--checksum-algorithm", std::string(checksum::AlgorithmName(*o.checksum_algorithm)));
  }
  for (const auto& [name, value] : o.overrides.metadata) flag("--metadata", name + "=" + value);
  if (!o.overrides.content_type.empty()) flag("--content-type", o.overrides.content_type);
  if (o.overrides.replace) flag("--metadata-directive", "REPLACE");
  if (o.restore.enabled()) {
    flag("--restore-archived", std::to_string(o.restore.days));
    if (o.restore.tier != "Standard") flag("--restore-tier", o.restore.tier);
    if (o.restore.poll != std::chrono::seconds(60)) {
      flag("--restore-poll", std::to_string(o.restore.poll.count() / 1000) + "s");
    }
    if (o.restore.wait != std::chrono::hours(48)) {
      flag("--restore-wait", std::to_string(o.restore.wait.count() / 1000) + "s");
    }
  }
  if (!o.acl.canned.empty()) flag("--acl", o.acl.canned);
  // Each x-amz-grant-* list (`id="a", uri="b"`) back into --grants PERMISSION=TYPE=VALUE.
  const std::pair<const char*, const std::string*> lists[] = {
      {"read", &o.acl.grant_read},
      {"readacp", &o.acl.grant_read_acp},
      {"writeacp", &o.acl.grant_write_acp},
      {"full", &o.acl.grant_full_control}};
  for (const auto& [permission, list] : lists) {
    size_t at = 0;
    while (at < list->size()) {
      size_t end = list->find(", ", at);
      if (end == std::string::npos) end = list->size();
      std::string grantee = list->substr(at, end - at);
      std::erase(grantee, '"');
      flag("--grants", std::string(permission) + "=" + grantee);
      at = end + 2;
    }
  }
  if (o.multipart_threshold != d.multipart_threshold) {
    flag("--multipart-threshold", SizeText(o.multipart_threshold));
  }
  if (o.part_size != d.part_size) flag("--part-size", SizeText(o.part_size));
  if (o.max_attempts != d.max_attempts) flag("--max-attempts", std::to_string(o.max_attempts));
  if (o.part_jobs_min_parts != d.part_jobs_min_parts) {
    flag("--part-jobs-min-parts", std::to_string(o.part_jobs_min_parts));
  }
  if (o.transport.enabled()) {
    const jobs::TransportOptions dt;
    if (!o.transport.backup) {  // `ferry backup SRC LOC`: the location is the staging
      flag("--compress");
      flag("--staging", o.transport.staging);
    }
    if (o.transport.level != dt.level) flag("--compress-level", std::to_string(o.transport.level));
    if (o.transport.batch_bytes != dt.batch_bytes) {
      flag("--archive-size", SizeText(o.transport.batch_bytes));
    }
    if (!o.transport.region.empty()) flag("--unpack-region", o.transport.region);
  }
  if (!state.empty()) flag("--state", state);
  return out;
}

// The one line that refuses to resume `run` as another command.
Status Refusal(const jobs::Run& run, const std::string& command_line, const std::string& why) {
  return Status::InvalidArgument(
      "unfinished run " + std::to_string(run.id) + " (" + command_line + ") " + why +
      "; rerun its command to finish it, or add --restart to discard it and start a new run");
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// A new run waits until no worker can still be at work for an abandoned run of the same
// source and destination (the latest lease its jobs held when --restart or a purge removed
// them, Run::leases_until): a transfer of such a job landing after this run's write of the same
// key would leave the destination with the older bytes while this run reports it copied. The
// 20 most recent runs of the store are looked at.
Status WaitForAbandonedLeases(jobs::JobStore& store, const DurableRunRequest& request,
                              Clock& clock, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::vector<jobs::Run> runs, store.ListRuns(20));
  jobs::TimePoint until{};
  jobs::RunId last = 0;
  for (const jobs::Run& run : runs) {
    if (run.state != jobs::RunState::kFailed || run.spec.source != request.source ||
        run.spec.destination != request.destination || run.leases_until <= until) {
      continue;
    }
    until = run.leases_until;
    last = run.id;
  }
  return WaitForLeases(until, last, stop, clock);
}

// `--restart` of a compressed run: the discarded run's archives leave its staging location
// (unfinished uploads aborted, complete ones deleted, progress rows done) once no job of it can
// still write there. They were packed for a run that no longer exists: nothing unpacks them,
// and each would stay billed on staging. A backup's archives are the backup: never.
Status DiscardStagedArchives(jobs::JobStore& store, Wiring& wiring, const jobs::Run& run,
                             const jobs::RunOptions& options, Clock& clock, std::stop_token stop) {
  const jobs::TransportOptions& t = options.transport;
  if (!t.enabled() || t.backup) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(t.staging));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> staging, wiring.OpenBackend(loc, true));
  std::unique_ptr<transport::TransportStore> rows;
  if (store.session() != nullptr) {
    FERRY_ASSIGN_OR_RETURN(rows, transport::TransportStore::Open(*store.session(), clock));
  }
  const transport::SyncArchiveNames names{.run = run.id,
                                          .source = run.spec.source,
                                          .destination = run.spec.destination,
                                          .created_ticks = run.created.time_since_epoch().count(),
                                          .backup = false};
  const transport::RunArchives of_run{
      .prefix = names.Prefix(), .owns = [&names](std::string_view k) { return names.Owns(k); }};
  FERRY_ASSIGN_OR_RETURN(transport::DiscardedArchives d,
                         transport::DiscardArchives(t.staging, *staging, of_run, rows.get(), stop));
  if (d.archives + d.uploads + d.rows > 0) {
    obs::Log(obs::Level::kInfo, "discarded the staged archives of run " + std::to_string(run.id) +
                                    ": " + std::to_string(d.archives) + " archives deleted, " +
                                    std::to_string(d.uploads) + " unfinished uploads aborted");
  }
  return Status::Ok();
}

// The summary.json of run `run`'s report, from the parts its jobs recorded (jobs/job_report.h).
Status WriteDurableReportSummary(jobs::JobStore& store, Wiring& wiring, jobs::RunId run,
                                 const jobs::ReportOptions& o, jobs::RunProgress progress,
                                 Clock& clock) {
  FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(o.location));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> location,
                         wiring.OpenBackend(loc, /*create_local=*/true));
  FERRY_ASSIGN_OR_RETURN(jobs::Run r, store.GetRun(run));
  return jobs::WriteReportSummary(store, r, o, *location, clock.Now(),
                                  progress == jobs::RunProgress::kDone)
      .WithContext("--report " + o.location);
}

// The report's summary when this process's worker stops: a done run's summary job wrote it; a
// run that is not done, or one queued by a ferry without that job, gets it written now.
Status ReportSummaryOfThisProcess(jobs::JobStore& store, Wiring& wiring, jobs::RunId run,
                                  const jobs::ReportOptions& o, jobs::RunProgress progress,
                                  Clock& clock) {
  // A run that ended (done, or failed by a dead job) had its summary written by its summary job
  // (which runs before a run fails: JobHandler::runs_when_failed).
  FERRY_ASSIGN_OR_RETURN(jobs::RunCounts counts, store.CountJobs(run));
  if (progress == jobs::RunProgress::kDone || counts.state == jobs::RunState::kFailed) {
    for (const char* kind : {jobs::kReportSummaryKind, verify::kVerifySummaryKind}) {
      if (counts.of(kind).of(jobs::JobState::kDone) > 0) return Status::Ok();
    }
  }
  // not done, or a run of an earlier ferry without a summary job (a summary job that died too:
  // written again here, its error this write's own)
  return WriteDurableReportSummary(store, wiring, run, o, progress, clock);
}

}  // namespace

Status WaitForLeases(jobs::TimePoint until, jobs::RunId run, std::stop_token stop,
                     Clock& clock) {
  const auto wait = until - clock.Now();
  if (wait > std::chrono::milliseconds(0)) {
    obs::Log(obs::Level::kInfo, "waiting for the leases of the jobs of discarded run " +
                                    std::to_string(run) + " to end");
    clock.SleepFor(
        std::chrono::ceil<std::chrono::milliseconds>(wait) + std::chrono::milliseconds(100),
        stop);
  }
  if (stop.stop_requested()) return Status::Cancelled("interrupted");
  return Status::Ok();
}

namespace {

// The unfinished run of the request's source and destination, to be resumed: none when there is
// none, or when --restart discarded it (its run and options then in `discarded`); refused when
// its options cannot be read or differ from the request's.
Result<std::optional<jobs::Run>> RunToResume(
    jobs::JobStore& store, const DurableRunRequest& request,
    std::optional<std::pair<jobs::Run, jobs::RunOptions>>& discarded) {
  FERRY_ASSIGN_OR_RETURN(auto existing,
                         store.FindUnfinishedRun(request.source, request.destination));
  if (existing) {
    auto stored = jobs::DecodeRunOptions(existing->spec.options);
    const std::string command_line =
        stored.ok() ? CommandLine(*existing, *stored, request.state_for_messages)
                    : request.source + " -> " + request.destination;
    if (request.restart) {
      if (stored.ok()) discarded.emplace(*existing, *stored);
      // Its queued work (parked deletes too) was planned from facts that may be stale now.
      // Jobs a killed process of this machine held end now; the leases of live workers are
      // waited for below (AbandonedLeases).
      FERRY_RETURN_IF_ERROR(
          jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, existing->id).status());
      FERRY_ASSIGN_OR_RETURN(uint64_t removed, store.AbandonRun(existing->id));
      obs::Log(obs::Level::kWarn, "discarded unfinished run " + std::to_string(existing->id) +
                                      " (" + command_line + "): " + std::to_string(removed) +
                                      " jobs removed");
      existing.reset();
    } else if (!stored.ok()) {
      return Refusal(*existing, command_line,
                     "has options this ferry cannot read (" + stored.status().message() + ")");
    } else if (auto differs = Differences(*stored, request.options); !differs.empty()) {
      // Its jobs were planned with its own options: going on with others would mix the two.
      return Refusal(*existing, command_line, "differs from this command in " + Joined(differs));
    }
  }
  return existing;
}

}  // namespace

Result<DurableRunResult> RunDurable(jobs::JobStore& store, Wiring& wiring,
                                    const DurableRunRequest& request, transfer::Stats& stats,
                                    std::stop_token stop) {
  Clock& clock = ClockOr(request.worker.clock);
  const auto start = clock.MonoNow();
  DurableRunResult result;
  std::optional<std::pair<jobs::Run, jobs::RunOptions>> discarded;  // --restart's
  FERRY_ASSIGN_OR_RETURN(std::optional<jobs::Run> existing,
                         RunToResume(store, request, discarded));
  std::vector<notify::Target> targets = wiring.config().notify;
  targets.insert(targets.end(), request.notify.begin(), request.notify.end());
  jobs::JobSpec scan;
  scan.kind = jobs::kScanKind;
  scan.payload = jobs::EncodeScan(jobs::KeyRange{});
  scan.max_attempts = request.options.max_attempts;
  if (existing) {
    result.run = existing->id;
    result.resumed = true;
    obs::Log(obs::Level::kInfo, "resuming run " + std::to_string(result.run),
             {{"source", request.source}, {"destination", request.destination}});
    // Jobs a killed process of this machine still holds are taken over now, not in a minute.
    FERRY_RETURN_IF_ERROR(
        jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, result.run).status());
    // A run without a single job never got its scan (an older ferry made the two apart and was
    // killed between them): it gets it now, else it would be found done at once.
    FERRY_ASSIGN_OR_RETURN(jobs::RunCounts counts, store.CountJobs(result.run));
    // A run from a list got its list-scan jobs with the run, in one transaction: none means an
    // empty list, never a scan of everything.
    if (std::accumulate(std::begin(counts.jobs), std::end(counts.jobs), uint64_t{0}) == 0 &&
        request.options.files_from.empty()) {
      scan.run = result.run;
      FERRY_RETURN_IF_ERROR(store.Enqueue({scan}).status());
    }
  } else {
    FERRY_RETURN_IF_ERROR(WaitForAbandonedLeases(store, request, clock, stop));
    if (discarded) {
      FERRY_RETURN_IF_ERROR(
          DiscardStagedArchives(store, wiring, discarded->first, discarded->second, clock, stop)
              .WithContext("discarding the staged archives of run " +
                           std::to_string(discarded->first.id)));
    }
    jobs::RunSpec spec{request.source, request.destination,
                       jobs::EncodeRunOptions(request.options)};
    // The run and its scan in one transaction: killed between the two, a rerun resumed a run
    // with no job and found it done at once (convergence_backup_test: a round's backup that
    // listed nothing, exit 0).
    std::vector<jobs::JobSpec> first{scan};
    if (request.first_jobs) {
      FERRY_ASSIGN_OR_RETURN(first, request.first_jobs());
    }
    // The report's summary as the run's last job: whichever worker ends the run writes it, so a
    // detached run's report is whole too (jobs::kReportSummaryKind).
    if (request.options.report.wanted()) first.push_back(jobs::ReportSummaryJob());
    // Its notification targets too: a worker of the store may end a small run before this
    // process could store them apart.
    FERRY_ASSIGN_OR_RETURN(jobs::NewRunStep with_targets, RunTargetsStep(store, targets));
    FERRY_ASSIGN_OR_RETURN(result.run, store.CreateRun(spec, std::move(first), with_targets));
  }
  if (result.resumed && !targets.empty()) {
    FERRY_RETURN_IF_ERROR(SetDurableRunTargets(store, result.run, targets));
  }
  if (!request.detach) {
    jobs::WorkerOptions w = request.worker;
    w.only_run = result.run;
    w.exit_when_done = true;
    if (w.registry == nullptr) w.registry = &Kinds();  // every kind: a compressed run's too
    jobs::Worker worker(store, OpenerFor(wiring), w, stats);
    FERRY_RETURN_IF_ERROR(worker.Run(stop, &result.progress));
    if (request.options.report.wanted()) {
      result.report = ReportSummaryOfThisProcess(store, wiring, result.run, request.options.report,
                                                 result.progress, clock);
    }
  }
  FERRY_ASSIGN_OR_RETURN(result.counts, store.CountJobs(result.run));
  if (!request.detach && !targets.empty() &&
      result.counts.state != jobs::RunState::kRunning) {
    result.notify_pending = DeliverRunNotifications(store, wiring, result.run, stop);
  }
  if (auto why = jobs::StoppedByDeleteGuard(request.options, result.counts)) {
    result.deletes_refused = *why;
  }
  result.seconds = std::chrono::duration<double>(clock.MonoNow() - start).count();
  return result;
}

}  // namespace ferry::app
