#include "inventory/run_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ferry::inventory {
namespace {

// Rows from a vector, then an optional error.
class RunKeysFakeRows : public storage::ListingCursor {
 public:
  explicit RunKeysFakeRows(std::vector<storage::ObjectInfo> rows, Status end = Status::Ok())
      : rows_(std::move(rows)), end_(std::move(end)) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (at_ < rows_.size()) return &rows_[at_++];
    if (!end_.ok()) return end_;
    return static_cast<const storage::ObjectInfo*>(nullptr);
  }

 private:
  std::vector<storage::ObjectInfo> rows_;
  Status end_;
  size_t at_ = 0;
};

storage::ObjectInfo RunKeysRow(std::string key, bool latest = false, bool marker = false) {
  storage::ObjectInfo o;
  o.key = std::move(key);
  o.is_latest = latest;
  o.delete_marker = marker;
  return o;
}

Manifest RunKeysManifest(bool versioned) {
  Manifest m;
  m.location = "s3://inv/src/config/2026-11-27T00-00Z/manifest.json";
  m.source_bucket = "src";
  m.columns = {Field::kBucket, Field::kKey};
  if (versioned) m.columns.push_back(Field::kIsLatest);
  return m;
}

std::vector<std::string> DrainRunKeys(RunKeyStream& stream) {
  std::vector<std::string> out;
  for (;;) {
    auto key = stream.Next();
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    if (!key.ok() || !key->has_value()) return out;
    out.push_back(**key);
  }
}

TEST(RunKeysTest, UnversionedRowsUnderThePrefixLoseIt) {
  RunKeysFakeRows rows({RunKeysRow("data/a"), RunKeysRow("other/b"), RunKeysRow("data/"),
                        RunKeysRow("data/c d"), RunKeysRow("data/x", false, true)});
  RunKeyStream stream(rows, RunKeysManifest(false), "data/");
  EXPECT_EQ(DrainRunKeys(stream), (std::vector<std::string>{"a", "c d"}));
  EXPECT_EQ(stream.stats().rows, 5u);
  EXPECT_EQ(stream.stats().keys, 2u);
  EXPECT_EQ(stream.stats().outside_prefix, 2u);  // other/b and the prefix's own marker
  EXPECT_EQ(stream.stats().not_current, 1u);     // the delete marker
}

TEST(RunKeysTest, AVersionedInventoryGivesOnlyLatestNonMarkerRows) {
  RunKeysFakeRows rows({RunKeysRow("a", true), RunKeysRow("a", false), RunKeysRow("b", true, true),
                        RunKeysRow("b", false), RunKeysRow("c", true)});
  RunKeyStream stream(rows, RunKeysManifest(true), "");
  EXPECT_EQ(DrainRunKeys(stream), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(stream.stats().not_current, 3u);
}

TEST(RunKeysTest, ARowErrorIsHandedOn) {
  RunKeysFakeRows rows({RunKeysRow("a")}, Status::DataLoss("data/x.csv.gz: MD5 differs"));
  RunKeyStream stream(rows, RunKeysManifest(false), "");
  ASSERT_TRUE(stream.Next().ok());
  auto next = stream.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kDataLoss);
}

TEST(RunKeysTest, AnInventoryOfAnotherBucketIsRefusedInOneLine) {
  EXPECT_TRUE(CheckInventoryBucket(RunKeysManifest(false), "src", "--source-inventory").ok());
  Status other = CheckInventoryBucket(RunKeysManifest(false), "dst", "--source-inventory");
  EXPECT_EQ(other.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(other.message().find("inventory of bucket \"src\", not of the run's bucket \"dst\""),
            std::string::npos);
  EXPECT_EQ(other.message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace ferry::inventory
