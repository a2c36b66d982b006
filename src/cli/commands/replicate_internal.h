// Internals of `ferry replicate` shared by replicate.cc (a pass; its run: app/replication_run.h)
// and replicate_status.cc (`ferry replicate status`).
#pragma once

#include <string>

#include "cli/commands.h"

namespace ferry::cli {

// `ferry replicate status`: its command line and run.
struct StatusArgs {
  std::string state;
  std::string source;
  bool json = false;
};
int RunReplicateStatus(const StatusArgs& a, Context& ctx);

}  // namespace ferry::cli
