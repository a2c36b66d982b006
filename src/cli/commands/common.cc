#include <cstdio>

#include "app/unpack_follow.h"
#include "cli/commands.h"
#include "storage/backend.h"

namespace ferry::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "ferry: error: %s\n", status.message().c_str());
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
      return 2;
    default:
      return 1;
  }
}

void AddListingOptions(CLI::App* cmd, ListingArgs& args) {
  cmd->add_option("--listers", args.listers,
                  "listing jobs this process runs at once; a large listing is split into key "
                  "ranges listed in parallel (default 4)");
  cmd->add_option("--scan-chunk", args.scan_chunk,
                  "keys one listing job covers before it hands on the rest (default 10000)");
}

Status ApplyListingOptions(const ListingArgs& args, jobs::WorkerOptions& w) {
  if (args.listers < 1 || args.listers > 256) {
    return Status::InvalidArgument("--listers: must be between 1 and 256");
  }
  if (args.scan_chunk < 1) return Status::InvalidArgument("--scan-chunk: must be at least 1");
  w.list_concurrency = args.listers;
  w.scan_chunk = static_cast<size_t>(args.scan_chunk);
  return Status::Ok();
}

Status CheckPreserveLock(storage::Backend& dst, std::stop_token stop) {
  return app::CheckPreserveLock(dst, stop);
}

}  // namespace ferry::cli
