// Test support for the unpack tests (unpack_test, unpack_pipeline_test, unpack_regions_test):
// a journal held in memory that can fail like a crash; a staging listing gathered; how they pack. Not part of
// the library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "testing/test_executor.h"
#include "transport/pack.h"
#include "transport/unpack.h"
#include "transport/unpack_listed.h"

namespace ferry::transport::test_support {

// How the unpack tests pack: on the test binary's executor, one zstd thread, entries up to
// 64 KiB sharing frames.
inline PackOptions OneThreadPacking() {
  PackOptions o;
  o.executor = &ferry::testing::TestExecutor();
  o.writer.threads = 1;
  o.writer.small_limit = 64 << 10;
  return o;
}

// The watermark and done flag in memory; Record number `fail_at` (1-based) fails, and with
// `fail_done` the final record fails, as a crash would stop the unpack there.
class MemoryJournal : public UnpackJournal {
 public:
  Result<std::optional<uint64_t>> Load() override { return mark; }
  Status Record(uint64_t written, uint64_t n, bool d) override {
    if (++records == fail_at || (d && fail_done)) return Status::Unavailable("crashed");
    mark = written;
    entries = n;
    done = d;
    return Status::Ok();
  }
  Result<bool> Complete() override { return done || (mark && *mark >= entries); }
  std::optional<uint64_t> mark;
  uint64_t entries = 0;
  bool done = false;
  int records = 0;
  int fail_at = 0;
  bool fail_done = false;
};

// Everything one ScanStaged of `staging` finds, gathered.
struct Staged {
  std::vector<std::string> archives;
  std::vector<std::string> orphans;
  uint64_t others = 0;
};
inline Result<Staged> ListStaged(storage::Backend& staging) {
  Staged out;
  StagedVisitor visit;
  visit.archive = [&](const std::string& key) {
    out.archives.push_back(key);
    return Status::Ok();
  };
  visit.orphan = [&](const std::string& key) {
    out.orphans.push_back(key);
    return Status::Ok();
  };
  FERRY_ASSIGN_OR_RETURN(StagedCounts counts, ScanStaged(staging, visit));
  out.others = counts.others;
  return out;
}

}  // namespace ferry::transport::test_support
