// RunSync's --max-transfer / --max-duration / --cutoff-mode (transfer/cutoff.h) on
// MemoryBackends and a FakeClock: what each mode copies, that nothing is deleted, the stop
// reason and what is left, and that a rerun copies the rest.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "plan/merge.h"
#include "storage/memory/memory_backend.h"
#include "storage/sorted_listing.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::SmallParts;

SyncOptions CutOptions(CutoffMode mode, uint64_t max_transfer) {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 64 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 10000;
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  o.cutoff.mode = mode;
  o.cutoff.max_transfer = max_transfer;
  return o;
}

// 10 source objects of 100 bytes (k0..k9), and 2 destination-only objects a sync would delete.
struct CutFixture {
  MemoryBackend src{SmallParts("a")};
  MemoryBackend dst{SmallParts("b")};
  CutFixture() {
    for (int i = 0; i < 10; ++i) Put(src, "k" + std::to_string(i), Bytes(100, i));
    Put(dst, "x1", Bytes(10, 1));
    Put(dst, "x2", Bytes(10, 2));
    dst.ResetCounts();
  }
  // The destination holds exactly the source's keys (the extras deleted).
  void ExpectSynced() const { EXPECT_EQ(dst.Keys(), src.Keys()); }
};

void ExpectNothingDeleted(const CutFixture& f, const SyncResult& r) {
  EXPECT_EQ(f.dst.counts().deletes, 0);
  EXPECT_TRUE(r.deletes_skipped);
}

TEST(SyncCutoffTest, SoftMaxTransferStopsStartingAndSaysWhatIsLeft) {
  CutFixture f;
  Stats stats;
  // Copies start while the bytes started are below 250: k0, k1, k2 (300 bytes).
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, CutOptions(CutoffMode::kSoft, 250),
                                            stats);
  EXPECT_EQ(r.cutoff, CutoffReason::kMaxTransfer);
  EXPECT_EQ(r.status.code(), ErrorCode::kCancelled);
  EXPECT_NE(r.status.message().find("--max-transfer 250 B"), std::string::npos)
      << r.status.message();
  EXPECT_NE(r.status.message().find("7 objects (700 B) not copied"), std::string::npos)
      << r.status.message();
  EXPECT_EQ(stats.objects_copied.load(), 3u);
  EXPECT_EQ(r.objects_left, 7u);
  EXPECT_EQ(r.bytes_left, 700u);
  EXPECT_EQ(stats.failures(), 0u);
  ExpectNothingDeleted(f, r);
  EXPECT_TRUE(f.dst.Contents("x1").has_value());
}

TEST(SyncCutoffTest, CautiousNeverStartsACopyPastTheLimit) {
  CutFixture f;
  Put(f.src, "k0", Bytes(100, 0));
  Put(f.src, "k1", Bytes(300, 1));  // 100 + 300 > 350: not started, nor anything after it
  Stats stats;
  // One copy at a time, so that they start in the listing's order: with several workers k1 may
  // start first (300 <= 350, then k0 is refused), and k2 may start before k1 is refused.
  SyncOptions o = CutOptions(CutoffMode::kCautious, 350);
  o.executor.concurrency = 1;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, o, stats);
  EXPECT_EQ(r.cutoff, CutoffReason::kMaxTransfer);
  EXPECT_EQ(stats.objects_copied.load(), 1u);
  EXPECT_LE(stats.bytes_copied.load(), 350u);
  EXPECT_FALSE(f.dst.Contents("k1").has_value());
  EXPECT_EQ(f.dst.counts().puts, 1);  // one write in all: k0
  EXPECT_EQ(r.objects_left, 9u);
  ExpectNothingDeleted(f, r);
}

TEST(SyncCutoffTest, HardMaxTransferCopiesNoMoreThanStartedAndDeletesNothing) {
  CutFixture f;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, CutOptions(CutoffMode::kHard, 250),
                                            stats);
  EXPECT_EQ(r.cutoff, CutoffReason::kMaxTransfer);
  // k0..k2 started; those still in flight at the cut are cancelled and counted as left.
  EXPECT_LE(stats.objects_copied.load(), 3u);
  EXPECT_EQ(stats.objects_copied.load() + r.objects_left, 10u);
  ExpectNothingDeleted(f, r);
}

TEST(SyncCutoffTest, ARerunCopiesTheRestAndDeletes) {
  CutFixture f;
  Stats first;
  SyncResult cut = testing::SyncOnOwnExecutor(f.src, f.dst,
                                              CutOptions(CutoffMode::kCautious, 500), first);
  ASSERT_EQ(cut.cutoff, CutoffReason::kMaxTransfer);
  EXPECT_EQ(first.objects_copied.load(), 5u);
  Stats second;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, CutOptions(CutoffMode::kCautious, 500),
                                            second);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.cutoff, CutoffReason::kNone);
  EXPECT_EQ(second.objects_copied.load(), 5u);  // the rest, nothing copied twice
  f.ExpectSynced();
}

// A listing driver that moves the run's FakeClock by `step` after each key it hands on, so that
// the deadline passes in the middle of the run, at a known key.
class ClockMovingVisitor : public plan::ListingVisitor {
 public:
  ClockMovingVisitor(plan::ListingVisitor& inner, ferry::testing::FakeClock& clock,
                     std::chrono::milliseconds step)
      : inner_(inner), clock_(clock), step_(step) {}
  Status SourceOnly(const storage::ObjectInfo& src) override {
    FERRY_RETURN_IF_ERROR(inner_.SourceOnly(src));
    clock_.SleepFor(step_, {});
    return Status::Ok();
  }
  Status DestinationOnly(const storage::ObjectInfo& dst) override {
    return inner_.DestinationOnly(dst);
  }
  Status Both(const storage::ObjectInfo& s, const storage::ObjectInfo& d) override {
    return inner_.Both(s, d);
  }

 private:
  plan::ListingVisitor& inner_;
  ferry::testing::FakeClock& clock_;
  std::chrono::milliseconds step_;
};

ListingDriver MovingDriver(ferry::testing::FakeClock& clock, std::chrono::milliseconds step) {
  return [&clock, step](Executor&, storage::Backend& src, storage::Backend& dst,
                        plan::ListingVisitor& planner, std::stop_token) -> Status {
    FERRY_ASSIGN_OR_RETURN(auto s, storage::ListSorted(src, ""));
    FERRY_ASSIGN_OR_RETURN(auto d, storage::ListSorted(dst, ""));
    ClockMovingVisitor moving(planner, clock, step);
    return plan::MergeListings(*s, *d, moving);
  };
}

TEST(SyncCutoffTest, MaxDurationStopsAtTheDeadlineOnTheRunsClock) {
  for (CutoffMode mode : {CutoffMode::kSoft, CutoffMode::kHard}) {
    SCOPED_TRACE(CutoffModeName(mode));
    CutFixture f;
    ferry::testing::FakeClock clock;
    SyncOptions o = CutOptions(mode, 0);
    o.clock = &clock;
    o.cutoff.max_duration = std::chrono::seconds(30);
    o.listing = MovingDriver(clock, std::chrono::seconds(10));  // k3 comes at 30 s
    Stats stats;
    SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, o, stats);
    EXPECT_EQ(r.cutoff, CutoffReason::kMaxDuration);
    EXPECT_NE(r.status.message().find("--max-duration 30s"), std::string::npos)
        << r.status.message();
    // Never started past the deadline: k3..k9 are not there (k0..k2 may have started after
    // it too, the clock runs ahead of the workers), and what was not copied is left.
    for (int i = 3; i < 10; ++i) EXPECT_FALSE(f.dst.Contents("k" + std::to_string(i)));
    EXPECT_LE(stats.objects_copied.load(), 3u);
    // The listing stopped at k3 (found past the deadline, left): k0..k3 are accounted for.
    EXPECT_EQ(stats.objects_copied.load() + r.objects_left, 4u);
    EXPECT_EQ(stats.failures(), 0u);
    EXPECT_EQ(f.dst.counts().deletes, 0);
    EXPECT_TRUE(f.dst.Contents("x1").has_value());
  }
}

// A source whose read of one key blocks until the copy is cancelled, and says when it began.
class StuckRead : public ferry::testing::BorrowedBackend {
 public:
  StuckRead(storage::Backend& b, std::string key) : BorrowedBackend(b), key_(std::move(key)) {}
  Result<storage::ObjectInfo> ReadObject(std::string_view k, std::span<std::byte> out,
                                         std::string_view e, std::stop_token s) override {
    if (k != key_) return BorrowedBackend::ReadObject(k, out, e, s);
    Block(s);
    return Status::Cancelled("read stopped");
  }
  Status ReadAt(std::string_view k, uint64_t o, std::span<std::byte> out, std::string_view e,
                std::stop_token s) override {
    if (k != key_) return BorrowedBackend::ReadAt(k, o, out, e, s);
    Block(s);
    return Status::Cancelled("read stopped");
  }
  std::future<void> began() { return began_.get_future(); }

 private:
  void Block(std::stop_token s) {
    began_.set_value();
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait(lock, s, [] { return false; });
  }
  const std::string key_;
  std::promise<void> began_;
};

// A hard duration cut while k0's copy is in flight: the copy is cancelled and left (as the
// copies never started), not a failure; the run says the cut, not an error of its own.
TEST(SyncCutoffTest, AHardCutLeavesTheCopyInFlightWithoutCountingAFailure) {
  CutFixture f;
  StuckRead src(f.src, "k0");
  std::future<void> began = src.began();
  ferry::testing::FakeClock clock;
  SyncOptions o = CutOptions(CutoffMode::kHard, 0);
  o.clock = &clock;
  o.cutoff.max_duration = std::chrono::seconds(30);
  // After k0 is found, the clock passes the deadline only once k0's read has begun.
  o.listing = [&](Executor&, storage::Backend& s, storage::Backend& d,
                  plan::ListingVisitor& planner, std::stop_token) -> Status {
    FERRY_ASSIGN_OR_RETURN(auto sl, storage::ListSorted(s, ""));
    FERRY_ASSIGN_OR_RETURN(auto dl, storage::ListSorted(d, ""));
    struct Gate : plan::ListingVisitor {
      plan::ListingVisitor& inner;
      ferry::testing::FakeClock& clock;
      std::future<void>& began;
      Gate(plan::ListingVisitor& i, ferry::testing::FakeClock& c, std::future<void>& b)
          : inner(i), clock(c), began(b) {}
      Status SourceOnly(const storage::ObjectInfo& src) override {
        FERRY_RETURN_IF_ERROR(inner.SourceOnly(src));
        if (src.key == "k0") {
          EXPECT_EQ(began.wait_for(std::chrono::seconds(10)), std::future_status::ready);
          clock.SleepFor(std::chrono::seconds(31), {});
        }
        return Status::Ok();
      }
      Status DestinationOnly(const storage::ObjectInfo& dst) override {
        return inner.DestinationOnly(dst);
      }
      Status Both(const storage::ObjectInfo& a, const storage::ObjectInfo& b) override {
        return inner.Both(a, b);
      }
    } gate(planner, clock, began);
    return plan::MergeListings(*sl, *dl, gate);
  };
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(src, f.dst, o, stats);
  EXPECT_EQ(r.cutoff, CutoffReason::kMaxDuration);
  EXPECT_EQ(r.status.code(), ErrorCode::kCancelled) << r.status.ToString();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.objects_copied.load(), 0u);
  EXPECT_EQ(r.objects_left, 2u);  // k0 (cancelled in flight) and k1 (found past the deadline)
  EXPECT_FALSE(f.dst.Contents("k0").has_value());
  EXPECT_EQ(f.dst.counts().deletes, 0);
}

TEST(SyncCutoffTest, NoCutWithinTheLimits) {
  CutFixture f;
  ferry::testing::FakeClock clock;
  SyncOptions o = CutOptions(CutoffMode::kCautious, 1000);  // exactly the 10 objects
  o.clock = &clock;
  o.cutoff.max_duration = std::chrono::hours(1);
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, o, stats);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.cutoff, CutoffReason::kNone);
  EXPECT_EQ(stats.objects_copied.load(), 10u);
  f.ExpectSynced();
}

TEST(SyncCutoffTest, ParsesModes) {
  EXPECT_EQ(*ParseCutoffMode("SOFT"), CutoffMode::kSoft);
  EXPECT_EQ(*ParseCutoffMode("cautious"), CutoffMode::kCautious);
  EXPECT_EQ(*ParseCutoffMode("hard"), CutoffMode::kHard);
  EXPECT_FALSE(ParseCutoffMode("fast").ok());
}

}  // namespace
}  // namespace ferry::transfer
