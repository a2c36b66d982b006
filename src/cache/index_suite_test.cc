// Cache index and prefix lock cases run on every database (see index_suite.h).
#include "cache/index_suite.h"

#include <atomic>
#include <random>
#include <thread>

#include "cache/index.h"
#include "cache/locks.h"
#include "testing/fake_clock.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

std::string FreshCacheName() {
  std::random_device rd;
  return "s3://cache-test-" + std::to_string(rd()) + "-" + std::to_string(rd()) + "/";
}

Copied Obj(std::string key, std::string etag, uint64_t size = 10) {
  return Copied{.key = std::move(key),
                .source_etag = std::move(etag),
                .source_version = "",
                .source_mtime_ns = 0,
                .size = size};
}

class Fixture {
 public:
  explicit Fixture(SessionFactory factory) : session(factory(clock)) {
    if (session == nullptr) return;
    name = FreshCacheName();
    auto opened = CacheIndex::Open(*session, clock, name);
    if (opened.ok()) index = std::move(opened).value();
    locks = std::make_unique<PrefixLocks>(*session, clock, name);
  }
  ferry::testing::FakeClock clock;
  std::unique_ptr<state::SqlSession> session;
  std::string name;
  std::unique_ptr<CacheIndex> index;
  std::unique_ptr<PrefixLocks> locks;
};

#define FIXTURE(f)               \
  Fixture f(GetParam());         \
  ASSERT_NE(f.session, nullptr); \
  ASSERT_NE(f.index, nullptr)

TEST_P(CacheIndexConformanceTest, RecordsEntriesAndListsThemByPrefix) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("a/1", "e1"), 1h, "r1").ok());
  ASSERT_TRUE(f.index->Record(Obj("a/2", "e2"), 1h, "r1").ok());
  ASSERT_TRUE(f.index->Record(Obj("a0", "e3"), 1h, "r1").ok());
  ASSERT_TRUE(f.index->Record(Obj("b/1", "e4"), 1h, "r1").ok());
  auto a = f.index->EntriesUnder("a/");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].key, "a/1");
  EXPECT_EQ((*a)[1].key, "a/2");
  EXPECT_EQ((*a)[1].source_etag, "e2");
  EXPECT_EQ((*a)[1].expires_ms, f.index->NowMs() + 3'600'000);
  EXPECT_EQ((*a)[1].copied_by, "r1");
  auto all = f.index->EntriesUnder("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  // Byte order, not a locale's: "A" < "a" < "b", and a key with a high byte sorts last.
  ASSERT_TRUE(f.index->Record(Obj("a/\xc3\xa9", "e5"), 1h, "r1").ok());
  ASSERT_TRUE(f.index->Record(Obj("A/1", "e6"), 1h, "r1").ok());
  a = f.index->EntriesUnder("a/");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[2].key, "a/\xc3\xa9");
  auto one = f.index->Get("b/1");
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->source_etag, "e4");
  auto none = f.index->Get("b/2");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(CacheIndexConformanceTest, RenewExtendsOnlyLiveUnchangedEntries) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k1", "e1"), 1h, "r").ok());
  ASSERT_TRUE(f.index->Record(Obj("k2", "e2"), 1h, "r").ok());
  f.clock.Advance(30min);
  std::vector<CacheIndex::RenewItem> items = {
      {.key = "k1", .source_etag = "e1"},     // renewed
      {.key = "k2", .source_etag = "other"},  // changed at the source
      {.key = "k3", .source_etag = "e3"}};    // not cached
  auto missed = f.index->Renew(items, 2h);
  ASSERT_TRUE(missed.ok());
  EXPECT_EQ(*missed, (std::vector<std::string>{"k2", "k3"}));
  auto k1 = f.index->Get("k1");
  ASSERT_TRUE(k1.ok() && k1->has_value());
  EXPECT_EQ((*k1)->expires_ms, f.index->NowMs() + 7'200'000);
  // A shorter TTL never shortens an expiry.
  ASSERT_TRUE(f.index->Renew(items, 1min).ok());
  auto again = f.index->Get("k1");
  EXPECT_EQ((*again)->expires_ms, (*k1)->expires_ms);
}

TEST_P(CacheIndexConformanceTest, ExpiredEntriesAreMarkedAndDeletedOnce) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("old", "e"), 1h, "r").ok());
  ASSERT_TRUE(f.index->Record(Obj("young", "e"), 3h, "r").ok());
  f.clock.Advance(2h);
  auto expired = f.index->Expired(100);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  Entry e = (*expired)[0];
  EXPECT_EQ(e.key, "old");
  auto marked = f.index->MarkExpiring(e, 1min);
  ASSERT_TRUE(marked.ok());
  EXPECT_TRUE(*marked);
  EXPECT_TRUE(e.expiring);
  // A marked entry is not renewed: the warm must copy it once the expiry is done.
  std::vector<CacheIndex::RenewItem> items = {{.key = "old", .source_etag = "e"}};
  auto missed = f.index->Renew(items, 1h);
  ASSERT_TRUE(missed.ok());
  EXPECT_EQ(missed->size(), 1u);
  auto held = f.index->HoldMark(e, 1min);
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);
  auto deleted = f.index->DeleteMarked(e);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  auto gone = f.index->Get("old");
  EXPECT_FALSE(gone->has_value());
  auto twice = f.index->DeleteMarked(e);
  EXPECT_FALSE(*twice);
}

TEST_P(CacheIndexConformanceTest, ARenewAfterTheExpiryReadItKeepsTheEntry) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "r").ok());
  f.clock.Advance(61min);
  auto expired = f.index->Expired(100);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  // The warm renews between the expiry's read and its compare-and-swap.
  std::vector<CacheIndex::RenewItem> items = {{.key = "k", .source_etag = "e"}};
  auto missed = f.index->Renew(items, 1h);
  ASSERT_TRUE(missed.ok());
  EXPECT_TRUE(missed->empty());
  Entry read = (*expired)[0];
  auto marked = f.index->MarkExpiring(read, 1min);
  ASSERT_TRUE(marked.ok());
  EXPECT_FALSE(*marked);
  auto still = f.index->Get("k");
  ASSERT_TRUE(still->has_value());
  EXPECT_FALSE((*still)->expiring);
  EXPECT_TRUE(f.index->Expired(100)->empty());
}

TEST_P(CacheIndexConformanceTest, AStaleMarkIsTakenOverAndItsExpirerFencedOut) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "r").ok());
  f.clock.Advance(2h);
  Entry e = (*f.index->Expired(10))[0];
  ASSERT_TRUE(*f.index->MarkExpiring(e, 1min));
  // Before the mark's lease ran out a warm cannot take it over.
  EXPECT_FALSE(*f.index->DropStaleMark(e));
  f.clock.Advance(2min);
  // The expirer stalled: a warm takes the row over and copies the object again.
  EXPECT_TRUE(*f.index->DropStaleMark(e));
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "warm").ok());
  // The stalled expirer's last check fails: it never deletes the recopied object.
  EXPECT_FALSE(*f.index->HoldMark(e, 1min));
  EXPECT_FALSE(*f.index->DeleteMarked(e));
  EXPECT_TRUE(f.index->Get("k")->has_value());
}

TEST_P(CacheIndexConformanceTest, ARunOutMarkIsExpiredAgainByTheNextPass) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "r").ok());
  f.clock.Advance(2h);
  Entry e = (*f.index->Expired(10))[0];
  ASSERT_TRUE(*f.index->MarkExpiring(e, 1min));
  EXPECT_TRUE(f.index->Expired(10)->empty());  // the mark is live: not this pass's
  f.clock.Advance(2min);
  auto again = f.index->Expired(10);
  ASSERT_EQ(again->size(), 1u);
  Entry e2 = (*again)[0];
  EXPECT_TRUE(*f.index->MarkExpiring(e2, 1min));
  EXPECT_FALSE(*f.index->HoldMark(e, 1min));  // the first pass lost it
  EXPECT_TRUE(*f.index->DeleteMarked(e2));
}

TEST_P(CacheIndexConformanceTest, DropEntryIsACompareAndDelete) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "r").ok());
  Entry read = **f.index->Get("k");
  ASSERT_TRUE(f.index->Record(Obj("k", "e2"), 1h, "r").ok());
  EXPECT_FALSE(*f.index->DropEntry(read));
  Entry now = **f.index->Get("k");
  EXPECT_TRUE(*f.index->DropEntry(now));
  EXPECT_FALSE(f.index->Get("k")->has_value());
}

TEST_P(CacheIndexConformanceTest, FailuresAreKeptUntilAForce) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->RecordFailure("a/1", "boom", "r1").ok());
  ASSERT_TRUE(f.index->RecordFailure("a/2", "bang", "r1").ok());
  ASSERT_TRUE(f.index->RecordFailure("b/1", "crash", "r1").ok());
  auto a = f.index->FailuresUnder("a/");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].error, "boom");
  EXPECT_EQ((*a)[0].request, "r1");
  ASSERT_TRUE(f.index->Record(Obj("a/1", "e"), 1h, "r2").ok());  // copied since: still told
  EXPECT_EQ(f.index->FailuresUnder("a/")->size(), 2u);
  ASSERT_TRUE(f.index->RecordFailure("a/1", "again", "r3").ok());  // the latest one is kept
  EXPECT_EQ((*f.index->FailuresUnder("a/"))[0].request, "r3");
  std::vector<std::string> prefixes = {"a/"};
  ASSERT_TRUE(f.index->ClearFailuresUnder(prefixes).ok());
  EXPECT_TRUE(f.index->FailuresUnder("a/")->empty());
  EXPECT_EQ(f.index->FailuresUnder("")->size(), 1u);
}

// --- prefix locks ---

TEST_P(CacheIndexConformanceTest, LocksOverlapHierarchically) {
  FIXTURE(f);
  std::vector<std::string> year = {"year-2023/"};
  auto a = f.locks->TryAcquire("A", year, 30s);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->hold.has_value());
  // A deeper prefix, a shallower one and the whole bucket all overlap.
  for (std::string p : {"year-2023/month-02/", "year-", "", "year-2023/"}) {
    std::vector<std::string> ps = {p};
    auto b = f.locks->TryAcquire("B", ps, 30s);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b->hold.has_value()) << p;
    ASSERT_EQ(b->blockers.size(), 1u) << p;
    EXPECT_EQ(b->blockers[0].owner, "A");
    EXPECT_EQ(b->blockers[0].prefix, "year-2023/");
  }
  // A sibling does not.
  std::vector<std::string> sibling = {"year-2024/"};
  auto c = f.locks->TryAcquire("C", sibling, 30s);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->hold.has_value());
  // All or nothing: one overlapping prefix blocks the whole request.
  std::vector<std::string> mixed = {"year-2025/", "year-2024/05/"};
  auto d = f.locks->TryAcquire("D", mixed, 30s);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->hold.has_value());
  std::vector<std::string> free = {"year-2025/"};
  EXPECT_TRUE(f.locks->TryAcquire("E", free, 30s)->hold.has_value());
  // Released: free again.
  ASSERT_TRUE(f.locks->Release(*a->hold).ok());
  std::vector<std::string> all = {""};
  auto g = f.locks->TryAcquire("G", all, 30s);
  EXPECT_FALSE(g->hold.has_value());  // C and E still hold theirs
  EXPECT_EQ(g->blockers.size(), 2u);
}

TEST_P(CacheIndexConformanceTest, ADeadHoldersLeaseRunsOutAndIsTakenOver) {
  FIXTURE(f);
  std::vector<std::string> p = {"data/"};
  auto a = f.locks->TryAcquire("A", p, 30s);
  ASSERT_TRUE(a->hold.has_value());
  f.clock.Advance(20s);
  ASSERT_TRUE(f.locks->Renew(*a->hold, 30s).ok());
  f.clock.Advance(29s);
  std::vector<std::string> q = {"data/x/"};
  EXPECT_FALSE(f.locks->TryAcquire("B", q, 30s)->hold.has_value());  // renewed: still live
  f.clock.Advance(2s);
  // Ran out but not taken over yet: still held.
  EXPECT_TRUE(f.locks->Renew(*a->hold, 30s).ok());
  f.clock.Advance(31s);
  auto b = f.locks->TryAcquire("B", q, 30s);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->hold.has_value());
  EXPECT_EQ(b->taken_over, (std::vector<std::string>{"A"}));
  EXPECT_GT(b->hold->id, a->hold->id);
  Status lost = f.locks->Renew(*a->hold, 30s);
  EXPECT_EQ(lost.code(), ErrorCode::kFailedPrecondition) << lost.message();
  EXPECT_TRUE(f.locks->Release(*a->hold).ok());  // releasing a lost hold changes nothing
  EXPECT_FALSE(f.locks->TryAcquire("C", p, 30s)->hold.has_value());
}

TEST_P(CacheIndexConformanceTest, ConcurrentOverlappingAcquisitionsGrantOneHolder) {
  FIXTURE(f);
  constexpr int kThreads = 6;
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  const std::vector<std::string> prefixes[] = {{"x/"}, {"x/a/"}, {""}, {"x/"}, {"x/a/b/"}, {"x"}};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = f.locks->TryAcquire("T" + std::to_string(i), prefixes[i], 30s);
      if (r.ok() && r->hold) granted++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1);
}

TEST_P(CacheIndexConformanceTest, BadArgumentsAreRefused) {
  FIXTURE(f);
  std::vector<std::string> p = {"a/"};
  std::vector<std::string> none;
  EXPECT_EQ(f.locks->TryAcquire("", p, 30s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.locks->TryAcquire("A", none, 30s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.locks->TryAcquire("A", p, 0s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.index->Record(Obj("k", "e"), -1s, "r").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::cache::testing
