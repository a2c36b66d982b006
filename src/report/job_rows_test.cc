// A durable run's report pieces: a job's rows written as its part and recorded, the record
// round-tripping through its JSON, the run's summary summed from the recorded parts only (a
// part nobody recorded, a killed attempt's, is not counted), a lost part making the report
// incomplete. MemoryBackend, FakeClock.
#include "report/job_rows.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::report {
namespace {

Row Copied(std::string key, uint64_t size) {
  Row r;
  r.key = std::move(key);
  r.size = size;
  r.action = Action::kCopied;
  r.outcome = Outcome::kOk;
  r.checksum = "md5";
  return r;
}

class JobRowsTest : public ::testing::Test {
 protected:
  RecordedPart Job(const std::vector<std::string>& keys, const std::string& stem) {
    JobRows rows(Format::kCsv, Level::kChanges, clock_);
    for (const auto& k : keys) rows.Add(Copied(k, 10));
    Row skip;
    skip.key = "s-" + stem;
    rows.Add(skip);  // counted, not written at level changes
    auto recorded = DecodeRecordedPart(EncodeRecordedPart(rows.Write(location_, stem)));
    EXPECT_TRUE(recorded.ok());
    return recorded.ok() ? *recorded : RecordedPart{};
  }
  nlohmann::json Summary() {
    auto text = location_.Contents("summary.json");
    EXPECT_TRUE(text.has_value());
    return nlohmann::json::parse(text.value_or("{}"));
  }

  testing::FakeClock clock_;
  storage::MemoryBackend location_;
};

TEST_F(JobRowsTest, TheSummaryCountsTheRecordedPartsOnce) {
  RecordedPart a = Job({"a", "b"}, "part-r1-j1-a1");
  EXPECT_EQ(a.name, "part-r1-j1-a1.csv");
  EXPECT_EQ(a.tally.rows, 3u);
  EXPECT_EQ(a.tally.rows_written, 2u);
  const std::string part = location_.Contents("part-r1-j1-a1.csv").value_or("");
  EXPECT_TRUE(part.starts_with(CsvHeader())) << part;
  EXPECT_EQ(std::count(part.begin(), part.end(), '\n'), 3) << part;  // header, a, b
  // A killed attempt of job 2 wrote its part, then died before its outcome committed: nobody
  // recorded it. Its next attempt writes the same rows again and records them.
  Job({"c"}, "part-r1-j2-a1");
  RecordedPart c = Job({"c"}, "part-r1-j2-a2");
  ASSERT_TRUE(WriteRunSummary(location_, {.run_id = "r1", .parts = {a, c}}).ok());
  const nlohmann::json s = Summary();
  EXPECT_EQ(s["rows"], 5);  // a, b, c and two skips: c once
  EXPECT_EQ(s["rows_written"], 3);
  EXPECT_EQ(s["counts"]["copied"]["ok"], 3);
  EXPECT_EQ(s["counts"]["skipped"]["skipped"], 2);
  EXPECT_EQ(s["bytes"]["copied"], 30);
  EXPECT_EQ(s["parts"].size(), 2u);
  EXPECT_EQ(s["parts"][1]["name"], "part-r1-j2-a2.csv");
  EXPECT_EQ(s["complete"], true);
}

TEST_F(JobRowsTest, ALostPartMakesTheReportIncomplete) {
  RecordedPart a = Job({"a"}, "part-r1-j1-a1");
  location_.FailNextWrites(1, Status::Unavailable("injected"));
  RecordedPart b = Job({"b", "c"}, "part-r1-j2-a1");
  EXPECT_EQ(b.error, "injected");
  Status s = WriteRunSummary(location_, {.run_id = "r1", .parts = {a, b}});
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_NE(s.message().find("part-r1-j2-a1.csv (2 rows)"), std::string::npos) << s.ToString();
  const nlohmann::json j = Summary();
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["parts_failed"].size(), 1u);
  EXPECT_EQ(j["counts"]["copied"]["ok"], 3);  // counted all the same
}

TEST_F(JobRowsTest, DroppedRowsAndALevelThatKeepsNothing) {
  JobRows rows(Format::kJsonLines, Level::kErrors, clock_);
  rows.Add(Copied("a", 1));
  Row failed = FailedRow("b", 1, "copy", Status::Unavailable("503"));
  rows.Add(failed);
  rows.DropIf([](const Row& r) { return r.outcome == Outcome::kFailed; });
  RecordedPart p = rows.Write(location_, "part-x");
  EXPECT_EQ(p.name, "");  // nothing kept at level errors: counts only, no object
  EXPECT_EQ(p.tally.rows, 1u);
  EXPECT_FALSE(location_.Contents("part-x.jsonl").has_value());
  EXPECT_FALSE(DecodeRecordedPart("{\"name\":1}").ok());
}

}  // namespace
}  // namespace ferry::report
