// Claims by generation (claim.h) and several unpackers of one region (unpack_listed.h) on
// memory backends: the store's clock and each unpacker's are fake clocks, so a lease expires
// exactly when a test moves them.
#include "transport/claim.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "archive/io.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "transport/pack.h"
#include "transport/unpack_listed.h"
#include "transport/unpack_testing.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::transport {
namespace {

using std::chrono::seconds;
using storage::MemoryBackend;
using test_support::ListStaged;
using test_support::MemoryJournal;

std::string Text(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 4);
  return s;
}

// A destination that counts successful Puts per key, takes `delay` per Put, and calls `hook`
// after Put number `hook_at` (once, outside its own lock).
class CountingBackend : public MemoryBackend {
 public:
  CountingBackend() : MemoryBackend(Options{.versioned = true}) {}
  Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                   const storage::WriteSpec& spec, std::stop_token stop) override {
    // real time: a write that takes a while, so that two unpackers' writes overlap (the race
    // their claims must settle).
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    Result<storage::WriteResult> r = MemoryBackend::Put(key, data, spec, stop);
    bool fire = false;
    {
      std::lock_guard lock(mu);
      if (r.ok()) ++put_count[std::string(key)];
      fire = r.ok() && ++puts_done == hook_at && hook;
    }
    if (fire) hook();
    return r;
  }
  std::map<std::string, int> Counts() {
    std::lock_guard lock(mu);
    return put_count;
  }

  std::chrono::milliseconds delay{0};
  int hook_at = 0;
  std::function<void()> hook;
  std::mutex mu;
  std::map<std::string, int> put_count;  // GUARDED_BY(mu)
  int puts_done = 0;                     // GUARDED_BY(mu)
};

class ClaimTest : public ::testing::Test {
 protected:
  ClaimTest() : staging_(MemoryBackend::Options{.name = "staging", .clock = &server_}) {}

  // Packs `n` objects into archive `name` of staging_, their keys prefixed with `name`.
  void Stage(const std::string& name, int n, std::vector<std::string> destinations = {}) {
    std::vector<storage::ObjectInfo> listed;
    for (int i = 0; i < n; ++i) {
      const std::string body = Text(100 + static_cast<size_t>(i), i);
      storage::WriteSpec spec;
      spec.size = body.size();
      const std::string key = name + "/k" + std::to_string(1000 + i);
      ASSERT_TRUE(src_.Put(key, checksum::AsBytes(body), spec, {}).ok());
      auto info = src_.Stat(key, false, {});
      ASSERT_TRUE(info.ok());
      listed.push_back(*info);
    }
    archive::StringSink sink;
    PackOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.writer.threads = 1;
    o.destinations = std::move(destinations);
    auto packed = PackObjects(src_, listed, sink, o, {});
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    storage::WriteSpec spec;
    spec.size = sink.bytes.size();
    ASSERT_TRUE(staging_.Put(name, checksum::AsBytes(sink.bytes), spec, {}).ok());
  }

  static UnpackOptions Options() {
    UnpackOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.checkpoint_every = 4;
    o.window = 8;
    return o;
  }
  ClaimOptions Claims(const std::string& owner, Clock* clock, const std::string& region = "") {
    return ClaimOptions{.region = region, .ttl = seconds(60), .owner = owner, .clock = clock};
  }
  std::vector<std::string> StagingKeys() { return staging_.Keys(); }

  testing::FakeClock server_;  // the staging store's clock
  MemoryBackend src_;
  MemoryBackend staging_;
  CountingBackend dst_;
};

TEST_F(ClaimTest, ProbeFindsCreateOnlyWhereHonoured) {
  auto yes = ProbeCreateOnly(staging_, "h:1:x", {});
  ASSERT_TRUE(yes.ok());
  EXPECT_TRUE(*yes);
  EXPECT_TRUE(StagingKeys().empty()) << "the probe's key is deleted";
  storage::Features f = storage::MemoryBackendDefaultFeatures();
  f.put_if_absent = false;
  MemoryBackend plain(MemoryBackend::Options{.features = f});
  auto no = ProbeCreateOnly(plain, "h:1:x", {});
  ASSERT_TRUE(no.ok());
  EXPECT_FALSE(*no);
}

TEST_F(ClaimTest, LiveClaimIsHeldExpiredOneTakenOverWithItsWatermark) {
  Stage("1-1-0000000a.fza", 3);
  testing::FakeClock clock_a, clock_b;
  Claim::Outcome outcome;
  auto a = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("A", &clock_a), &outcome, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(outcome, Claim::Outcome::kOwned);
  ASSERT_TRUE((*a)->Record(2, 3, false).ok());
  EXPECT_EQ((*a)->generation(), 1u);

  server_.Advance(seconds(59));
  auto b = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("B", &clock_b), &outcome, {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(outcome, Claim::Outcome::kHeld);
  EXPECT_EQ(*b, nullptr);

  server_.Advance(seconds(2));  // 61 s by the store's clock since generation 1
  b = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("B", &clock_b), &outcome, {});
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(outcome, Claim::Outcome::kOwned);
  EXPECT_EQ((*b)->generation(), 2u);
  EXPECT_EQ((*b)->carried(), std::optional<uint64_t>(2));

  // A stalled past its ttl: its fence renews, finds generation 2 taken, and stops for good.
  clock_a.Advance(seconds(61));
  Status fenced = (*a)->Fence();
  EXPECT_EQ(fenced.code(), ErrorCode::kFailedPrecondition) << fenced.ToString();
  EXPECT_TRUE((*a)->lost());
  EXPECT_FALSE((*a)->Fence().ok());
  EXPECT_FALSE((*a)->Record(3, 3, false).ok());
  EXPECT_TRUE((*b)->Fence().ok());

  // A third one meets B's live claim; B's done generation ends it for everyone.
  ASSERT_TRUE((*b)->Record(3, 3, true).ok());
  server_.Advance(seconds(1));
  auto c = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("C", nullptr), &outcome, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(outcome, Claim::Outcome::kDone);
  ASSERT_TRUE((*b)->Release().ok());
  EXPECT_EQ(StagingKeys(), std::vector<std::string>{"1-1-0000000a.fza"});
}

// Staging is written by others too: a generation key past 64 bits, a body whose members have
// other types, and a body of megabytes are refused or passed over with one line, never a
// crash (before: std::stoull threw, nlohmann's value() threw) nor an allocation of their size.
TEST_F(ClaimTest, HostileGenerationsAreRefusedNotCrashedOn) {
  Stage("1-1-0000000a.fza", 3);
  storage::WriteSpec spec;
  spec.size = 2;
  ASSERT_TRUE(staging_.Put("1-1-0000000a.fza.claim/-/99999999999999999999999999", checksum::AsBytes("{}"),
                           spec, {}).ok());
  Claim::Outcome outcome;
  auto a = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("A", nullptr), &outcome, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(outcome, Claim::Outcome::kOwned);  // the key is no generation: the chain was empty
  ASSERT_TRUE((*a)->Release().ok());

  for (const std::string body :
       {R"({"owner": 7, "ttl_ms": 60000})", R"({"owner": "x", "ttl_ms": "soon"})",
        R"({"owner": "x", "ttl_ms": 60000, "done": "yes"})", R"([1, 2])"}) {
    Stage("1-2-0000000b.fza", 3);
    storage::WriteSpec s;
    s.size = body.size();
    ASSERT_TRUE(staging_.Put("1-2-0000000b.fza.claim/-/0000000001", checksum::AsBytes(body), s, {}).ok());
    auto b = Claim::Acquire(staging_, "1-2-0000000b.fza", Claims("B", nullptr), &outcome, {});
    ASSERT_FALSE(b.ok()) << body;
    EXPECT_EQ(b.status().code(), ErrorCode::kDataLoss) << body;
    EXPECT_NE(b.status().message().find("is not a claim"), std::string::npos)
        << b.status().message();
    ASSERT_TRUE(staging_.Delete("1-2-0000000b.fza.claim/-/0000000001", {}).ok());
  }
  const std::string huge(1 << 20, ' ');
  storage::WriteSpec big;
  big.size = huge.size();
  ASSERT_TRUE(
      staging_.Put("1-2-0000000b.fza.claim/-/0000000001", checksum::AsBytes(huge), big, {}).ok());
  auto c = Claim::Acquire(staging_, "1-2-0000000b.fza", Claims("C", nullptr), &outcome, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("1048576 bytes"), std::string::npos)
      << c.status().message();
}

// A release deletes the chain as it lists it, a batch at a time: a chain of thousands of keys
// (here non-generations left under the prefix) is gone whole, and the next claim owns afresh.
TEST_F(ClaimTest, AReleaseDeletesAChainOfThousandsOfKeysBatchByBatch) {
  Stage("1-1-0000000a.fza", 3);
  storage::WriteSpec spec;
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(
        staging_.Put("1-1-0000000a.fza.claim/-/x" + std::to_string(10000 + i), {}, spec, {}).ok());
  }
  Claim::Outcome outcome;
  auto a = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("A", nullptr), &outcome, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(outcome, Claim::Outcome::kOwned);
  ASSERT_TRUE((*a)->Release().ok());
  auto left = test_support::ListStaged(staging_);
  ASSERT_TRUE(left.ok());
  auto cursor = staging_.List("1-1-0000000a.fza.claim/");
  ASSERT_TRUE(cursor.ok());
  auto first = (*cursor)->Next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, nullptr) << (*first)->key;
  EXPECT_EQ(left->archives, std::vector<std::string>{"1-1-0000000a.fza"});
}

TEST_F(ClaimTest, FenceRenewsFromAThirdOfTheTtlAndAReleasedChainIsLost) {
  Stage("1-1-0000000a.fza", 3);
  testing::FakeClock clock_a;
  Claim::Outcome outcome;
  auto a = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("A", &clock_a), &outcome, {});
  ASSERT_TRUE(a.ok() && *a);
  clock_a.Advance(seconds(10));
  ASSERT_TRUE((*a)->Fence().ok());
  EXPECT_EQ((*a)->generation(), 0u) << "young: no renewal";
  clock_a.Advance(seconds(15));
  ASSERT_TRUE((*a)->Fence().ok());
  EXPECT_EQ((*a)->generation(), 1u) << "25 s of 60: renewed";
  // Someone deletes the whole chain (a successor that finished and released it): the next
  // renewal's n+1 is free, but its own generation is gone: lost, and its stray one removed.
  for (const std::string& k : StagingKeys()) {
    if (IsClaim(k)) {
      ASSERT_TRUE(staging_.Delete(k, {}).ok());
    }
  }
  clock_a.Advance(seconds(25));
  EXPECT_EQ((*a)->Fence().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(StagingKeys(), std::vector<std::string>{"1-1-0000000a.fza"});
}

// Two unpackers of one region over the same listing, at once: each entry written once.
TEST_F(ClaimTest, TwoUnpackersWriteEveryEntryExactlyOnce) {
  constexpr int kArchives = 6, kEntries = 30;
  for (int i = 0; i < kArchives; ++i) Stage("1-" + std::to_string(i) + "-0000000a.fza", kEntries);
  dst_.delay = std::chrono::milliseconds(1);
  auto run = [&](const std::string& owner, uint64_t* held) {
    const ClaimOptions claims = Claims(owner, nullptr);
    // One pass over what is staged (archives the other holds are passed by); true once
    // nothing is left, or on an error.
    auto pass = [&] {
      auto listed = ListStaged(staging_);
      EXPECT_TRUE(listed.ok());
      if (!listed.ok() || listed->archives.empty()) return true;
      for (const std::string& key : listed->archives) {
        MemoryJournal journal;
        auto r = UnpackListed(staging_, key, dst_, journal,
                              {.unpack = Options(), .claims = &claims}, {});
        EXPECT_TRUE(r.ok()) << owner << " " << key << ": " << r.status().ToString();
        if (!r.ok()) return true;
        if (r->held) ++*held;
      }
      return false;
    };
    EXPECT_TRUE(ferry::testing::WaitFor(pass, seconds(60))) << owner << " never saw staging empty";
  };
  uint64_t held_a = 0, held_b = 0;
  std::thread a([&] { run("A", &held_a); });
  std::thread b([&] { run("B", &held_b); });
  a.join();
  b.join();
  const auto counts = dst_.Counts();
  EXPECT_EQ(counts.size(), static_cast<size_t>(kArchives * kEntries));
  for (const auto& [key, n] : counts) EXPECT_EQ(n, 1) << key << " written " << n << " times";
  EXPECT_TRUE(StagingKeys().empty()) << "archives and claims all gone";
}

// The owner stalls mid-archive past its ttl; another takes over at the carried watermark and
// finishes; the stalled one, resumed, is fenced: it writes nothing more.
TEST_F(ClaimTest, StalledOwnerIsFencedAndTheTakerResumesWithoutWritingTwice) {
  constexpr int kEntries = 40;
  Stage("1-1-0000000a.fza", kEntries);
  testing::FakeClock clock_a, clock_b;
  const ClaimOptions claims_a = Claims("A", &clock_a), claims_b = Claims("B", &clock_b);
  MemoryJournal journal_a, journal_b;
  Result<ListedResult> taken = Status::Internal("not run");
  dst_.hook_at = 10;
  dst_.hook = [&] {
    // A has written 10 entries and stalls here (past its fence) for longer than its ttl. Its
    // reading thread may still record the watermark before it waits for this write: let it.
    // real time: whether it records one here, and when it is through, nothing signals (a
    // journal write from it after the takeover would be a race of the test, not of ferry).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server_.Advance(seconds(61));
    taken = UnpackListed(staging_, "1-1-0000000a.fza", dst_, journal_b,
                         {.unpack = Options(), .claims = &claims_b}, {});
    clock_a.Advance(seconds(61));
  };
  // A writes one entry at a time (an executor of one worker): nothing of A's is under way
  // beside the stalled write.
  transfer::Executor serial(transfer::ExecutorOptions{.concurrency = 1});
  UnpackOptions one_at_a_time = Options();
  one_at_a_time.executor = &serial;
  auto a = UnpackListed(staging_, "1-1-0000000a.fza", dst_, journal_a,
                        {.unpack = one_at_a_time, .claims = &claims_a}, {});
  EXPECT_EQ(a.status().code(), ErrorCode::kFailedPrecondition) << a.status().ToString();
  EXPECT_NE(a.status().message().find("lost to another unpacker"), std::string::npos);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_FALSE(taken->held);
  EXPECT_TRUE(taken->unpack.archive_deleted);
  // B resumed at A's last recorded watermark (at most 10):
  // what A wrote past it B found there, within the window.
  ASSERT_TRUE(journal_a.mark.has_value());
  EXPECT_LE(*journal_a.mark, 10u);
  EXPECT_EQ(taken->unpack.written + taken->unpack.already_present, kEntries - *journal_a.mark);
  EXPECT_EQ(taken->unpack.written, static_cast<uint64_t>(kEntries - 10));
  const auto counts = dst_.Counts();
  EXPECT_EQ(counts.size(), static_cast<size_t>(kEntries));
  for (const auto& [key, n] : counts) EXPECT_EQ(n, 1) << key << " written " << n << " times";
  EXPECT_TRUE(StagingKeys().empty()) << "archive and claims all gone";
}

// A held archive is tried again a quarter of the ttl after it was found held; the next
// listing comes by then even when the listing interval is longer, and right away is never
// needed while nothing is held.
TEST_F(ClaimTest, HeldArchivesAreDueAQuarterOfTheTtlLater) {
  testing::FakeClock clock;
  HeldArchives held(seconds(60), clock);
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.NextListingIn(seconds(300)), seconds(300)) << "nothing held: --follow's";
  EXPECT_EQ(held.NextListingIn(seconds(0)), seconds(0));
  held.Held("1-2-0000000b.fza");
  clock.Advance(seconds(5));
  held.Held("1-1-0000000a.fza");
  EXPECT_TRUE(held.Due().empty());
  EXPECT_EQ(held.NextListingIn(seconds(300)), seconds(10)) << "b's retry, not --follow's 300 s";
  EXPECT_EQ(held.NextListingIn(seconds(0)), seconds(10));
  EXPECT_EQ(held.NextListingIn(seconds(4)), seconds(4)) << "a shorter listing interval first";
  clock.Advance(std::chrono::milliseconds(9'999));
  EXPECT_TRUE(held.Due().empty());
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(held.Due(), std::vector<std::string>{"1-2-0000000b.fza"});
  EXPECT_EQ(held.NextListingIn(seconds(300)), seconds(0));
  clock.Advance(seconds(5));
  EXPECT_EQ(held.Due(), (std::vector<std::string>{"1-1-0000000a.fza", "1-2-0000000b.fza"}));
  held.Held("1-2-0000000b.fza");  // tried again, held again: due a quarter of the ttl from now
  EXPECT_EQ(held.Due(), std::vector<std::string>{"1-1-0000000a.fza"});
  held.Retain({"1-2-0000000b.fza", "1-3-0000000c.fza"});  // 1-1-0000000a.fza not listed any more
  EXPECT_TRUE(held.Due().empty());
  held.Forget("1-2-0000000b.fza");
  EXPECT_TRUE(held.empty());
}

// However many archives other unpackers hold, an unpacker remembers kMaxHeld of them: the
// others are tried again on its next listing (its memory stays bounded).
TEST_F(ClaimTest, HeldArchivesRememberedAreBounded) {
  testing::FakeClock clock;
  HeldArchives held(seconds(60), clock);
  for (size_t i = 0; i < HeldArchives::kMaxHeld + 50; ++i) held.Held("a" + std::to_string(i));
  clock.Advance(seconds(15));
  EXPECT_EQ(held.Due().size(), HeldArchives::kMaxHeld);
  EXPECT_FALSE(held.Contains("a" + std::to_string(HeldArchives::kMaxHeld)));
  held.Held("a0");  // one remembered already: its time is renewed
  EXPECT_EQ(held.Due().size(), HeldArchives::kMaxHeld - 1);
}

// The unpacker that found an archive held goes back to it as soon as its retry is due, after
// the archive it is on, not after every other archive of the listing: a stalled holder's
// archive is taken over within the pass, the others still unpacked once each.
TEST_F(ClaimTest, AHeldArchiveIsTakenOverWithinThePassThatFoundItHeld) {
  constexpr int kEntries = 10;
  for (const char* name : {"1-1-0000000a.fza", "1-2-0000000b.fza", "1-3-0000000c.fza"}) Stage(name, kEntries);
  testing::FakeClock clock_a, clock_b;
  Claim::Outcome outcome;
  // A claims 1-1-0000000a.fza, records that it started, then stalls for good.
  auto a = Claim::Acquire(staging_, "1-1-0000000a.fza", Claims("A", &clock_a), &outcome, {});
  ASSERT_TRUE(a.ok() && *a) << a.status().ToString();
  ASSERT_TRUE((*a)->Record(0, kEntries, false).ok());
  // B's unpack of 1-2-0000000b.fza takes longer than A's ttl (its first write moves the clocks on).
  dst_.hook_at = 1;
  dst_.hook = [&] {
    server_.Advance(seconds(61));
    clock_a.Advance(seconds(61));
    clock_b.Advance(seconds(61));
  };
  const ClaimOptions claims_b = Claims("B", &clock_b);
  HeldArchives held(claims_b.ttl, clock_b);
  std::vector<std::string> tried;
  auto try_archive = [&](const std::string& key) {
    tried.push_back(key);
    MemoryJournal journal;
    auto r =
        UnpackListed(staging_, key, dst_, journal, {.unpack = Options(), .claims = &claims_b}, {});
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    return r.ok() && r->held;
  };
  ASSERT_TRUE(UnpackPass(staging_, held, try_archive, {}).ok());
  EXPECT_EQ(tried, (std::vector<std::string>{"1-1-0000000a.fza", "1-2-0000000b.fza", "1-1-0000000a.fza", "1-3-0000000c.fza"}))
      << "1-1-0000000a.fza again right after 1-2-0000000b.fza, 1-3-0000000c.fza not twice";
  EXPECT_TRUE(held.empty()) << "1-1-0000000a.fza taken over in the pass that found it held";
  const auto counts = dst_.Counts();
  EXPECT_EQ(counts.size(), static_cast<size_t>(3 * kEntries));
  for (const auto& [key, n] : counts) EXPECT_EQ(n, 1) << key << " written " << n << " times";
  EXPECT_TRUE(StagingKeys().empty()) << "archives and claims all gone";
  EXPECT_FALSE((*a)->Fence().ok()) << "the stalled owner is fenced";
}

// Regions: each region's unpackers claim apart; markers and claims go with the archive, and a
// claim whose archive is gone is an orphan, never an archive.
TEST_F(ClaimTest, ClaimsAndMarkersOfSeveralRegionsAreCleanedUp) {
  Stage("1-4-0000000f.fza", 10, {"east", "west"});
  const ClaimOptions east = Claims("E", nullptr, "east"), west = Claims("W", nullptr, "west");
  MemoryJournal je, jw;
  CountingBackend dst_west;
  UnpackOptions oe = Options(), ow = Options();
  oe.region = "east";
  ow.region = "west";
  auto e =
      UnpackListed(staging_, "1-4-0000000f.fza", dst_, je, {.unpack = oe, .claims = &east}, {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->unpack.archive_deleted);
  EXPECT_EQ(StagingKeys(), (std::vector<std::string>{"1-4-0000000f.fza", "1-4-0000000f.fza.done/east"}));
  // A second east unpacker finds the marker after claiming: nothing written, claim released.
  MemoryJournal je2;
  auto e2 =
      UnpackListed(staging_, "1-4-0000000f.fza", dst_, je2, {.unpack = oe, .claims = &east}, {});
  ASSERT_TRUE(e2.ok());
  EXPECT_TRUE(e2->skipped);
  auto w =
      UnpackListed(staging_, "1-4-0000000f.fza", dst_west, jw, {.unpack = ow, .claims = &west}, {});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(w->unpack.archive_deleted);
  EXPECT_TRUE(StagingKeys().empty());
  for (auto* d : {&dst_, &dst_west}) {
    EXPECT_EQ(d->Counts().size(), 10u);
    for (const auto& [key, n] : d->Counts()) EXPECT_EQ(n, 1) << key;
  }

  storage::WriteSpec spec;
  ASSERT_TRUE(staging_.Put("1-5-00000000.fza.claim/east/0000000003", {}, spec, {}).ok());
  auto listed = ListStaged(staging_);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->archives.empty());
  EXPECT_EQ(listed->orphans, std::vector<std::string>{"1-5-00000000.fza.claim/east/0000000003"});
}

}  // namespace
}  // namespace ferry::transport
