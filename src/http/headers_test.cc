#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "http/transport.h"

namespace ferry::http {
namespace {

std::span<const std::byte> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(HeadersTest, FindIsCaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "text/plain");
  ASSERT_NE(h.Find("content-type"), nullptr);
  EXPECT_EQ(*h.Find("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(h.Get("content-TYPE"), "text/plain");
  EXPECT_EQ(h.Find("content-length"), nullptr);
  EXPECT_EQ(h.Get("content-length"), "");
}

TEST(HeadersTest, SetReplacesAllAndKeepsPosition) {
  Headers h;
  h.Add("A", "1");
  h.Add("x-amz-meta-k", "v1");
  h.Add("B", "2");
  h.Add("X-Amz-Meta-K", "v2");
  h.Set("x-amz-meta-K", "v3");
  ASSERT_EQ(h.entries().size(), 3u);
  EXPECT_EQ(h.entries()[1].first, "x-amz-meta-k");
  EXPECT_EQ(h.entries()[1].second, "v3");
  h.Set("C", "3");
  EXPECT_EQ(h.entries().back().first, "C");
}

TEST(HeadersTest, AddKeepsDuplicatesInOrderAndRemoveDropsAll) {
  Headers h;
  h.Add("My-Header1", "a");
  h.Add("my-header1", "b");
  ASSERT_EQ(h.entries().size(), 2u);
  EXPECT_EQ(h.Get("MY-HEADER1"), "a");  // first one wins
  h.Remove("my-HEADER1");
  EXPECT_TRUE(h.entries().empty());
  h.Add("x", "y");
  h.Clear();
  EXPECT_TRUE(h.entries().empty());
}

TEST(StringSinkTest, CollectsAndEnforcesLimit) {
  StringSink sink(8);
  EXPECT_TRUE(sink.Write(Bytes("hello")).ok());
  EXPECT_TRUE(sink.Write(Bytes("abc")).ok());
  EXPECT_EQ(sink.body(), "helloabc");
  Status s = sink.Write(Bytes("x"));
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_TRUE(sink.Rewind());
  EXPECT_EQ(sink.body(), "");
  EXPECT_TRUE(sink.Write(Bytes("again")).ok());
  EXPECT_EQ(sink.body(), "again");
}

TEST(SpanSinkTest, WritesIntoBufferAndFailsOnOverflow) {
  std::vector<std::byte> buf(6);
  SpanSink sink(buf);
  EXPECT_TRUE(sink.Write(Bytes("abc")).ok());
  EXPECT_TRUE(sink.Write(Bytes("def")).ok());
  EXPECT_EQ(sink.written(), 6u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), 6), "abcdef");
  EXPECT_EQ(sink.Write(Bytes("g")).code(), ErrorCode::kDataLoss);
  EXPECT_EQ(sink.written(), 6u);
  EXPECT_TRUE(sink.Rewind());
  EXPECT_EQ(sink.written(), 0u);
  EXPECT_TRUE(sink.Write(Bytes("XY")).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), 6), "XYcdef");
}

TEST(BodySinkTest, DefaultSinkCannotRewind) {
  struct Counting : BodySink {
    Status Write(std::span<const std::byte>) override { return Status::Ok(); }
  } sink;
  EXPECT_FALSE(sink.Rewind());
  EXPECT_TRUE(sink.Begin(200, Headers()).ok());
}

}  // namespace
}  // namespace ferry::http
