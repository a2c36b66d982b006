// Cache index and prefix lock cases run on every database (see index_suite.h).
#include "cache/index_suite.h"

#include <algorithm>
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

// An entry's expiry never wraps: the longest TTL stays in the future, a longer one is refused
// by every write that sets an expiry.
TEST_P(CacheIndexConformanceTest, TtlsAreBoundedAndNeverExpireInThePast) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("a/1", "e1"), kMaxTtl, "r1").ok());
  EXPECT_EQ(f.index->Record(Obj("a/2", "e2"), kMaxTtl + 1s, "r1").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.index->Record(Obj("a/2", "e2"), std::chrono::seconds(999999999999LL * 86400), "r1")
                .code(),
            ErrorCode::kInvalidArgument);
  CacheIndex::RenewItem item{.key = "a/1", .source_etag = "e1"};
  EXPECT_EQ(f.index->Renew(std::span(&item, 1), kMaxTtl + 1s).status().code(),
            ErrorCode::kInvalidArgument);
  auto expired = f.index->Expired(10);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->empty());
}

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

// Totals: every entry of this cache once (a re-copy replaces its size), live or being
// expired, none of another cache of the same database; sizes past 32 bits add up exactly.
TEST_P(CacheIndexConformanceTest, TotalsCountThisCachesEntriesOnce) {
  FIXTURE(f);
  auto empty = f.index->Totals();
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->objects, 0u);
  EXPECT_EQ(empty->bytes, 0u);
  constexpr uint64_t kBig = 5ULL << 30;  // 5 GiB
  ASSERT_TRUE(f.index->Record(Obj("a", "e", 10), 1h, "r").ok());
  ASSERT_TRUE(f.index->Record(Obj("b", "e", kBig), 3h, "r").ok());
  ASSERT_TRUE(f.index->Record(Obj("a", "e2", 30), 1h, "r").ok());  // re-copied: 30 bytes now
  auto other = CacheIndex::Open(*f.session, f.clock, f.name + "other/");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Record(Obj("c", "e", 1000), 1h, "r").ok());
  auto totals = f.index->Totals();
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->objects, 2u);
  EXPECT_EQ(totals->bytes, kBig + 30);
  // An entry being expired still holds its object until the pass deletes it.
  f.clock.Advance(2h);
  auto expired = f.index->Expired(100);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  Entry e = (*expired)[0];
  ASSERT_TRUE(*f.index->MarkExpiring(e, 1min));
  EXPECT_EQ(f.index->Totals()->bytes, kBig + 30);
  ASSERT_TRUE(*f.index->DeleteMarked(e));
  totals = f.index->Totals();
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->objects, 1u);
  EXPECT_EQ(totals->bytes, kBig);
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

// --- prefix holds ---

std::vector<std::string> Owners(const AcquireResult& r) {
  std::vector<std::string> out;
  for (const Overlap& o : r.overlapping) out.push_back(o.owner);
  return out;
}

TEST_P(CacheIndexConformanceTest, HoldsSeeOverlappingHoldsHierarchically) {
  FIXTURE(f);
  std::vector<std::string> year = {"year-2023/"};
  auto a = f.locks->Acquire("A", year, 30s);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->overlapping.empty());
  // A deeper prefix, a shallower one and the whole bucket all overlap (and still hold).
  int n = 0;
  for (std::string p : {"year-2023/month-02/", "year-", "", "year-2023/"}) {
    std::vector<std::string> ps = {p};
    auto b = f.locks->Acquire("B" + std::to_string(n++), ps, 30s);
    ASSERT_TRUE(b.ok());
    EXPECT_GT(b->hold.id, a->hold.id);
    ASSERT_FALSE(b->overlapping.empty()) << p;
    EXPECT_EQ(b->overlapping[0].owner, "A");
    EXPECT_EQ(b->overlapping[0].prefix, "year-2023/");
    ASSERT_TRUE(f.locks->Release(b->hold).ok());
  }
  // A sibling does not.
  std::vector<std::string> sibling = {"year-2024/"};
  auto c = f.locks->Acquire("C", sibling, 30s);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->overlapping.empty());
  // One overlapping prefix of several is enough.
  std::vector<std::string> mixed = {"year-2025/", "year-2024/05/"};
  auto d = f.locks->Acquire("D", mixed, 30s);
  EXPECT_EQ(Owners(*d), (std::vector<std::string>{"C"}));
  // Released: gone.
  ASSERT_TRUE(f.locks->Release(a->hold).ok());
  std::vector<std::string> all = {""};
  auto g = f.locks->Acquire("G", all, 30s);
  auto owners = Owners(*g);
  std::sort(owners.begin(), owners.end());
  EXPECT_EQ(owners, (std::vector<std::string>{"C", "D", "D"}));  // D holds two prefixes
}

TEST_P(CacheIndexConformanceTest, ADeadHoldersLeaseRunsOutAndIsTakenOver) {
  FIXTURE(f);
  std::vector<std::string> p = {"data/"};
  auto a = f.locks->Acquire("A", p, 30s);
  ASSERT_TRUE(a.ok());
  f.clock.Advance(20s);
  ASSERT_TRUE(f.locks->Renew(a->hold, 30s).ok());
  f.clock.Advance(29s);
  std::vector<std::string> q = {"data/x/"};
  auto live = f.locks->Acquire("B", q, 30s);  // renewed: still live
  EXPECT_EQ(Owners(*live), (std::vector<std::string>{"A"}));
  EXPECT_TRUE(live->taken_over.empty());
  ASSERT_TRUE(f.locks->Release(live->hold).ok());
  f.clock.Advance(2s);
  // Ran out but not taken over yet: still held.
  EXPECT_TRUE(f.locks->Renew(a->hold, 30s).ok());
  f.clock.Advance(31s);
  auto b = f.locks->Acquire("B", q, 30s);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->overlapping.empty());
  EXPECT_EQ(b->taken_over, (std::vector<std::string>{"A"}));
  EXPECT_GT(b->hold.id, a->hold.id);
  Status lost = f.locks->Renew(a->hold, 30s);
  EXPECT_EQ(lost.code(), ErrorCode::kFailedPrecondition) << lost.message();
  EXPECT_TRUE(f.locks->Release(a->hold).ok());  // releasing a lost hold changes nothing
  EXPECT_EQ(Owners(*f.locks->Acquire("C", p, 30s)), (std::vector<std::string>{"B"}));
}

// --- claims ---

ClaimItem Want(std::string key, std::string etag, uint64_t size = 10, std::string waited_on = "") {
  return ClaimItem{.key = std::move(key),
                   .source_etag = std::move(etag),
                   .source_mtime_ns = 0,
                   .size = size,
                   .waited_on = std::move(waited_on)};
}

TEST_P(CacheIndexConformanceTest, AKeyIsClaimedByOneLiveHoldAndJoinedOnceRecorded) {
  FIXTURE(f);
  std::vector<std::string> all = {""};
  auto a = *f.locks->Acquire("A", all, 30s);
  auto b = *f.locks->Acquire("B", all, 30s);
  const ClaimOptions opts{.since_ms = f.index->NowMs(), .force = false, .ttl = 1h};
  std::vector<ClaimItem> items = {Want("k1", "e1"), Want("k2", "e2")};
  auto ca = f.index->Claim(a.hold.id, "A", items, opts);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  EXPECT_EQ((*ca)[0].state, ClaimState::kClaimed);
  EXPECT_EQ((*ca)[1].state, ClaimState::kClaimed);
  auto cb = *f.index->Claim(b.hold.id, "B", items, opts);
  EXPECT_EQ(cb[0].state, ClaimState::kHeld);
  EXPECT_EQ(cb[0].owner, "A");
  EXPECT_TRUE(*f.index->ClaimedLive("k1"));
  // A records k1, fails k2.
  std::vector<Copied> copied = {Obj("k1", "e1")};
  std::vector<KeyFailure> failed = {
      KeyFailure{.key = "k2", .error = "boom", .request = "A", .at_ms = 0}};
  ASSERT_TRUE(f.index->Settle(a.hold.id, copied, failed, {}, 1h, "A").ok());
  EXPECT_FALSE(*f.index->ClaimedLive("k1"));
  std::vector<ClaimItem> again = {Want("k1", "e1", 10, "A"), Want("k2", "e2", 10, "A")};
  cb = *f.index->Claim(b.hold.id, "B", again, opts);
  EXPECT_EQ(cb[0].state, ClaimState::kJoined);
  EXPECT_EQ(cb[0].owner, "A");
  EXPECT_EQ(cb[1].state, ClaimState::kFailedByHolder);
  EXPECT_EQ(cb[1].error, "boom");
  EXPECT_FALSE(*f.index->ClaimedLive("k2"));  // B did not keep a claim it does not copy
  // A changed source object is claimed, not joined; a released claim is free again.
  std::vector<ClaimItem> changed = {Want("k1", "e1-new")};
  EXPECT_EQ((*f.index->Claim(b.hold.id, "B", changed, opts))[0].state, ClaimState::kClaimed);
  std::vector<std::string> released = {"k1"};
  ASSERT_TRUE(f.index->Settle(b.hold.id, {}, {}, released, 1h, "B").ok());
  EXPECT_EQ((*f.index->Claim(a.hold.id, "A", changed, opts))[0].state, ClaimState::kClaimed);
  // Releasing a hold drops its claims.
  ASSERT_TRUE(f.locks->Release(a.hold).ok());
  EXPECT_EQ((*f.index->Claim(b.hold.id, "B", changed, opts))[0].state, ClaimState::kClaimed);
}

TEST_P(CacheIndexConformanceTest, AClaimOfADeadHoldIsTakenOverAndItsHolderFencedOut) {
  FIXTURE(f);
  std::vector<std::string> all = {""};
  auto dead = *f.locks->Acquire("dead", all, 30s);
  const ClaimOptions opts{.since_ms = f.index->NowMs(), .force = false, .ttl = 1h};
  std::vector<ClaimItem> items = {Want("k", "e")};
  ASSERT_EQ((*f.index->Claim(dead.hold.id, "dead", items, opts))[0].state, ClaimState::kClaimed);
  f.clock.Advance(10s);
  auto heir = *f.locks->Acquire("heir", std::vector<std::string>{"k"}, 30s);  // still live
  EXPECT_EQ((*f.index->Claim(heir.hold.id, "heir", items, opts))[0].state, ClaimState::kHeld);
  f.clock.Advance(25s);
  ASSERT_TRUE(f.locks->Renew(heir.hold, 30s).ok());
  auto out = *f.index->Claim(heir.hold.id, "heir", items, opts);
  EXPECT_EQ(out[0].state, ClaimState::kClaimed);
  EXPECT_TRUE(out[0].taken_over);
  EXPECT_EQ(out[0].owner, "dead");
  EXPECT_EQ(f.locks->Renew(dead.hold, 30s).code(), ErrorCode::kFailedPrecondition);
}

TEST_P(CacheIndexConformanceTest, ForceClaimsWhatWasCopiedBeforeItStarted) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "old").ok());
  f.clock.Advance(1s);
  auto h = *f.locks->Acquire("F", std::vector<std::string>{""}, 30s);
  std::vector<ClaimItem> items = {Want("k", "e")};
  const ClaimOptions plain{.since_ms = f.index->NowMs(), .force = false, .ttl = 1h};
  EXPECT_EQ((*f.index->Claim(h.hold.id, "F", items, plain))[0].state, ClaimState::kCached);
  const ClaimOptions force{.since_ms = f.index->NowMs(), .force = true, .ttl = 1h};
  EXPECT_EQ((*f.index->Claim(h.hold.id, "F", items, force))[0].state, ClaimState::kClaimed);
}

TEST_P(CacheIndexConformanceTest, ACopyIsNotRecordedOverARowAnExpiryPassMarkedMeanwhile) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "old").ok());
  f.clock.Advance(1s);
  auto h = *f.locks->Acquire("F", std::vector<std::string>{""}, 30s);
  std::vector<ClaimItem> items = {Want("k", "e")};
  const ClaimOptions force{.since_ms = f.index->NowMs(), .force = true, .ttl = 1h};
  ASSERT_EQ((*f.index->Claim(h.hold.id, "F", items, force))[0].state, ClaimState::kClaimed);
  // The forced copy stalls: its hold's lease runs out, the old row expires and a pass marks it.
  f.clock.Advance(2h);
  Entry e = (*f.index->Expired(10))[0];
  ASSERT_TRUE(*f.index->MarkExpiring(e, 1min));
  std::vector<Copied> copied = {Obj("k", "e"), Obj("fresh", "e")};
  auto missed = f.index->Settle(h.hold.id, copied, {}, {}, 1h, "F");
  ASSERT_TRUE(missed.ok()) << missed.status().message();
  EXPECT_EQ(*missed, (std::vector<std::string>{"k"}));
  EXPECT_TRUE((*f.index->Get("k"))->expiring);  // still the pass's
  EXPECT_FALSE((*f.index->Get("fresh"))->expiring);
  ASSERT_TRUE(*f.index->HoldMark(e, 1min));
  EXPECT_TRUE(*f.index->DeleteMarked(e));
  EXPECT_FALSE(*f.index->ClaimedLive("k"));  // the claim went with the batch
}

// An expiry pass leaves a key alone while a live hold claims it: the claimer's copy may land
// before the pass deletes the object and be recorded after the row is gone (a live row with no
// object, which no warm would copy again until it expired).
TEST_P(CacheIndexConformanceTest, AnExpiryPassLeavesAKeyThatALiveHoldIsCopying) {
  FIXTURE(f);
  ASSERT_TRUE(f.index->Record(Obj("k", "e"), 1h, "old").ok());
  f.clock.Advance(2h);
  auto h = *f.locks->Acquire("F", std::vector<std::string>{""}, 30s);
  std::vector<ClaimItem> items = {Want("k", "e2")};  // changed at the source: copied again
  const ClaimOptions plain{.since_ms = f.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_EQ((*f.index->Claim(h.hold.id, "F", items, plain))[0].state, ClaimState::kClaimed);
  Entry e = (*f.index->Expired(10))[0];
  EXPECT_FALSE(*f.index->MarkExpiring(e, 1min)) << "marked a key being copied";
  auto missed = f.index->Settle(h.hold.id, std::vector<Copied>{Obj("k", "e2")}, {}, {}, 1h, "F");
  ASSERT_TRUE(missed.ok());
  EXPECT_TRUE(missed->empty());
  auto now = *f.index->Get("k");
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->source_etag, "e2");
  EXPECT_FALSE(now->expiring);
  EXPECT_TRUE(f.index->Expired(10)->empty());  // renewed by the copy
  // Once the hold's lease ran out (its request died), the claim protects nothing.
  f.clock.Advance(1s);
  ASSERT_EQ((*f.index->Claim(h.hold.id, "F", items, ClaimOptions{.since_ms = f.index->NowMs(),
                                                                  .force = true, .ttl = 1h}))[0]
                .state,
            ClaimState::kClaimed);
  f.clock.Advance(2h);
  Entry again = (*f.index->Expired(10))[0];
  EXPECT_TRUE(*f.index->MarkExpiring(again, 1min));
}

TEST_P(CacheIndexConformanceTest, ConcurrentClaimsOfOneKeyGrantOneClaimer) {
  FIXTURE(f);
  constexpr int kThreads = 6;
  std::vector<AcquireResult> holds;
  const std::vector<std::string> prefixes[] = {{"x/"}, {"x/a/"}, {""}, {"x/"}, {"x/a/b/"}, {"x"}};
  for (int i = 0; i < kThreads; ++i) {
    holds.push_back(*f.locks->Acquire("T" + std::to_string(i), prefixes[i], 30s));
  }
  std::atomic<int> granted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const ClaimOptions opts{.since_ms = f.index->NowMs(), .force = false, .ttl = 1h};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Overlapping batches in other orders: the claims must not deadlock.
      std::vector<ClaimItem> items = {Want("x/a/b/1", "e"), Want("x/a/b/0", "e"),
                                      Want("x/a/b/" + std::to_string(i + 2), "e")};
      if (i % 2 == 1) std::swap(items[0], items[1]);
      auto r = f.index->Claim(holds[i].hold.id, "T" + std::to_string(i), items, opts);
      if (!r.ok()) {
        errors++;
        return;
      }
      for (size_t k = 0; k < items.size(); ++k) {
        if (items[k].key == "x/a/b/1" && (*r)[k].state == ClaimState::kClaimed) granted++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), 1);
}

TEST_P(CacheIndexConformanceTest, BadArgumentsAreRefused) {
  FIXTURE(f);
  std::vector<std::string> p = {"a/"};
  std::vector<std::string> none;
  EXPECT_EQ(f.locks->Acquire("", p, 30s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.locks->Acquire("A", none, 30s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.locks->Acquire("A", p, 0s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.index->Record(Obj("k", "e"), -1s, "r").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::cache::testing
