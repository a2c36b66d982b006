// The Blob API's formats: metadata names, block ids, property headers, listings, block lists.
#include "storage/azure/azure_format.h"

#include <gtest/gtest.h>

namespace ferry::storage::azure {
namespace {

TEST(AzureMetaName, FerrysNamesBecomeIdentifiersAndComeBack) {
  EXPECT_EQ(EncodeMetaName("ferry-crc32c"), "ferry_2dcrc32c");
  EXPECT_EQ(EncodeMetaName("owner"), "owner") << "plain names are stored as they are";
  EXPECT_EQ(EncodeMetaName("a_b"), "a__b");
  EXPECT_EQ(EncodeMetaName("9lives"), "_39lives") << "no leading digit";
  for (const char* name : {"ferry-crc32c", "ferry-mtime", "owner", "a_b", "9lives", "x.y z",
                           "_", "__x", "a-_-b"}) {
    EXPECT_EQ(DecodeMetaName(EncodeMetaName(name)), name) << name;
  }
  EXPECT_EQ(DecodeMetaName("Owner"), "owner") << "Azure may return another case";
  EXPECT_EQ(DecodeMetaName("FERRY_2DCRC32C"), "ferry-crc32c");
  EXPECT_EQ(DecodeMetaName("other_tool"), "other_tool") << "not ferry's form: as it is";
  for (const char* name : {"ferry_expires", "expires", "ferry-expires"}) {
    EXPECT_NE(EncodeMetaName(name), kExpiresMetaName) << name;
  }
}

TEST(AzureWriteHeaders, ContentHeadersMetadataAndExpires) {
  WriteSpec spec;
  spec.content.content_type = "text/plain";
  spec.content.cache_control = "max-age=60";
  spec.content.expires = "Wed, 21 Oct 2037 07:28:00 GMT";
  spec.metadata = {{"ferry-crc32c", "0a1b2c3d"}, {"owner", "bob"}};
  http::Headers h;
  AddWriteHeaders(spec, {{"owner", "carol"}}, h);
  EXPECT_EQ(h.Get("x-ms-blob-content-type"), "text/plain");
  EXPECT_EQ(h.Get("x-ms-blob-cache-control"), "max-age=60");
  EXPECT_EQ(h.Get("x-ms-meta-ferry_2dcrc32c"), "0a1b2c3d");
  EXPECT_EQ(h.Get("x-ms-meta-owner"), "carol") << "extra metadata wins";
  EXPECT_EQ(h.Get("x-ms-meta-ferry_expires"), "Wed, 21 Oct 2037 07:28:00 GMT");
  EXPECT_EQ(h.Find("x-ms-blob-content-encoding"), nullptr);
}

TEST(AzureProperties, HeadersBecomeAnObjectInfo) {
  http::Headers h;
  h.Set("ETag", "\"0x8DB1\"");
  h.Set("Content-Length", "4");
  h.Set("Content-Range", "bytes 0-3/1000");
  h.Set("Last-Modified", "Sat, 28 Nov 2026 02:00:00 GMT");
  h.Set("Content-Type", "text/plain");
  h.Set("x-ms-meta-Ferry_2dcrc32c", "0a1b2c3d");
  h.Set("x-ms-meta-ferry_expires", "Wed, 21 Oct 2037 07:28:00 GMT");
  ObjectInfo info = InfoFromHeaders("k", h);
  EXPECT_EQ(info.key, "k");
  EXPECT_EQ(info.size, 1000u) << "the whole blob's size, not the range's";
  EXPECT_EQ(info.etag, "0x8DB1");
  EXPECT_FALSE(info.etag_is_md5()) << "Azure's ETags are no digests";
  EXPECT_TRUE(info.has_details);
  EXPECT_EQ(info.content.content_type, "text/plain");
  EXPECT_EQ(info.content.expires, "Wed, 21 Oct 2037 07:28:00 GMT");
  EXPECT_EQ(info.metadata, (std::map<std::string, std::string>{{"ferry-crc32c", "0a1b2c3d"}}));
  EXPECT_EQ(info.crc32c(), 0x0a1b2c3du);
}

TEST(AzureListBlobs, ParsesBlobsEncodedNamesAndTheMarker) {
  auto page = ParseListBlobs(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"c\">"
      "<Prefix>p/</Prefix><Blobs><Blob><Name>p/a</Name><Properties>"
      "<Last-Modified>Sat, 28 Nov 2026 02:00:00 GMT</Last-Modified><Etag>0x8DB2</Etag>"
      "<Content-Length>12</Content-Length><Content-MD5>abc==</Content-MD5></Properties></Blob>"
      "<Blob><Name Encoded=\"true\">p/%EF%BF%BE</Name><Properties><Content-Length>0"
      "</Content-Length></Properties></Blob></Blobs><NextMarker>2!opaque</NextMarker>"
      "</EnumerationResults>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->blobs.size(), 2u);
  EXPECT_EQ(page->blobs[0].name, "p/a");
  EXPECT_EQ(page->blobs[0].size, 12u);
  EXPECT_EQ(page->blobs[0].etag, "0x8DB2");
  EXPECT_EQ(page->blobs[0].content_md5, "abc==");
  EXPECT_EQ(page->blobs[1].name, "p/\xEF\xBF\xBE");
  EXPECT_EQ(page->next_marker, "2!opaque");
  EXPECT_EQ(ParseListBlobs("<Error/>").status().code(), ErrorCode::kInternal);
  EXPECT_EQ(ParseListBlobs("<EnumerationResults>").status().code(), ErrorCode::kInternal);
}

TEST(AzureBlockList, ParsesTheRequestedKindAndWritesLatest) {
  const std::string xml =
      "<BlockList><CommittedBlocks><Block><Name>YQ==</Name><Size>1</Size></Block>"
      "</CommittedBlocks><UncommittedBlocks><Block><Name>Yg==</Name><Size>2</Size></Block>"
      "<Block><Name>Yw==</Name><Size>3</Size></Block></UncommittedBlocks></BlockList>";
  auto uncommitted = ParseBlockList(xml, false);
  ASSERT_TRUE(uncommitted.ok());
  ASSERT_EQ(uncommitted->size(), 2u);
  EXPECT_EQ((*uncommitted)[1].id, "c");
  EXPECT_EQ((*uncommitted)[1].size, 3u);
  EXPECT_EQ(ParseBlockList(xml, true)->size(), 1u);
  EXPECT_EQ(BlockListXml({"a", "b"}),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest>"
            "<Latest>Yg==</Latest></BlockList>");
}

TEST(AzureBlockIds, CarryUploadAndPartAndStartTime) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  const std::string upload = NewUploadId(now);
  ASSERT_EQ(upload.size(), 16u);
  EXPECT_NE(NewUploadId(now), upload) << "random part";
  EXPECT_EQ(UploadStarted(upload), now);
  const std::string id = BlockId(upload, 42);
  EXPECT_EQ(id.size(), BlockId(upload, 1).size()) << "one length for every id";
  auto parsed = ParseBlockId(id);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->first, upload);
  EXPECT_EQ(parsed->second, 42);
  EXPECT_FALSE(ParseBlockId("block-0001").has_value()) << "another tool's id";
  EXPECT_FALSE(UploadStarted("no-such-upload").has_value());
}

}  // namespace
}  // namespace ferry::storage::azure
