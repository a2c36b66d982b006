#include "verify/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

namespace ferry::verify {
namespace {

TEST(ReportTest, CombinedLines) {
  Entry e;
  e.key = "a b/c";
  for (auto [m, c] : {std::pair{Mark::kIdentical, "= a b/c"}, {Mark::kMissing, "- a b/c"},
                      {Mark::kExtra, "+ a b/c"}, {Mark::kDiffer, "* a b/c"},
                      {Mark::kError, "! a b/c"}, {Mark::kSizeOnly, "~ a b/c"}}) {
    e.mark = m;
    EXPECT_EQ(FormatLine(e, false), c);
  }
}

TEST(ReportTest, JsonLineHasEveryField) {
  Entry e;
  e.key = "k\xff";  // not UTF-8: still one valid JSON line
  e.mark = Mark::kMissing;
  e.reason = "only in SRC";
  e.src_size = 5;
  e.src_etag = "abc";
  const std::string line = FormatLine(e, true);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["result"], "missing");
  EXPECT_EQ(j["reason"], "only in SRC");
  EXPECT_EQ(j["src_size"], 5);
  EXPECT_TRUE(j["dst_size"].is_null());
  EXPECT_EQ(j["src_etag"], "abc");
  EXPECT_EQ(j["dst_etag"], "");
}

TEST(ReportTest, CountsAndExitCodes) {
  Report r(nullptr, false);
  Entry e;
  e.mark = Mark::kIdentical;
  r.Add(e);
  e.mark = Mark::kSizeOnly;
  r.Add(e);
  EXPECT_EQ(ExitCodeFor(r.counts()), 0);  // size-only is no difference
  e.mark = Mark::kExtra;
  r.Add(e);
  EXPECT_EQ(ExitCodeFor(r.counts()), 1);
  e.mark = Mark::kError;
  r.Add(e);
  EXPECT_EQ(ExitCodeFor(r.counts()), 3);
  EXPECT_EQ(SummaryLine(r.counts()),
            "verify: 1 identical, 0 differ, 0 missing, 1 extra, 1 errors, 1 size-only (sizes "
            "agree, content not checked)");
}

// --report: each entry is one row of the per-object report, differences as failed rows.
TEST(ReportTest, EachEntryIsARowOfThePerObjectReport) {
  struct Rows : report::RowSink {
    std::vector<report::Row> rows;
    void Add(report::Row row) override { rows.push_back(std::move(row)); }
  } sink;
  Report r(nullptr, false, &sink);
  Entry e;
  e.key = "d";
  e.mark = Mark::kDiffer;
  e.reason = "md5";
  e.src_size = 4;
  e.dst_size = 5;
  r.Add(e);
  e = Entry{};
  e.key = "m";
  e.mark = Mark::kMissing;
  e.reason = "only in SRC";
  e.src_size = 3;
  r.Add(e);
  e = Entry{};
  e.key = "s";
  e.mark = Mark::kSizeOnly;
  e.reason = "no checksum";
  e.src_size = e.dst_size = 1;
  r.Add(e);
  e = Entry{};
  e.key = "x";
  e.mark = Mark::kError;
  e.reason = "stat: 503";
  r.Add(e);
  ASSERT_EQ(sink.rows.size(), 4u);
  EXPECT_EQ(sink.rows[0].action, report::Action::kDiffers);
  EXPECT_EQ(sink.rows[0].outcome, report::Outcome::kFailed);
  EXPECT_EQ(sink.rows[0].checksum, "md5");
  EXPECT_EQ(sink.rows[0].size, 4u);
  EXPECT_EQ(sink.rows[1].action, report::Action::kMissing);
  EXPECT_EQ(sink.rows[1].checksum, "none");
  EXPECT_EQ(sink.rows[2].action, report::Action::kIdentical);
  EXPECT_EQ(sink.rows[2].outcome, report::Outcome::kOk);
  EXPECT_EQ(sink.rows[2].checksum, "size-only");
  EXPECT_EQ(sink.rows[2].error_message, "unverified: no checksum");  // and why
  EXPECT_EQ(sink.rows[3].action, report::Action::kFailed);
  EXPECT_EQ(sink.rows[3].error_message, "stat: 503");
  EXPECT_EQ(r.counts().differ, 1u);  // the report's own counts as before
  EXPECT_FALSE(report::Keeps(report::Level::kChanges, sink.rows[2]));
  EXPECT_TRUE(report::Keeps(report::Level::kErrors, sink.rows[0]));
}

}  // namespace
}  // namespace ferry::verify
