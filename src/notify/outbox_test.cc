// The outbox on SQLite: rows appended in the run-ending transaction, claimed with a lease,
// delivered and deleted, or given back with a backoff on the FakeClock.
#include <filesystem>

#include <gtest/gtest.h>

#include "notify/deliver_pending.h"
#include "notify/outbox.h"
#include "state/state.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::notify {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClock;
using testing::FakeReply;
using testing::FakeTransport;

int64_t Ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

class NotifyOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("notify_outbox_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    auto session = state::OpenSqliteSession(path_.string());
    ASSERT_TRUE(session.ok()) << session.status().message();
    session_ = std::move(*session);
    auto outbox = Outbox::Open(*session_);
    ASSERT_TRUE(outbox.ok()) << outbox.status().message();
    outbox_ = std::move(*outbox);
  }
  void TearDown() override {
    outbox_.reset();
    session_.reset();
    std::filesystem::remove(path_);
    std::filesystem::remove(path_.string() + "-wal");
    std::filesystem::remove(path_.string() + "-shm");
  }
  // The run-ending transaction's part: what jobs' run-end hook does (app/notify_run.cc).
  Status EndRun(int64_t run, EndState state, int* builds = nullptr) {
    return session_->Transact(state::TxMode::kWrite, [&](state::SqlTx& tx) {
      return internal::AppendRunEnd(
          tx, run, state,
          [&]() -> Result<RunEnd> {
            if (builds != nullptr) ++*builds;
            RunEnd r;
            r.run_id = std::to_string(run);
            r.command = "sync";
            r.state = state;
            return r;
          },
          Ms(clock_.Now()));
    });
  }
  Target Hook(std::string url) {
    Target t;
    t.url = std::move(url);
    return t;
  }
  DeliveryContext Context(http::HttpTransport* http, obs::Registry* registry) {
    DeliveryContext ctx;
    ctx.http = http;
    ctx.clock = &clock_;
    ctx.registry = registry;
    return ctx;
  }
  PendingOptions Options(int64_t give_up_after = 50) {
    PendingOptions o;
    o.owner = "me";
    o.give_up_after = give_up_after;
    return o;
  }

  std::filesystem::path path_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<Outbox> outbox_;
  FakeClock clock_;
};

TEST_F(NotifyOutboxTest, ARunWithoutTargetsAppendsNothingAndBuildsNoDocument) {
  int builds = 0;
  ASSERT_TRUE(EndRun(5, EndState::kDone, &builds).ok());
  EXPECT_EQ(builds, 0);
  EXPECT_EQ(*outbox_->Pending(), 0);
}

TEST_F(NotifyOutboxTest, OneRowPerTargetWhoseOnHasTheState) {
  Target only_failures = Hook("http://127.0.0.1:9/b");
  only_failures.on.done = false;
  ASSERT_TRUE(outbox_->SetRunTargets(5, {Hook("http://127.0.0.1:9/a"), only_failures}).ok());
  int builds = 0;
  ASSERT_TRUE(EndRun(5, EndState::kDone, &builds).ok());
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(*outbox_->Pending(5), 1);
  ASSERT_TRUE(EndRun(5, EndState::kDead).ok());  // a redriven run that ended again
  EXPECT_EQ(*outbox_->Pending(5), 3);
  EXPECT_EQ(*outbox_->Pending(6), 0);
}

TEST_F(NotifyOutboxTest, AClaimedRowIsNotClaimedAgainUntilItsLeaseRunsOut) {
  ASSERT_TRUE(outbox_->SetRunTargets(5, {Hook("http://127.0.0.1:9/a")}).ok());
  ASSERT_TRUE(EndRun(5, EndState::kDone).ok());
  const int64_t now = Ms(clock_.Now());
  auto first = outbox_->Claim("p1", 10, now, now + 60000);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].target.url, "http://127.0.0.1:9/a");
  EXPECT_TRUE(outbox_->Claim("p2", 10, now + 59999, now + 120000)->empty());
  auto second = outbox_->Claim("p2", 10, now + 60000, now + 120000);
  ASSERT_EQ(second->size(), 1u);  // p1 died: p2 takes it once the lease ran out
  EXPECT_FALSE(*outbox_->Sent("p1", (*first)[0].id));  // p1's lease was lost
  EXPECT_TRUE(*outbox_->Sent("p2", (*second)[0].id));
  EXPECT_EQ(*outbox_->Pending(), 0);
}

TEST_F(NotifyOutboxTest, AFailedDeliveryStaysPendingWithABackoffThenIsSent) {
  ASSERT_TRUE(outbox_->SetRunTargets(5, {Hook("http://127.0.0.1:9/a")}).ok());
  ASSERT_TRUE(EndRun(5, EndState::kDone).ok());
  FakeTransport http;
  http.Push(FakeReply::NetworkError(Status::Unavailable("connection refused")));
  obs::Registry registry;
  DeliveryContext ctx = Context(&http, &registry);
  PendingOptions options = Options();
  auto round = DeliverPending(*outbox_, ctx, options, {});
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_EQ(round->deferred, 1);
  EXPECT_EQ(*outbox_->Pending(), 1);
  // Not due again at once: the backoff (at least half of 5 s) holds it.
  round = DeliverPending(*outbox_, ctx, options, {});
  EXPECT_EQ(round->sent + round->deferred, 0);
  clock_.SleepFor(seconds(6), {});
  http.Push(FakeReply::Ok());
  round = DeliverPending(*outbox_, ctx, options, {});
  EXPECT_EQ(round->sent, 1);
  EXPECT_EQ(*outbox_->Pending(), 0);
  auto counter = registry.AddCounter("ferry_notifications_total", "", {"kind", "result"});
  EXPECT_EQ(counter.WithLabels({"webhook", "deferred"}).value(), 1u);
  EXPECT_EQ(counter.WithLabels({"webhook", "sent"}).value(), 1u);
}

TEST_F(NotifyOutboxTest, ARowIsGivenUpAfterTooManyAttempts) {
  ASSERT_TRUE(outbox_->SetRunTargets(5, {Hook("http://127.0.0.1:9/a")}).ok());
  ASSERT_TRUE(EndRun(5, EndState::kDone).ok());
  FakeTransport http;
  FakeReply error;
  error.status = 500;
  http.Push(error);
  http.Push(error);
  DeliveryContext ctx = Context(&http, nullptr);
  PendingOptions options = Options(2);
  EXPECT_EQ(DeliverPending(*outbox_, ctx, options, {})->deferred, 1);
  clock_.SleepFor(seconds(20), {});
  EXPECT_EQ(DeliverPending(*outbox_, ctx, options, {})->failed, 1);
  EXPECT_EQ(*outbox_->Pending(), 0);
}

}  // namespace
}  // namespace ferry::notify
