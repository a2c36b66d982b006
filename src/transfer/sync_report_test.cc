// RunSync's per-object report rows (TransferOptions::report): every copy, skip and delete of
// a run as one row, with the checksum that proved it; failures as failed rows.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "storage/memory/memory_backend.h"
#include "transfer/memory_fixture.h"
#include "transfer/report_rows.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::SmallParts;

class CollectedRows : public report::RowSink {
 public:
  void Add(report::Row row) override {
    std::lock_guard lock(mu_);
    rows_[row.key] = row;
    ++count_;
  }
  std::map<std::string, report::Row> rows() {
    std::lock_guard lock(mu_);
    return rows_;
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, report::Row> rows_;
  int count_ = 0;
};

SyncOptions ReportedOptions(CollectedRows& rows) {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 64 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 10000;
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  o.transfer.report = &rows;
  return o;
}

TEST(SyncReportTest, EachCopySkipAndDeleteIsOneRow) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "a,comma", "aaa");
  Put(src, "big", Bytes(30000, 2));  // multipart
  Put(dst, "extra", "x");
  CollectedRows rows;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, ReportedOptions(rows), stats, {}).status.ok());
  auto r = rows.rows();
  ASSERT_EQ(rows.count(), 3);
  EXPECT_EQ(r["a,comma"].action, report::Action::kCopied);
  EXPECT_EQ(r["a,comma"].outcome, report::Outcome::kOk);
  EXPECT_EQ(r["a,comma"].checksum, "md5");  // the source's MD5 ETag checked the bytes
  EXPECT_EQ(r["a,comma"].size, 3u);
  EXPECT_EQ(r["big"].action, report::Action::kCopied);
  EXPECT_EQ(r["big"].checksum, "md5");
  EXPECT_EQ(r["extra"].action, report::Action::kDeleted);
  EXPECT_EQ(r["extra"].outcome, report::Outcome::kOk);

  CollectedRows again;
  Stats second;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, ReportedOptions(again), second, {}).status.ok());
  ASSERT_EQ(again.count(), 2);
  for (const auto& [key, row] : again.rows()) {
    EXPECT_EQ(row.action, report::Action::kSkipped) << key;
    EXPECT_EQ(row.outcome, report::Outcome::kSkipped) << key;
    EXPECT_NE(row.checksum, "none") << key;  // what the comparison looked at
  }
}

TEST(SyncReportTest, AFailedCopyIsAFailedRowWithItsError) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "f", "f");
  dst.FailNext(MemoryBackend::kPut, 5, Status::PermissionDenied("denied"));
  CollectedRows rows;
  Stats stats;
  testing::SyncOnOwnExecutor(src, dst, ReportedOptions(rows), stats, {});
  auto r = rows.rows();
  ASSERT_EQ(rows.count(), 1);
  EXPECT_EQ(r["f"].action, report::Action::kFailed);
  EXPECT_EQ(r["f"].outcome, report::Outcome::kFailed);
  EXPECT_EQ(r["f"].error_code, "PermissionDenied");
  EXPECT_EQ(r["f"].error_message.rfind("copy: ", 0), 0u) << r["f"].error_message;
}

TEST(SyncReportTest, ADryRunReportsWhatItWouldDo) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "new", "n");
  Put(dst, "old", "o");
  CollectedRows rows;
  SyncOptions o = ReportedOptions(rows);
  o.transfer.dry_run = true;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, o, stats, {}).status.ok());
  auto r = rows.rows();
  ASSERT_EQ(rows.count(), 2);
  EXPECT_EQ(r["new"].action, report::Action::kWouldCopy);
  EXPECT_EQ(r["new"].checksum, "none");
  EXPECT_EQ(r["old"].action, report::Action::kWouldDelete);
}

// A copy nothing could check (a multipart ETag whose layout no candidate reproduces) says so:
// its row's checksum is "none", as the summary's unverified count says.
TEST(SyncReportTest, ACopyNothingCheckedSaysNone) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  testing::PutMultipart(src, "odd", Bytes(50000, 6), 4999);
  CollectedRows rows;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, ReportedOptions(rows), stats, {}).status.ok());
  ASSERT_EQ(stats.objects_unverified.load(), 1u);
  auto r = rows.rows();
  EXPECT_EQ(r["odd"].action, report::Action::kCopied);
  EXPECT_EQ(r["odd"].checksum, "none");
}

TEST(SyncReportTest, ChecksumUsedNamesWhatProvedTheBytes) {
  storage::ObjectInfo plain;
  plain.key = "k";
  plain.etag = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(CopyChecksumUsed(plain, "copied", false, false), "md5");
  EXPECT_EQ(CopyChecksumUsed(plain, "copied", false, true), "none");
  EXPECT_EQ(CopyChecksumUsed(plain, "copied (server-side)", false, false), "server-side");
  storage::ObjectInfo multipart = plain;
  multipart.etag = "0123456789abcdef0123456789abcdef-3";
  EXPECT_EQ(CopyChecksumUsed(multipart, "copied (multipart)", false, false), "md5-multipart");
  storage::ObjectInfo local;
  local.key = "f";
  EXPECT_EQ(CopyChecksumUsed(local, "copied", true, false), "local-file");
  EXPECT_EQ(SkipChecksumUsed(plan::kReasonSameSize), "size-only");
  EXPECT_EQ(SkipChecksumUsed(plan::kReasonSameEtag), "etag");
}

}  // namespace
}  // namespace ferry::transfer
