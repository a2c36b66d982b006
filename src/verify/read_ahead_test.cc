#include "verify/read_ahead.h"

#include <gtest/gtest.h>

#include <string>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"

namespace ferry::verify {
namespace {

std::string Data(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + (i >> 9));
  return s;
}

class ReadInOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::WriteSpec spec;
    spec.size = data_.size();
    auto put = backend_.Put("k", checksum::AsBytes(data_), spec, {});
    ASSERT_TRUE(put.ok());
    etag_ = put->etag;
  }
  ReadRequest Request(uint64_t chunk, int depth) {
    ReadRequest r;
    r.backend = &backend_;
    r.key = "k";
    r.size = data_.size();
    r.etag = etag_;
    r.chunk = chunk;
    r.depth = depth;
    return r;
  }
  // Runs ReadInOrder inside a task of `executor` (as verify does) and returns what it consumed.
  std::string Run(transfer::Executor& executor, const ReadRequest& r, Status* status) {
    auto queue = executor.Open();
    std::string got;
    queue->Push([&](std::stop_token stop) {
      *status = ReadInOrder(r, *queue, [&](std::span<const std::byte> b) {
        got.append(reinterpret_cast<const char*>(b.data()), b.size());
      }, stop);
    }, false);
    queue->Wait();
    return got;
  }

  const std::string data_ = Data(100'003);
  storage::MemoryBackend backend_;
  std::string etag_;
};

TEST_F(ReadInOrderTest, ChunksInOrderWithReadAhead) {
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 4});
  for (int depth : {1, 2, 5, 64}) {
    Status s;
    EXPECT_EQ(Run(executor, Request(4096, depth), &s), data_) << depth;
    EXPECT_TRUE(s.ok()) << s.message();
  }
}

TEST_F(ReadInOrderTest, OneBusyWorkerReadsEverythingItselfWithoutDeadlock) {
  // The only worker runs the consumer: the queued read-ahead tasks cannot run until it is
  // done, so it must claim and read every chunk itself.
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 1});
  Status s;
  EXPECT_EQ(Run(executor, Request(1000, 8), &s), data_);
  EXPECT_TRUE(s.ok());
}

TEST_F(ReadInOrderTest, AReadErrorIsReturnedAndNothingAfterIsConsumed) {
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 4});
  backend_.FailNext(storage::MemoryBackend::kRead, 1000, Status::Unavailable("boom"));
  Status s;
  EXPECT_EQ(Run(executor, Request(4096, 4), &s), "");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
}

TEST_F(ReadInOrderTest, AChangedObjectFails) {
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 4});
  ReadRequest r = Request(4096, 4);
  r.etag = "00000000000000000000000000000000";
  Status s;
  Run(executor, r, &s);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition) << s.message();
}

}  // namespace
}  // namespace ferry::verify
