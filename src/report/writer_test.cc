#include "report/writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::report {
namespace {

using std::chrono::seconds;

Row Copied(std::string key, uint64_t size = 10) {
  Row r;
  r.key = std::move(key);
  r.size = size;
  r.action = Action::kCopied;
  r.outcome = Outcome::kOk;
  r.checksum = std::string(checksum_used::kMd5);
  return r;
}

Row Skipped(std::string key) {
  Row r;
  r.key = std::move(key);
  r.action = Action::kSkipped;
  r.outcome = Outcome::kSkipped;
  r.checksum = std::string(checksum_used::kEtag);
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

struct ReportFixture : ::testing::Test {
  storage::MemoryBackend location;
  testing::FakeClock clock;
  WriterOptions Options(size_t rows_per_part = 10000) {
    WriterOptions o;
    o.rows_per_part = rows_per_part;
    o.run_id = "r1";
    o.clock = &clock;
    return o;
  }
  nlohmann::json Summary() {
    auto text = location.Contents("summary.json");
    EXPECT_TRUE(text.has_value());
    return nlohmann::json::parse(text.value_or("{}"));
  }
};

TEST_F(ReportFixture, PartsAreCutEveryNRowsAndTheRestAtFinish) {
  ReportWriter writer(location, Options(3));
  for (int i = 0; i < 7; ++i) writer.Add(Copied("k" + std::to_string(i)));
  // Two full parts are written while the run goes; the seventh row waits for Finish.
  EXPECT_TRUE(location.Contents("part-r1-000001.csv").has_value());
  EXPECT_TRUE(location.Contents("part-r1-000002.csv").has_value());
  EXPECT_FALSE(location.Contents("part-r1-000003.csv").has_value());
  ASSERT_TRUE(writer.Finish().ok());
  auto first = Lines(*location.Contents("part-r1-000001.csv"));
  ASSERT_EQ(first.size(), 4u);  // header + 3 rows
  EXPECT_EQ(first[0], "key,version_id,size,action,result,error_code,error_message,checksum,time");
  EXPECT_EQ(first[1], "k0,,10,copied,ok,,,md5,2026-01-01T00:00:00.000Z");
  EXPECT_EQ(Lines(*location.Contents("part-r1-000003.csv")).size(), 2u);
  nlohmann::json s = Summary();
  EXPECT_EQ(s["rows"], 7);
  EXPECT_EQ(s["rows_written"], 7);
  ASSERT_EQ(s["parts"].size(), 3u);
  EXPECT_EQ(s["parts"][2]["name"], "part-r1-000003.csv");
  EXPECT_EQ(s["parts"][2]["rows"], 1);
  EXPECT_EQ(s["complete"], true);
}

TEST_F(ReportFixture, APartIsCutWhenItsIntervalPassedOnTheClock) {
  WriterOptions o = Options();
  o.part_interval = seconds(60);
  ReportWriter writer(location, o);
  writer.Add(Copied("a"));
  clock.Advance(seconds(59));
  writer.Add(Copied("b"));
  EXPECT_TRUE(location.Keys().empty());
  clock.Advance(seconds(1));
  writer.Add(Copied("c"));  // 60 s after the part's first row: cut with it
  ASSERT_TRUE(location.Contents("part-r1-000001.csv").has_value());
  EXPECT_EQ(Lines(*location.Contents("part-r1-000001.csv")).size(), 4u);
  writer.Add(Copied("d"));
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(Lines(*location.Contents("part-r1-000002.csv")).size(), 2u);
  EXPECT_EQ(Lines(*location.Contents("part-r1-000002.csv"))[1].substr(0, 2), "d,");
}

TEST_F(ReportFixture, CsvQuotesKeysWithCommasQuotesAndLineBreaks) {
  Row r = Copied("dir/a,b \"c\"\nd\r");
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1767225600123));
  EXPECT_EQ(EncodeRow(Format::kCsv, r),
            "\"dir/a,b \"\"c\"\"\nd\r\",,10,copied,ok,,,md5,2026-01-01T00:00:00.123Z\n");
  Row failed = FailedRow("plain", 3, "copy", Status::Unavailable("read x: 503, \"slow down\""));
  failed.time = r.time;
  EXPECT_EQ(EncodeRow(Format::kCsv, failed),
            "plain,,3,failed,failed,Unavailable,\"copy: read x: 503, \"\"slow down\"\"\",none,"
            "2026-01-01T00:00:00.123Z\n");
}

TEST_F(ReportFixture, JsonLinesAreOneValidObjectPerLine) {
  WriterOptions o = Options();
  o.format = Format::kJsonLines;
  o.level = Level::kAll;
  ReportWriter writer(location, o);
  writer.Add(Copied("a,\"b\"\nc"));
  writer.Add(Skipped(std::string("bad\xff", 4)));  // not UTF-8: replaced, the line stays valid
  writer.Add(FailedRow("f", 1, "copy", Status::DataLoss("mismatch")));
  ASSERT_TRUE(writer.Finish().ok());
  auto lines = Lines(*location.Contents("part-r1-000001.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  std::vector<nlohmann::json> rows;
  for (const auto& line : lines) rows.push_back(nlohmann::json::parse(line));
  EXPECT_EQ(rows[0]["key"], "a,\"b\"\nc");
  EXPECT_EQ(rows[0]["action"], "copied");
  EXPECT_EQ(rows[1]["result"], "skipped");
  EXPECT_EQ(rows[2]["error_code"], "DataLoss");
  EXPECT_EQ(rows[2]["time"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(Summary()["format"], "json");
}

TEST_F(ReportFixture, LevelsChooseTheRowsWrittenAndTheSummaryCountsThemAll) {
  for (Level level : {Level::kErrors, Level::kChanges, Level::kAll}) {
    storage::MemoryBackend where;
    WriterOptions o = Options();
    o.level = level;
    ReportWriter writer(where, o);
    writer.Add(Copied("c", 5));
    writer.Add(Skipped("s"));
    Row del;
    del.key = "d";
    del.size = 7;
    del.action = Action::kDeleted;
    del.outcome = Outcome::kOk;
    writer.Add(del);
    writer.Add(FailedRow("f", 1, "copy", Status::Unavailable("no")));
    ASSERT_TRUE(writer.Finish().ok());
    const size_t expected = level == Level::kErrors ? 1 : level == Level::kChanges ? 3 : 4;
    EXPECT_EQ(writer.rows_written(), expected) << LevelName(level);
    auto s = nlohmann::json::parse(*where.Contents("summary.json"));
    EXPECT_EQ(s["rows"], 4);
    EXPECT_EQ(s["counts"]["copied"]["ok"], 1);
    EXPECT_EQ(s["counts"]["skipped"]["skipped"], 1);
    EXPECT_EQ(s["counts"]["deleted"]["ok"], 1);
    EXPECT_EQ(s["counts"]["failed"]["failed"], 1);
    EXPECT_EQ(s["bytes"]["copied"], 5);
    EXPECT_EQ(s["bytes"]["deleted"], 7);
    EXPECT_EQ(s["level"], LevelName(level));
  }
}

TEST_F(ReportFixture, SummarySaysWhatWasNotChecked) {
  ReportWriter writer(location, Options());
  Row r = Copied("u");
  r.checksum = std::string(checksum_used::kNone);
  writer.Add(r);
  clock.Advance(seconds(5));
  ASSERT_TRUE(writer.Finish({.not_checked = {"deletes skipped: a copy failed"}}).ok());
  nlohmann::json s = Summary();
  EXPECT_EQ(s["copied_unchecked"], 1);
  EXPECT_EQ(s["not_checked"][0], "deletes skipped: a copy failed");
  EXPECT_EQ(s["started"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(s["ended"], "2026-01-01T00:00:05.000Z");
  EXPECT_EQ(s["run_id"], "r1");
  EXPECT_FALSE(s.contains("cost"));  // none given
}

// The run's cost (restore's and cache warm's priced summary) as the summary's "cost"; text
// that is not a JSON object is left out, never a broken summary.
TEST_F(ReportFixture, SummaryCarriesTheRunsCostWhenGiven) {
  ReportWriter writer(location, Options());
  writer.Add(Copied("u"));
  ASSERT_TRUE(writer.Finish({.not_checked = {}, .cost_json = R"({"stores":[{"remote":"rb"}]})"}).ok());
  EXPECT_EQ(Summary()["cost"]["stores"][0]["remote"], "rb");
  ReportWriter other(location, Options());
  ASSERT_TRUE(other.Finish({.not_checked = {}, .cost_json = "[1, 2"}).ok());
  EXPECT_FALSE(Summary().contains("cost"));
}

// cache warm's "joined" rows: counted, written at level all only (not a change of this run).
TEST(ReportLevelTest, JoinedRowsAreNotChanges) {
  Row joined;
  joined.action = Action::kJoined;
  joined.outcome = Outcome::kSkipped;
  EXPECT_EQ(ActionName(Action::kJoined), "joined");
  EXPECT_FALSE(Keeps(Level::kChanges, joined));
  EXPECT_TRUE(Keeps(Level::kAll, joined));
}

// A listed key the source lacks (transfer::NotOnSourceRow): a skip with an error code, kept at
// the default level (the operator asked for that key), not at `errors` (not a failure).
TEST(ReportLevelTest, ASkipWithAnErrorIsAChangeNotAFailure) {
  Row skipped;
  skipped.action = Action::kSkipped;
  skipped.outcome = Outcome::kSkipped;
  EXPECT_FALSE(Keeps(Level::kChanges, skipped));
  skipped.error_code = "NotFound";
  skipped.error_message = "gone since the inventory";
  EXPECT_TRUE(Keeps(Level::kChanges, skipped));
  EXPECT_FALSE(Keeps(Level::kErrors, skipped));
}

TEST_F(ReportFixture, ConcurrentAddsLoseAndDuplicateNoRow) {
  ReportWriter writer(location, Options(1000));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2500;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&writer, t] {
        for (int i = 0; i < kPerThread; ++i) {
          writer.Add(Copied("t" + std::to_string(t) + "-" + std::to_string(i)));
        }
      });
    }
  }
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(writer.Count(Action::kCopied, Outcome::kOk), uint64_t{kThreads * kPerThread});
  std::set<std::string> keys;
  uint64_t rows = 0;
  for (const auto& part : writer.parts()) {
    auto lines = Lines(*location.Contents(part.name));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.size() - 1, part.rows);
    EXPECT_LE(part.rows, 1000u + kThreads);  // bounded: one row per thread beyond the cut
    for (size_t i = 1; i < lines.size(); ++i) keys.insert(lines[i].substr(0, lines[i].find(',')));
    rows += part.rows;
  }
  EXPECT_EQ(rows, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(keys.size(), size_t{kThreads * kPerThread});
}

TEST_F(ReportFixture, APartThatCannotBeWrittenMakesTheReportIncomplete) {
  ReportWriter writer(location, Options(2));
  location.FailNext(storage::MemoryBackend::kPut, 1, Status::Unavailable("store down"));
  for (int i = 0; i < 5; ++i) writer.Add(Copied("k" + std::to_string(i)));
  Status s = writer.Finish();
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_NE(s.message().find("report incomplete"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("part-r1-000001.csv (2 rows)"), std::string::npos) << s.ToString();
  nlohmann::json summary = Summary();
  EXPECT_EQ(summary["complete"], false);
  EXPECT_EQ(summary["parts_failed"][0]["rows"], 2);
  EXPECT_EQ(summary["rows_written"], 3);
  EXPECT_EQ(summary["parts"].size(), 2u);
}

TEST(ReportParseTest, FormatsAndLevelsRefuseOtherWords) {
  EXPECT_EQ(*ParseFormat("json"), Format::kJsonLines);
  EXPECT_EQ(*ParseLevel("all"), Level::kAll);
  EXPECT_EQ(ParseFormat("xml").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseLevel("most").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::report
