// TestExecutor: one Executor for a test binary's code that takes the process's (pack reads,
// prefetch.h), as a process has one. Made on first use, never destroyed (tests' queues close
// before the binary exits). Thread-safe.
#pragma once

#include "transfer/executor.h"

namespace ferry::testing {

inline transfer::Executor& TestExecutor() {
  static transfer::Executor* const executor =
      new transfer::Executor(transfer::ExecutorOptions{.concurrency = 16});
  return *executor;
}

}  // namespace ferry::testing
