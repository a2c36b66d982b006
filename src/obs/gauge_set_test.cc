// GaugeSet (gauge_set.h) and the registry's render hooks (metrics.h: AddRenderHook).
#include "obs/gauge_set.h"

#include <gtest/gtest.h>

#include <atomic>

#include "obs/metrics.h"

namespace ferry::obs {
namespace {

std::vector<GaugeSet::FamilySpec> TwoFamilies() {
  return {{"ferry_a", "A.", {"run"}}, {"ferry_b", "B.", {"run", "kind"}}};
}

TEST(GaugeSetTest, ReplaceAddsUpdatesAndRemovesSeries) {
  Registry r;
  GaugeSet set(r, TwoFamilies());
  set.Replace({{{{"1"}, 3}, {{"2"}, 4}}, {{{"1", "scan"}, 1}}});
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP ferry_a A.\n# TYPE ferry_a gauge\n"
            "ferry_a{run=\"1\"} 3\nferry_a{run=\"2\"} 4\n"
            "# HELP ferry_b B.\n# TYPE ferry_b gauge\n"
            "ferry_b{run=\"1\",kind=\"scan\"} 1\n");
  // run 1 gone, run 2 changed, run 3 new; family b has none left
  set.Replace({{{{"2"}, 5}, {{"3"}, 6}}});
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP ferry_a A.\n# TYPE ferry_a gauge\n"
            "ferry_a{run=\"2\"} 5\nferry_a{run=\"3\"} 6\n"
            "# HELP ferry_b B.\n# TYPE ferry_b gauge\n");
  EXPECT_EQ(r.Total("ferry_a"), 11);
}

TEST(GaugeSetTest, DestroyedSetLeavesNoSeries) {
  Registry r;
  {
    GaugeSet set(r, TwoFamilies());
    set.Replace({{{{"1"}, 3}}});
    EXPECT_EQ(r.Total("ferry_a"), 3);
  }
  EXPECT_EQ(r.Total("ferry_a"), 0);
  EXPECT_EQ(r.RenderPrometheus().find("ferry_a{"), std::string::npos);
}

TEST(RenderHookTest, HookRunsBeforeEveryRenderAndItsSeriesAreFresh) {
  Registry r;
  GaugeSet set(r, TwoFamilies());
  std::atomic<int> calls{0};
  RenderHook hook = r.AddRenderHook([&] {
    const int n = ++calls;
    set.Replace({{{{"1"}, static_cast<double>(n)}}});
  });
  EXPECT_NE(r.RenderPrometheus().find("ferry_a{run=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(r.RenderJson().find("\"value\":2"), std::string::npos);  // through Snapshot
  EXPECT_EQ(r.Snapshot().front().samples.front().value, 3);
  EXPECT_EQ(calls.load(), 3);
  hook.Reset();
  r.RenderPrometheus();
  EXPECT_EQ(calls.load(), 3);  // removed: not called again
}

TEST(RenderHookTest, MovedHookIsRemovedOnceByItsLastOwner) {
  Registry r;
  int calls = 0;
  RenderHook kept;
  {
    RenderHook first = r.AddRenderHook([&] { ++calls; });
    kept = std::move(first);
  }
  r.RenderPrometheus();
  EXPECT_EQ(calls, 1);
  kept = RenderHook();
  r.RenderPrometheus();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ferry::obs
