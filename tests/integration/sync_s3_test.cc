// ferry sync between the two RGW gateways (region A -> region B) and server-side copies within
// one gateway: content, metadata, tags, storage classes, hostile keys, multipart, re-syncs,
// --delete, filters, dry runs.
#include <gtest/gtest.h>

#include "checksum/checksum.h"
#include "storage/object_info.h"
#include "tests/integration/rgw_fixture.h"

namespace ferry::testing {
namespace {

class SyncS3Test : public RgwTest {};

TEST_F(SyncS3Test, CopiesObjectsWithMetadataTagsAndStorageClassAcrossRegions) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  s3::WriteOptions rich;
  rich.content.content_type = "text/plain; charset=utf-8";
  rich.content.content_encoding = "identity";
  rich.content.content_language = "fr";
  rich.content.content_disposition = "attachment; filename=\"x.txt\"";
  rich.content.cache_control = "max-age=60";
  rich.content.expires = "Wed, 21 Oct 2037 07:28:00 GMT";
  rich.metadata = {{"owner", "alice"}, {"project", "ferry"}};
  rich.tags = s3::Tags{{"team", "storage"}, {"tier", "gold"}};
  rich.storage_class = "STANDARD_IA";
  PutObject(0, a, "docs/rich.txt", "hello metadata", rich);
  PutObject(0, a, "docs/plain.bin", RandomBytes(70000, 1));
  PutObject(0, a, "empty", "");

  auto src = S3(0, a);
  auto dst = S3(1, b);
  Outcome out = Sync(*src, *dst);
  EXPECT_EQ(out.copied(), 3u);
  EXPECT_EQ(out.stats->objects_server_side.load(), 0u) << "two endpoints: no server-side copy";

  EXPECT_EQ(GetObject(1, b, "docs/rich.txt"), "hello metadata");
  EXPECT_EQ(GetObject(1, b, "docs/plain.bin"), RandomBytes(70000, 1));
  EXPECT_EQ(GetObject(1, b, "empty"), "");
  auto head = client(1).HeadObject(b, "docs/rich.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->content.content_type, rich.content.content_type);
  EXPECT_EQ(head->content.content_encoding, "identity");
  EXPECT_EQ(head->content.content_language, "fr");
  EXPECT_EQ(head->content.content_disposition, rich.content.content_disposition);
  EXPECT_EQ(head->content.cache_control, "max-age=60");
  EXPECT_EQ(head->content.expires, rich.content.expires);
  EXPECT_EQ(head->metadata["owner"], "alice");
  EXPECT_EQ(head->metadata["project"], "ferry");
  EXPECT_EQ(head->storage_class, "STANDARD_IA");
  EXPECT_EQ(head->metadata[storage::kMetaCrc32c],
            checksum::Hex32(checksum::Crc32c(checksum::AsBytes("hello metadata"))));
  EXPECT_FALSE(head->metadata[storage::kMetaMtime].empty());
  auto tags = client(1).GetObjectTagging(b, "docs/rich.txt");
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_EQ(*tags, (s3::Tags{{"team", "storage"}, {"tier", "gold"}}));
}

TEST_F(SyncS3Test, ResyncCopiesNothingThenExactlyTheOneSameSizeEdit) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  for (int i = 0; i < 30; ++i) {
    PutObject(0, a, "k/" + std::to_string(i), RandomBytes(1000 + i, static_cast<uint32_t>(i)));
  }
  PutObject(0, a, "big", RandomBytes(9u << 20, 99));  // multipart (threshold 8 MiB)
  auto src = S3(0, a);
  auto dst = S3(1, b);
  EXPECT_EQ(Sync(*src, *dst).copied(), 31u);

  Outcome again = Sync(*src, *dst);
  EXPECT_EQ(again.copied(), 0u);
  EXPECT_EQ(again.stats->objects_skipped.load(), 31u);

  // Same size, different bytes.
  std::string edited = RandomBytes(1007, 7);
  edited[0] = static_cast<char>(edited[0] ^ 0x55);
  PutObject(0, a, "k/7", edited);
  Outcome third = Sync(*src, *dst);
  EXPECT_EQ(third.copied(), 1u);
  EXPECT_EQ(GetObject(1, b, "k/7"), edited);
}

TEST_F(SyncS3Test, MultipartObjectIsByteIdenticalAndNotStampedByACopy) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  const std::string body = RandomBytes((100u << 20) + 12345, 42);  // >= 100 MiB, odd tail
  PutObject(0, a, "large/object.bin", body);
  auto src = S3(0, a);
  auto dst = S3(1, b);
  transfer::SyncOptions o = DefaultOptions();
  o.transfer.part_size = 16ull << 20;
  o.executor.memory_budget = 64ull << 20;
  Outcome out = Sync(*src, *dst, o);
  EXPECT_EQ(out.copied(), 1u);
  EXPECT_EQ(out.stats->objects_multipart.load(), 1u);
  auto head = client(1).HeadObject(b, "large/object.bin");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, body.size());
  EXPECT_NE(head->etag.find("-7"), std::string::npos) << head->etag;  // 7 parts of 16 MiB
  EXPECT_TRUE(GetObject(1, b, "large/object.bin") == body);
  // The source had no ferry checksum: the CRC32C streamed through the parts checked them, and is
  // not stamped afterwards by a copy of the object onto itself (issue 43 item 14: RGW keeps no
  // full-object checksum, and a second write of every large object proves nothing more).
  EXPECT_EQ(head->metadata.count(storage::kMetaCrc32c), 0u) << head->metadata[storage::kMetaCrc32c];
  EXPECT_FALSE(head->metadata[storage::kMetaMtime].empty());
  EXPECT_EQ(Sync(*src, *dst, o).copied(), 0u) << "re-sync of a multipart object";
}

TEST_F(SyncS3Test, HostileKeysRoundTrip) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  const std::vector<std::string> keys = {
      "with space", "plus+sign", "percent%20literal", "unicodé/日本語/ключ", "../dot-dot",
      "a/./b",      "tilde~",    "question?mark",     "hash#tag",           std::string(1024, 'k'),
      "amp&eq=",    "quote\"'",  "trailing space "};
  for (size_t i = 0; i < keys.size(); ++i) PutObject(0, a, keys[i], "v" + std::to_string(i));
  auto src = S3(0, a);
  auto dst = S3(1, b);
  EXPECT_EQ(Sync(*src, *dst).copied(), keys.size());
  auto got = Keys(1, b);
  std::vector<std::string> want = keys;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(GetObject(1, b, keys[i]), "v" + std::to_string(i)) << keys[i];
  }
  EXPECT_EQ(Sync(*src, *dst).copied(), 0u);
}

TEST_F(SyncS3Test, DeleteRemovesOnlyDestinationExtrasThatPassTheFilter) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  PutObject(0, a, "keep.txt", "1");
  PutObject(1, b, "extra.txt", "2");
  PutObject(1, b, "extra.log", "3");
  auto src = S3(0, a);
  auto dst = S3(1, b);

  transfer::SyncOptions dry = DefaultOptions();
  dry.delete_extra = true;
  dry.transfer.decide.delete_extra = true;
  dry.transfer.dry_run = true;
  Sync(*src, *dst, dry);
  EXPECT_EQ(Keys(1, b), (std::vector<std::string>{"extra.log", "extra.txt"})) << "dry run";

  transfer::SyncOptions del = dry;
  del.transfer.dry_run = false;
  plan::FilterOptions f;
  f.exclude = {"*.log"};
  Outcome out = Sync(*src, *dst, del, f);
  EXPECT_EQ(out.stats->objects_deleted.load(), 1u);
  EXPECT_EQ(Keys(1, b), (std::vector<std::string>{"extra.log", "keep.txt"}));
}

TEST_F(SyncS3Test, FiltersSelectBySizeAndGlob) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  PutObject(0, a, "img/a.jpg", std::string(2000, 'a'));
  PutObject(0, a, "img/b.jpg", std::string(10, 'b'));
  PutObject(0, a, "img/c.png", std::string(2000, 'c'));
  PutObject(0, a, "doc/d.jpg", std::string(5000, 'd'));
  auto src = S3(0, a);
  auto dst = S3(1, b);
  plan::FilterOptions f;
  f.include = {"*.jpg"};
  f.exclude = {"doc/**"};
  f.min_size = 100;
  EXPECT_EQ(Sync(*src, *dst, DefaultOptions(), f).copied(), 1u);
  EXPECT_EQ(Keys(1, b), (std::vector<std::string>{"img/a.jpg"}));
}

TEST_F(SyncS3Test, StorageClassOverrideAppliesToEveryWrittenObject) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  PutObject(0, a, "x", "x");
  PutObject(0, a, "big", RandomBytes(9u << 20, 5));
  auto src = S3(0, a);
  auto dst = S3(1, b);
  transfer::SyncOptions o = DefaultOptions();
  o.transfer.storage_class = "GLACIER";
  EXPECT_EQ(Sync(*src, *dst, o).copied(), 2u);
  EXPECT_EQ(client(1).HeadObject(b, "x")->storage_class, "GLACIER");
  EXPECT_EQ(client(1).HeadObject(b, "big")->storage_class, "GLACIER");
}

TEST_F(SyncS3Test, SameEndpointUsesServerSideCopyIncludingPartCopies) {
  const std::string a = NewBucket(0);
  const std::string c = NewBucket(0);
  s3::WriteOptions meta;
  meta.metadata = {{"color", "blue"}};
  meta.tags = s3::Tags{{"k", "v"}};
  PutObject(0, a, "small", "tiny", meta);
  const std::string big = RandomBytes(12u << 20, 3);
  PutObject(0, a, "big", big, meta);
  auto src = S3(0, a);
  auto dst = S3(0, c);
  transfer::SyncOptions o = DefaultOptions();
  o.transfer.server_side_copy_limit = 8ull << 20;  // "big" goes through UploadPartCopy
  Outcome out = Sync(*src, *dst, o);
  EXPECT_EQ(out.copied(), 2u);
  EXPECT_EQ(out.stats->objects_server_side.load(), 1u);
  EXPECT_EQ(out.stats->objects_multipart.load(), 1u);
  EXPECT_EQ(out.stats->bytes_moved.load(), 0u + 4u + big.size());
  EXPECT_EQ(GetObject(0, c, "small"), "tiny");
  EXPECT_TRUE(GetObject(0, c, "big") == big);
  EXPECT_EQ(client(0).HeadObject(c, "small")->metadata["color"], "blue");
  EXPECT_EQ(client(0).HeadObject(c, "big")->metadata["color"], "blue");
  auto tags = client(0).GetObjectTagging(c, "big");
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_EQ(*tags, (s3::Tags{{"k", "v"}}));
}

TEST_F(SyncS3Test, UnknownBucketAndWrongCredentialsFailClearly) {
  auto missing = S3(1, "ferry-no-such-bucket-xyz");
  Status s = missing->Check({});
  EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("ferry-no-such-bucket-xyz"), std::string::npos) << s.message();

  const std::string a = NewBucket(0);
  s3::StaticCredentials wrong(s3::Credentials{env_[1], "not-the-secret", ""});
  s3::S3Client bad(client(0).options(), *transport_, wrong, SystemClock::Default());
  storage::S3Backend backend(bad, a, "");
  Status denied = backend.Check({});
  EXPECT_EQ(denied.code(), ErrorCode::kPermissionDenied) << denied.ToString();
  EXPECT_EQ(denied.message().find("not-the-secret"), std::string::npos) << "secret leaked";
}

}  // namespace
}  // namespace ferry::testing
