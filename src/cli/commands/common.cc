#include <cstdio>

#include "cli/commands.h"

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

}  // namespace ferry::cli
