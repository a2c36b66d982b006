// PrefetchCursor: a merge over prefetched cursors makes exactly the calls a merge over the
// cursors themselves makes (page boundaries, empty sides, errors in either listing), and a run
// whose listing fails deletes nothing.
#include "transfer/prefetch_cursor.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "plan/merge.h"
#include "plan/vector_cursor.h"
#include "storage/memory/memory_backend.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::ObjectInfo;

std::vector<ObjectInfo> Objs(const std::vector<std::string>& keys, uint64_t size) {
  std::vector<ObjectInfo> out;
  for (const std::string& k : keys) {
    ObjectInfo o;
    o.key = k;
    o.size = size;
    out.push_back(std::move(o));
  }
  return out;
}

class RecordingVisitor : public plan::ListingVisitor {
 public:
  Status SourceOnly(const ObjectInfo& src) override { return Add("S:" + src.key); }
  Status DestinationOnly(const ObjectInfo& dst) override { return Add("D:" + dst.key); }
  Status Both(const ObjectInfo& src, const ObjectInfo& dst) override {
    return Add("B:" + src.key + ":" + std::to_string(src.size) + "/" + std::to_string(dst.size));
  }
  std::vector<std::string> calls;

 private:
  Status Add(std::string call) {
    calls.push_back(std::move(call));
    return Status::Ok();
  }
};

struct Listing {
  std::vector<std::string> keys;
  std::optional<size_t> fail_at;  // Next fails after this many objects
};

std::unique_ptr<plan::VectorCursor> Cursor(const Listing& l, uint64_t size) {
  auto c = std::make_unique<plan::VectorCursor>(Objs(l.keys, size));
  if (l.fail_at) c->FailAt(*l.fail_at, Status::Unavailable("listing broke"));
  return c;
}

PrefetchCursor::Options Opts(size_t batch, size_t max_batches) {
  PrefetchCursor::Options o;
  o.batch = batch;
  o.max_batches = max_batches;
  return o;
}

struct Merged {
  Status status;
  std::vector<std::string> calls;
};

Merged Sequential(const Listing& src, const Listing& dst) {
  auto s = Cursor(src, 1);
  auto d = Cursor(dst, 2);
  RecordingVisitor v;
  Status st = plan::MergeListings(*s, *d, v);
  return {st, v.calls};
}

Merged Prefetched(const Listing& src, const Listing& dst, PrefetchCursor::Options o) {
  PrefetchCursor s(Cursor(src, 1), o);
  PrefetchCursor d(Cursor(dst, 2), o);
  RecordingVisitor v;
  Status st = plan::MergeListings(s, d, v);
  return {st, v.calls};
}

void ExpectSameMerge(const Listing& src, const Listing& dst) {
  const Merged want = Sequential(src, dst);
  for (PrefetchCursor::Options o : {Opts(1, 1), Opts(3, 2),
                                    Opts(7, 1), PrefetchCursor::Options()}) {
    SCOPED_TRACE("batch " + std::to_string(o.batch) + ", queue " + std::to_string(o.max_batches));
    const Merged got = Prefetched(src, dst, o);
    EXPECT_EQ(got.status.code(), want.status.code()) << got.status.ToString();
    EXPECT_EQ(got.status.message(), want.status.message());
    EXPECT_EQ(got.calls, want.calls);
  }
}

std::vector<std::string> Keys(int n, int step, int offset) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "k%06d", i * step + offset);
    keys.push_back(buf);
  }
  return keys;
}

TEST(PrefetchCursorTest, MergeIsTheSameAsOverThePlainCursors) {
  ExpectSameMerge({Keys(50, 2, 0), {}}, {Keys(40, 3, 0), {}});  // batch edges everywhere
  ExpectSameMerge({Keys(21, 1, 0), {}}, {Keys(21, 1, 0), {}});  // all on both sides
  ExpectSameMerge({{}, {}}, {Keys(9, 1, 0), {}});               // source empty
  ExpectSameMerge({Keys(9, 1, 0), {}}, {{}, {}});               // destination empty
  ExpectSameMerge({{}, {}}, {{}, {}});
  // Listings that break: unordered keys stop the merge as they did.
  ExpectSameMerge({{"a", "c", "b", "d"}, {}}, {{"b"}, {}});
  ExpectSameMerge({{"a"}, {}}, {{"b", "b"}, {}});
}

TEST(PrefetchCursorTest, AnErrorInEitherListingStopsTheMergeAtTheSamePlace) {
  for (size_t at : {0u, 1u, 3u, 6u, 7u, 29u}) {
    SCOPED_TRACE("fails at " + std::to_string(at));
    ExpectSameMerge({Keys(30, 2, 0), at}, {Keys(30, 3, 1), {}});
    ExpectSameMerge({Keys(30, 2, 0), {}}, {Keys(30, 3, 1), at});
    const Merged got = Prefetched({Keys(30, 2, 0), {}}, {Keys(30, 3, 1), at}, Opts(3, 1));
    EXPECT_EQ(got.status.code(), ErrorCode::kUnavailable);
  }
}

TEST(PrefetchCursorTest, ErrorIsReturnedAgainAndEndStaysEnd) {
  PrefetchCursor failing(Cursor({{"a", "b"}, 1}, 1), Opts(1, 1));
  ASSERT_TRUE(failing.Next().ok());
  EXPECT_EQ(failing.Next().status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(failing.Next().status().code(), ErrorCode::kUnavailable);
  PrefetchCursor ending(Cursor({{"a"}, {}}, 1));
  EXPECT_EQ((*ending.Next())->key, "a");
  EXPECT_EQ(*ending.Next(), nullptr);
  EXPECT_EQ(*ending.Next(), nullptr);
}

// The reader never holds more than the queue and the batch it fills: it waits for the
// consumer; a cursor dropped early stops its reader.
TEST(PrefetchCursorTest, ReaderStaysBoundedAndStopsWhenDropped) {
  auto inner = std::make_unique<plan::VectorCursor>(Objs(Keys(10000, 1, 0), 0));
  plan::VectorCursor* raw = inner.get();
  {
    PrefetchCursor c(std::move(inner), Opts(10, 2));
    ASSERT_TRUE(c.Next().ok());
    // real time: that the reader reads no further shows only as time going by without it (it
    // would read on at once, within this).
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // one batch taken, two queued, one being filled (it waits with it full)
    EXPECT_LE(raw->served(), 40u);
  }  // joins
}

// A listing with an end reads nothing past it (a durable scan's key range).
TEST(PrefetchCursorTest, EndsBeforeTheFirstObjectPastItsEnd) {
  auto inner = std::make_unique<plan::VectorCursor>(Objs(Keys(100, 1, 0), 0));
  plan::VectorCursor* raw = inner.get();
  PrefetchCursor::Options o = Opts(10, 1);
  o.ends_before = [](const ObjectInfo& obj) { return obj.key > "k000024"; };
  PrefetchCursor c(std::move(inner), std::move(o));
  std::vector<std::string> got;
  for (;;) {
    auto next = c.Next();
    ASSERT_TRUE(next.ok());
    if (*next == nullptr) break;
    got.push_back((*next)->key);
  }
  EXPECT_EQ(got, Keys(25, 1, 0));
  EXPECT_EQ(raw->served(), 26u);  // the first key past the end, and nothing after it
}

// A backend whose listings fail after `n` objects (a page request that fails mid-listing).
class BreakingBackend : public storage::MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  void BreakListingAfter(size_t n) { break_after_ = n; }
  Result<std::unique_ptr<storage::ListingCursor>> List(std::string_view prefix) override {
    FERRY_ASSIGN_OR_RETURN(auto inner, MemoryBackend::List(prefix));
    std::vector<ObjectInfo> all;
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, inner->Next());
      if (o == nullptr) break;
      all.push_back(*o);
    }
    auto c = std::make_unique<plan::VectorCursor>(std::move(all));
    if (break_after_) c->FailAt(*break_after_, Status::Unavailable("listing broke"));
    return std::unique_ptr<storage::ListingCursor>(std::move(c));
  }

 private:
  std::optional<size_t> break_after_;
};

// Either listing failing, at its start or in its middle: the run fails and deletes nothing.
TEST(PrefetchCursorTest, ARunWhoseListingFailsNeverDeletes) {
  for (int side = 0; side < 2; ++side) {
    for (size_t at : {0u, 5u, 900u}) {
      SCOPED_TRACE("side " + std::to_string(side) + " breaks at " + std::to_string(at));
      BreakingBackend src(testing::SmallParts("a"));
      BreakingBackend dst(testing::SmallParts("b"));
      for (int i = 0; i < 3000; ++i) {
        testing::Put(i % 3 == 0 ? dst : src, Keys(1, 1, i)[0], "x");  // a third to delete
      }
      (side == 0 ? src : dst).BreakListingAfter(at);
      SyncOptions o;
      o.executor.concurrency = 4;
      o.delete_extra = true;
      o.transfer.decide.delete_extra = true;
      Stats stats;
      SyncResult r = testing::SyncOnOwnExecutor(src, dst, o, stats, {});
      EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable) << r.status.ToString();
      EXPECT_EQ(stats.objects_deleted.load(), 0u);
      EXPECT_EQ(dst.counts().deletes, 0);
      for (int i = 0; i < 3000; i += 3) EXPECT_TRUE(dst.Contents(Keys(1, 1, i)[0]).has_value());
    }
  }
}

}  // namespace
}  // namespace ferry::transfer
