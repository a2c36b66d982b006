#include "inventory/rows.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"

namespace ferry::inventory {
namespace {

std::string GzipText(std::string_view text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Md5Of(std::string_view s) { return checksum::Hex(checksum::Md5(checksum::AsBytes(s))); }

void Put(storage::MemoryBackend& store, const std::string& key, std::string_view bytes) {
  storage::WriteSpec spec;
  spec.size = bytes.size();
  ASSERT_TRUE(store.Put(key, checksum::AsBytes(bytes), spec, {}).ok());
}

constexpr std::string_view kConfig = "inv/photos/daily/";
constexpr std::string_view kManifestKey = "inv/photos/daily/2026-11-27T00-00Z/manifest.json";

// An inventory written as AWS lays it out: data files under <config>/data/, each listed with
// its size and MD5 in the manifest.
struct InventoryBuilder {
  Manifest manifest;
  InventoryBuilder() {
    manifest.location = "test";
    manifest.source_bucket = "photos";
    manifest.file_format = "CSV";
    manifest.columns = {Field::kBucket,         Field::kKey,  Field::kVersionId,
                        Field::kIsLatest,       Field::kIsDeleteMarker, Field::kSize,
                        Field::kLastModifiedDate, Field::kETag, Field::kStorageClass,
                        Field::kOther};
  }
  // Stores `stored` as data file `name`, listed with the size and MD5 of `listed` (the same
  // bytes unless a test damages one).
  void AddFile(storage::MemoryBackend& store, const std::string& name, const std::string& stored,
               const std::string& listed) {
    DataFile f{std::string(kConfig) + "data/" + name, listed.size(), Md5Of(listed)};
    Put(store, f.key, stored);
    manifest.files.push_back(f);
  }
  void AddRows(storage::MemoryBackend& store, const std::string& name, const std::string& csv) {
    const std::string gz = GzipText(csv);
    AddFile(store, name, gz, gz);
  }
};

struct Drained {
  std::vector<storage::ObjectInfo> rows;
  Status status;
};

Drained Drain(RowCursor& cursor) {
  Drained d;
  for (;;) {
    auto next = cursor.Next();
    if (!next.ok()) {
      d.status = next.status();
      return d;
    }
    if (*next == nullptr) return d;
    d.rows.push_back(**next);
  }
}

RowCursor Open(storage::MemoryBackend& store, const InventoryBuilder& b) {
  return RowCursor(store, std::string(kManifestKey), b.manifest, {}, {});
}

const std::string kT = "\"2026-11-27T21:32:05.000Z\"";

std::string Row(std::string key, std::string version, bool latest, bool marker,
                std::string size, std::string etag = "d41d8cd98f00b204e9800998ecf8427e") {
  return "\"photos\",\"" + key + "\",\"" + version + "\",\"" + (latest ? "true" : "false") +
         "\",\"" + (marker ? "true" : "false") + "\",\"" + size + "\"," + kT + ",\"" + etag +
         "\",\"STANDARD\",\"SSE-S3\"\n";
}

TEST(RowsTest, ReadsEveryRowOfEveryFile) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  b.AddRows(store, "one.csv.gz",
            Row("a+b.txt", "v2", true, false, "5") + Row("a+b.txt", "v1", false, false, "3") +
                Row("c%2Bd.txt", "", true, false, "0"));
  b.AddRows(store, "two.csv.gz",
            Row("dir/f%C3%A9te%E2%82%AC", "v7", true, false, "12") +
                Row("gone", "v9", true, true, "", ""));
  b.AddRows(store, "empty.csv.gz", "");
  RowCursor cursor = Open(store, b);
  Drained d = Drain(cursor);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.rows.size(), 5u);
  EXPECT_EQ(d.rows[0].key, "a b.txt");
  EXPECT_EQ(d.rows[0].version_id, "v2");
  EXPECT_TRUE(d.rows[0].is_latest);
  EXPECT_EQ(d.rows[0].size, 5u);
  EXPECT_EQ(d.rows[1].version_id, "v1");
  EXPECT_FALSE(d.rows[1].is_latest);
  EXPECT_EQ(d.rows[2].key, "c+d.txt");
  EXPECT_EQ(d.rows[3].key, "dir/f\xC3\xA9te\xE2\x82\xAC");
  EXPECT_TRUE(d.rows[4].delete_marker);
  EXPECT_EQ(d.rows[4].etag, "");
  EXPECT_EQ(cursor.stats().files, 3u);
  EXPECT_EQ(cursor.stats().rows, 5u);
  // The end stays the end.
  auto again = cursor.Next();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
}

TEST(RowsTest, AFileWhoseMd5DiffersGivesNoRow) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  b.AddRows(store, "good.csv.gz", Row("first", "", true, false, "1"));
  const std::string gz = GzipText(Row("second", "", true, false, "1") + Row("third", "", true, false, "1"));
  std::string tampered = GzipText(Row("secxnd", "", true, false, "1") + Row("third", "", true, false, "1"));
  ASSERT_EQ(tampered.size(), gz.size());
  b.AddFile(store, "bad.csv.gz", tampered, gz);
  RowCursor cursor = Open(store, b);
  Drained d = Drain(cursor);
  ASSERT_EQ(d.rows.size(), 1u);  // the good file's row; none of the damaged one
  EXPECT_EQ(d.rows[0].key, "first");
  EXPECT_EQ(d.status.code(), ErrorCode::kDataLoss);
  EXPECT_NE(d.status.message().find("memory://mem/inv/photos/daily/data/bad.csv.gz: MD5 "),
            std::string::npos)
      << d.status.message();
  EXPECT_NE(d.status.message().find("MD5checksum is " + Md5Of(gz)), std::string::npos);
  // Errors are final.
  EXPECT_EQ(cursor.Next().status().code(), ErrorCode::kDataLoss);
}

TEST(RowsTest, AFileOfAnotherSizeIsRefused) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  const std::string gz = GzipText(Row("a", "", true, false, "1"));
  b.AddFile(store, "short.csv.gz", gz.substr(0, gz.size() - 4), gz);
  RowCursor cursor = Open(store, b);
  Drained d = Drain(cursor);
  EXPECT_TRUE(d.rows.empty());
  EXPECT_EQ(d.status.code(), ErrorCode::kDataLoss);
  EXPECT_NE(d.status.message().find("the manifest says " + std::to_string(gz.size())),
            std::string::npos)
      << d.status.message();
}

TEST(RowsTest, ALongerFileIsRefusedBeforeItIsRead) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  const std::string gz = GzipText(Row("a", "", true, false, "1"));
  b.AddFile(store, "long.csv.gz", gz + std::string(3u << 20, 'x'), gz);
  RowsOptions small;
  small.range_bytes = 64u << 10;
  RowCursor cursor(store, std::string(kManifestKey), b.manifest, small, {});
  Drained d = Drain(cursor);
  EXPECT_TRUE(d.rows.empty());
  EXPECT_EQ(d.status.code(), ErrorCode::kDataLoss);
  EXPECT_NE(d.status.message().find("more than the " + std::to_string(gz.size()) +
                                    " bytes the manifest says"),
            std::string::npos)
      << d.status.message();
  EXPECT_LT(store.counts().bytes_read, 1u << 20);  // not all of the 3 MiB
}

TEST(RowsTest, AMissingFileIsNotFound) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  b.manifest.files.push_back({std::string(kConfig) + "data/none.csv.gz", 10, Md5Of("x")});
  RowCursor cursor = Open(store, b);
  Drained d = Drain(cursor);
  EXPECT_EQ(d.status.code(), ErrorCode::kNotFound) << d.status.ToString();
  EXPECT_NE(d.status.message().find("data/none.csv.gz"), std::string::npos);
}

TEST(RowsTest, ATruncatedGzipListedAsSuchFailsNamingTheFile) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  std::string csv;
  for (int i = 0; i < 2000; ++i) csv += Row("key-" + std::to_string(i), "", true, false, "1");
  const std::string gz = GzipText(csv);
  const std::string cut = gz.substr(0, gz.size() / 2);
  b.AddFile(store, "cut.csv.gz", cut, cut);  // the manifest agrees: the inventory itself is bad
  RowCursor cursor = Open(store, b);
  Drained d = Drain(cursor);
  EXPECT_LT(d.rows.size(), 2000u);
  EXPECT_EQ(d.status.code(), ErrorCode::kInvalidArgument) << d.status.ToString();
  EXPECT_NE(d.status.message().find("cut.csv.gz"), std::string::npos) << d.status.message();
  EXPECT_NE(d.status.message().find("truncated gzip"), std::string::npos) << d.status.message();
}

TEST(RowsTest, ABadRowNamesItsFileAndRow) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  b.AddRows(store, "rows.csv.gz",
            Row("ok", "", true, false, "1") + Row("bad%zzkey", "", true, false, "1"));
  RowCursor cursor = Open(store, b);
  Drained d = Drain(cursor);
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("data/rows.csv.gz row 2: bad %-escape in key"),
            std::string::npos)
      << d.status.message();

  storage::MemoryBackend store2;
  InventoryBuilder b2;
  b2.AddRows(store2, "size.csv.gz", Row("a", "", true, false, "1e3"));
  RowCursor cursor2 = Open(store2, b2);
  Drained d2 = Drain(cursor2);
  EXPECT_NE(d2.status.message().find("size.csv.gz row 1: Size \"1e3\" is not a number"),
            std::string::npos)
      << d2.status.message();
}

TEST(RowsTest, StoreAndSpoolFailuresStopTheCursor) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  b.AddRows(store, "one.csv.gz", Row("a", "", true, false, "1"));
  store.FailNext(storage::MemoryBackend::kRead, 1, Status::Unavailable("gateway down"));
  RowCursor failing = Open(store, b);
  Drained d = Drain(failing);
  EXPECT_TRUE(d.rows.empty());
  EXPECT_EQ(d.status.code(), ErrorCode::kUnavailable) << d.status.ToString();

  RowsOptions no_spool;
  no_spool.spool_dir = "/nonexistent-ferry-spool";
  RowCursor unspooled(store, std::string(kManifestKey), b.manifest, no_spool, {});
  Drained d2 = Drain(unspooled);
  EXPECT_TRUE(d2.rows.empty());
  EXPECT_NE(d2.status.message().find("cannot make a spool file in /nonexistent-ferry-spool"),
            std::string::npos)
      << d2.status.ToString();
}

TEST(RowsTest, StopRequestedEndsTheCursor) {
  storage::MemoryBackend store;
  InventoryBuilder b;
  b.AddRows(store, "one.csv.gz", Row("a", "", true, false, "1"));
  std::stop_source stop;
  stop.request_stop();
  RowCursor cursor(store, std::string(kManifestKey), b.manifest, {}, stop.get_token());
  EXPECT_EQ(cursor.Next().status().code(), ErrorCode::kCancelled);
}

TEST(RowsTest, DataFileKeysAreFoundUnderAnotherRoot) {
  Manifest m;
  m.source_bucket = "photos";
  const DataFile f{"inv/photos/daily/data/a.csv.gz", 1, ""};
  EXPECT_EQ(DataFileKey("inv/photos/daily/2026-11-27T00-00Z/manifest.json", m, f),
            "inv/photos/daily/data/a.csv.gz");
  // A copy of the bucket under a folder: the same folder holds the data.
  EXPECT_EQ(DataFileKey("copies/dst/inv/photos/daily/2026-11-27T00-00Z/manifest.json", m, f),
            "copies/dst/inv/photos/daily/data/a.csv.gz");
  // No destination prefix.
  const DataFile g{"photos/daily/data/a.csv.gz", 1, ""};
  EXPECT_EQ(DataFileKey("photos/daily/2026-11-27T00-00Z/manifest.json", m, g),
            "photos/daily/data/a.csv.gz");
  // Not found: as listed.
  EXPECT_EQ(DataFileKey("manifest.json", m, f), "inv/photos/daily/data/a.csv.gz");
}

}  // namespace
}  // namespace ferry::inventory
