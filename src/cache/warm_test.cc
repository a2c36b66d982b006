// Warm requests on memory backends and a SQLite index, with an injected clock.
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "cache/test_env.h"
#include "testing/wait_for.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

TEST(WarmTest, CopiesOnceThenSkipsAndRenewsWhatIsCachedAndUnchanged) {
  CacheEnv env;
  env.Put("y23/a", "alpha");
  env.Put("y23/b", "bravo!");
  env.Put("y24/c", "charlie");
  auto first = env.Warm({"y23/"}, 1h);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->listed, 2u);
  EXPECT_EQ(first->copied, 2u);
  EXPECT_EQ(first->bytes, 11u);
  EXPECT_EQ(first->skipped, 0u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"y23/a", "y23/b"}));
  const int64_t expires = (*env.index->Get("y23/a"))->expires_ms;

  env.clock.Advance(30min);
  env.source.ResetCounts();
  env.cache.ResetCounts();
  auto second = env.Warm({"y23/", ""}, 1h, false, "req-2");  // "" covers y23/: one prefix
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->prefixes, (std::vector<std::string>{""}));
  EXPECT_EQ(second->skipped, 2u);
  EXPECT_EQ(second->copied, 1u);            // y24/c
  EXPECT_EQ(env.source.counts().reads, 1);  // only y24/c was read
  EXPECT_EQ(env.cache.counts().puts, 1);
  EXPECT_EQ((*env.index->Get("y23/a"))->expires_ms, expires + 30 * 60 * 1000);
}

TEST(WarmTest, AChangedSourceObjectIsCopiedAgain) {
  CacheEnv env;
  env.Put("k", "old");
  ASSERT_TRUE(env.Warm({""}, 1h).ok());
  env.Put("k", "new contents");
  auto r = env.Warm({""}, 1h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->copied, 1u);
  EXPECT_EQ(env.cache.Contents("k"), "new contents");
}

TEST(WarmTest, LaterRequestsLearnOfFailuresUntilAForce) {
  CacheEnv env;
  env.Put("p/a", "a");
  env.Put("p/b", "b");
  env.cache.FailNext(storage::MemoryBackend::kPut, 2, Status::PermissionDenied("no write"));
  auto failed = env.Warm({"p/"}, 1h, false, "first");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->failed, 2u);
  EXPECT_EQ(failed->copied, 0u);
  ASSERT_EQ(failed->failures.size(), 2u);
  EXPECT_EQ(failed->failures[0].key, "p/a");
  EXPECT_NE(failed->failures[0].error.find("no write"), std::string::npos);
  EXPECT_TRUE(failed->earlier_failures.empty());  // its own are not "earlier"

  // A later request on an overlapping prefix copies the keys and learns of the problem.
  auto later = env.Warm({"p/a"}, 1h, false, "second");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->copied, 1u);
  ASSERT_EQ(later->earlier_failures.size(), 1u);
  EXPECT_EQ(later->earlier_failures[0].key, "p/a");
  EXPECT_EQ(later->earlier_failures[0].request, "first");

  // Force after the failure: everything is copied again, the failures are forgotten.
  env.cache.ResetCounts();
  auto forced = env.Warm({"p/"}, 1h, true, "third");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->copied, 2u);
  EXPECT_EQ(forced->skipped, 0u);
  EXPECT_EQ(env.cache.counts().puts, 2);
  EXPECT_TRUE(forced->earlier_failures.empty());
  auto after = env.Warm({"p/"}, 1h, false, "fourth");
  EXPECT_TRUE(after->earlier_failures.empty());
  EXPECT_EQ(after->skipped, 2u);
}

TEST(WarmTest, BadRequestsAreRefused) {
  CacheEnv env;
  EXPECT_EQ(env.Warm({}, 1h).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(env.Warm({""}, 0s).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(env.Warm({""}, -5s).status().code(), ErrorCode::kInvalidArgument);
}

ClaimItem Listed(CacheEnv& env, const std::string& key) {
  const storage::ObjectInfo o = *env.source.Stat(key, false, {});
  return ClaimItem{.key = key,
                   .source_etag = o.etag,
                   .source_mtime_ns = 0,
                   .size = o.size,
                   .waited_on = ""};
}

// Waits (bounded) until a request waits for keys another one holds: it asks for them again
// every poll, and each poll moves the fake clock (the clock's SleepFor).
bool WaitUntilARequestWaits(CacheEnv& env) {
  return ferry::testing::WaitFor([&] { return !env.clock.sleeps().empty(); });
}

Copied CopiedOf(CacheEnv& env, const std::string& key) {
  const storage::ObjectInfo o = *env.source.Stat(key, false, {});
  return Copied{
      .key = key, .source_etag = o.etag, .source_version = "", .source_mtime_ns = 0, .size = o.size};
}

TEST(WarmTest, AnOverlappingRequestWaitsForTheKeysInFlightAndReportsWhatItJoined) {
  CacheEnv env;
  env.Put("y/m2/a", "a");
  env.Put("y/m2/b", "b");
  // Request A holds y/ (a long lease) and is copying both keys.
  std::vector<std::string> held = {"y/"};
  auto a = env.locks->Acquire("A", held, 24h);  // the waiter's polls move the fake clock
  ASSERT_TRUE(a.ok());
  std::vector<ClaimItem> items = {Listed(env, "y/m2/a"), Listed(env, "y/m2/b")};
  const ClaimOptions opts{.since_ms = env.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_EQ((*env.index->Claim(a->hold.id, "A", items, opts))[1].state, ClaimState::kClaimed);
  env.clock.Advance(1s);  // B starts after A
  Result<WarmResult> b = Status::Internal("not run");
  std::thread waiter([&] { b = env.Warm({"y/m2/"}, 1h, false, "B"); });
  // A finishes its copies (recorded as A's) but keeps its hold.
  EXPECT_TRUE(WaitUntilARequestWaits(env));
  std::vector<Copied> copied = {CopiedOf(env, "y/m2/a"), CopiedOf(env, "y/m2/b")};
  ASSERT_TRUE(env.index->Settle(a->hold.id, copied, {}, {}, 1h, "A").ok());
  waiter.join();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->overlapping, (std::vector<std::string>{"A"}));
  EXPECT_EQ(b->waited_for, (std::vector<std::string>{"A"}));
  EXPECT_EQ(b->copied, 0u);
  EXPECT_EQ(b->skipped, 2u);
  EXPECT_EQ(b->joined, 2u);
  EXPECT_EQ(env.cache.counts().puts, 0);
}

TEST(WarmTest, ALaterRequestCopiesAtOnceWhatIsOutsideTheKeysInFlight) {
  CacheEnv env;
  env.Put("y/a", "a");
  env.Put("y/b", "b");
  env.Put("y/c", "c");
  // A holds the whole bucket and is copying y/a only (its listing has not reached the rest).
  std::vector<std::string> all = {""};
  auto a = env.locks->Acquire("A", all, 24h);  // the waiter's polls move the fake clock
  ASSERT_TRUE(a.ok());
  std::vector<ClaimItem> items = {Listed(env, "y/a")};
  const ClaimOptions opts{.since_ms = env.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_EQ((*env.index->Claim(a->hold.id, "A", items, opts))[0].state, ClaimState::kClaimed);
  env.clock.Advance(1s);
  Result<WarmResult> b = Status::Internal("not run");
  std::thread later([&] { b = env.Warm({"y/"}, 1h, false, "B"); });
  // B copies and records y/b and y/c while A still holds y/a.
  ferry::testing::WaitFor([&] { return env.index->EntriesUnder("y/")->size() >= 2; });
  EXPECT_EQ(env.index->EntriesUnder("y/")->size(), 2u);
  EXPECT_FALSE(env.index->Get("y/a")->has_value());
  // A fails y/a: B reports A's failure instead of copying it.
  std::vector<KeyFailure> failed = {
      KeyFailure{.key = "y/a", .error = "source read failed", .request = "A", .at_ms = 0}};
  ASSERT_TRUE(env.index->Settle(a->hold.id, {}, failed, {}, 1h, "A").ok());
  later.join();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->copied, 2u);
  EXPECT_EQ(b->failed, 1u);
  ASSERT_EQ(b->failures.size(), 1u);
  EXPECT_EQ(b->failures[0].key, "y/a");
  EXPECT_EQ(b->failures[0].request, "A");
  EXPECT_EQ(b->failures[0].error, "source read failed");
  EXPECT_TRUE(b->earlier_failures.empty());  // reported once, as the failure of the key
  EXPECT_EQ(env.cache.counts().puts, 2);
  // A's hold is still there: the later request never waited for the whole of it.
  EXPECT_TRUE(env.locks->Renew(a->hold, 24h).ok());
}

TEST(WarmTest, AKeyWhoseCopyTheHolderCancelledIsCopiedByTheWaiter) {
  CacheEnv env;
  env.Put("k", "v");
  auto a = env.locks->Acquire("A", std::vector<std::string>{""}, 24h);
  std::vector<ClaimItem> items = {Listed(env, "k")};
  const ClaimOptions opts{.since_ms = env.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_EQ((*env.index->Claim(a->hold.id, "A", items, opts))[0].state, ClaimState::kClaimed);
  Result<WarmResult> b = Status::Internal("not run");
  std::thread later([&] { b = env.Warm({""}, 1h, false, "B"); });
  EXPECT_TRUE(WaitUntilARequestWaits(env));
  std::vector<std::string> released = {"k"};  // A was stopped before it copied k
  ASSERT_TRUE(env.index->Settle(a->hold.id, {}, {}, released, 1h, "A").ok());
  later.join();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->copied, 1u);
  EXPECT_EQ(b->waited_for, (std::vector<std::string>{"A"}));
  EXPECT_EQ(env.cache.counts().puts, 1);
}

TEST(WarmTest, ADeadHoldersClaimsAreTakenOverAndItsWorkFinished) {
  CacheEnv env;
  env.Put("d/1", "one");
  env.Put("d/2", "two");
  // The dead holder copied d/1 and died while copying d/2; its lease is never renewed.
  std::vector<std::string> held = {""};
  auto dead = env.locks->Acquire("dead", held, 30s);
  ASSERT_TRUE(dead.ok());
  std::vector<ClaimItem> items = {Listed(env, "d/2")};
  const ClaimOptions opts{.since_ms = env.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_EQ((*env.index->Claim(dead->hold.id, "dead", items, opts))[0].state,
            ClaimState::kClaimed);
  ASSERT_TRUE(env.index->Record(CopiedOf(env, "d/1"), 1h, "dead").ok());
  auto r = env.Warm({"d/"}, 1h, false, "heir");  // waits on the fake clock until it ran out
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->waited_for, (std::vector<std::string>{"dead"}));
  EXPECT_EQ(r->taken_over, (std::vector<std::string>{"dead"}));
  EXPECT_EQ(r->copied, 1u);   // d/2 only
  EXPECT_EQ(r->skipped, 1u);  // d/1 was done by the dead holder
  EXPECT_EQ(env.locks->Renew(dead->hold, 30s).code(), ErrorCode::kFailedPrecondition);
}

TEST(WarmTest, CopiesAreRecordedInBatchesNotOneTransactionEach) {
  CacheEnv env;
  for (int i = 0; i < 600; ++i) env.Put("b/" + std::to_string(i), "x");
  const uint64_t before = env.session->transactions();
  auto r = env.Warm({"b/"}, 1h);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->copied, 600u);
  EXPECT_EQ(env.index->EntriesUnder("b/")->size(), 600u);
  // Claims in batches of 100, records of up to 200 copies (or 100 ms): some dozens of
  // transactions, not 600.
  EXPECT_LT(env.session->transactions() - before, 100u);
  EXPECT_GT(r->index_transactions, 0u);
  EXPECT_LE(r->index_transactions, env.session->transactions() - before);
}

TEST(WarmTest, AnEntryBeingExpiredIsCopiedOnlyAfterTheExpiryLetGo) {
  CacheEnv env;
  env.Put("k", "v");
  ASSERT_TRUE(env.Warm({""}, 1h).ok());
  env.clock.Advance(2h);
  Entry e = (*env.index->Expired(10))[0];
  ASSERT_TRUE(*env.index->MarkExpiring(e, 1min));  // an expirer stalls after its mark
  auto r = env.Warm({""}, 1h, false, "req-2");     // waits until the mark ran out, takes over
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->copied, 1u);
  auto now = *env.index->Get("k");
  ASSERT_TRUE(now.has_value());
  EXPECT_FALSE(now->expiring);
  EXPECT_FALSE(*env.index->HoldMark(e, 1min));  // the stalled expirer will not delete it
}

}  // namespace
}  // namespace ferry::cache::testing

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

// A source whose listings wait until the test opens the gate.
class GatedSource : public storage::MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Result<std::unique_ptr<storage::ListingCursor>> List(std::string_view prefix) override {
    gate_.wait();
    return MemoryBackend::List(prefix);
  }
  void Open() { open_.set_value(); }

 private:
  std::promise<void> open_;
  std::shared_future<void> gate_ = open_.get_future().share();
};

int64_t LockRows(state::SqlSession& session) {
  int64_t n = 0;
  EXPECT_TRUE(session
                  .Transact(state::TxMode::kRead,
                            [&](state::SqlTx& tx) -> Status {
                              auto r = tx.Exec("SELECT COUNT(*) FROM cache_locks");
                              if (!r.ok()) return r.status();
                              n = state::CellInt(r->rows[0][0]);
                              return Status::Ok();
                            })
                  .ok());
  return n;
}

TEST(WarmTest, AHolderThatLostItsLockStopsAndFails) {
  CacheEnv env;
  GatedSource source(storage::MemoryBackend::Options{.name = "gated", .clock = &env.clock});
  storage::WriteSpec spec;
  spec.size = 1;
  ASSERT_TRUE(source.Put("k", std::as_bytes(std::span("v", 1)), spec, {}).ok());
  WarmContext ctx{.source = source,
                  .cache = env.cache,
                  .index = *env.index,
                  .locks = *env.locks,
                  .executor = env.executor};
  Result<WarmResult> r = Status::Internal("not run");
  std::thread warm([&] {
    r = Warm(WarmRequest{.prefixes = {""}, .ttl = 1h, .force = false}, ctx, env.Options(), {});
  });
  ASSERT_TRUE(ferry::testing::WaitFor([&] { return LockRows(*env.session) != 0; }));
  // Another request took the hold over (its lease ran out while the holder was stuck).
  ASSERT_TRUE(
      env.session
          ->Transact(state::TxMode::kWrite,
                     [](state::SqlTx& tx) { return tx.Exec("DELETE FROM cache_locks").status(); })
          .ok());
  // The holder's next renewal finds it gone: once its renewal thread waits on the clock (the
  // recorder, with nothing copied, waits for an outcome, not on the clock), a move past the
  // renewal period (lock_ttl / 3) ends the renewal's wait.
  ASSERT_TRUE(env.clock.AwaitWaiters(1));
  env.clock.Advance(11s);
  ASSERT_TRUE(env.clock.AwaitWaitersSawTheTime());
  EXPECT_TRUE(ferry::testing::WaitFor([&] { return env.clock.waiting() == 0; }));
  // Past half the ttl: the write's own fence renews too (and finds the hold gone) should the
  // renewal thread have left its wait but not yet renewed.
  env.clock.Advance(5s);
  source.Open();
  warm.join();
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition) << r.status().message();
  EXPECT_TRUE(env.cache.Keys().empty());  // nothing copied after the lock was lost
}

}  // namespace
}  // namespace ferry::cache::testing

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

// A source whose whole-object reads last until they are stopped (a network that never answers),
// and that counts the reads begun.
class StuckUntilStoppedSource : public storage::MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Result<storage::ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                         std::string_view etag, std::stop_token stop) override {
    begun_.fetch_add(1);
    std::mutex mu;
    std::condition_variable_any never_notified;  // woken by the stop only
    std::unique_lock lock(mu);
    never_notified.wait(lock, stop, [] { return false; });
    return MemoryBackend::ReadObject(key, out, etag, stop);
  }
  int begun() const { return begun_.load(); }

 private:
  std::atomic<int> begun_{0};
};

TEST(WarmTest, StoppingCancelsTheCopiesInFlight) {
  CacheEnv env;
  StuckUntilStoppedSource source(
      storage::MemoryBackend::Options{.name = "stuck", .clock = &env.clock});
  // 20 objects fit the session's queue (2 x concurrency) and workers: the listing ends at once.
  transfer::Executor few(transfer::ExecutorOptions{.concurrency = 8, .memory_budget = 16u << 20});
  storage::WriteSpec spec;
  spec.size = 1;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        source.Put("k" + std::to_string(i), std::as_bytes(std::span("x", 1)), spec, {}).ok());
  }
  WarmContext ctx{.source = source,
                  .cache = env.cache,
                  .index = *env.index,
                  .locks = *env.locks,
                  .executor = few};
  std::stop_source stop;
  std::thread stopper([&] {
    // The listing is done and the copies are in flight (none can end before the stop).
    EXPECT_TRUE(ferry::testing::WaitFor([&] { return source.begun() > 0; }));
    stop.request_stop();
  });
  auto r = Warm(WarmRequest{.prefixes = {""}, .ttl = 1h, .force = false}, ctx, env.Options(),
                stop.get_token());
  stopper.join();
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled);
  EXPECT_LT(env.cache.Keys().size(), 20u);
  EXPECT_TRUE(env.index->FailuresUnder("")->empty());  // cancelled copies are no failures
  EXPECT_EQ(env.index->EntriesUnder("")->size(), env.cache.Keys().size());
}

}  // namespace
}  // namespace ferry::cache::testing

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

// A source whose whole-object reads of one key wait until the test opens the gate.
class HeldKeySource : public storage::MemoryBackend {
 public:
  HeldKeySource(storage::MemoryBackend::Options options, std::string held)
      : MemoryBackend(std::move(options)), held_(std::move(held)) {}
  Result<storage::ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                         std::string_view etag, std::stop_token stop) override {
    if (key == held_) gate_.wait();
    return MemoryBackend::ReadObject(key, out, etag, stop);
  }
  void Open() { open_.set_value(); }

 private:
  const std::string held_;
  std::promise<void> open_;
  std::shared_future<void> gate_ = open_.get_future().share();
};

TEST(WarmTest, AFinishedCopyIsRecordedOnceTheRecordIntervalPassedOnTheClock) {
  CacheEnv env;
  HeldKeySource source(storage::MemoryBackend::Options{.name = "held", .clock = &env.clock},
                       "k/b");
  storage::WriteSpec spec;
  spec.size = 1;
  for (const char* key : {"k/a", "k/b"}) {
    ASSERT_TRUE(source.Put(key, std::as_bytes(std::span("x", 1)), spec, {}).ok());
  }
  WarmContext ctx{.source = source,
                  .cache = env.cache,
                  .index = *env.index,
                  .locks = *env.locks,
                  .executor = env.executor};
  WarmOptions options = env.Options();
  options.record_interval = 5s;  // on the fake clock: passes only when the test moves it
  Result<WarmResult> r = Status::Internal("not run");
  std::thread warm([&] {
    r = Warm(WarmRequest{.prefixes = {"k/"}, .ttl = 1h, .force = false}, ctx, options, {});
  });
  // k/a is copied while k/b's read waits: its outcome waits for the recorder, however much real
  // time goes by.
  ferry::testing::WaitFor([&] { return !env.cache.Keys().empty(); });
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"k/a"}));
  // Nothing is to happen until the interval passed on the clock: the recorder waits, and goes on
  // waiting when the clock moves short of it. Two wait on the clock here: the hold's renewer
  // (every lock_ttl / 3 = 10 s, started first) and the recorder, which waits on the clock only
  // once an outcome is pending (k/a's copy being in the cache does not say its outcome reached
  // the recorder: the test once moved the clock before it had, seen under load in CI).
  ASSERT_TRUE(env.clock.AwaitWaiters(2));
  EXPECT_FALSE(env.index->Get("k/a")->has_value());
  const uint64_t begun = env.clock.waits_begun();
  env.clock.Advance(4s);
  ASSERT_TRUE(env.clock.AwaitWaitersSawTheTime());
  EXPECT_EQ(env.clock.waits_begun(), begun) << "the recorder woke short of its interval";
  EXPECT_FALSE(env.index->Get("k/a")->has_value());
  env.clock.Advance(1s);  // the interval has passed: recorded while k/b is still being copied
  ferry::testing::WaitFor([&] { return env.index->Get("k/a")->has_value(); });
  EXPECT_TRUE(env.index->Get("k/a")->has_value());
  // ... and the recorder, with nothing pending, leaves the clock (only the renewer waits on it).
  EXPECT_TRUE(ferry::testing::WaitFor([&] { return env.clock.waiting() == 1; }));
  EXPECT_FALSE(env.index->Get("k/b")->has_value());
  source.Open();
  warm.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->copied, 2u);
  EXPECT_TRUE(env.index->Get("k/b")->has_value());  // the rest is recorded before it returns
}

}  // namespace
}  // namespace ferry::cache::testing
