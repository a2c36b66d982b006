// The job kinds of this ferry (kinds.h).
#include "app/kinds.h"

#include <cstdlib>

#include "backup/kinds/keeper.h"
#include "jobs/kinds/by_command.h"
#include "replicate/kinds/kinds.h"
#include "transport/kinds/kinds.h"

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

}  // namespace

const jobs::KindRegistry& Kinds() {
  static const jobs::KindRegistry kinds = [] {
    jobs::KindRegistry r = jobs::KindRegistry::Builtin();
    const auto keeper = backup::MakeCatalogKeeper();
    Must(r.Register(transport::MakePackHandler(keeper)));
    Must(r.Register(UnpackHandler()));
    Must(r.Register(replicate::MakeReplicateScanHandler()));
    Must(r.Register(replicate::MakeReplicateKeysHandler()));
    Must(r.Register(replicate::MakeReplicateEventHandler()));
    Must(r.AddRunHook(transport::MakeRunHook(keeper)));
    return r;
  }();
  return kinds;
}

jobs::KindRegistry ReplicationKinds(replicate::PassStats* totals) {
  jobs::KindRegistry r;
  Must(r.Register(replicate::MakeReplicateScanHandler()));
  Must(r.Register(replicate::MakeReplicateKeysHandler(totals)));
  Must(r.Register(replicate::MakeReplicateEventHandler(totals)));
  Must(r.Register(UnpackHandler()));
  return r;
}

}  // namespace ferry::app
