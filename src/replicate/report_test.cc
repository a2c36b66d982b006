#include "replicate/report.h"

#include <gtest/gtest.h>

namespace ferry::replicate {
namespace {

TEST(ReplicationReportTest, RowsInS3BatchOperationsColumns) {
  VersionStatus done;
  done.rule = "r";
  done.destination = "rb:b/";
  done.key = "a,\"b\" c";
  done.source_version = "v1";
  done.state = VersionState::kCompleted;
  done.dest_version = "d1";
  VersionStatus failed = done;
  failed.key = "k";
  failed.state = VersionState::kFailed;
  failed.error_code = "kPermissionDenied";
  failed.http_status = 403;
  failed.message = "access denied";
  std::vector<ReportRow> rows = ReportRows({done, failed}, "src", "pre/");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "pre/a,\"b\" c");
  EXPECT_EQ(ReportCsv(rows),
            "Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage\n"
            "src,\"pre/a,\"\"b\"\" c\",v1,succeeded,,200,COMPLETED: rule r to rb:b/ as version d1\n"
            "src,pre/k,v1,failed,kPermissionDenied,403,FAILED: rule r to rb:b/: access denied\n");
  const std::string json = ReportJson(rows);
  EXPECT_NE(json.find("\"HTTPStatusCode\": 403"), std::string::npos);
  EXPECT_NE(json.find("\"TaskStatus\": \"failed\""), std::string::npos);
}

TEST(ReplicationReportTest, PerObjectRowsFromEveryState) {
  VersionStatus s;
  s.rule = "r";
  s.destination = "rb:b/";
  s.key = "k";
  s.source_version = "v1";
  s.size = 42;
  s.state = VersionState::kCompleted;
  s.dest_version = "d1";
  report::Row done = PerObjectRow(s, "pre/");
  EXPECT_EQ(done.key, "pre/k");
  EXPECT_EQ(done.version_id, "v1");
  EXPECT_EQ(done.size, 42u);
  EXPECT_EQ(done.action, report::Action::kCopied);
  EXPECT_EQ(done.outcome, report::Outcome::kOk);
  EXPECT_EQ(done.error_code, "");
  EXPECT_EQ(done.error_message, "COMPLETED: rule r to rb:b/ as version d1");
  EXPECT_EQ(done.checksum, "none");
  EXPECT_TRUE(report::Keeps(report::Level::kChanges, done));
  EXPECT_FALSE(report::Keeps(report::Level::kErrors, done));

  s.state = VersionState::kReplica;
  report::Row replica = PerObjectRow(s, "");
  EXPECT_EQ(replica.action, report::Action::kSkipped);
  EXPECT_EQ(replica.outcome, report::Outcome::kSkipped);
  EXPECT_FALSE(report::Keeps(report::Level::kChanges, replica));
  EXPECT_TRUE(report::Keeps(report::Level::kAll, replica));

  s.state = VersionState::kFailed;
  s.error_code = "PermissionDenied";
  s.message = "access denied";
  report::Row failed = PerObjectRow(s, "");
  EXPECT_EQ(failed.action, report::Action::kFailed);
  EXPECT_EQ(failed.outcome, report::Outcome::kFailed);
  EXPECT_EQ(failed.error_code, "PermissionDenied");
  EXPECT_EQ(failed.error_message, "FAILED: rule r to rb:b/: access denied");
  EXPECT_TRUE(report::Keeps(report::Level::kErrors, failed));

  s.state = VersionState::kPending;
  s.delete_marker = true;
  s.size = 0;
  report::Row pending = PerObjectRow(s, "");
  EXPECT_EQ(pending.action, report::Action::kNotCopied);
  EXPECT_EQ(pending.outcome, report::Outcome::kFailed);
  EXPECT_EQ(pending.error_code, "NotDone");
  EXPECT_EQ(pending.size, 0u);
  EXPECT_NE(pending.error_message.find("PENDING: delete marker rule r to rb:b/"),
            std::string::npos);
  EXPECT_TRUE(report::Keeps(report::Level::kErrors, pending));
}

}  // namespace
}  // namespace ferry::replicate
