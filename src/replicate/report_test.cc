#include "replicate/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

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

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The document the Batch Operations JSON has always been: nlohmann's dump of {"rows": [...]},
// indent 1, invalid UTF-8 replaced.
std::string ReferenceJson(const std::vector<ReportRow>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const ReportRow& r : rows) {
    list.push_back({{"Bucket", r.bucket},
                    {"Key", r.key},
                    {"VersionId", r.version_id},
                    {"TaskStatus", r.task_status},
                    {"ErrorCode", r.error_code},
                    {"HTTPStatusCode", r.http_status},
                    {"ResultMessage", r.result_message}});
  }
  return nlohmann::json{{"rows", list}}.dump(1, ' ', false,
                                             nlohmann::json::error_handler_t::replace) +
         "\n";
}

// ReportFiles (the files written a row at a time, as `replicate --report-format s3-batch`
// streams the status store) writes what WriteReport writes for the same rows: none, one, three.
TEST(ReplicationReportTest, FilesWrittenRowByRowAreTheWholeFiles) {
  VersionStatus s;
  s.rule = "r";
  s.destination = "rb:b/";
  s.source_version = "v1";
  s.state = VersionState::kCompleted;
  std::vector<VersionStatus> all;
  for (const std::string& key : {std::string("a,\"b\"\nc"), std::string("\xc3\xa4 bad \xff"),
                          std::string("k")}) {
    s.key = key;
    all.push_back(s);
    s.state = VersionState::kFailed;
    s.message = "denied";
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ferry-report-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  for (size_t n : {0u, 1u, 3u}) {
    std::vector<ReportRow> rows;
    for (size_t i = 0; i < n; ++i) rows.push_back(ReportRowOf(all[i], "src", "pre/"));
    const std::string prefix = (dir / ("r" + std::to_string(n))).string();
    auto files = ReportFiles::Open(prefix);
    ASSERT_TRUE(files.ok()) << files.status().message();
    for (const ReportRow& r : rows) ASSERT_TRUE((*files)->Add(r).ok());
    ASSERT_TRUE((*files)->Finish().ok());
    EXPECT_EQ(ReadAll(prefix + ".csv"), ReportCsv(rows)) << n;
    EXPECT_EQ(ReadAll(prefix + ".json"), ReferenceJson(rows)) << n;
    EXPECT_EQ(ReportJson(rows), ReferenceJson(rows)) << n;
  }
  EXPECT_EQ(ReportFiles::Open((dir / "absent" / "r").string()).status().code(),
            ErrorCode::kUnavailable);
  std::filesystem::remove_all(dir);
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
  s.updated_ns = 500;
  report::Row done = PerObjectRow(s, "pre/", 500);  // completed as the pass began: its own
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
  report::Row replica = PerObjectRow(s, "", 0);
  EXPECT_EQ(replica.action, report::Action::kSkipped);
  EXPECT_EQ(replica.outcome, report::Outcome::kSkipped);
  EXPECT_FALSE(report::Keeps(report::Level::kChanges, replica));
  EXPECT_TRUE(report::Keeps(report::Level::kAll, replica));

  s.state = VersionState::kFailed;
  s.error_code = "PermissionDenied";
  s.message = "access denied";
  report::Row failed = PerObjectRow(s, "", 0);
  EXPECT_EQ(failed.action, report::Action::kFailed);
  EXPECT_EQ(failed.outcome, report::Outcome::kFailed);
  EXPECT_EQ(failed.error_code, "PermissionDenied");
  EXPECT_EQ(failed.error_message, "FAILED: rule r to rb:b/: access denied");
  EXPECT_TRUE(report::Keeps(report::Level::kErrors, failed));

  s.state = VersionState::kPending;
  s.delete_marker = true;
  s.size = 0;
  report::Row pending = PerObjectRow(s, "", 0);
  EXPECT_EQ(pending.action, report::Action::kNotCopied);
  EXPECT_EQ(pending.outcome, report::Outcome::kFailed);
  EXPECT_EQ(pending.error_code, "NotDone");
  EXPECT_EQ(pending.size, 0u);
  EXPECT_NE(pending.error_message.find("PENDING: delete marker rule r to rb:b/"),
            std::string::npos);
  EXPECT_TRUE(report::Keeps(report::Level::kErrors, pending));
}

// A second pass over the same source: a version an earlier pass completed is skipped (this
// pass wrote nothing for it), one this pass completed is copied; FAILED and PENDING rows are
// reported as they are, however old.
TEST(ReplicationReportTest, VersionsCompletedByAnEarlierPassAreSkipped) {
  VersionStatus s;
  s.rule = "r";
  s.destination = "rb:b/";
  s.key = "k";
  s.source_version = "v1";
  s.state = VersionState::kCompleted;
  s.dest_version = "d1";
  s.updated_ns = 1'000'000'000;
  report::Row earlier = PerObjectRow(s, "", 1'000'000'001);
  EXPECT_EQ(earlier.action, report::Action::kSkipped);
  EXPECT_EQ(earlier.outcome, report::Outcome::kSkipped);
  EXPECT_EQ(earlier.error_code, "");
  EXPECT_EQ(earlier.error_message,
            "COMPLETED: rule r to rb:b/ as version d1: replicated by an earlier pass");
  EXPECT_FALSE(report::Keeps(report::Level::kChanges, earlier));

  report::Row now = PerObjectRow(s, "", 1'000'000'000);
  EXPECT_EQ(now.action, report::Action::kCopied);
  EXPECT_EQ(now.outcome, report::Outcome::kOk);
  EXPECT_EQ(now.error_message, "COMPLETED: rule r to rb:b/ as version d1");

  s.state = VersionState::kFailed;
  s.error_code = "PermissionDenied";
  EXPECT_EQ(PerObjectRow(s, "", 2'000'000'000).action, report::Action::kFailed);
  s.state = VersionState::kPending;
  EXPECT_EQ(PerObjectRow(s, "", 2'000'000'000).action, report::Action::kNotCopied);
}

}  // namespace
}  // namespace ferry::replicate
