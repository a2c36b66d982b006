// A restore's per-object report rows (RestoreOptions::report, backup::restore_rows): each entry
// exactly one row, saying what happened to it and what proved it.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "backup/backup_test_fixture.h"
#include "backup/restore.h"
#include "report/row.h"
#include "transfer/executor.h"

namespace ferry::backup {
namespace {

using namespace fixture;  // Restoring, BackupTest, RefusesOneKey (backup_test_fixture.h)

// The rows a restore gave, by key (a key given two rows fails the test).
class RestoreRowsSink : public report::RowSink {
 public:
  void Add(report::Row row) override {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(rows.contains(row.key)) << "two rows for " << row.key;
    rows.insert_or_assign(row.key, std::move(row));
  }
  std::map<std::string, report::Row> rows;

 private:
  std::mutex mu_;
};

using RestoreReportTest = BackupTest;

TEST_F(RestoreReportTest, EachEntryHasOneRowSayingWhatHappened) {
  Backup("1.fza", 6, 500, 0, 5, 1000);
  std::vector<CatalogEntry> rows = LatestOf("d/");
  ASSERT_EQ(rows.size(), 6u);
  // rows[2] there already (identical), rows[3] there with other bytes (kept).
  ASSERT_TRUE(RestoreEntries(backup_, std::vector<CatalogEntry>{rows[2]}, dst_, Restoring(), {})
                  .ok());
  storage::WriteSpec spec;
  spec.size = 3;
  ASSERT_TRUE(dst_.Put(rows[3].key, checksum::AsBytes(std::string("new")), spec, {}).ok());
  CatalogEntry marker = rows[0];
  marker.key = "d/";
  marker.size = 0;
  rows.insert(rows.begin(), marker);  // written: the memory store holds folder markers
  dst_.FailNext(MemoryBackend::kStat, 1, Status::PermissionDenied("no looking"));
  transfer::Executor serial(transfer::ExecutorOptions{.concurrency = 1});
  RestoreOptions o = Restoring();
  o.executor = &serial;  // one at a time: the Stat that fails is the first row's ("d/")
  RestoreRowsSink sink;
  o.report = &sink;
  auto r = RestoreEntries(backup_, rows, dst_, o, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(sink.rows.size(), rows.size());
  const report::Row& failed = sink.rows.at("d/");
  EXPECT_EQ(failed.action, report::Action::kFailed);
  EXPECT_EQ(failed.error_code, "PermissionDenied");
  EXPECT_NE(failed.error_message.find("restore: "), std::string::npos) << failed.error_message;
  const report::Row& same = sink.rows.at(rows[3].key);
  EXPECT_EQ(same.action, report::Action::kSkipped);
  EXPECT_EQ(same.checksum, "crc32c");  // the target read back against the catalog's
  const report::Row& kept = sink.rows.at(rows[4].key);
  EXPECT_EQ(kept.action, report::Action::kFailed);
  EXPECT_EQ(kept.error_code, "AlreadyExists");
  EXPECT_EQ(r->objects_written, 4u);
  for (size_t i : {1, 2, 5, 6}) {
    const report::Row& w = sink.rows.at(rows[i].key);
    EXPECT_EQ(w.action, report::Action::kCopied) << rows[i].key;
    EXPECT_EQ(w.outcome, report::Outcome::kOk) << rows[i].key;
    EXPECT_EQ(w.checksum, "crc32c") << rows[i].key;
    EXPECT_EQ(w.size, rows[i].size) << rows[i].key;
    EXPECT_EQ(w.version_id, rows[i].version_id) << rows[i].key;
  }
}

// A write that fails ends the restore: what was written has its copied row, every other entry
// a failed row carrying that error (none is left without a row, none has two).
TEST_F(RestoreReportTest, AFailedWriteGivesTheEntriesNotWrittenItsError) {
  Backup("1.fza", 40, 500, 0, 7, 1000);
  Backup("2.fza", 40, 500, 0, 70, 2000);  // the same keys again: rows of both archives
  std::vector<CatalogEntry> rows;
  for (const CatalogEntry& e : All()) {
    if (e.archive == "1.fza" && e.key < "d/1020") rows.push_back(e);
    if (e.archive == "2.fza" && e.key >= "d/1020") rows.push_back(e);
  }
  ASSERT_EQ(rows.size(), 40u);
  RefusesOneKey flaky("d/1005.csv");
  RestoreRowsSink sink;
  RestoreOptions o = Restoring();
  o.report = &sink;
  auto r = RestoreEntries(backup_, rows, flaky, o, {});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(sink.rows.size(), rows.size());
  size_t copied = 0;
  for (const CatalogEntry& e : rows) {
    const report::Row& row = sink.rows.at(e.key);
    if (row.action == report::Action::kCopied) {
      ++copied;
      EXPECT_TRUE(flaky.Stat(e.key, false, {}).ok()) << e.key;
      continue;
    }
    EXPECT_EQ(row.action, report::Action::kFailed) << e.key;
    EXPECT_EQ(row.error_code, "Unavailable") << e.key;
    EXPECT_FALSE(flaky.Stat(e.key, false, {}).ok()) << e.key;
  }
  EXPECT_EQ(sink.rows.at("d/1005.csv").action, report::Action::kFailed);
  EXPECT_LT(copied, rows.size());
}

}  // namespace
}  // namespace ferry::backup
