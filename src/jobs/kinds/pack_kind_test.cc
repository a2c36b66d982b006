// The pack kind's room in a worker (pack_kind.cc): a full batch takes the worker's concurrency
// (two at a time), a smaller one in proportion to its bytes, so small batches pack several at
// once (at most eight).
#include <gtest/gtest.h>

#include "jobs/kinds/registry.h"
#include "jobs/worker_internal.h"

namespace ferry::jobs {
namespace {

TEST(PackKindTest, APackTakesRoomInProportionToItsBatch) {
  const JobHandler* pack = KindRegistry::Builtin().Find(kPackKind);
  ASSERT_NE(pack, nullptr);
  RunContext run;
  run.options.transport.batch_bytes = 64ull << 20;
  WorkerOptions options;
  options.concurrency = 64;
  auto room = [&](uint64_t bytes) {
    Job job;
    job.spec.kind = std::string(kPackKind);
    job.spec.bytes = bytes;
    return pack->ObjectsInFlight(job, run, options);
  };
  EXPECT_EQ(room(64ull << 20), 64u);   // full: two at a time (a worker claims below 2 x 64)
  EXPECT_EQ(room(100ull << 20), 64u);  // an object larger than a batch goes alone
  EXPECT_EQ(room(32ull << 20), 32u);   // half: four at a time
  EXPECT_EQ(room(1ull << 20), 17u);    // small: at most eight at a time
  EXPECT_EQ(room(0), 17u);
  options.concurrency = 1;
  EXPECT_EQ(room(1ull << 20), 1u);
}

}  // namespace
}  // namespace ferry::jobs
