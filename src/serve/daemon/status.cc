// ServeStatusJson (status.h).
#include "serve/daemon/status.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

#include "replicate/kinds/kinds.h"
#include "replicate/payload.h"

namespace ferry::serve::daemon {
namespace {

using nlohmann::json;

std::string IsoTime(jobs::TimePoint t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  char day[32] = "";
  if (gmtime_r(&s, &tm) != nullptr) std::strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", day, static_cast<int>(ms % 1000));
  return out;
}

// The key a job is about, when its kind names one.
std::string KeyOf(const jobs::Job& job) {
  if (job.spec.kind == replicate::kReplicateEventKind) {
    auto work = replicate::DecodeEventWork(job.spec.payload);
    return work.ok() ? work->key : "";
  }
  if (job.spec.kind == replicate::kReplicateKeysKind) {
    auto keys = replicate::DecodeKeyBatch(job.spec.payload);
    if (!keys.ok() || keys->empty()) return "";
    if (keys->size() == 1) return keys->front().key;
    return keys->front().key + " (+" + std::to_string(keys->size() - 1) + " more)";
  }
  return "";
}

// Adds "jobs" (and "next_due" when the run waits for its next round) to `out`.
void AddJobCounts(jobs::JobStore& store, jobs::RunId run, const Clock& clock, json& out) {
  Result<jobs::RunCounts> counts = store.CountJobs(run);
  if (!counts.ok()) {
    out["jobs"] = {{"error", counts.status().message()}};
    return;
  }
  json kinds = json::object();
  for (const auto& [kind, c] : counts->by_kind) {
    kinds[kind] = {{"queued", c.of(jobs::JobState::kQueued)},
                   {"leased", c.of(jobs::JobState::kLeased)},
                   {"done", c.of(jobs::JobState::kDone)},
                   {"dead", c.of(jobs::JobState::kDead)}};
  }
  out["jobs"] = kinds;
  if (counts->continuous && counts->next_due > clock.Now()) {
    out["next_due"] = IsoTime(counts->next_due);
  }
}

// One line of "errors": a failed version of the status store or a job with an error.
struct ErrorLine {
  int64_t time_ms = 0;
  json body;
};

// Failed versions are listed only while there are few: Rows reads them all.
constexpr int64_t kMaxFailedRowsRead = 200;

json Failures(replicate::StatusStore& status, const std::string& source, const Clock& clock) {
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             clock.Now().time_since_epoch())
                             .count();
  const std::pair<const char*, int64_t> windows[] = {
      {"last_minute", now_ns - 60'000'000'000}, {"last_hour", now_ns - 3'600'000'000'000},
      {"total", 0}};
  json out = json::object();
  for (const auto& [name, since] : windows) {
    Result<int64_t> n = status.CountSince(source, replicate::VersionState::kFailed, since);
    if (!n.ok()) return {{"error", n.status().message()}};
    out[name] = *n;
  }
  return out;
}

}  // namespace

std::string ServeStatusJson(jobs::JobStore& store, replicate::StatusStore& status,
                            const std::vector<ServedRun>& runs, const Clock& clock,
                            const std::string& events_auth) {
  json out_runs = json::array();
  std::map<std::string, std::map<std::string, uint64_t>> owners;  // owner -> kind -> jobs
  std::vector<jobs::Job> errors;
  std::vector<ErrorLine> lines;
  std::string workers_error;
  std::string errors_error;
  for (const ServedRun& r : runs) {
    json one = {{"source", r.source}, {"run", r.run}};
    AddJobCounts(store, r.run, clock, one);
    one["failures"] = Failures(status, r.source, clock);
    const json& total = one["failures"]["total"];
    if (total.is_number() && total.get<int64_t>() > 0 &&
        total.get<int64_t>() <= kMaxFailedRowsRead) {
      Result<std::vector<replicate::VersionStatus>> failed =
          status.Rows(r.source, replicate::VersionState::kFailed);
      if (failed.ok()) {
        for (const replicate::VersionStatus& v : *failed) {
          const int64_t ms = v.updated_ns / 1'000'000;
          lines.push_back({ms,
                           {{"run", r.run},
                            {"version", v.source_version},
                            {"destination", v.destination},
                            {"key", v.key},
                            {"state", "FAILED"},
                            {"error", v.error_code + ": " + v.message},
                            {"time", IsoTime(jobs::TimePoint(std::chrono::milliseconds(ms)))}}});
        }
      } else {
        errors_error = failed.status().message();
      }
    }
    out_runs.push_back(std::move(one));
    Result<std::vector<jobs::Job>> leased = store.ListJobs(r.run, jobs::JobState::kLeased, 1000);
    if (leased.ok()) {
      for (const jobs::Job& j : *leased) ++owners[j.lease_owner][j.spec.kind];
    } else {
      workers_error = leased.status().message();
    }
    Result<std::vector<jobs::Job>> failed = store.ListErrors(r.run, 10);
    if (failed.ok()) {
      errors.insert(errors.end(), failed->begin(), failed->end());
    } else {
      errors_error = failed.status().message();
    }
  }
  json workers = json::array();
  for (const auto& [owner, kinds] : owners) {
    uint64_t total = 0;
    for (const auto& [kind, n] : kinds) total += n;
    workers.push_back({{"owner", owner}, {"jobs", total}, {"kinds", kinds}});
  }
  for (const jobs::Job& j : errors) {
    lines.push_back({std::chrono::duration_cast<std::chrono::milliseconds>(
                         j.updated.time_since_epoch())
                         .count(),
                     {{"run", j.spec.run},
                      {"job", j.id},
                      {"kind", j.spec.kind},
                      {"key", KeyOf(j)},
                      {"state", std::string(jobs::JobStateName(j.state))},
                      {"error", j.last_error},
                      {"time", IsoTime(j.updated)}}});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const ErrorLine& a, const ErrorLine& b) { return a.time_ms > b.time_ms; });
  json out_errors = json::array();
  for (size_t i = 0; i < lines.size() && i < 10; ++i) out_errors.push_back(lines[i].body);
  json doc = {{"store", true},        {"runs", out_runs},          {"workers", workers},
              {"events_auth", events_auth}, {"errors", out_errors}};
  if (!workers_error.empty()) doc["workers_error"] = workers_error;
  if (!errors_error.empty()) doc["errors_error"] = errors_error;
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace ferry::serve::daemon
