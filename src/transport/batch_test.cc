// Batching of a compressed run's objects into archives: bounded by bytes and by count, order
// kept, an object as large as a batch alone, the first batches smaller (slow start).
#include "transport/batch.h"

#include <gtest/gtest.h>

#include <optional>

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

// Slow start: the first batch is bounded by first_bytes, each next one by twice the last, up to
// max_bytes.
TEST(BatcherTest, TheFirstBatchesGrowFromFirstBytesToMaxBytes) {
  const std::vector<uint64_t> sizes(31 + 20, 10);  // 10 bytes each
  const auto out = Cut(sizes, {.max_bytes = 80, .max_objects = 100, .first_bytes = 10});
  std::vector<size_t> counts;
  for (const auto& batch : out) counts.push_back(batch.size());
  const std::vector<size_t> want = {1, 2, 4, 8, 8, 8, 8, 8, 4};
  EXPECT_EQ(counts, want);
}

// Without first_bytes: a sixteenth of max_bytes, at least 1 MiB, at most max_bytes.
TEST(BatcherTest, TheDefaultFirstBoundIsASixteenthOfTheArchive) {
  constexpr uint64_t kMiB = 1ull << 20;
  EXPECT_EQ(BatchLimits::FirstBytesFor(64 * kMiB), 4 * kMiB);
  EXPECT_EQ(BatchLimits::FirstBytesFor(256 * kMiB), 16 * kMiB);
  EXPECT_EQ(BatchLimits::FirstBytesFor(4 * kMiB), kMiB);
  EXPECT_EQ(BatchLimits::FirstBytesFor(kMiB / 2), kMiB / 2);
  Batcher b({.max_bytes = 64 * kMiB, .max_objects = 5000});
  EXPECT_EQ(b.limit_bytes(), 4 * kMiB);
  b.Add(3 * kMiB);
  EXPECT_TRUE(b.ClosesBefore(2 * kMiB));
  EXPECT_FALSE(b.ClosesBefore(kMiB));
  for (uint64_t want : {8, 16, 32, 64, 64}) {
    b.Reset();
    EXPECT_EQ(b.limit_bytes(), want * kMiB);
  }
}

// Slow stop: pieces halve (half of what is left each time) while more than twice the floor
// is left; the rest is the last piece; every object lands in exactly one piece, in order.
std::vector<size_t> Objects(const std::vector<SlowStopPiece>& pieces) {
  std::vector<size_t> out;
  for (const SlowStopPiece& p : pieces) out.push_back(p.objects);
  return out;
}

TEST(SlowStopTest, PiecesHalveDownToTheFloor) {
  const std::vector<uint64_t> sizes(44, 1);  // 44 MiB as 44 objects of 1 (MiB)
  const std::vector<size_t> want = {22, 11, 6, 5};
  EXPECT_EQ(Objects(SlowStopPieces(sizes, 4)), want);
}

TEST(SlowStopTest, ABatchWithinTwiceTheFloorStaysWhole) {
  const std::vector<uint64_t> sizes(8, 1);
  EXPECT_EQ(Objects(SlowStopPieces(sizes, 4)), std::vector<size_t>{8});
  EXPECT_EQ(Objects(SlowStopPieces(std::vector<uint64_t>{}, 4)), std::vector<size_t>{});
  // Empty objects: no bytes to halve, one piece.
  EXPECT_EQ(Objects(SlowStopPieces(std::vector<uint64_t>(5, 0), 0)), std::vector<size_t>{5});
}

TEST(SlowStopTest, AnObjectLargerThanHalfIsAPieceOfItsOwn) {
  // 36 left, half 18: 30 alone; then 6 left: 3; 3 left: 2; 1 left, within twice the floor.
  const std::vector<uint64_t> sizes = {30, 1, 1, 1, 1, 1, 1};
  const std::vector<size_t> want = {1, 3, 2, 1};
  EXPECT_EQ(Objects(SlowStopPieces(sizes, 1)), want);
}

TEST(SlowStopTest, PiecesCoverEveryObjectInOrder) {
  std::vector<uint64_t> sizes;
  for (uint64_t i = 0; i < 500; ++i) sizes.push_back((i * 7919) % 1000);
  const auto pieces = SlowStopPieces(sizes, 1000);
  size_t total = 0;
  std::optional<uint64_t> last_bytes;
  for (const SlowStopPiece& p : pieces) {
    const size_t count = p.objects;
    ASSERT_GT(count, 0u);
    uint64_t bytes = 0;
    for (size_t k = total; k < total + count; ++k) bytes += sizes[k];
    EXPECT_EQ(p.bytes, bytes);
    // Never more than the piece before, give or take one object (under 1000 bytes).
    if (last_bytes) {
      EXPECT_LE(bytes, *last_bytes + 1000);
    }
    last_bytes = bytes;
    total += count;
  }
  EXPECT_EQ(total, sizes.size());
  EXPECT_GT(pieces.size(), 5u);
}

}  // namespace
}  // namespace ferry::transport
