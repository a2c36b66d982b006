// Stats: counters of one run, updated by the engine's workers and read by the progress display
// and the final summary. Failures keep the first kMaxKeptFailures entries in memory (the count
// is exact), so a run with millions of failures still has bounded memory.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace ferry::transfer {

struct Failure {
  std::string key;
  std::string action;  // "copy", "delete", "list"
  Status status;
};

class Stats {
 public:
  static constexpr size_t kMaxKeptFailures = 1000;

  std::atomic<uint64_t> objects_listed{0};  // source objects that passed the filters
  std::atomic<uint64_t> objects_planned{0};  // to copy
  std::atomic<uint64_t> bytes_planned{0};
  std::atomic<uint64_t> objects_copied{0};
  std::atomic<uint64_t> bytes_copied{0};  // completed objects
  std::atomic<uint64_t> bytes_moved{0};   // moved so far, including parts of unfinished objects
  std::atomic<uint64_t> objects_skipped{0};
  std::atomic<uint64_t> objects_server_side{0};
  std::atomic<uint64_t> objects_multipart{0};
  std::atomic<uint64_t> objects_deleted{0};
  std::atomic<uint64_t> deletes_planned{0};
  std::atomic<uint64_t> details_fetched{0};  // HEAD requests the planner asked for
  std::atomic<uint64_t> parts_resumed{0};    // parts found on the store after a crash

  void AddFailure(std::string key, std::string action, Status status);
  uint64_t failures() const { return failure_count_.load(); }
  std::vector<Failure> KeptFailures() const;

 private:
  std::atomic<uint64_t> failure_count_{0};
  mutable std::mutex mu_;
  std::vector<Failure> kept_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::transfer
