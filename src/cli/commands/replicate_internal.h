// Internals of `ferry replicate` shared by replicate.cc (a pass) and replicate_status.cc (`ferry
// replicate status`).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cli/commands.h"
#include "state/sql_session.h"

namespace ferry::cli {

// The state store when --state is not given: replication.db in the state directory.
std::string DefaultReplicationStatePath();

// The state database at `url` ("" = DefaultReplicationStatePath()).
Result<std::unique_ptr<state::SqlSession>> OpenReplicationState(const std::string& url);

// `ferry replicate status`: its command line and run.
struct StatusArgs {
  std::string state;
  std::string source;
  bool json = false;
};
int RunReplicateStatus(const StatusArgs& a, Context& ctx);

}  // namespace ferry::cli
