// ferry replicate status: counts per source, rule, destination and state; per rule and
// destination the SLA figures (replicate/sla.h): versions and bytes pending, the oldest pending
// one's age, failures by reason and, with a threshold, how many missed it and the share
// completed within it; then the failures one by one.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

#include "app/replication.h"
#include "app/replication_run.h"
#include "base/clock.h"
#include "cli/commands/replicate_internal.h"
#include "replicate/sla.h"
#include "replicate/status_store.h"

namespace ferry::cli {
namespace {

using Group = std::tuple<std::string, std::string, std::string>;  // source, rule, destination

// The SLA figures of one (source, rule, destination).
struct SlaView {
  replicate::SlaTotals totals;
  std::map<std::string, int64_t> failed_by_reason;
  double oldest_pending_seconds = 0;
  std::optional<double> within_ratio;  // with completions under a threshold
};

Result<std::vector<SlaView>> ReadSla(replicate::StatusStore& store, const std::string& source) {
  FERRY_ASSIGN_OR_RETURN(std::vector<replicate::SlaTotals> totals,
                         store.SlaTotalsOf(source, /*pending_only=*/false));
  FERRY_ASSIGN_OR_RETURN(std::vector<replicate::LabelCount> failures,
                         store.FailureCounts(source));
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          SystemClock::Default().Now().time_since_epoch())
                          .count();
  std::map<Group, std::map<std::string, int64_t>> reasons;
  for (const replicate::LabelCount& f : failures) {
    reasons[{f.source, f.rule, f.destination}][replicate::FailureReason(f.label)] += f.count;
  }
  std::vector<SlaView> out;
  for (const replicate::SlaTotals& t : totals) {
    SlaView v;
    v.totals = t;
    v.failed_by_reason = reasons[{t.source, t.rule, t.destination}];
    if (t.pending > 0 && t.oldest_pending_since_ns > 0) {
      v.oldest_pending_seconds =
          static_cast<double>(std::max<int64_t>(0, now - t.oldest_pending_since_ns)) / 1e9;
    }
    if (t.completed_under_threshold > 0) {
      v.within_ratio = static_cast<double>(t.completed_within_threshold) /
                       static_cast<double>(t.completed_under_threshold);
    }
    out.push_back(std::move(v));
  }
  return out;
}

nlohmann::json SlaJson(const SlaView& v) {
  const replicate::SlaTotals& t = v.totals;
  nlohmann::json j = {{"source", t.source},
                      {"rule", t.rule},
                      {"destination", t.destination},
                      {"pending_operations", t.pending},
                      {"pending_bytes", t.pending_bytes},
                      {"oldest_pending_seconds", v.oldest_pending_seconds},
                      {"failed_by_reason", v.failed_by_reason},
                      {"threshold_seconds", nullptr},
                      {"missed_threshold", t.missed_threshold},
                      {"completed_under_threshold", t.completed_under_threshold},
                      {"completed_within_threshold", t.completed_within_threshold},
                      {"within_threshold_ratio", nullptr}};
  if (t.threshold_ns > 0) j["threshold_seconds"] = t.threshold_ns / 1'000'000'000;
  if (v.within_ratio) j["within_threshold_ratio"] = *v.within_ratio;
  return j;
}

// "sla: SRC RULE -> DEST: pending 2 (1234 bytes), oldest 95s; failed: permission_denied 2;
// threshold 900s: missed 1, within 75.0% (3 of 4)".
std::string SlaLine(const SlaView& v) {
  const replicate::SlaTotals& t = v.totals;
  std::string line = "sla: " + t.source + " " + t.rule + " -> " + t.destination + ": pending " +
                     std::to_string(t.pending) + " (" + std::to_string(t.pending_bytes) +
                     " bytes)";
  if (t.pending > 0) {
    line += ", oldest " + std::to_string(static_cast<int64_t>(v.oldest_pending_seconds)) + "s";
  }
  if (!v.failed_by_reason.empty()) {
    line += "; failed:";
    for (const auto& [reason, n] : v.failed_by_reason) {
      line += " " + reason + " " + std::to_string(n);
    }
  }
  if (t.threshold_ns > 0) {
    line += "; threshold " + std::to_string(t.threshold_ns / 1'000'000'000) + "s: missed " +
            std::to_string(t.missed_threshold);
    if (v.within_ratio) {
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%", *v.within_ratio * 100);
      line += ", within " + std::string(share) + " (" +
              std::to_string(t.completed_within_threshold) + " of " +
              std::to_string(t.completed_under_threshold) + ")";
    }
  }
  return line;
}

}  // namespace

int RunReplicateStatus(const StatusArgs& a, Context& ctx) {
  (void)ctx;
  std::string source;
  if (!a.source.empty()) {
    auto loc = app::ParseLocation(a.source);
    if (!loc.ok()) return ReportError(loc.status());
    source = app::LocationName(*loc);
  }
  if (a.state.empty() && !std::ifstream(app::DefaultReplicationStatePath())) {
    return ReportError(Status::InvalidArgument("no replication state at " +
                                               app::DefaultReplicationStatePath() +
                                               " (name one with --state)"));
  }
  auto session = app::OpenReplicationState(a.state);
  if (!session.ok()) return ReportError(session.status());
  auto store = replicate::StatusStore::Open(**session);
  if (!store.ok()) return ReportError(store.status());
  auto counts = (*store)->Counts(source);
  if (!counts.ok()) return ReportError(counts.status());
  auto failed = (*store)->Rows(source, replicate::VersionState::kFailed);
  if (!failed.ok()) return ReportError(failed.status());
  auto sla = ReadSla(**store, source);
  if (!sla.ok()) return ReportError(sla.status());
  if (a.json) {
    nlohmann::json j;
    auto& list = j["rules"] = nlohmann::json::array();
    for (const replicate::StatusCount& c : *counts) {
      list.push_back({{"source", c.source},
                      {"rule", c.rule},
                      {"destination", c.destination},
                      {"state", replicate::VersionStateName(c.state)},
                      {"count", c.count}});
    }
    auto& slas = j["sla"] = nlohmann::json::array();
    for (const SlaView& v : *sla) slas.push_back(SlaJson(v));
    auto& failures = j["failures"] = nlohmann::json::array();
    for (const replicate::VersionStatus& f : *failed) {
      failures.push_back({{"source", f.source},
                          {"rule", f.rule},
                          {"destination", f.destination},
                          {"key", f.key},
                          {"version", f.source_version},
                          {"error_code", f.error_code},
                          {"http_status", f.http_status},
                          {"message", f.message}});
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%-24s %-16s %-24s %-10s %s\n", "SOURCE", "RULE", "DESTINATION", "STATE", "COUNT");
  for (const replicate::StatusCount& c : *counts) {
    std::printf("%-24s %-16s %-24s %-10s %lld\n", c.source.c_str(), c.rule.c_str(),
                c.destination.c_str(), std::string(replicate::VersionStateName(c.state)).c_str(),
                static_cast<long long>(c.count));
  }
  for (const SlaView& v : *sla) std::printf("%s\n", SlaLine(v).c_str());
  if (!failed->empty()) std::printf("failures:\n");
  for (const replicate::VersionStatus& f : *failed) {
    std::printf("  %s -> %s: %s (version %s): %s\n", f.rule.c_str(), f.destination.c_str(),
                f.key.c_str(), f.source_version.c_str(), f.message.c_str());
  }
  return 0;
}

}  // namespace ferry::cli
