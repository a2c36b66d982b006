// Archived sources in RunSync/TransferEngine (archived.cc, restore_wait.cc), on a memory store
// that behaves like S3 Glacier: objects of an archive class (or an "Intelligent-Tiering" key
// whose class the listing does not show) read only after a restore, which finishes after a
// given number of HEADs of the object; time on a FakeClock.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "transfer/memory_fixture.h"
#include "transfer/restore_wait.h"
#include "transfer/sync.h"
#include "testing/wait_for.h"

namespace ferry::transfer {
namespace {

using namespace std::chrono_literals;
using storage::MemoryBackend;
using testing::Bytes;

// S3 Glacier's behaviour over a MemoryBackend (see the file comment). Thread-safe.
class GlacierFake : public ferry::testing::BorrowedBackend {
 public:
  // A restore finishes at the `heads_to_restore`-th HEAD after it was asked for.
  GlacierFake(MemoryBackend& store, int heads_to_restore)
      : BorrowedBackend(store), heads_to_restore_(heads_to_restore) {}

  // `key` is in an archive tier its listing does not show (Intelligent-Tiering).
  void TierArchived(const std::string& key) {
    std::lock_guard lock(mu_);
    tiered_.insert(key);
  }
  // `key`'s restore finished before the run.
  void Restored(const std::string& key) {
    std::lock_guard lock(mu_);
    restores_[key] = Restore{.heads_left = 0};
  }
  void RefuseRestores(Status s) {
    std::lock_guard lock(mu_);
    refuse_ = std::move(s);
  }
  struct Asked {
    std::string key;
    int days = 0;
    std::string tier;
  };
  std::vector<Asked> asked() const {
    std::lock_guard lock(mu_);
    return asked_;
  }
  int reads_refused() const {
    std::lock_guard lock(mu_);
    return reads_refused_;
  }

  Result<std::unique_ptr<storage::ListingCursor>> List(std::string_view prefix) override {
    FERRY_ASSIGN_OR_RETURN(auto inner, BorrowedBackend::List(prefix));
    return std::unique_ptr<storage::ListingCursor>(new Marking(std::move(inner)));
  }
  Result<std::unique_ptr<storage::ListingCursor>> ListFrom(std::string_view prefix,
                                                           std::string_view after) override {
    FERRY_ASSIGN_OR_RETURN(auto inner, BorrowedBackend::ListFrom(prefix, after));
    return std::unique_ptr<storage::ListingCursor>(new Marking(std::move(inner)));
  }
  Result<storage::ObjectInfo> Stat(std::string_view key, bool tags, std::stop_token s) override {
    FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info, BorrowedBackend::Stat(key, tags, s));
    std::lock_guard lock(mu_);
    info.archive = StateLocked(info, /*head=*/true);
    return info;
  }
  Status ReadAt(std::string_view k, uint64_t o, std::span<std::byte> out, std::string_view e,
                std::stop_token s) override {
    FERRY_RETURN_IF_ERROR(Readable(k, s));
    return BorrowedBackend::ReadAt(k, o, out, e, s);
  }
  Result<storage::ObjectInfo> ReadObject(std::string_view k, std::span<std::byte> out,
                                         std::string_view e, std::stop_token s) override {
    FERRY_RETURN_IF_ERROR(Readable(k, s));
    return BorrowedBackend::ReadObject(k, out, e, s);
  }
  Result<storage::RestoreOutcome> RequestRestore(const storage::ObjectInfo& object,
                                                 const storage::RestoreSpec& spec,
                                                 std::stop_token stop) override {
    FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info,
                           BorrowedBackend::Stat(object.key, false, stop));
    std::lock_guard lock(mu_);
    asked_.push_back({object.key, spec.days, spec.tier});
    if (!refuse_.ok()) return refuse_;
    if (!Archived(info)) return Status::FailedPrecondition("InvalidObjectState: not archived");
    auto it = restores_.find(info.key);
    if (it == restores_.end()) {
      restores_[info.key] = Restore{.heads_left = heads_to_restore_};
      return storage::RestoreOutcome::kStarted;
    }
    return it->second.heads_left > 0 ? storage::RestoreOutcome::kInProgress
                                     : storage::RestoreOutcome::kAlreadyRestored;
  }

 private:
  struct Restore {
    int heads_left = 0;  // HEADs until it is done
  };
  // Sets what S3Backend's listing sets: archived from the listed class only.
  class Marking : public storage::ListingCursor {
   public:
    explicit Marking(std::unique_ptr<storage::ListingCursor> inner) : inner_(std::move(inner)) {}
    Result<const storage::ObjectInfo*> Next() override {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* next, inner_->Next());
      if (next == nullptr) return next;
      current_ = *next;
      current_.archive.archived = storage::IsArchiveClass(current_.storage_class);
      return &current_;
    }

   private:
    std::unique_ptr<storage::ListingCursor> inner_;
    storage::ObjectInfo current_;
  };

  bool Archived(const storage::ObjectInfo& info) const {
    return storage::IsArchiveClass(info.storage_class) || tiered_.contains(info.key);
  }
  // REQUIRES: mu_ held. A HEAD moves a running restore on.
  storage::ArchiveState StateLocked(const storage::ObjectInfo& info, bool head) {
    storage::ArchiveState a;
    a.archived = Archived(info);
    auto it = restores_.find(info.key);
    if (!a.archived || it == restores_.end()) return a;
    if (head && it->second.heads_left > 0) --it->second.heads_left;
    a.restore_requested = true;
    a.restore_ongoing = it->second.heads_left > 0;
    return a;
  }
  Status Readable(std::string_view key, std::stop_token s) {
    FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info, BorrowedBackend::Stat(key, false, s));
    std::lock_guard lock(mu_);
    if (StateLocked(info, /*head=*/false).readable()) return Status::Ok();
    ++reads_refused_;
    return Status::FailedPrecondition("object is archived and not restored: " +
                                      std::string(key) + " (403 InvalidObjectState)");
  }

  const int heads_to_restore_;
  mutable std::mutex mu_;
  std::set<std::string> tiered_;               // GUARDED_BY(mu_)
  std::map<std::string, Restore> restores_;    // GUARDED_BY(mu_)
  std::vector<Asked> asked_;                   // GUARDED_BY(mu_)
  Status refuse_;                              // GUARDED_BY(mu_)
  int reads_refused_ = 0;                      // GUARDED_BY(mu_)
};

void PutClass(MemoryBackend& b, const std::string& key, const std::string& body,
              const std::string& storage_class) {
  storage::WriteSpec spec;
  spec.size = body.size();
  spec.storage_class = storage_class;
  ASSERT_TRUE(b.Put(key, checksum::AsBytes(body), spec, {}).ok());
}

SyncOptions GlacierOptions(ferry::testing::FakeClock& clock) {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 1 << 20;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 1 << 20;
  o.transfer.restore.clock = &clock;
  o.clock = &clock;
  return o;
}

// A source of one STANDARD, one GLACIER and one DEEP_ARCHIVE object.
struct GlacierSource {
  explicit GlacierSource(int heads_to_restore) : fake(store, heads_to_restore) {
    PutClass(store, "a", Bytes(100, 1), "");
    PutClass(store, "cold/d", Bytes(3000, 2), "DEEP_ARCHIVE");
    PutClass(store, "cold/g", Bytes(2000, 3), "GLACIER");
  }
  MemoryBackend store;
  GlacierFake fake;
};

TEST(ArchivedSyncTest, WithoutRestoresArchivedObjectsAreReportedNotFailed) {
  ferry::testing::FakeClock clock;
  GlacierSource src(1);
  MemoryBackend dst;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(src.fake, dst, GlacierOptions(clock), stats, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.objects_copied.load(), 1u);
  EXPECT_EQ(stats.archived_not_copied.load(), 2u);
  EXPECT_EQ(stats.restores_requested.load(), 0u);
  EXPECT_EQ(stats.objects_planned.load(), 1u);  // the progress line adds up
  EXPECT_EQ(dst.Keys(), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(src.fake.asked().empty());
  EXPECT_EQ(src.fake.reads_refused(), 0);  // a HEAD told, no read was tried
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(ArchivedSyncTest, AFinishedRestoreIsCopiedWithoutTheFlag) {
  ferry::testing::FakeClock clock;
  GlacierSource src(1);
  src.fake.Restored("cold/g");
  MemoryBackend dst;
  Stats stats;
  ASSERT_TRUE(
      testing::SyncOnOwnExecutor(src.fake, dst, GlacierOptions(clock), stats, {}).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(dst.Contents("cold/g"), Bytes(2000, 3));
  EXPECT_EQ(stats.archived_copied.load(), 1u);
  EXPECT_EQ(stats.archived_not_copied.load(), 1u);  // cold/d
  EXPECT_TRUE(src.fake.asked().empty());
}

void ExpectRestoredAndCopied(int concurrency) {
  ferry::testing::FakeClock clock;
  GlacierSource src(/*heads_to_restore=*/4);
  MemoryBackend dst;
  SyncOptions o = GlacierOptions(clock);
  o.executor.concurrency = concurrency;
  o.transfer.restore.days = 2;
  o.transfer.restore.tier = "Bulk";
  o.transfer.restore.poll = 60s;
  o.transfer.restore.wait = 1h;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(src.fake, dst, o, stats, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.objects_copied.load(), 3u);
  EXPECT_EQ(stats.archived_copied.load(), 2u);
  EXPECT_EQ(stats.restores_requested.load(), 2u);
  EXPECT_EQ(stats.archived_not_copied.load(), 0u);
  EXPECT_EQ(dst.Contents("cold/g"), Bytes(2000, 3));
  EXPECT_EQ(dst.Contents("cold/d"), Bytes(3000, 2));
  EXPECT_EQ(dst.Contents("a"), Bytes(100, 1));
  const auto asked = src.fake.asked();
  ASSERT_EQ(asked.size(), 2u);
  for (const auto& a : asked) {
    EXPECT_EQ(a.days, 2);
    EXPECT_EQ(a.tier, "Bulk");
  }
  // The first HEAD (before the request) does not count; four rounds, 60 s apart, finish a
  // restore (one HEAD per round): four rounds when both objects waited from the first, up to
  // eight when the fake clock's instant sleeps let the first finish before the second joined.
  // The waiting was on the run's clock, at the interval.
  const auto sleeps = clock.sleeps();
  EXPECT_GE(sleeps.size(), 4u);
  EXPECT_LE(sleeps.size(), 8u);
  for (auto s : sleeps) EXPECT_EQ(s, 60s);
  EXPECT_EQ(src.fake.reads_refused(), 0);
}

TEST(ArchivedSyncTest, WithRestoresWaitsOnTheClockAndCopies) { ExpectRestoredAndCopied(4); }

TEST(ArchivedSyncTest, OneWorkerServesThePollAndTheCopies) { ExpectRestoredAndCopied(1); }

TEST(ArchivedSyncTest, RestoresNotDoneWithinTheWaitAreReportedNotFailed) {
  ferry::testing::FakeClock clock;
  MemoryBackend store;
  PutClass(store, "cold", Bytes(10, 4), "GLACIER");  // one object: one deadline
  GlacierFake fake(store, /*heads_to_restore=*/1000);
  MemoryBackend dst;
  SyncOptions o = GlacierOptions(clock);
  o.transfer.restore.days = 1;
  o.transfer.restore.poll = 60s;
  o.transfer.restore.wait = 150s;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(fake, dst, o, stats, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.archived_not_copied.load(), 1u);
  EXPECT_EQ(stats.restores_requested.load(), 1u);
  EXPECT_TRUE(dst.Keys().empty());
  // 60 + 60 + 30: the last sleep ends at the deadline, not a poll later.
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::milliseconds>{60s, 60s, 30s}));
}

TEST(ArchivedSyncTest, ARerunAsksAgainAndFindsTheRestoreInProgress) {
  ferry::testing::FakeClock clock;
  GlacierSource src(/*heads_to_restore=*/1000);
  MemoryBackend dst;
  SyncOptions o = GlacierOptions(clock);
  o.transfer.restore.days = 1;
  o.transfer.restore.wait = 0s;
  Stats first;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src.fake, dst, o, first, {}).status.ok());
  Stats second;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src.fake, dst, o, second, {}).status.ok());
  EXPECT_EQ(second.failures(), 0u);
  EXPECT_EQ(second.archived_not_copied.load(), 2u);
  EXPECT_EQ(second.objects_copied.load(), 0u);  // "a" is there already
  EXPECT_EQ(src.fake.asked().size(), 4u);
}

TEST(ArchivedSyncTest, SyncDeleteNeverDeletesBecauseOfAnArchivedSource) {
  ferry::testing::FakeClock clock;
  GlacierSource src(1);
  MemoryBackend dst;
  testing::Put(dst, "cold/g", "older copy");
  testing::Put(dst, "cold/g/under", "a key under the archived one's name");
  testing::Put(dst, "extra", "destination only");
  SyncOptions o = GlacierOptions(clock);
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(src.fake, dst, o, stats, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_FALSE(r.deletes_skipped);
  EXPECT_EQ(dst.Contents("cold/g"), "older copy");  // neither replaced nor deleted
  EXPECT_FALSE(dst.Stat("extra", false, {}).ok());   // a plain destination-only key goes
  EXPECT_EQ(stats.archived_not_copied.load(), 2u);
}

TEST(ArchivedSyncTest, AnArchiveTierTheListingDoesNotShowIsFoundByItsRead) {
  ferry::testing::FakeClock clock;
  GlacierSource src(1);
  PutClass(src.store, "tiered", Bytes(500, 9), "INTELLIGENT_TIERING");
  src.fake.TierArchived("tiered");
  MemoryBackend dst;
  Stats stats;
  ASSERT_TRUE(
      testing::SyncOnOwnExecutor(src.fake, dst, GlacierOptions(clock), stats, {}).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.archived_not_copied.load(), 3u);
  EXPECT_EQ(src.fake.reads_refused(), 1);
  EXPECT_FALSE(dst.Stat("tiered", false, {}).ok());
}

TEST(ArchivedSyncTest, ARefusedRestoreIsAFailure) {
  ferry::testing::FakeClock clock;
  GlacierSource src(1);
  src.fake.RefuseRestores(Status::PermissionDenied("access denied for restore"));
  MemoryBackend dst;
  SyncOptions o = GlacierOptions(clock);
  o.transfer.restore.days = 1;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src.fake, dst, o, stats, {}).status.ok());
  EXPECT_EQ(stats.failures(), 2u);
  EXPECT_EQ(stats.archived_not_copied.load(), 0u);
  EXPECT_EQ(stats.objects_copied.load(), 1u);
}

TEST(ArchivedSyncTest, DryRunAsksNoRestoreAndReportsArchived) {
  ferry::testing::FakeClock clock;
  GlacierSource src(1);
  MemoryBackend dst;
  SyncOptions o = GlacierOptions(clock);
  o.transfer.dry_run = true;
  o.transfer.restore.days = 1;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src.fake, dst, o, stats, {}).status.ok());
  EXPECT_TRUE(src.fake.asked().empty());
  EXPECT_EQ(stats.archived_not_copied.load(), 2u);
  EXPECT_EQ(stats.objects_copied.load(), 1u);  // "would copy" a
  EXPECT_TRUE(dst.Keys().empty());
}

TEST(ArchivedSyncTest, CancelEndsTheWait) {
  ferry::testing::FakeClock clock;
  GlacierSource src(/*heads_to_restore=*/1000000);
  MemoryBackend dst;
  SyncOptions o = GlacierOptions(clock);
  o.transfer.restore.days = 1;
  o.transfer.restore.poll = 1s;
  o.transfer.restore.wait = std::chrono::hours(10000);
  std::stop_source stop;
  Stats stats;
  std::thread stopper([&] {
    ferry::testing::WaitFor([&] { return clock.sleeps().size() >= 5; });
    stop.request_stop();
  });
  SyncResult r = testing::SyncOnOwnExecutor(src.fake, dst, o, stats, stop.get_token());
  stopper.join();
  EXPECT_EQ(r.status.code(), ErrorCode::kCancelled);
  EXPECT_EQ(stats.archived_not_copied.load(), 0u);
  // Both waiting objects ended with kCancelled ("a" too when it was not copied yet).
  EXPECT_GE(stats.failures(), 2u);
  EXPECT_FALSE(dst.Stat("cold/g", false, {}).ok());
  EXPECT_FALSE(dst.Stat("cold/d", false, {}).ok());
}

TEST(RestoreWaitListTest, OnePollScheduledWhileAnythingWaits) {
  RestoreWaitList list;
  EXPECT_TRUE(list.Add({CopyRequest{}, Clock::MonoTime(10s)}));
  EXPECT_FALSE(list.Add({CopyRequest{}, Clock::MonoTime(5s)}));
  EXPECT_EQ(list.EarliestDeadline(), Clock::MonoTime(5s));
  auto taken = list.TakeAll();
  EXPECT_EQ(taken.size(), 2u);
  EXPECT_FALSE(list.Add({CopyRequest{}, Clock::MonoTime(7s)}));  // the round is on
  taken.pop_back();
  EXPECT_TRUE(list.PutBack(std::move(taken)));
  EXPECT_EQ(list.size(), 2u);
  list.TakeAll();
  EXPECT_FALSE(list.PutBack({}));
  EXPECT_EQ(list.EarliestDeadline(), Clock::MonoTime::max());
  EXPECT_TRUE(list.Add({CopyRequest{}, Clock::MonoTime(1s)}));  // a new poll is needed
}

TEST(RestoreWaitListTest, NextPollDelay) {
  const Clock::MonoTime now(100s);
  const Clock::MonoTime next(160s);
  EXPECT_EQ(NextPollDelay(now, next, Clock::MonoTime::max()), 60s);
  EXPECT_EQ(NextPollDelay(now, next, Clock::MonoTime(130s)), 30s);
  EXPECT_EQ(NextPollDelay(now, next, Clock::MonoTime(100s)), 0s);
  EXPECT_EQ(NextPollDelay(now, next, Clock::MonoTime(50s)), 0s);
  EXPECT_EQ(NextPollDelay(now, Clock::MonoTime(90s), Clock::MonoTime::max()), 0s);
}

}  // namespace
}  // namespace ferry::transfer
