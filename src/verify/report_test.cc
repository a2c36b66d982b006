#include "verify/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace ferry::verify
