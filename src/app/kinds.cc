// The job kinds of this ferry (kinds.h).
#include "app/kinds.h"

#include <cstdlib>

#include "app/notify_run.h"
#include "backup/kinds/keeper.h"
#include "backup/kinds/restore_kind.h"
#include "cache/kinds/warm_kind.h"
#include "jobs/job_report.h"
#include "jobs/kinds/by_command.h"
#include "jobs/kinds/registry.h"
#include "replicate/kinds/kinds.h"
#include "transport/kinds/kinds.h"
#include "verify/kinds/kinds.h"

namespace ferry::app {
namespace {

// A broken build (two kinds share a name) stops here, at the process's first registry.
void Must(const Status& s) {
  if (!s.ok()) std::abort();
}

// The unpack kind: a sync's archive into its destination (transport), a replication pass's
// into one of its destinations through its status store (replication).
std::shared_ptr<const jobs::JobHandler> UnpackHandler() {
  return jobs::ByCommand(transport::MakeUnpackHandler(),
                         {{"replicate", &replicate::RunTransportedUnpack}});
}

// The scan kind: a key range of a sync (jobs' own), or of a continuous replication run (ferry
// serve), whose every round after the first starts with a "scan" job (Worker::AdvanceRun):
// replication's scan then, never a sync's, which would copy the latest objects without the
// rules, versions or status rows.
std::shared_ptr<const jobs::JobHandler> ScanHandler() {
  return jobs::ByCommand(
      jobs::MakeScanHandler(),
      {{"replicate", [scan = replicate::MakeReplicateScanHandler()](jobs::JobContext& ctx) {
          return scan->Run(ctx);
        }}});
}

}  // namespace

const jobs::KindRegistry& Kinds() {
  // Every process that works on runs ends some: their notifications' outbox rows go with it.
  InstallRunEndNotifications();
  static const jobs::KindRegistry kinds = [] {
    jobs::KindRegistry r;
    Must(r.Register(ScanHandler()));
    Must(r.Register(jobs::MakeTransferHandler()));
    Must(r.Register(jobs::MakeDeleteHandler()));
    Must(r.Register(jobs::MakeDeleteScopeHandler()));
    Must(r.Register(jobs::MakeListScanHandler()));
    Must(r.Register(jobs::MakeReportPartHandler()));
    Must(r.Register(jobs::MakeReportSummaryHandler()));
    Must(r.Register(jobs::MakePartHandler()));
    Must(r.Register(jobs::MakeMoveSourcesHandler()));
    const auto keeper = backup::MakeCatalogKeeper();
    Must(r.Register(transport::MakePackHandler(keeper)));
    Must(r.Register(UnpackHandler()));
    Must(r.Register(replicate::MakeReplicateScanHandler()));
    Must(r.Register(replicate::MakeReplicateKeysHandler()));
    Must(r.Register(replicate::MakeReplicateEventHandler()));
    Must(r.Register(replicate::MakeReplicatePackHandler()));
    Must(r.Register(replicate::MakeReplicateDeletesHandler()));
    Must(r.Register(backup::MakeRestoreHandler()));
    Must(r.Register(cache::MakeWarmHandler()));
    Must(r.Register(verify::MakeVerifyRangeHandler()));
    Must(r.Register(verify::MakeVerifyListHandler()));
    Must(r.Register(verify::MakeVerifyResultHandler()));
    Must(r.Register(verify::MakeVerifySummaryHandler()));
    Must(r.AddRunHook(transport::MakeRunHook(keeper)));
    return r;
  }();
  return kinds;
}

jobs::KindRegistry ReplicationKinds(replicate::PassStats* totals) {
  InstallRunEndNotifications();
  jobs::KindRegistry r;
  Must(r.Register(replicate::MakeReplicateScanHandler()));
  Must(r.Register(replicate::MakeReplicateKeysHandler(totals)));
  Must(r.Register(replicate::MakeReplicateEventHandler(totals)));
  Must(r.Register(replicate::MakeReplicatePackHandler(totals)));
  Must(r.Register(replicate::MakeReplicateDeletesHandler(totals)));
  Must(r.Register(jobs::MakeDeleteScopeHandler()));
  Must(r.Register(UnpackHandler()));
  return r;
}

Result<std::vector<std::string>> RoleKinds(std::string_view role) {
  if (role == "unpack") return std::vector<std::string>{transport::kUnpackKind, jobs::kDeleteKind};
  if (role == "pack") {
    return std::vector<std::string>{jobs::kScanKind, jobs::kTransferKind, transport::kPackKind};
  }
  return Status::InvalidArgument("--role: unknown role \"" + std::string(role) +
                                 "\" (known: pack, unpack)");
}

std::string RoleOf(std::string_view kind) {
  for (const char* role : {"pack", "unpack"}) {
    Result<std::vector<std::string>> kinds = RoleKinds(role);
    for (const std::string& k : *kinds) {
      if (k == kind) return role;
    }
  }
  return "any";
}

}  // namespace ferry::app
