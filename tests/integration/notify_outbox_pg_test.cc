// The run-end notifications' outbox (src/notify/outbox.h) on PostgreSQL (FERRY_TEST_PG_URL),
// in a fresh schema dropped at the end: two processes' sessions claiming at once (FOR UPDATE
// SKIP LOCKED) lease each row to one owner only, and the run-end rows are appended in a
// transaction.
#include <cstdlib>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "notify/outbox.h"
#include "state/state.h"

namespace ferry::notify {
namespace {

class NotifyOutboxPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("FERRY_TEST_PG_URL");
    ASSERT_NE(base, nullptr) << "FERRY_TEST_PG_URL not set: run through scripts/test-all.sh";
    base_ = base;
    schema_ = "ferry_notify_" + std::to_string(::getpid());
    ASSERT_TRUE(Admin("CREATE SCHEMA " + schema_).ok());
    const std::string url = base_ + (base_.find('?') == std::string::npos ? "?" : "&") +
                            "options=-csearch_path%3D" + schema_;
    for (auto* s : {&a_, &b_}) {
      auto opened = state::OpenPgSession(url, SystemClock::Default());
      ASSERT_TRUE(opened.ok()) << opened.status().message();
      *s = std::move(*opened);
    }
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    EXPECT_TRUE(Admin("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").ok());
  }
  Status Admin(const std::string& sql) {
    auto admin = state::OpenPgSession(base_, SystemClock::Default());
    if (!admin.ok()) return admin.status();
    return (*admin)->Transact(state::TxMode::kWrite,
                              [&](state::SqlTx& tx) { return tx.Exec(sql).status(); });
  }

  std::string base_, schema_;
  std::unique_ptr<state::SqlSession> a_, b_;
};

TEST_F(NotifyOutboxPgTest, TwoClaimersAtOnceLeaseEachRowOnce) {
  auto first = Outbox::Open(*a_);
  auto second = Outbox::Open(*b_);
  ASSERT_TRUE(first.ok() && second.ok());
  Target t;
  t.url = "http://127.0.0.1:9/h";
  std::vector<Target> targets(10, t);
  ASSERT_TRUE((*first)->SetRunTargets(7, targets).ok());
  for (int end = 0; end < 5; ++end) {  // 5 ends of run 7 (redriven), 10 targets: 50 rows
    ASSERT_TRUE(a_->Transact(state::TxMode::kWrite, [&](state::SqlTx& tx) {
                    return internal::AppendRunEnd(
                        tx, 7, EndState::kDone, [] { return Result<RunEnd>(RunEnd{}); }, 1000);
                  }).ok());
  }
  ASSERT_EQ(*(*first)->Pending(7), 50);
  std::vector<int64_t> got_a, got_b;
  auto claim = [](Outbox& outbox, const char* owner, std::vector<int64_t>& got) {
    for (;;) {
      auto rows = outbox.Claim(owner, 3, 2000, 60000);
      ASSERT_TRUE(rows.ok()) << rows.status().message();
      if (rows->empty()) return;
      for (const OutboxRow& r : *rows) got.push_back(r.id);
    }
  };
  std::thread ta([&] { claim(**first, "a", got_a); });
  std::thread tb([&] { claim(**second, "b", got_b); });
  ta.join();
  tb.join();
  std::set<int64_t> all(got_a.begin(), got_a.end());
  all.insert(got_b.begin(), got_b.end());
  EXPECT_EQ(got_a.size() + got_b.size(), 50u);  // none leased twice
  EXPECT_EQ(all.size(), 50u);
  for (int64_t id : got_a) EXPECT_FALSE(*(*second)->Sent("b", id));  // not b's to delete
  for (int64_t id : got_a) EXPECT_TRUE(*(*first)->Sent("a", id));
  for (int64_t id : got_b) ASSERT_TRUE((*second)->Release("b", id, 5000, "HTTP 500").ok());
  EXPECT_TRUE((*first)->Claim("a", 100, 4999, 70000)->empty());  // not due yet
  EXPECT_EQ((*first)->Claim("a", 100, 5000, 70000)->size(), got_b.size());
}

}  // namespace
}  // namespace ferry::notify
