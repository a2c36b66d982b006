#include "transfer/low_level_retries.h"

#include <atomic>

namespace ferry::transfer {
namespace {

std::atomic<int>& Retries() {
  static std::atomic<int> retries{kDefaultLowLevelRetries};
  return retries;
}

}  // namespace

int LowLevelRetries() { return Retries().load(std::memory_order_relaxed); }

void SetLowLevelRetries(int retries) {
  Retries().store(retries < 0 ? 0 : retries, std::memory_order_relaxed);
}

}  // namespace ferry::transfer
