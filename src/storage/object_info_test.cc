#include "storage/object_info.h"

#include <gtest/gtest.h>

namespace ferry::storage {
namespace {

using std::chrono::system_clock;

TEST(ObjectInfoTest, Crc32cParsesEightHexDigits) {
  ObjectInfo info;
  EXPECT_EQ(info.crc32c(), std::nullopt);
  info.metadata[kMetaCrc32c] = "e3069283";
  EXPECT_EQ(info.crc32c(), 0xE3069283u);
  info.metadata[kMetaCrc32c] = "E3069283";
  EXPECT_EQ(info.crc32c(), 0xE3069283u);
}

TEST(ObjectInfoTest, Crc32cIgnoresMalformedValues) {
  ObjectInfo info;
  for (const char* bad : {"", "e306928", "e30692830", "e306928g", " e306928", "0xe30692"}) {
    info.metadata[kMetaCrc32c] = bad;
    EXPECT_EQ(info.crc32c(), std::nullopt) << bad;
  }
}

TEST(ObjectInfoTest, SourceMtimeReadsNanosecondsFromMetadata) {
  ObjectInfo info;
  info.mtime = system_clock::time_point(std::chrono::seconds(100));
  EXPECT_EQ(info.source_mtime(), info.mtime);
  info.metadata[kMetaMtime] = "1700000000123456789";
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::nanoseconds>(info.source_mtime().time_since_epoch())
          .count(),
      1700000000123456789);
  info.metadata[kMetaMtime] = "-1000000000";  // before 1970
  EXPECT_EQ(info.source_mtime(), system_clock::time_point(std::chrono::seconds(-1)));
}

TEST(ObjectInfoTest, SourceMtimeFallsBackToMtimeOnGarbage) {
  ObjectInfo info;
  info.mtime = system_clock::time_point(std::chrono::seconds(100));
  for (const char* bad : {"", "12x", "x12", " 12", "1.5", "99999999999999999999999"}) {
    info.metadata[kMetaMtime] = bad;
    EXPECT_EQ(info.source_mtime(), info.mtime) << bad;
  }
}

TEST(ObjectInfoTest, EtagIsMd5OnlyForThirtyTwoHexDigits) {
  ObjectInfo info;
  EXPECT_FALSE(info.etag_is_md5());
  info.etag = "d41d8cd98f00b204e9800998ecf8427e";
  EXPECT_TRUE(info.etag_is_md5());
  info.etag = "D41D8CD98F00B204E9800998ECF8427E";
  EXPECT_TRUE(info.etag_is_md5());
  info.etag = "d41d8cd98f00b204e9800998ecf8427e-3";
  EXPECT_FALSE(info.etag_is_md5());
  info.etag = "d41d8cd98f00b204e9800998ecf8427";
  EXPECT_FALSE(info.etag_is_md5());
  info.etag = "\"d41d8cd98f00b204e9800998ecf8427e\"";
  EXPECT_FALSE(info.etag_is_md5());
  info.etag = "z41d8cd98f00b204e9800998ecf8427e";
  EXPECT_FALSE(info.etag_is_md5());
}

}  // namespace
}  // namespace ferry::storage
