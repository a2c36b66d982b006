#include "inventory/manifest.h"

#include <gtest/gtest.h>

#include "checksum/checksum.h"
#include "inventory/locate.h"
#include "storage/memory/memory_backend.h"

namespace ferry::inventory {
namespace {

constexpr const char* kGoodManifest = R"({
  "sourceBucket": "photos",
  "destinationBucket": "arn:aws:s3:::inventories",
  "version": "2016-11-30",
  "creationTimestamp": "1764201600000",
  "fileFormat": "CSV",
  "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus",
  "files": [
    {"key": "inv/photos/daily/data/a.csv.gz", "size": 120, "MD5checksum": "0123456789abcdef0123456789ABCDEF"},
    {"key": "inv/photos/daily/data/b.csv.gz", "size": 0, "MD5checksum": "d41d8cd98f00b204e9800998ecf8427e"}
  ]
})";

TEST(ManifestTest, ParsesAGoodManifest) {
  auto m = ParseManifest(kGoodManifest, "s3://inventories/x/manifest.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->source_bucket, "photos");
  EXPECT_EQ(m->destination_bucket, "arn:aws:s3:::inventories");
  ASSERT_TRUE(m->created.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(m->created->time_since_epoch())
                .count(),
            1764201600000);
  ASSERT_EQ(m->columns.size(), 11u);
  EXPECT_EQ(m->columns[1], Field::kKey);
  EXPECT_EQ(m->columns[9], Field::kOther);  // IsMultipartUploaded: skipped by position
  EXPECT_EQ(m->column_names[10], "ReplicationStatus");
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_EQ(m->files[0].key, "inv/photos/daily/data/a.csv.gz");
  EXPECT_EQ(m->files[0].size, 120u);
  EXPECT_EQ(m->files[0].md5_hex, "0123456789abcdef0123456789abcdef");  // lower-cased
}

// Each refusal: one line starting with the location, naming what is wrong.
void ExpectRefused(const std::string& json, std::string_view words,
                   ErrorCode code = ErrorCode::kInvalidArgument) {
  auto m = ParseManifest(json, "s3://inv/m.json");
  ASSERT_FALSE(m.ok()) << json;
  EXPECT_EQ(m.status().code(), code) << m.status().ToString();
  EXPECT_EQ(m.status().message().rfind("s3://inv/m.json: ", 0), 0u) << m.status().message();
  EXPECT_NE(m.status().message().find(words), std::string::npos) << m.status().message();
  EXPECT_EQ(m.status().message().find('\n'), std::string::npos);
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(ManifestTest, RefusesBadJsonAndMissingFields) {
  ExpectRefused("{\"sourceBucket\": ", "not JSON");
  ExpectRefused("[1, 2]", "not a JSON object");
  ExpectRefused(Replace(kGoodManifest, "\"sourceBucket\"", "\"source\""), "sourceBucket");
  ExpectRefused(Replace(kGoodManifest, "\"fileSchema\"", "\"schema\""), "fileSchema");
  ExpectRefused(Replace(kGoodManifest, "\"files\"", "\"filez\""), "\"files\"");
  ExpectRefused(Replace(kGoodManifest, "Bucket, Key,", "Bucket, Name,"), "no Key column");
  ExpectRefused(Replace(kGoodManifest, "Bucket, Key,", "Key, Key,"), "Key twice");
  ExpectRefused(Replace(kGoodManifest, "Bucket, Key,", "Bucket, , Key,"), "empty column");
  ExpectRefused(Replace(kGoodManifest, "\"size\": 120", "\"size\": \"120\""), "no size");
  ExpectRefused(Replace(kGoodManifest, "0123456789abcdef0123456789ABCDEF", "0123"),
                "MD5checksum");
  ExpectRefused(Replace(kGoodManifest, "\"key\": \"inv/photos/daily/data/a.csv.gz\",", ""),
                "files[0] has no key");
  ExpectRefused(Replace(kGoodManifest, "1764201600000", "yesterday"), "creationTimestamp");
  // milliseconds past what the clock holds (the year 2262: fuzz_inventory's overflow)
  ExpectRefused(Replace(kGoodManifest, "1764201600000", "176476201600000"), "creationTimestamp");
}

TEST(ManifestTest, RefusesParquetAndOrcNamingCsv) {
  for (const char* format : {"Parquet", "ORC"}) {
    auto m = ParseManifest(Replace(kGoodManifest, "\"CSV\"", std::string("\"") + format + "\""),
                           "s3://inv/m.json");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), ErrorCode::kNotSupported);
    EXPECT_NE(m.status().message().find(format), std::string::npos) << m.status().message();
    EXPECT_NE(m.status().message().find("CSV"), std::string::npos) << m.status().message();
  }
  ExpectRefused(Replace(kGoodManifest, "\"CSV\"", "\"TSV\""), "unknown fileFormat");
}

std::string Md5Hex(std::string_view s) { return checksum::Hex(checksum::Md5(checksum::AsBytes(s))); }

TEST(ManifestTest, ChecksumMatchesOrIsRefused) {
  const std::string md5 = Md5Hex(kGoodManifest);
  EXPECT_TRUE(CheckManifestChecksum(kGoodManifest, md5 + "\n", "loc").ok());
  std::string upper = md5;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(CheckManifestChecksum(kGoodManifest, upper, "loc").ok());
  Status wrong = CheckManifestChecksum(std::string(kGoodManifest) + " ", md5, "loc");
  EXPECT_EQ(wrong.code(), ErrorCode::kDataLoss);
  EXPECT_NE(wrong.message().find("manifest.checksum says " + md5), std::string::npos)
      << wrong.message();
  EXPECT_EQ(CheckManifestChecksum(kGoodManifest, "not a digest", "loc").code(),
            ErrorCode::kInvalidArgument);
}

void PutText(storage::MemoryBackend& store, const std::string& key, std::string_view text) {
  storage::WriteSpec spec;
  spec.size = text.size();
  ASSERT_TRUE(store.Put(key, checksum::AsBytes(text), spec, {}).ok());
}

TEST(ManifestTest, ReadManifestChecksTheChecksumBesideIt) {
  storage::MemoryBackend store;
  const std::string dir = "inv/photos/daily/2026-11-27T00-00Z/";
  PutText(store, dir + "manifest.json", kGoodManifest);
  // No manifest.checksum: read without it.
  auto m = ReadManifest(store, dir + "manifest.json", {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->location, "memory://mem/" + dir + "manifest.json");
  PutText(store, dir + "manifest.checksum", Md5Hex(kGoodManifest) + "\n");
  EXPECT_TRUE(ReadManifest(store, dir + "manifest.json", {}).ok());
  // A manifest changed after its checksum was written.
  PutText(store, dir + "manifest.json", Replace(kGoodManifest, "\"size\": 120", "\"size\": 121"));
  auto changed = ReadManifest(store, dir + "manifest.json", {});
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(changed.status().message().find("memory://mem/" + dir + "manifest.json: "),
            std::string::npos)
      << changed.status().message();
  EXPECT_EQ(ReadManifest(store, "inv/none/manifest.json", {}).status().code(),
            ErrorCode::kNotFound);
}

TEST(LocateTest, ChoosesTheNewestRunOfAConfiguration) {
  storage::MemoryBackend store;
  for (const char* key : {"inv/photos/daily/2026-11-25T00-00Z/manifest.json",
                          "inv/photos/daily/2026-11-27T00-00Z/manifest.json",
                          "inv/photos/daily/2026-11-26T23-59Z/manifest.json",
                          "inv/photos/daily/2026-11-28T00-00Z/manifest.checksum",  // no manifest
                          "inv/photos/daily/2027-01-01T00-00Z-copy/manifest.json",  // not a run
                          "inv/photos/daily/data/x.csv.gz",
                          "inv/photos/daily/hive/dt=2026-11-29-00-00/symlink.txt",
                          "inv/photos/weekly/2026-12-01T00-00Z/manifest.json"}) {
    PutText(store, key, "{}");
  }
  for (const char* path : {"inv/photos/daily", "inv/photos/daily/"}) {
    auto key = LocateManifest(store, path);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(*key, "inv/photos/daily/2026-11-27T00-00Z/manifest.json");
  }
  // A manifest named is that manifest, newest or not.
  auto named = LocateManifest(store, "inv/photos/daily/2026-11-25T00-00Z/manifest.json");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(*named, "inv/photos/daily/2026-11-25T00-00Z/manifest.json");
  auto none = LocateManifest(store, "inv/photos");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(none.status().message().find("memory://mem/inv/photos/: no inventory run"),
            std::string::npos)
      << none.status().message();
}

TEST(LocateTest, RunFolderNames) {
  EXPECT_TRUE(IsRunFolderName("2016-11-06T21-32Z"));
  EXPECT_FALSE(IsRunFolderName("2016-11-06T21:32Z"));
  EXPECT_FALSE(IsRunFolderName("2016-11-06T21-32"));
  EXPECT_FALSE(IsRunFolderName("data"));
}

}  // namespace
}  // namespace ferry::inventory
