// The parsers' text helpers: form decoding, UTF-8, event times; and event name kinds.
#include <gtest/gtest.h>

#include <chrono>

#include "events/events.h"
#include "events/parse_internal.h"

namespace ferry::events {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;
using internal::FormDecode;
using internal::IsUtf8;
using internal::ParseEventTime;

TEST(FormDecodeTest, PlusIsSpaceAndEscapesAreBytes) {
  EXPECT_EQ(FormDecode("red+flower.jpg"), "red flower.jpg");
  EXPECT_EQ(FormDecode("a%2Bb%2fc%20d"), "a+b/c d");
  EXPECT_EQ(FormDecode(""), "");
  EXPECT_EQ(FormDecode("%E2%82%AC"), "\xE2\x82\xAC");
  EXPECT_FALSE(FormDecode("%").has_value());
  EXPECT_FALSE(FormDecode("%4").has_value());
  EXPECT_FALSE(FormDecode("a%4g").has_value());
  EXPECT_FALSE(FormDecode("%%41").has_value());
}

TEST(Utf8Test, AcceptsWellFormedOnly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain/ascii key"));
  EXPECT_TRUE(IsUtf8("été/日本語/😀"));
  EXPECT_FALSE(IsUtf8("\xC3"));              // cut short
  EXPECT_FALSE(IsUtf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsUtf8("\x80"));              // a continuation first
  EXPECT_TRUE(IsUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
}

TEST(EventTimeTest, FormatsTheStoresSend) {
  const auto base = sys_days{2019y / 11 / 22} + 13h + 47min + 35s;
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35.124724Z"), base + 124724us);  // RGW
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35.124Z"), base + 124ms);        // AWS, MinIO
  // years the clock cannot hold are refused, not overflowed (fuzz_events)
  EXPECT_FALSE(ParseEventTime("1012-07-14T22:10:05.120Z"));
  EXPECT_FALSE(ParseEventTime("9999-12-31T23:59:59Z"));
  EXPECT_TRUE(ParseEventTime("2261-12-31T23:59:59Z"));
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35Z"), base);
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35.123456789Z"), base + 123456789ns);
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35.1234567891Z"), base + 123456789ns);
  EXPECT_EQ(ParseEventTime("2019-11-22T15:47:35+02:00"), base);
  EXPECT_EQ(ParseEventTime("2019-11-22T10:17:35-03:30"), base);
  EXPECT_EQ(ParseEventTime("1970-01-01T00:00:00.000Z"), std::chrono::system_clock::time_point{});
  // moto (the AWS emulator) says no zone: UTC
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35.124724"), base + 124724us);
  EXPECT_EQ(ParseEventTime("2019-11-22T13:47:35"), base);
}

TEST(EventTimeTest, RefusesMalformed) {
  for (std::string_view s :
       {"", "2019-11-22", "2019-11-22 13:47:35Z", "2019-11-22T13:47:35.", "2019-11-22T13:47:35.Z",
        "2019-13-01T00:00:00Z", "2019-02-29T00:00:00Z", "2019-11-22T24:00:00Z",
        "2019-11-22T13:60:00Z", "2019-11-22T13:47:35+2:00", "2019-11-22T13:47:35Zjunk",
        "２019-11-22T13:47:35Z"}) {
    EXPECT_FALSE(ParseEventTime(s).has_value()) << s;
  }
}

TEST(EventNameTest, PrefixIsOptional) {
  EXPECT_EQ(BareEventName("s3:ObjectCreated:Put"), "ObjectCreated:Put");
  EXPECT_EQ(BareEventName("ObjectCreated:Put"), "ObjectCreated:Put");
  EXPECT_EQ(ClassifyEventName("s3:ObjectRemoved:Delete"), EventKind::kRemoved);
  EXPECT_EQ(ClassifyEventName("ObjectRemoved:Delete"), EventKind::kRemoved);
  EXPECT_EQ(ClassifyEventName("objectremoved:delete"), EventKind::kOther);
  EXPECT_EQ(ClassifyEventName("ObjectCreated:Something"), EventKind::kOther);
  EXPECT_EQ(ClassifyEventName("s3:TestEvent"), EventKind::kOther);
}

TEST(EventNameTest, NamesForLabels) {
  EXPECT_EQ(EventKindName(EventKind::kCreated), "created");
  EXPECT_EQ(EventKindName(EventKind::kDeleteMarkerCreated), "delete_marker_created");
  EXPECT_EQ(EventKindName(EventKind::kOther), "other");
  EXPECT_EQ(SourceKindName(SourceKind::kRgw), "rgw");
  EXPECT_EQ(SourceKindName(SourceKind::kMinio), "minio");
  EXPECT_EQ(SourceKindName(SourceKind::kAws), "aws");
}

}  // namespace
}  // namespace ferry::events
