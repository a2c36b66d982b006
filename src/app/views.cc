// Run and job views (views.h).
#include "app/views.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "jobs/delete_guard.h"
#include "jobs/move_sources.h"
#include "jobs/payload.h"

namespace ferry::app {
namespace {

// The kinds of `phase` among those the run has jobs of, or else those the registry knows.
std::string PhaseKinds(const jobs::RunCounts& counts, const jobs::KindRegistry& kinds,
                       int phase) {
  std::string names;
  for (const auto& [kind, c] : counts.by_kind) {
    if (kinds.PhaseOf(kind) == phase) names += (names.empty() ? "" : ", ") + kind;
  }
  if (!names.empty()) return names;
  for (const std::string& kind : kinds.Names()) {
    if (kinds.PhaseOf(kind) == phase) names += (names.empty() ? "" : ", ") + kind;
  }
  return names;
}

}  // namespace

std::string When(jobs::TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

RunView MakeRunView(const jobs::Run& run, const jobs::RunCounts& counts,
                    const jobs::KindRegistry& kinds, jobs::TimePoint now) {
  RunView v;
  v.run = run;
  v.counts = counts;
  v.progress = jobs::ProgressOf(counts, kinds);
  if (counts.state != jobs::RunState::kRunning) {
    v.state = std::string(jobs::RunStateName(counts.state));
    // Stopped by its delete limit before deleting (--max-delete, or the config key that set
    // it): say so, with the counts and the way on.
    if (auto options = jobs::DecodeRunOptions(run.spec.options); options.ok()) {
      if (auto why = jobs::StoppedByDeleteGuard(*options, counts)) {
        v.state += " (stopped by " + options->max_delete.Name() + ": " + *why + ")";
        v.deletes_refused = *why;
      }
    }
    return v;
  }
  const uint64_t leased = counts.jobs[static_cast<size_t>(jobs::JobState::kLeased)];
  v.idle = run.spec.continuous && leased == 0 && counts.next_due > now;
  if (v.idle) {
    v.state = "continuous, idle until " + When(counts.next_due);
    return v;
  }
  v.state = std::string(run.spec.continuous ? "continuous, " : "") + "running (phase " +
            std::to_string(counts.phase) + ": " + PhaseKinds(counts, kinds, counts.phase) + ")";
  return v;
}

Result<std::vector<RunView>> ListRunViews(jobs::JobStore& store, int limit,
                                          const jobs::KindRegistry& kinds, jobs::TimePoint now) {
  FERRY_ASSIGN_OR_RETURN(std::vector<jobs::Run> runs, store.ListRuns(limit));
  std::vector<RunView> out;
  for (const jobs::Run& r : runs) {
    FERRY_ASSIGN_OR_RETURN(jobs::RunCounts c, store.CountJobs(r.id));
    out.push_back(MakeRunView(r, c, kinds, now));
  }
  return out;
}

std::string RunLine(const RunView& v) {
  auto n = [&](jobs::JobState s) {
    return static_cast<unsigned long long>(v.counts.jobs[static_cast<size_t>(s)]);
  };
  char counts[200];
  std::snprintf(counts, sizeof counts,
                "jobs %llu queued, %llu leased, %llu done, %llu dead; objects %llu/%llu",
                n(jobs::JobState::kQueued), n(jobs::JobState::kLeased), n(jobs::JobState::kDone),
                n(jobs::JobState::kDead),
                static_cast<unsigned long long>(v.progress.objects_done),
                static_cast<unsigned long long>(v.progress.objects_total));
  return "run " + std::to_string(v.run.id) + " " + v.run.spec.source + " -> " +
         v.run.spec.destination + ": " + v.state + "; " + counts;
}

nlohmann::json RunJson(const RunView& v) {
  auto n = [&](jobs::JobState s) { return v.counts.jobs[static_cast<size_t>(s)]; };
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [kind, c] : v.counts.by_kind) {
    kinds[kind] = {{"queued", c.of(jobs::JobState::kQueued)},
                   {"leased", c.of(jobs::JobState::kLeased)},
                   {"done", c.of(jobs::JobState::kDone)},
                   {"dead", c.of(jobs::JobState::kDead)}};
  }
  nlohmann::json j = {{"run", v.run.id},
                      {"source", v.run.spec.source},
                      {"destination", v.run.spec.destination},
                      {"state", jobs::RunStateName(v.counts.state)},
                      {"phase", v.counts.phase},
                      {"continuous", v.run.spec.continuous},
                      {"idle", v.idle},
                      {"status", v.state},
                      {"jobs_queued", n(jobs::JobState::kQueued)},
                      {"jobs_leased", n(jobs::JobState::kLeased)},
                      {"jobs_done", n(jobs::JobState::kDone)},
                      {"jobs_dead", n(jobs::JobState::kDead)},
                      {"jobs_by_kind", kinds},
                      {"objects_done", v.progress.objects_done},
                      {"objects_total", v.progress.objects_total},
                      {"bytes_done", v.progress.bytes_done},
                      {"bytes_total", v.progress.bytes_total}};
  if (!v.deletes_refused.empty()) j["deletes_refused"] = v.deletes_refused;
  if (v.run.spec.continuous) {
    j["rescan_interval_ms"] = v.run.spec.rescan_interval.count();
    if (v.idle) j["next_due"] = When(v.counts.next_due);
  }
  return j;
}

nlohmann::json JobJson(const jobs::Job& j) {
  nlohmann::json out = {{"id", j.id},
                        {"run", j.spec.run},
                        {"kind", j.spec.kind},
                        {"state", jobs::JobStateName(j.state)},
                        {"attempts", j.attempts},
                        {"max_attempts", j.spec.max_attempts},
                        {"objects", j.spec.objects},
                        {"bytes", j.spec.bytes},
                        {"last_error", j.last_error},
                        {"lease_owner", j.lease_owner},
                        {"updated", When(j.updated)}};
  if (!j.spec.region.empty()) out["region"] = j.spec.region;
  if (j.spec.kind == jobs::kScanKind) {
    // The key range the scan lists: keys after start_after, up to last (absent: to the end).
    if (auto range = jobs::DecodeScan(j.spec.payload); range.ok()) {
      out["start_after"] = range->start_after;
      if (range->last) out["last"] = *range->last;
    }
  }
  const std::vector<ObjectError> errors = JobObjectErrors(j);
  if (!errors.empty()) {
    auto& list = out["failures"] = nlohmann::json::array();
    for (const ObjectError& e : errors) list.push_back({{"key", e.key}, {"error", e.error}});
  }
  return out;
}

std::vector<ObjectError> JobObjectErrors(const jobs::Job& j) {
  std::vector<ObjectError> out;
  // A done job's payload may still hold the errors of an attempt before the one that worked.
  if (j.spec.kind != jobs::kTransferKind || j.state == jobs::JobState::kDone) return out;
  auto objects = jobs::DecodeTransfer(j.spec.payload);
  auto errors = jobs::DecodeTransferErrors(j.spec.payload);
  if (!objects.ok() || !errors.ok() || objects->size() != errors->size()) return out;
  for (size_t i = 0; i < objects->size(); ++i) {
    if ((*errors)[i].empty()) continue;
    out.push_back({(*objects)[i].src.key, (*errors)[i]});
  }
  return out;
}

std::string JobLine(const jobs::Job& j) {
  char line[160];
  std::snprintf(line, sizeof line, "%8lld run %-4lld %-8s %-6s attempts %d/%d %6llu objects ",
                static_cast<long long>(j.id), static_cast<long long>(j.spec.run),
                j.spec.kind.c_str(), std::string(jobs::JobStateName(j.state)).c_str(), j.attempts,
                j.spec.max_attempts, static_cast<unsigned long long>(j.spec.objects));
  return line + j.last_error;
}

std::vector<transfer::Failure> DeadObjects(jobs::JobStore& store, jobs::RunId run,
                                           uint64_t* count) {
  std::vector<transfer::Failure> out;
  *count = 0;
  auto dead = store.ListJobs(run, jobs::JobState::kDead, 1000);
  if (!dead.ok()) return out;
  for (const jobs::Job& j : *dead) {
    // A move's source objects it could not prove (its deletes were made): each by its key.
    if (j.spec.kind == jobs::kMoveSourcesKind) {
      auto moves = jobs::DecodeMoveSources(j.spec.payload);
      if (moves.ok() && !moves->kept.empty()) {
        for (const auto& [key, why] : moves->kept) {
          ++*count;
          if (out.size() >= transfer::Stats::kMaxKeptFailures) continue;
          out.push_back({key, "move", Status::FailedPrecondition("kept on the source: " + why)});
        }
        continue;
      }
    }
    auto objects = j.spec.kind == jobs::kTransferKind
                       ? jobs::DecodeTransfer(j.spec.payload)
                       : Result<std::vector<transfer::CopyRequest>>(
                             std::vector<transfer::CopyRequest>{});
    const char* action = jobs::GuardedDeleteKind(j.spec.kind) ? "delete" : "copy";
    if (!objects.ok() || objects->empty()) {
      *count += std::max<uint64_t>(1, j.spec.objects);
      out.push_back({j.spec.kind + " job " + std::to_string(j.id), action,
                     Status::Unavailable(j.last_error)});
      continue;
    }
    // Each object's own error (issue 43, item 12: not the job's, which is the first one's).
    auto errors = jobs::DecodeTransferErrors(j.spec.payload);
    for (size_t i = 0; i < objects->size(); ++i) {
      ++*count;
      if (out.size() >= transfer::Stats::kMaxKeptFailures) continue;
      const bool own = errors.ok() && i < errors->size() && !(*errors)[i].empty();
      out.push_back({(*objects)[i].src.key, action,
                     Status::Unavailable(own ? (*errors)[i] : j.last_error)});
    }
  }
  return out;
}

}  // namespace ferry::app
