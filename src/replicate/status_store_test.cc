// StatusStore on SQLite (unit) and, built with FERRY_STATUS_STORE_PG, on the PostgreSQL of
// FERRY_TEST_PG_URL (integration): the same tests on both databases.
#include "replicate/status_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

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
    auto session = state::OpenPgSession(url, clock_);
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
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> store_;
  std::string source_;
};

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

TEST_F(StatusStoreTest, ReopeningFindsTheSchema) {
  ASSERT_TRUE(store_->Record(Row("k", "v1", VersionState::kCompleted)).ok());
  auto again = StatusStore::Open(*session_);
  ASSERT_TRUE(again.ok());
  const std::string keys[] = {"k"};
  EXPECT_EQ((*again)->ForKeys(source_, keys)->size(), 1u);
}

}  // namespace
}  // namespace ferry::replicate
