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

}  // namespace
}  // namespace ferry::replicate
