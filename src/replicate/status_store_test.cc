// StatusStore on SQLite (unit) and, built with FERRY_STATUS_STORE_PG, on the PostgreSQL of
// FERRY_TEST_PG_URL (integration): the same tests on both databases.
#include "replicate/status_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "state/state.h"

namespace ferry::replicate {
namespace {

class StatusStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef FERRY_STATUS_STORE_PG
    const char* url = std::getenv("FERRY_TEST_PG_URL");
    ASSERT_NE(url, nullptr) << "FERRY_TEST_PG_URL is not set";
    // A schema of its own: the component's version in a shared database's public schema is
    // other builds' business (a newer one there would make theirs refuse it).
    auto admin = state::OpenPgSession(url, clock_);
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    admin_ = std::move(*admin);
    schema_ = "ferry_status_" + std::to_string(std::random_device{}());
    ASSERT_TRUE(admin_
                    ->Transact(state::TxMode::kWrite,
                               [&](state::SqlTx& tx) {
                                 return tx.Exec("CREATE SCHEMA " + schema_).status();
                               })
                    .ok());
    const std::string base(url);
    auto session = state::OpenPgSession(base + (base.find('?') == std::string::npos ? "?" : "&") +
                                            "options=-csearch_path%3D" + schema_,
                                        clock_);
#else
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-status-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
#endif
    ASSERT_TRUE(session.ok()) << session.status().message();
    session_ = std::move(*session);
    auto store = StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    // Rows of other tests (a shared PostgreSQL) never share this source name.
    source_ = "ra:src-" + std::to_string(std::random_device{}()) + "/";
  }
  void TearDown() override {
    store_.reset();
    session_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (admin_ != nullptr) {
      EXPECT_TRUE(admin_
                      ->Transact(state::TxMode::kWrite,
                                 [&](state::SqlTx& tx) {
                                   return tx.Exec("DROP SCHEMA " + schema_ + " CASCADE").status();
                                 })
                      .ok());
    }
  }

  VersionStatus Row(std::string key, std::string version, VersionState state,
                    std::string dest = "rb:dst") {
    VersionStatus s;
    s.source = source_;
    s.rule = "r1";
    s.destination = std::move(dest);
    s.key = std::move(key);
    s.source_version = std::move(version);
    s.state = state;
    s.source_etag = "e";
    s.updated_ns = 7;
    return s;
  }

  SystemClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> admin_;  // PostgreSQL: makes and drops `schema_`
  std::string schema_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> store_;
  std::string source_;
};

// The versions waiting for a pack job (transport.h QueuedMessage): read oldest first, counted,
// and a row forgotten only while it is still the one that was read.
TEST_F(StatusStoreTest, WaitingRowsAreReadCountedAndForgottenWhileUnchanged) {
  for (int i = 0; i < 3; ++i) {
    VersionStatus w = Row("k" + std::to_string(i), "v", VersionState::kPending);
    w.message = "waiting";
    w.size = 10;
    w.updated_ns = 100 - i;  // k2 waited longest
    ASSERT_TRUE(store_->Record(w).ok());
  }
  ASSERT_TRUE(store_->Record(Row("other", "v", VersionState::kPending)).ok());  // another message
  auto waiting = store_->PendingWithMessage(source_, "waiting", 2);
  ASSERT_TRUE(waiting.ok()) << waiting.status().message();
  ASSERT_EQ(waiting->size(), 2u);
  EXPECT_EQ((*waiting)[0].key, "k2");
  EXPECT_EQ((*waiting)[1].key, "k1");
  auto counted = store_->CountPendingWithMessage(source_, "waiting", 10);
  ASSERT_TRUE(counted.ok()) << counted.status().message();
  EXPECT_EQ(counted->first, 3);
  EXPECT_EQ(counted->second, 30);
  EXPECT_EQ(store_->CountPendingWithMessage(source_, "waiting", 2)->first, 2);
  // k2 written again after it was read: kept; k1 as read: forgotten
  VersionStatus again = (*waiting)[0];
  again.updated_ns = 200;
  ASSERT_TRUE(store_->Record(again).ok());
  EXPECT_FALSE(*store_->ForgetPendingWithMessage((*waiting)[0], "waiting"));
  EXPECT_TRUE(*store_->ForgetPendingWithMessage((*waiting)[1], "waiting"));
  EXPECT_EQ(store_->CountPendingWithMessage(source_, "waiting", 10)->first, 2);
}

TEST_F(StatusStoreTest, RecordReplacesTheRowOfOneVersion) {
  ASSERT_TRUE(store_->Record(Row("k", "v1", VersionState::kPending)).ok());
  VersionStatus done = Row("k", "v1", VersionState::kCompleted);
  done.dest_version = "d1";
  ASSERT_TRUE(store_->Record(done).ok());
  VersionStatus failed = Row("k", "v2", VersionState::kFailed);
  failed.error_code = "kPermissionDenied";
  failed.http_status = 403;
  failed.message = "access denied";
  ASSERT_TRUE(store_->Record(failed).ok());
  const std::string keys[] = {"k", "absent"};
  auto rows = store_->ForKeys(source_, keys);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  for (const VersionStatus& r : *rows) {
    if (r.source_version == "v1") {
      EXPECT_EQ(r.state, VersionState::kCompleted);
      EXPECT_EQ(r.dest_version, "d1");
    } else {
      EXPECT_EQ(r.state, VersionState::kFailed);
      EXPECT_EQ(r.error_code, "kPermissionDenied");
      EXPECT_EQ(r.http_status, 403);
      EXPECT_EQ(r.message, "access denied");
    }
  }
  auto failures = store_->Rows(source_, VersionState::kFailed);
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].source_version, "v2");
}

TEST_F(StatusStoreTest, WrittenToFindsCompletedRowsByDestinationAndKey) {
  VersionStatus a = Row("k", "v1", VersionState::kCompleted, source_ + "dst");
  a.dest_version = "d1";
  ASSERT_TRUE(store_->Record(a).ok());
  ASSERT_TRUE(store_->Record(Row("k", "v2", VersionState::kFailed, source_ + "dst")).ok());
  const std::string keys[] = {"k"};
  auto rows = store_->WrittenTo(source_ + "dst", keys);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].dest_version, "d1");
}

TEST_F(StatusStoreTest, ManyKeysAreReadInBatches) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1203; ++i) {
    keys.push_back("key " + std::to_string(i) + (i % 2 ? "+ü" : ""));
    ASSERT_TRUE(store_->Record(Row(keys.back(), "v", VersionState::kCompleted)).ok());
  }
  auto rows = store_->ForKeys(source_, keys);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), keys.size());
}

// RowsPage (the report's reader): 2,503 rows of several rules and destinations per key, keys
// whose bytes sort differently by byte, by locale and by length, read 1,000 at a time after
// the last row read: every row exactly once, nothing of another source.
TEST_F(StatusStoreTest, PagesReadEveryRowOnceAcrossPageBoundaries) {
  const std::vector<std::string> odd = {"a",  "a/",  "a/b",  "a-b",  "ab", "a b",
                                        "A",  "\xc3\xa4", "a\x7f", "~", "\xe6\x97\xa5", "%"};
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int> want;
  for (int i = 0; i < 2503; ++i) {
    // (i % 12, (i / 12) % 3, i / 36) differs for every i: each row its own primary key
    VersionStatus r = Row(odd[i % 12] + std::to_string(i / 36), "v" + std::to_string(i % 5),
                          VersionState::kCompleted, (i / 36) % 2 ? "rb:dst" : "rb:dst/x");
    r.rule = "r" + std::to_string((i / 12) % 3);
    ASSERT_TRUE(store_->Record(r).ok());
    want[{r.key, r.rule, r.destination, r.source_version}] = 0;
  }
  ASSERT_EQ(want.size(), 2503u);
  VersionStatus other = Row("a", "v0", VersionState::kCompleted);
  other.source = source_ + "x";  // another source whose name begins with this one's
  ASSERT_TRUE(store_->Record(other).ok());
  std::vector<size_t> sizes;
  std::optional<VersionStatus> last;
  for (;;) {
    auto page = store_->RowsPage(source_, last ? &*last : nullptr, 1000);
    ASSERT_TRUE(page.ok()) << page.status().message();
    sizes.push_back(page->size());
    for (const VersionStatus& r : *page) {
      EXPECT_EQ(r.source, source_);
      ++want[{r.key, r.rule, r.destination, r.source_version}];
    }
    if (page->size() < 1000) break;
    last = page->back();
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 503}));
  ASSERT_EQ(want.size(), 2503u);  // nothing read that was not written
  for (const auto& [row, n] : want) {
    EXPECT_EQ(n, 1) << std::get<0>(row) << " " << std::get<1>(row) << " " << std::get<2>(row);
  }
  EXPECT_TRUE(store_->RowsPage(source_, &*last, 1000).ok());
  int64_t n = 0;  // ForEachRow: the same rows through pages of 1,000, in the pages' order
  std::vector<std::string> order;
  ASSERT_TRUE(store_
                  ->ForEachRow(source_, 1000,
                               [&](const VersionStatus& r) {
                                 ++n;
                                 if (order.empty() || order.back() != r.key) order.push_back(r.key);
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(n, 2503);
  EXPECT_EQ(order.size(), 840u);  // 12 keys x 70: each key's rows together (key first)
  EXPECT_EQ(store_
                ->ForEachRow(source_, 7,
                             [&](const VersionStatus&) { return Status::Unavailable("stop"); })
                .code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(store_->RowsPage(source_, nullptr, 0).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(StatusStoreTest, CountsPerRuleDestinationAndState) {
  ASSERT_TRUE(store_->Record(Row("a", "v1", VersionState::kCompleted)).ok());
  ASSERT_TRUE(store_->Record(Row("b", "v1", VersionState::kCompleted)).ok());
  ASSERT_TRUE(store_->Record(Row("c", "v1", VersionState::kReplica)).ok());
  ASSERT_TRUE(store_->Record(Row("c", "v1", VersionState::kFailed, "rc:other")).ok());
  auto counts = store_->Counts(source_);
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].destination, "rb:dst");
  EXPECT_EQ((*counts)[0].state, VersionState::kCompleted);
  EXPECT_EQ((*counts)[0].count, 2);
  EXPECT_EQ((*counts)[1].state, VersionState::kReplica);
  EXPECT_EQ((*counts)[2].destination, "rc:other");
  EXPECT_EQ((*counts)[2].state, VersionState::kFailed);
}

TEST_F(StatusStoreTest, CountSinceCountsRowsOfAStateChangedSinceATime) {
  VersionStatus old_failure = Row("a", "v1", VersionState::kFailed);
  old_failure.updated_ns = 100;
  ASSERT_TRUE(store_->Record(old_failure).ok());
  VersionStatus failure = Row("b", "v1", VersionState::kFailed);
  failure.updated_ns = 200;
  ASSERT_TRUE(store_->Record(failure).ok());
  VersionStatus done = Row("c", "v1", VersionState::kCompleted);
  done.updated_ns = 300;
  ASSERT_TRUE(store_->Record(done).ok());
  EXPECT_EQ(*store_->CountSince(source_, VersionState::kFailed, 200), 1);
  EXPECT_EQ(*store_->CountSince(source_, VersionState::kFailed, 0), 2);
  EXPECT_EQ(*store_->CountSince(source_, VersionState::kCompleted, 200), 1);
  EXPECT_EQ(*store_->CountSince("ra:other/", VersionState::kFailed, 0), 0);
}

TEST_F(StatusStoreTest, RuleFirstSeenKeepsTheFirstTime) {
  auto first = store_->RuleFirstSeen(source_, "r1", 100);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 100);
  auto again = store_->RuleFirstSeen(source_, "r1", 500);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 100);
  EXPECT_EQ(*store_->RuleFirstSeen(source_, "r2", 500), 500);
}

TEST_F(StatusStoreTest, PendingSinceIsKeptWhileTheVersionStaysPending) {
  auto since = [&] {
    const std::string keys[] = {"k"};
    auto rows = store_->ForKeys(source_, keys);
    EXPECT_TRUE(rows.ok() && rows->size() == 1u);
    return rows.ok() && !rows->empty() ? (*rows)[0].pending_since_ns : -1;
  };
  auto record = [&](VersionState state, int64_t pending_since_ns) {
    VersionStatus r = Row("k", "v1", state);
    r.pending_since_ns = pending_since_ns;
    r.size = 10;
    ASSERT_TRUE(store_->Record(r).ok());
  };
  record(VersionState::kPending, 100);
  record(VersionState::kFailed, 200);
  EXPECT_EQ(since(), 100);
  record(VersionState::kPending, 300);
  EXPECT_EQ(since(), 100);  // PENDING -> FAILED -> PENDING: since the first time
  record(VersionState::kCompleted, 400);
  EXPECT_EQ(since(), 400);
  record(VersionState::kPending, 500);  // pending again after it completed: anew
  EXPECT_EQ(since(), 500);
}

TEST_F(StatusStoreTest, SlaTotalsPerRuleAndDestinationInOneQuery) {
  auto row = [&](std::string key, VersionState state, int64_t size, int64_t since,
                 int64_t threshold, std::string dest = "rb:dst") {
    VersionStatus r = Row(std::move(key), "v1", state, std::move(dest));
    r.size = size;
    r.pending_since_ns = since;
    r.threshold_ns = threshold;
    return r;
  };
  ASSERT_TRUE(store_->Record(row("a", VersionState::kPending, 100, 50, 1000)).ok());
  ASSERT_TRUE(store_->Record(row("b", VersionState::kFailed, 20, 30, 1000)).ok());
  ASSERT_TRUE(store_->Record(row("c", VersionState::kFailed, 7, 0, 0)).ok());  // older ferry
  VersionStatus late = row("d", VersionState::kCompleted, 5, 10, 1000);
  late.missed_threshold = true;
  ASSERT_TRUE(store_->Record(late).ok());
  ASSERT_TRUE(store_->Record(row("e", VersionState::kCompleted, 5, 10, 1000)).ok());
  ASSERT_TRUE(store_->Record(row("f", VersionState::kCompleted, 5, 10, 0)).ok());
  ASSERT_TRUE(store_->Record(row("g", VersionState::kReplica, 5, 10, 0)).ok());
  ASSERT_TRUE(store_->Record(row("h", VersionState::kCompleted, 9, 10, 0, "rc:done")).ok());

  auto all = store_->SlaTotalsOf(source_, false);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  const SlaTotals& t = (*all)[0];
  EXPECT_EQ(t.destination, "rb:dst");
  EXPECT_EQ(t.rule, "r1");
  EXPECT_EQ(t.pending, 3);
  EXPECT_EQ(t.pending_bytes, 127);
  EXPECT_EQ(t.oldest_pending_since_ns, 30);  // the unknown 0 left out
  EXPECT_EQ(t.threshold_ns, 1000);
  EXPECT_EQ(t.missed_threshold, 1);
  EXPECT_EQ(t.completed_under_threshold, 2);
  EXPECT_EQ(t.completed_within_threshold, 1);
  EXPECT_EQ((*all)[1].destination, "rc:done");
  EXPECT_EQ((*all)[1].pending, 0);
  EXPECT_EQ((*all)[1].oldest_pending_since_ns, 0);

  // The periodic refresh's read: pending rows only, groups without any left out.
  auto pending = store_->SlaTotalsOf(source_, true);
  ASSERT_TRUE(pending.ok()) << pending.status().message();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].pending, 3);
  EXPECT_EQ((*pending)[0].pending_bytes, 127);
  EXPECT_EQ((*pending)[0].oldest_pending_since_ns, 30);
  EXPECT_EQ((*pending)[0].completed_under_threshold, 0);
  EXPECT_TRUE(store_->SlaTotalsOf("ra:nothing-here/", false)->empty());
}

TEST_F(StatusStoreTest, MarkMissedThresholdFlagsEachVersionOnce) {
  auto row = [&](std::string key, VersionState state, int64_t since, int64_t threshold,
                 std::string dest = "rb:dst") {
    VersionStatus r = Row(std::move(key), "v1", state, std::move(dest));
    r.pending_since_ns = since;
    r.threshold_ns = threshold;
    return r;
  };
  ASSERT_TRUE(store_->Record(row("a", VersionState::kPending, 100, 50)).ok());
  ASSERT_TRUE(store_->Record(row("b", VersionState::kFailed, 100, 50, "rc:other")).ok());
  ASSERT_TRUE(store_->Record(row("c", VersionState::kFailed, 100, 500)).ok());   // not yet
  ASSERT_TRUE(store_->Record(row("d", VersionState::kFailed, 100, 0)).ok());     // no threshold
  ASSERT_TRUE(store_->Record(row("e", VersionState::kCompleted, 100, 50)).ok());  // done
  auto flagged = store_->MarkMissedThreshold(source_, 200);
  ASSERT_TRUE(flagged.ok()) << flagged.status().message();
  std::map<std::string, int64_t> by_destination;
  for (const LabelCount& c : *flagged) {
    EXPECT_EQ(c.source, source_);
    EXPECT_EQ(c.rule, "r1");
    by_destination[c.destination] += c.count;
  }
  EXPECT_EQ(by_destination, (std::map<std::string, int64_t>{{"rb:dst", 1}, {"rc:other", 1}}));
  EXPECT_TRUE(store_->MarkMissedThreshold(source_, 300)->empty());  // once per version
  EXPECT_EQ(store_->MarkMissedThreshold(source_, 601)->size(), 1u);  // c's turn
  EXPECT_TRUE(store_->MarkMissedThreshold("ra:other-source/", 10'000)->empty());
  // The flag stays through FAILED -> PENDING -> COMPLETED; pending anew after completion, not.
  ASSERT_TRUE(store_->Record(row("a", VersionState::kFailed, 100, 50)).ok());
  ASSERT_TRUE(store_->Record(row("a", VersionState::kCompleted, 100, 50)).ok());
  const std::string keys[] = {"a", "d"};
  auto rows = store_->ForKeys(source_, keys);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  for (const VersionStatus& r : *rows) EXPECT_EQ(r.missed_threshold, r.key == "a") << r.key;
  ASSERT_TRUE(store_->Record(row("a", VersionState::kPending, 900, 50)).ok());
  const std::string a[] = {"a"};
  rows = store_->ForKeys(source_, a);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_FALSE((*rows)[0].missed_threshold);
}

TEST_F(StatusStoreTest, FailureCountsByErrorCode) {
  auto failed = [&](std::string key, std::string code, std::string dest = "rb:dst") {
    VersionStatus r = Row(std::move(key), "v1", VersionState::kFailed, std::move(dest));
    r.error_code = std::move(code);
    return r;
  };
  ASSERT_TRUE(store_->Record(failed("a", "kPermissionDenied")).ok());
  ASSERT_TRUE(store_->Record(failed("b", "kPermissionDenied")).ok());
  ASSERT_TRUE(store_->Record(failed("c", "kUnavailable")).ok());
  ASSERT_TRUE(store_->Record(failed("d", "kUnavailable", "rc:other")).ok());
  ASSERT_TRUE(store_->Record(Row("e", "v1", VersionState::kCompleted)).ok());
  auto counts = store_->FailureCounts(source_);
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].destination, "rb:dst");
  EXPECT_EQ((*counts)[0].label, "kPermissionDenied");
  EXPECT_EQ((*counts)[0].count, 2);
  EXPECT_EQ((*counts)[1].label, "kUnavailable");
  EXPECT_EQ((*counts)[1].count, 1);
  EXPECT_EQ((*counts)[2].destination, "rc:other");
}

TEST_F(StatusStoreTest, ReopeningFindsTheSchema) {
  ASSERT_TRUE(store_->Record(Row("k", "v1", VersionState::kCompleted)).ok());
  auto again = StatusStore::Open(*session_);
  ASSERT_TRUE(again.ok());
  const std::string keys[] = {"k"};
  EXPECT_EQ((*again)->ForKeys(source_, keys)->size(), 1u);
}

}  // namespace
}  // namespace ferry::replicate
