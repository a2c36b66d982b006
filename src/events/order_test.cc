// Sequencer order (AWS: right-pad the shorter with zeros, compare as strings) and dedup keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "events/events.h"

namespace ferry::events {
namespace {

TEST(SequencerTest, SameLengthComparesAsHex) {
  EXPECT_TRUE(SequencerLess("0055AED6DCD90281E5", "0055AED6DCD90281E6"));
  EXPECT_TRUE(SequencerLess("0055AED6DCD90281E9", "0055AED6DCD90281EA"));
  EXPECT_FALSE(SequencerLess("0055AED6DCD90281EA", "0055AED6DCD90281E9"));
  EXPECT_FALSE(SequencerLess("ABC", "ABC"));
  EXPECT_EQ(CompareSequencers("ABC", "ABC"), std::strong_ordering::equal);
}

TEST(SequencerTest, ShorterIsRightPaddedWithZeros) {
  // "0066944A3E" is read as "0066944A3E00000000" against an 18-digit one.
  EXPECT_TRUE(SequencerLess("0066944A3D1C5F0A21", "0066944A3E"));
  EXPECT_TRUE(SequencerLess("0066944A3E", "0066944A3E00000001"));
  EXPECT_EQ(CompareSequencers("0066944A3E", "0066944A3E00000000"), std::strong_ordering::equal);
  // Left-padding would say the opposite here: "00000F" < "1".
  EXPECT_TRUE(SequencerLess("1", "F00000"));
  EXPECT_TRUE(SequencerLess("F", "F1"));
  EXPECT_FALSE(SequencerLess("F", "1FFFFFFF"));
}

TEST(SequencerTest, CaseDoesNotMatter) {
  EXPECT_EQ(CompareSequencers("00ab", "00AB"), std::strong_ordering::equal);
  EXPECT_TRUE(SequencerLess("00a9", "00AA"));
}

TEST(SequencerTest, EmptyOrNotHexIsUnordered) {
  EXPECT_FALSE(CompareSequencers("", "00AB").has_value());
  EXPECT_FALSE(CompareSequencers("00AB", "").has_value());
  EXPECT_FALSE(CompareSequencers("", "").has_value());
  EXPECT_FALSE(CompareSequencers("00AG", "00AB").has_value());
  EXPECT_FALSE(CompareSequencers("0x1F", "1F").has_value());
  EXPECT_FALSE(SequencerLess("", "1"));
  EXPECT_FALSE(SequencerLess("1", ""));
}

TEST(SequencerTest, SortsEventsOfOneKey) {
  std::vector<std::string> seqs = {"0066944A3F", "0066944A3D1C", "0066944A3E0001", "0066944A3E"};
  std::sort(seqs.begin(), seqs.end(),
            [](const std::string& a, const std::string& b) { return SequencerLess(a, b); });
  EXPECT_EQ(seqs, (std::vector<std::string>{"0066944A3D1C", "0066944A3E", "0066944A3E0001",
                                            "0066944A3F"}));
}

Event Sample() {
  Event e;
  e.bucket = "photos";
  e.key = "a/b.jpg";
  e.version_id = "v1";
  e.sequencer = "00AB";
  e.name = "s3:ObjectCreated:Put";
  return e;
}

TEST(DedupKeyTest, SameRecordTwiceIsOneKey) {
  const Event a = Sample();
  Event b = Sample();
  b.name = "ObjectCreated:Put";                      // the same record, named without the prefix
  b.time = std::chrono::system_clock::time_point{};  // delivery details do not count
  b.etag = "x";
  EXPECT_EQ(DedupKeyOf(a), DedupKeyOf(b));
  EXPECT_EQ(DedupKeyHash()(DedupKeyOf(a)), DedupKeyHash()(DedupKeyOf(b)));
  EXPECT_EQ(DedupKeyOf(a).ToString(), "6:photos7:a/b.jpg2:v14:00AB17:ObjectCreated:Put");
}

TEST(DedupKeyTest, EachFieldCounts) {
  std::unordered_set<DedupKey, DedupKeyHash> seen;
  seen.insert(DedupKeyOf(Sample()));
  auto with = [](auto change) {
    Event e = Sample();
    change(e);
    return DedupKeyOf(e);
  };
  const DedupKey others[] = {
      with([](Event& e) { e.bucket = "photos2"; }),
      with([](Event& e) { e.key = "a/b.JPG"; }),
      with([](Event& e) { e.version_id = ""; }),
      with([](Event& e) { e.sequencer = "00AC"; }),
      with([](Event& e) { e.name = "ObjectRemoved:Delete"; }),
  };
  for (const DedupKey& k : others) {
    EXPECT_TRUE(seen.insert(k).second) << k.ToString();
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(DedupKeyTest, TextIsUnambiguous) {
  // Without lengths, ("ab","c") and ("a","bc") would read the same.
  DedupKey a{"ab", "c", "", "", "n"};
  DedupKey b{"a", "bc", "", "", "n"};
  EXPECT_NE(a.ToString(), b.ToString());
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ferry::events
