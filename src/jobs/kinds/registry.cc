// jobs' own kinds, and the registry's lookups. Adding a kind: a handler file beside its
// capability and one line in app::Kinds() (src/app/kinds.cc; docs/design/job-kinds.md).
#include "jobs/kinds/registry.h"

#include <algorithm>

#include "jobs/job_report.h"

namespace ferry::jobs {

const KindRegistry& KindRegistry::Builtin() {
  static const KindRegistry builtin = [] {
    KindRegistry r;
    for (auto handler : {MakeScanHandler(), MakeTransferHandler(), MakeDeleteHandler(),
                         MakeDeleteScopeHandler(), MakeListScanHandler(),
                         MakeReportPartHandler(), MakeReportSummaryHandler(),
                         MakePartHandler(), MakeMoveSourcesHandler()}) {
      Status s = r.Register(std::move(handler));
      if (!s.ok()) std::abort();  // a broken build: two built-in kinds share a name
    }
    return r;
  }();
  return builtin;
}

Status KindRegistry::Register(std::shared_ptr<const JobHandler> handler) {
  if (handler == nullptr || handler->name().empty()) {
    return Status::InvalidArgument("a job kind needs a name");
  }
  const std::string name(handler->name());
  if (handler->phase() < 0) {
    return Status::InvalidArgument("job kind " + name + ": negative phase");
  }
  if (handlers_.count(name) != 0) {
    return Status::AlreadyExists("job kind " + name + " is registered already");
  }
  handlers_.emplace(name, std::move(handler));
  return Status::Ok();
}

Status KindRegistry::AddRunHook(std::shared_ptr<const RunHook> hook) {
  if (hook == nullptr) return Status::InvalidArgument("a run hook cannot be null");
  hooks_.push_back(std::move(hook));
  return Status::Ok();
}

const JobHandler* KindRegistry::Find(std::string_view kind) const {
  auto it = handlers_.find(kind);
  return it == handlers_.end() ? nullptr : it->second.get();
}

std::vector<std::string> KindRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, handler] : handlers_) names.push_back(name);
  return names;
}

int KindRegistry::PhaseOf(std::string_view kind) const {
  const JobHandler* h = Find(kind);
  return h == nullptr ? 0 : h->phase();
}

bool KindRegistry::CountsProgress(std::string_view kind) const {
  const JobHandler* h = Find(kind);
  return h == nullptr || h->counts_progress();
}

bool KindRegistry::OutsideRounds(std::string_view kind) const {
  const JobHandler* h = Find(kind);
  return h != nullptr && h->outside_rounds();
}

bool KindRegistry::RunsWhenFailed(std::string_view kind) const {
  const JobHandler* h = Find(kind);
  return h != nullptr && h->runs_when_failed();
}

std::vector<std::string> KindRegistry::OutsideRoundKinds() const {
  std::vector<std::string> kinds;
  for (const auto& [name, handler] : handlers_) {
    if (handler->outside_rounds()) kinds.push_back(name);
  }
  return kinds;
}

Result<std::vector<std::string>> KindRegistry::ParseKinds(std::string_view list) const {
  std::vector<std::string> kinds;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (name.empty()) continue;
    if (Find(name) == nullptr) {
      std::string known;
      for (const std::string& n : Names()) known += (known.empty() ? "" : ", ") + n;
      return Status::InvalidArgument("unknown job kind \"" + std::string(name) + "\" (known: " +
                                     known + ")");
    }
    kinds.emplace_back(name);
  }
  if (kinds.empty()) return Status::InvalidArgument("no job kind given");
  return kinds;
}

std::vector<std::string> KindRegistry::WithCompanions(std::vector<std::string> kinds) const {
  const auto add = [&](std::string_view kind) {
    if (Find(kind) == nullptr) return;
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.emplace_back(kind);
  };
  for (size_t i = 0; i < kinds.size(); ++i) {  // a companion's companions too
    if (const JobHandler* h = Find(kinds[i])) {
      for (std::string_view c : h->companions()) add(c);
    }
  }
  add(kReportPartKind);
  add(kReportSummaryKind);
  return kinds;
}

Progress ProgressOf(const RunCounts& counts, const KindRegistry& kinds) {
  Progress p;
  for (const auto& [kind, c] : counts.by_kind) {
    if (!kinds.CountsProgress(kind)) continue;
    p.objects_done += c.objects_done;
    p.objects_total += c.objects_total;
    p.bytes_done += c.bytes_done;
    p.bytes_total += c.bytes_total;
  }
  return p;
}

}  // namespace ferry::jobs
