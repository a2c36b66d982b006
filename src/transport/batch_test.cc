// Batching of a compressed run's objects into archives: bounded by bytes and by count, order
// kept, an object as large as a batch alone.
#include "transport/batch.h"

#include <gtest/gtest.h>

namespace ferry::transport {
namespace {

std::vector<std::vector<size_t>> Cut(const std::vector<uint64_t>& sizes, BatchLimits limits) {
  Batcher b(limits);
  std::vector<std::vector<size_t>> out;
  std::vector<size_t> open;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (b.ClosesBefore(sizes[i])) {
      out.push_back(open);
      open.clear();
      b.Reset();
    }
    b.Add(sizes[i]);
    open.push_back(i);
  }
  if (!open.empty()) out.push_back(open);
  return out;
}

TEST(BatcherTest, ClosesABatchBeforeItsBytesWouldPassTheLimit) {
  const auto out = Cut({40, 40, 40, 10, 90, 5}, {.max_bytes = 100, .max_objects = 100});
  const std::vector<std::vector<size_t>> want = {{0, 1}, {2, 3}, {4, 5}};
  EXPECT_EQ(out, want);
}

TEST(BatcherTest, ClosesABatchAtItsObjectCount) {
  const auto out = Cut({1, 1, 1, 1, 1, 1, 1}, {.max_bytes = 1000, .max_objects = 3});
  const std::vector<std::vector<size_t>> want = {{0, 1, 2}, {3, 4, 5}, {6}};
  EXPECT_EQ(out, want);
}

TEST(BatcherTest, AnObjectAsLargeAsABatchGoesAlone) {
  const auto out = Cut({10, 500, 10, 100, 10}, {.max_bytes = 100, .max_objects = 100});
  const std::vector<std::vector<size_t>> want = {{0}, {1}, {2}, {3}, {4}};
  EXPECT_EQ(out, want);
}

TEST(BatcherTest, EmptyObjectsCountTowardTheObjectLimitOnly) {
  const auto out = Cut({0, 0, 0, 0}, {.max_bytes = 1, .max_objects = 2});
  const std::vector<std::vector<size_t>> want = {{0, 1}, {2, 3}};
  EXPECT_EQ(out, want);
  Batcher b({.max_bytes = 10, .max_objects = 10});
  EXPECT_FALSE(b.ClosesBefore(1000));  // an empty batch takes any object
}

}  // namespace
}  // namespace ferry::transport
