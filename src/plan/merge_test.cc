#include "plan/merge.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "plan/vector_cursor.h"

namespace ferry::plan {
namespace {

using storage::ObjectInfo;

ObjectInfo Obj(std::string key, uint64_t size = 0) {
  ObjectInfo o;
  o.key = std::move(key);
  o.size = size;
  return o;
}

std::vector<ObjectInfo> Objs(const std::vector<std::string>& keys) {
  std::vector<ObjectInfo> out;
  for (const std::string& k : keys) out.push_back(Obj(k));
  return out;
}

// Records each call as "S:key", "D:key" or "B:key"; fails call number `fail_at` (from 0).
class RecordingVisitor : public ListingVisitor {
 public:
  Status SourceOnly(const ObjectInfo& src) override { return Record("S:" + src.key); }
  Status DestinationOnly(const ObjectInfo& dst) override { return Record("D:" + dst.key); }
  Status Both(const ObjectInfo& src, const ObjectInfo& dst) override {
    EXPECT_EQ(src.key, dst.key);
    sizes.push_back({src.size, dst.size});
    return Record("B:" + src.key);
  }

  std::vector<std::string> calls;
  std::vector<std::pair<uint64_t, uint64_t>> sizes;
  int fail_at = -1;

 private:
  Status Record(std::string call) {
    calls.push_back(std::move(call));
    if (static_cast<int>(calls.size()) - 1 == fail_at) return Status::PermissionDenied("nope");
    return Status::Ok();
  }
};

// Produces "k00000000", "k00000001", ... without storing them, reusing one ObjectInfo, so the
// merge must not hold on to a previous object.
class GeneratingCursor : public storage::ListingCursor {
 public:
  GeneratingCursor(int count, int step) : count_(count), step_(step) {}
  Result<const ObjectInfo*> Next() override {
    if (next_ >= count_) return static_cast<const ObjectInfo*>(nullptr);
    char key[16];
    std::snprintf(key, sizeof key, "k%08d", next_);
    current_.key = key;
    next_ += step_;
    return &current_;
  }

 private:
  int count_, step_, next_ = 0;
  ObjectInfo current_;
};

TEST(MergeListingsTest, BothEmptyVisitsNothing) {
  VectorCursor src({}), dst({});
  RecordingVisitor v;
  ASSERT_TRUE(MergeListings(src, dst, v).ok());
  EXPECT_TRUE(v.calls.empty());
}

TEST(MergeListingsTest, InterleavesBothSidesInKeyOrder) {
  VectorCursor src(Objs({"a", "c", "d"})), dst(Objs({"b", "c", "e"}));
  RecordingVisitor v;
  ASSERT_TRUE(MergeListings(src, dst, v).ok());
  EXPECT_EQ(v.calls, (std::vector<std::string>{"S:a", "D:b", "B:c", "S:d", "D:e"}));
}

TEST(MergeListingsTest, OneSideEmpty) {
  {
    VectorCursor src(Objs({"a", "b"})), dst({});
    RecordingVisitor v;
    ASSERT_TRUE(MergeListings(src, dst, v).ok());
    EXPECT_EQ(v.calls, (std::vector<std::string>{"S:a", "S:b"}));
  }
  {
    VectorCursor src({}), dst(Objs({"a", "b"}));
    RecordingVisitor v;
    ASSERT_TRUE(MergeListings(src, dst, v).ok());
    EXPECT_EQ(v.calls, (std::vector<std::string>{"D:a", "D:b"}));
  }
}

TEST(MergeListingsTest, BothPassesEachSidesObject) {
  VectorCursor src({Obj("k", 1)}), dst({Obj("k", 2)});
  RecordingVisitor v;
  ASSERT_TRUE(MergeListings(src, dst, v).ok());
  ASSERT_EQ(v.sizes.size(), 1u);
  EXPECT_EQ(v.sizes[0], (std::pair<uint64_t, uint64_t>{1, 2}));
}

TEST(MergeListingsTest, StdStringComparesAsUnsignedBytes) {
  // "é" is C3 A9 in UTF-8: above every ASCII byte, as in S3's UTF-8 binary order.
  EXPECT_GT(std::string("\xC3\xA9").compare("z"), 0);
  EXPECT_GT(std::string("a\x80").compare("a\x7F"), 0);
  EXPECT_LT(std::string("B").compare("a"), 0);
  EXPECT_LT(std::string("a-b").compare("a/b"), 0);  // '-' 2D < '/' 2F < '0' 30
  EXPECT_LT(std::string("a/b").compare("a0"), 0);
}

TEST(MergeListingsTest, OrdersKeysByUnsignedBytes) {
  VectorCursor src(Objs({"B", "a-b", "a/b", "a0", "z", "\xC3\xA9"}));
  VectorCursor dst(Objs({"a/b", "\xC3\xA9"}));
  RecordingVisitor v;
  ASSERT_TRUE(MergeListings(src, dst, v).ok());
  EXPECT_EQ(v.calls,
            (std::vector<std::string>{"S:B", "S:a-b", "B:a/b", "S:a0", "S:z", "B:\xC3\xA9"}));
}

TEST(MergeListingsTest, SourceOutOfOrderIsInternalErrorNamingKeys) {
  VectorCursor src(Objs({"b", "a"})), dst({});
  RecordingVisitor v;
  Status s = MergeListings(src, dst, v);
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_NE(s.message().find("source"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("out of order"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("\"a\" after \"b\""), std::string::npos) << s.message();
  // The offending object is never visited.
  EXPECT_EQ(v.calls, (std::vector<std::string>{"S:b"}));
}

TEST(MergeListingsTest, DestinationDuplicateIsInternalError) {
  VectorCursor src(Objs({"a"})), dst(Objs({"a", "a"}));
  RecordingVisitor v;
  Status s = MergeListings(src, dst, v);
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_NE(s.message().find("destination"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("duplicate"), std::string::npos) << s.message();
}

TEST(MergeListingsTest, DisorderInFirstObjectPairIsCaughtBeforeAnyDelete) {
  // The destination's second key is smaller than its first: caught when read, before the
  // destination-only "a" is reported.
  VectorCursor src(Objs({"c"})), dst(Objs({"b", "a"}));
  RecordingVisitor v;
  Status s = MergeListings(src, dst, v);
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  for (const std::string& call : v.calls) EXPECT_NE(call, "D:a");
}

TEST(MergeListingsTest, VisitorErrorStopsTheMerge) {
  VectorCursor src(Objs({"a", "b", "c"})), dst({});
  RecordingVisitor v;
  v.fail_at = 1;
  Status s = MergeListings(src, dst, v);
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "nope");
  EXPECT_EQ(v.calls, (std::vector<std::string>{"S:a", "S:b"}));
  EXPECT_EQ(src.served(), 2u);  // "c" was never read
}

TEST(MergeListingsTest, CursorErrorIsReturnedUnchanged) {
  {
    VectorCursor src(Objs({"a", "b"})), dst(Objs({"a", "b"}));
    src.FailAt(1, Status::Unavailable("LIST src: 503"));
    RecordingVisitor v;
    Status s = MergeListings(src, dst, v);
    EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
    EXPECT_EQ(s.message(), "LIST src: 503");
    EXPECT_EQ(v.calls, (std::vector<std::string>{"B:a"}));
  }
  {
    VectorCursor src(Objs({"a"})), dst(Objs({"a"}));
    dst.FailAt(0, Status::PermissionDenied("LIST dst: 403"));
    RecordingVisitor v;
    Status s = MergeListings(src, dst, v);
    EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
    EXPECT_TRUE(v.calls.empty());
  }
}

TEST(MergeListingsTest, StreamsCursorsThatReuseTheirObject) {
  GeneratingCursor src(100000, 1);  // every key
  GeneratingCursor dst(100000, 2);  // every other key
  struct Counter : ListingVisitor {
    Status SourceOnly(const ObjectInfo&) override {
      ++source_only;
      return Status::Ok();
    }
    Status DestinationOnly(const ObjectInfo&) override {
      ++destination_only;
      return Status::Ok();
    }
    Status Both(const ObjectInfo&, const ObjectInfo&) override {
      ++both;
      return Status::Ok();
    }
    int source_only = 0, destination_only = 0, both = 0;
  } v;
  ASSERT_TRUE(MergeListings(src, dst, v).ok());
  EXPECT_EQ(v.both, 50000);
  EXPECT_EQ(v.source_only, 50000);
  EXPECT_EQ(v.destination_only, 0);
}

}  // namespace
}  // namespace ferry::plan
