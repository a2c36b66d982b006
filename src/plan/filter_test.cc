#include "plan/filter.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::plan {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using storage::ObjectInfo;
using TimePoint = std::chrono::system_clock::time_point;

const TimePoint kNow = TimePoint(seconds(1'700'000'000));

ObjectInfo Obj(std::string key, uint64_t size = 10, TimePoint mtime = kNow - hours(1)) {
  ObjectInfo o;
  o.key = std::move(key);
  o.size = size;
  o.mtime = mtime;
  return o;
}

Filter MustMake(const FilterOptions& options) {
  Result<Filter> f = Filter::Make(options, kNow);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? std::move(f).value() : Filter();
}

TEST(FilterTest, DefaultMatchesEverything) {
  Filter f;
  EXPECT_TRUE(f.AcceptsAll());
  EXPECT_TRUE(f.Matches(Obj("a/b/c")));
  EXPECT_TRUE(MustMake({}).AcceptsAll());
}

TEST(FilterTest, IncludeRequiresOneMatch) {
  FilterOptions o;
  o.include = {"*.jpg", "/docs/**"};
  Filter f = MustMake(o);
  EXPECT_FALSE(f.AcceptsAll());
  EXPECT_TRUE(f.Matches(Obj("a/b.jpg")));
  EXPECT_TRUE(f.Matches(Obj("docs/x/y.txt")));
  EXPECT_FALSE(f.Matches(Obj("a/b.png")));
  EXPECT_FALSE(f.Matches(Obj("x/docs/y.txt")));
}

TEST(FilterTest, ExcludeWinsOverInclude) {
  FilterOptions o;
  o.include = {"*.jpg"};
  o.exclude = {"/tmp/**", "*-draft.*"};
  Filter f = MustMake(o);
  EXPECT_TRUE(f.Matches(Obj("a.jpg")));
  EXPECT_FALSE(f.Matches(Obj("tmp/a.jpg")));
  EXPECT_FALSE(f.Matches(Obj("x/a-draft.jpg")));
  EXPECT_FALSE(f.Matches(Obj("a.png")));
}

TEST(FilterTest, ExcludeAloneKeepsTheRest) {
  FilterOptions o;
  o.exclude = {"*.tmp"};
  Filter f = MustMake(o);
  EXPECT_TRUE(f.Matches(Obj("a/b")));
  EXPECT_FALSE(f.Matches(Obj("a/b.tmp")));
}

TEST(FilterTest, SizeBoundsAreInclusive) {
  FilterOptions o;
  o.min_size = 10;
  o.max_size = 20;
  Filter f = MustMake(o);
  EXPECT_FALSE(f.Matches(Obj("k", 9)));
  EXPECT_TRUE(f.Matches(Obj("k", 10)));
  EXPECT_TRUE(f.Matches(Obj("k", 20)));
  EXPECT_FALSE(f.Matches(Obj("k", 21)));
}

TEST(FilterTest, AgeBoundsUseListingMtime) {
  FilterOptions o;
  o.newer_than = kNow - hours(48);  // --newer-than 2d
  o.older_than = kNow - hours(24);  // --older-than 1d
  Filter f = MustMake(o);
  EXPECT_FALSE(f.Matches(Obj("k", 1, kNow - hours(49))));
  EXPECT_TRUE(f.Matches(Obj("k", 1, kNow - hours(48))));
  EXPECT_TRUE(f.Matches(Obj("k", 1, kNow - hours(30))));
  EXPECT_TRUE(f.Matches(Obj("k", 1, kNow - hours(24))));
  EXPECT_FALSE(f.Matches(Obj("k", 1, kNow - hours(1))));
  // A recorded ferry-mtime is a detail and is not looked at.
  ObjectInfo with_meta = Obj("k", 1, kNow - hours(1));
  with_meta.has_details = true;
  with_meta.metadata[storage::kMetaMtime] = "1";
  EXPECT_FALSE(f.Matches(with_meta));
}

TEST(FilterTest, DestinationOnlyObjectOutsideTheFilterIsNotMatched) {
  // The sync driver deletes a destination-only object only when it matches.
  FilterOptions o;
  o.include = {"*.jpg"};
  Filter f = MustMake(o);
  EXPECT_FALSE(f.Matches(Obj("notes.txt")));  // kept by sync --delete
  EXPECT_TRUE(f.Matches(Obj("old.jpg")));     // deleted by sync --delete
}

TEST(FilterTest, MalformedPatternIsInvalidArgumentNamingFlagAndPattern) {
  FilterOptions o;
  o.exclude = {"ok", "*.[jp"};
  Result<Filter> f = Filter::Make(o, kNow);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("--exclude"), std::string::npos) << f.status().message();
  EXPECT_NE(f.status().message().find("\"*.[jp\""), std::string::npos) << f.status().message();
}

TEST(FilterTest, ContradictoryBoundsAreRefused) {
  {
    FilterOptions o;
    o.min_size = 2;
    o.max_size = 1;
    EXPECT_EQ(Filter::Make(o, kNow).status().code(), ErrorCode::kInvalidArgument);
  }
  {
    FilterOptions o;
    o.newer_than = kNow - hours(1);
    o.older_than = kNow - hours(2);
    EXPECT_EQ(Filter::Make(o, kNow).status().code(), ErrorCode::kInvalidArgument);
  }
  {
    FilterOptions o;
    o.newer_than = kNow + hours(1);
    EXPECT_EQ(Filter::Make(o, kNow).status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(ParseAgeTest, AcceptsUnits) {
  EXPECT_EQ(*ParseAge("30s"), seconds(30));
  EXPECT_EQ(*ParseAge("15m"), seconds(15 * 60));
  EXPECT_EQ(*ParseAge("2h"), seconds(2 * 3600));
  EXPECT_EQ(*ParseAge("7d"), seconds(7 * 86400));
  EXPECT_EQ(*ParseAge("1w"), seconds(7 * 86400));
  EXPECT_EQ(*ParseAge("1h30m"), seconds(5400));
  EXPECT_EQ(*ParseAge("0s"), seconds(0));
}

TEST(ParseAgeTest, RefusesWithReason) {
  struct Bad {
    const char* text;
    const char* why;
  };
  for (const Bad& b :
       {Bad{"", "empty"}, Bad{"30", "missing unit"}, Bad{"15M", "unknown unit 'M'"},
        Bad{"1y", "unknown unit 'y'"}, Bad{"-5m", "whole number"}, Bad{"1.5h", "unknown unit '.'"},
        Bad{"h", "whole number"}, Bad{"5 m", "unknown unit ' '"},
        Bad{"99999999999999999999s", "too large"}, Bad{"9999999999999999w", "too large"}}) {
    Result<std::chrono::seconds> r = ParseAge(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.why), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("\"" + std::string(b.text) + "\""), std::string::npos);
  }
}

TEST(ParseSizeTest, AcceptsSuffixes) {
  EXPECT_EQ(*ParseSize("100"), 100u);
  EXPECT_EQ(*ParseSize("100B"), 100u);
  EXPECT_EQ(*ParseSize("10k"), 10u * 1024);
  EXPECT_EQ(*ParseSize("10K"), 10u * 1024);
  EXPECT_EQ(*ParseSize("10Ki"), 10u * 1024);
  EXPECT_EQ(*ParseSize("10KiB"), 10u * 1024);
  EXPECT_EQ(*ParseSize("10KB"), 10u * 1000);
  EXPECT_EQ(*ParseSize("5M"), 5u << 20);
  EXPECT_EQ(*ParseSize("5MiB"), 5u << 20);
  EXPECT_EQ(*ParseSize("5MB"), 5'000'000u);
  EXPECT_EQ(*ParseSize("1G"), 1ull << 30);
  EXPECT_EQ(*ParseSize("2T"), 2ull << 40);
  EXPECT_EQ(*ParseSize("0"), 0u);
  EXPECT_EQ(*ParseSize("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSizeTest, RefusesWithReason) {
  struct Bad {
    const char* text;
    const char* why;
  };
  for (const Bad& b : {Bad{"", "empty"}, Bad{"k", "whole number"}, Bad{"-1", "whole number"},
                       Bad{"1.5G", "unknown suffix \".5G\""}, Bad{"10X", "unknown suffix"},
                       Bad{"10KiBB", "unknown suffix"}, Bad{"10 K", "unknown suffix"},
                       Bad{"18446744073709551616", "too large"}, Bad{"20000000T", "too large"}}) {
    Result<uint64_t> r = ParseSize(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.why), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("\"" + std::string(b.text) + "\""), std::string::npos);
  }
}

}  // namespace
}  // namespace ferry::plan
