#include "app/report_open.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/config.h"
#include "testing/fake_clock.h"

namespace ferry::app {
namespace {

std::string ReadReportFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReportOpenTest, AFolderIsCreatedAndGetsThePartsAndTheSummary) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ferry-report-open-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  Wiring wiring{Config{}};
  testing::FakeClock clock;
  auto open = OpenReport::Open(wiring, {.location = (dir / "rep").string(), .format = "json",
                                        .level = "all"},
                               {.run_id = "", .clock = &clock}, {});
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ((*open)->run_id().rfind("20260101T000000Z-", 0), 0u) << (*open)->run_id();
  report::Row row;
  row.key = "k";
  (*open)->writer().Add(row);
  ASSERT_TRUE((*open)->Finish({}).ok());
  const std::string part = "part-" + (*open)->run_id() + "-000001.jsonl";
  EXPECT_NE(ReadReportFile(dir / "rep" / part).find("\"key\":\"k\""), std::string::npos);
  EXPECT_NE(ReadReportFile(dir / "rep" / "summary.json").find(part), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ReportOpenTest, BadSettingsAreOneLineNamingTheFlag) {
  Status s = CheckReportSettings({.location = "r", .format = "xml"}, true, false);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--report-format"), std::string::npos);
  s = CheckReportSettings({.location = "", .format = "csv", .level = "all"}, false, true);
  EXPECT_NE(s.message().find("--report-level needs --report"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckReportSettings({.location = "r"}, false, false).ok());
}

}  // namespace
}  // namespace ferry::app
