#include "app/write_flags.h"

#include <gtest/gtest.h>

namespace ferry::app {
namespace {

TEST(WriteFlagsTest, ChecksumAlgorithmsAreS3sNames) {
  EXPECT_EQ(*ParseChecksumAlgorithmFlag("crc64nvme"), checksum::Algorithm::kCrc64Nvme);
  EXPECT_EQ(*ParseChecksumAlgorithmFlag("SHA256"), checksum::Algorithm::kSha256);
  EXPECT_FALSE(ParseChecksumAlgorithmFlag("")->has_value());
  Result<std::optional<checksum::Algorithm>> bad = ParseChecksumAlgorithmFlag("MD5");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--checksum-algorithm"), std::string::npos);
}

TEST(WriteFlagsTest, MetadataNamesAreLowerCasedAndChecked) {
  Result<transfer::MetadataOverrides> o =
      ParseMetadataFlags({.metadata = {"Owner=team-a", "empty="}, .content_type = "text/csv"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->metadata.at("owner"), "team-a");
  EXPECT_EQ(o->metadata.at("empty"), "");
  EXPECT_EQ(o->content_type, "text/csv");
  EXPECT_FALSE(o->replace);
  for (const char* bad : {"novalue", "=v", "sp ace=v", "ferry-crc32c=1", "x=caf\xc3\xa9",
                          "x=a\nb"}) {
    EXPECT_EQ(ParseMetadataFlags({.metadata = {bad}}).status().code(),
              ErrorCode::kInvalidArgument)
        << bad;
  }
  EXPECT_FALSE(ParseMetadataFlags({.metadata = {"a=1", "A=2"}}).ok());  // twice, any case
}

TEST(WriteFlagsTest, DirectiveIsCopyOrReplace) {
  EXPECT_TRUE(ParseMetadataFlags({.metadata_directive = "replace"})->replace);
  EXPECT_FALSE(ParseMetadataFlags({.metadata_directive = "COPY"})->replace);
  EXPECT_FALSE(ParseMetadataFlags({.metadata_directive = "MERGE"}).ok());
  EXPECT_FALSE(ParseMetadataFlags({.content_type = "plain"}).ok());
}

TEST(WriteFlagsTest, OverridesApplyToTheWriteSpec) {
  storage::WriteSpec spec;
  spec.content.content_type = "image/png";
  spec.content.cache_control = "max-age=60";
  spec.metadata = {{"owner", "x"}, {"keep", "y"}, {"ferry-mtime", "1"}};
  transfer::MetadataOverrides copy{.metadata = {{"owner", "z"}}, .content_type = "text/plain"};
  storage::WriteSpec a = spec;
  transfer::ApplyOverrides(copy, a);
  EXPECT_EQ(a.metadata.at("owner"), "z");
  EXPECT_EQ(a.metadata.at("keep"), "y");
  EXPECT_EQ(a.content.content_type, "text/plain");
  EXPECT_EQ(a.content.cache_control, "max-age=60");
  transfer::MetadataOverrides replace = copy;
  replace.replace = true;
  storage::WriteSpec b = spec;
  transfer::ApplyOverrides(replace, b);
  EXPECT_EQ(b.metadata.size(), 2u);  // owner=z and ferry's own mtime
  EXPECT_EQ(b.metadata.at("ferry-mtime"), "1");
  EXPECT_EQ(b.content.cache_control, "");
  EXPECT_EQ(b.content.content_type, "text/plain");
}

}  // namespace
}  // namespace ferry::app
