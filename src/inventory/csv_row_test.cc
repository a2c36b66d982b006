#include "inventory/csv_row.h"

#include <gtest/gtest.h>

namespace ferry::inventory {
namespace {

std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> fields;
  Status s = SplitCsvLine(line, fields);
  EXPECT_TRUE(s.ok()) << line << ": " << s.ToString();
  return fields;
}

TEST(CsvRowTest, SplitsQuotedAndPlainFields) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Split(R"("photos","a+b.jpg","","12")"), (V{"photos", "a+b.jpg", "", "12"}));
  EXPECT_EQ(Split(R"(photos,a.jpg,,12)"), (V{"photos", "a.jpg", "", "12"}));
  EXPECT_EQ(Split(R"("say ""hi""","x,y")"), (V{"say \"hi\"", "x,y"}));
  EXPECT_EQ(Split(""), (V{""}));
  EXPECT_EQ(Split("a,"), (V{"a", ""}));
  // The vector of the previous row is reused: no field of it is left behind.
  std::vector<std::string> reused = {"x", "y", "z", "w"};
  ASSERT_TRUE(SplitCsvLine(R"("a","b")", reused).ok());
  EXPECT_EQ(reused, (V{"a", "b"}));
  ASSERT_TRUE(SplitCsvLine("c,d,e", reused).ok());
  EXPECT_EQ(reused, (V{"c", "d", "e"}));
}

TEST(CsvRowTest, RefusesBrokenQuoting) {
  std::vector<std::string> fields;
  EXPECT_FALSE(SplitCsvLine(R"("photos","a.jpg)", fields).ok());
  EXPECT_FALSE(SplitCsvLine(R"("photos"x,"a")", fields).ok());
  EXPECT_FALSE(SplitCsvLine(R"(pho"tos,a)", fields).ok());
}

TEST(CsvRowTest, DecodesKeysAsAwsEncodesThem) {
  EXPECT_EQ(*DecodeKey("a+b.jpg"), "a b.jpg");
  EXPECT_EQ(*DecodeKey("a%2Bb.jpg"), "a+b.jpg");
  EXPECT_EQ(*DecodeKey("dir%2Fsub/f%C3%A9te%20%e2%82%ac"), "dir/sub/f\xC3\xA9te \xE2\x82\xAC");
  for (const char* bad : {"a%zz", "a%2", "a%", "%G0"}) {
    auto k = DecodeKey(bad);
    ASSERT_FALSE(k.ok()) << bad;
    EXPECT_NE(k.status().message().find("bad %-escape"), std::string::npos);
  }
  EXPECT_FALSE(DecodeKey("").ok());
}

TEST(CsvRowTest, ParsesLastModified) {
  using namespace std::chrono;
  auto t = ParseLastModified("2026-11-27T21:32:05.123Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(duration_cast<milliseconds>(t->time_since_epoch()).count(), 1795815125123);
  auto whole = ParseLastModified("2026-11-27T21:32:05Z");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(duration_cast<milliseconds>(whole->time_since_epoch()).count(), 1795815125000);
  for (const char* bad : {"2026-11-27 21:32:05Z", "2026-13-01T00:00:00.000Z",
                          "2026-11-27T21:32:05.Z", "2026-11-27T21:32:05.1x3Z", "yesterday"}) {
    EXPECT_FALSE(ParseLastModified(bad).ok()) << bad;
  }
}

const std::vector<Field> kColumns = {Field::kBucket,  Field::kKey,   Field::kVersionId,
                                     Field::kIsLatest, Field::kIsDeleteMarker, Field::kSize,
                                     Field::kLastModifiedDate, Field::kETag,
                                     Field::kStorageClass, Field::kOther};

TEST(CsvRowTest, RowObjectMapsTheColumns) {
  auto o = RowObject({"photos", "my+photo%2B1.jpg", "v3", "true", "false", "42",
                      "2026-11-27T21:32:05.000Z", "\"d41d8cd98f00b204e9800998ecf8427e\"",
                      "STANDARD", "SSE-S3"},
                     kColumns, "photos");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->key, "my photo+1.jpg");
  EXPECT_EQ(o->version_id, "v3");
  EXPECT_TRUE(o->is_latest);
  EXPECT_FALSE(o->delete_marker);
  EXPECT_EQ(o->size, 42u);
  EXPECT_EQ(o->etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(o->storage_class, "");
  EXPECT_FALSE(o->archive.archived);
  auto glacier = RowObject({"photos", "old", "", "", "", "1", "2026-11-27T21:32:05.000Z", "e",
                            "GLACIER", ""},
                           kColumns, "photos");
  ASSERT_TRUE(glacier.ok());
  EXPECT_EQ(glacier->storage_class, "GLACIER");
  EXPECT_TRUE(glacier->archive.archived);
  // A delete marker has no size, ETag or class.
  auto marker = RowObject({"photos", "gone", "v9", "true", "true", "", "2026-11-27T21:32:05.000Z",
                           "", "", ""},
                          kColumns, "photos");
  ASSERT_TRUE(marker.ok()) << marker.status().ToString();
  EXPECT_TRUE(marker->delete_marker);
  EXPECT_EQ(marker->size, 0u);
}

TEST(CsvRowTest, RowObjectRefusesBadRows) {
  auto refused = [&](std::vector<std::string> fields, std::string_view words) {
    auto o = RowObject(fields, kColumns, "photos");
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.status().message().find(words), std::string::npos) << o.status().message();
  };
  const std::string t = "2026-11-27T21:32:05.000Z";
  refused({"photos", "a%zz", "", "", "", "1", t, "e", "", ""}, "bad %-escape");
  refused({"photos", "a", "", "", "", "12k", t, "e", "", ""}, "not a number");
  refused({"photos", "a", "", "", "", "", t, "e", "", ""}, "no Size");
  refused({"photos", "a", "", "", "", "-1", t, "e", "", ""}, "not a number");
  refused({"photos", "a", "", "yes", "", "1", t, "e", "", ""}, "IsLatest");
  refused({"photos", "a", "", "", "", "1", "today", "e", "", ""}, "LastModifiedDate");
  refused({"other", "a", "", "", "", "1", t, "e", "", ""}, "bucket \"other\"");
  refused({"photos", "a"}, "2 fields where fileSchema has 10");
}

}  // namespace
}  // namespace ferry::inventory
