// Migrations by component: stores sharing one database migrate independently, an old
// schema_version (one row, no component) becomes component "jobs", and a newer version of a
// component is refused.
#include "state/migrate.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "state/state.h"

namespace ferry::state {
namespace {

Status CreateA(SqlTx& tx, const Dialect&) {
  return tx.Exec("CREATE TABLE cache_entries (k TEXT PRIMARY KEY, v TEXT NOT NULL)").status();
}
Status AddB(SqlTx& tx, const Dialect&) {
  return tx.Exec("ALTER TABLE cache_entries ADD COLUMN expires BIGINT NOT NULL DEFAULT 0")
      .status();
}
Status CreateOther(SqlTx& tx, const Dialect&) {
  return tx.Exec("CREATE TABLE other_things (id BIGINT NOT NULL)").status();
}
constexpr Migration kCacheV1[] = {&CreateA};
constexpr Migration kCacheV2[] = {&CreateA, &AddB};
constexpr Migration kOther[] = {&CreateOther};

class MigrateTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-migrate-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<SqlSession> Open() {
    auto s = OpenSqliteSession((dir_ / "state.db").string());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::filesystem::path dir_;
};

TEST_F(MigrateTest, ComponentsMigrateIndependently) {
  auto session = Open();
  ASSERT_TRUE(Migrate(*session, {.name = "cache", .migrations = kCacheV1}).ok());
  ASSERT_TRUE(Migrate(*session, {.name = "other", .migrations = kOther}).ok());
  EXPECT_EQ(ComponentVersion(*session, "cache").value(), 1);
  EXPECT_EQ(ComponentVersion(*session, "other").value(), 1);
  EXPECT_EQ(ComponentVersion(*session, "jobs").value(), 0);
  // A newer binary adds a migration to "cache" only; running it twice changes nothing.
  ASSERT_TRUE(Migrate(*session, {.name = "cache", .migrations = kCacheV2}).ok());
  ASSERT_TRUE(Migrate(*session, {.name = "cache", .migrations = kCacheV2}).ok());
  EXPECT_EQ(ComponentVersion(*session, "cache").value(), 2);
  EXPECT_EQ(ComponentVersion(*session, "other").value(), 1);
  Status used = session->Transact(TxMode::kWrite, [](SqlTx& tx) {
    return tx.Exec("INSERT INTO cache_entries (k, v, expires) VALUES ('a', 'b', 5)").status();
  });
  EXPECT_TRUE(used.ok()) << used.ToString();
  // The older binary meets the newer component.
  Status old = Migrate(*session, {.name = "cache", .migrations = kCacheV1});
  EXPECT_EQ(old.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(old.message().find("schema version 2 of cache, newer than this ferry knows (1)"),
            std::string::npos)
      << old.message();
}

TEST_F(MigrateTest, AVersionTableWithoutComponentsBelongsToJobs) {
  {
    auto session = Open();
    ASSERT_TRUE(session->Transact(TxMode::kWrite, [](SqlTx& tx) -> Status {
                  FERRY_RETURN_IF_ERROR(
                      tx.Exec("CREATE TABLE schema_version (version BIGINT NOT NULL)").status());
                  return tx.Exec("INSERT INTO schema_version (version) VALUES (3)").status();
                }).ok());
  }
  auto session = Open();
  ASSERT_TRUE(Migrate(*session, {.name = "cache", .migrations = kCacheV1}).ok());
  EXPECT_EQ(ComponentVersion(*session, "jobs").value(), 3);
  EXPECT_EQ(ComponentVersion(*session, "cache").value(), 1);
}

}  // namespace
}  // namespace ferry::state
