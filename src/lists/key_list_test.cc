#include "lists/key_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::lists {
namespace {

using Strings = std::vector<std::string>;

struct Keys {
  Strings keys;
  Status status;
};

Keys Read(const std::string& text, KeyListOptions options) {
  KeyListReader reader(MemorySource(text, "keys.lst"), std::move(options));
  Keys out;
  for (;;) {
    auto key = reader.Next();
    if (!key.ok()) {
      out.status = key.status();
      return out;
    }
    if (!key->has_value()) return out;
    out.keys.push_back(**key);
  }
}

KeyListOptions Plain() { return {}; }

KeyListOptions Csv(std::string bucket = "src", std::string prefix = "") {
  KeyListOptions o;
  o.format = ListFormat::kCsv;
  o.bucket = std::move(bucket);
  o.prefix = std::move(prefix);
  return o;
}

TEST(KeyListTest, PlainFollowsRcloneCommentsWhitespaceAndLeadingSlash) {
  Keys k = Read("# a comment\n; another\n\n   \n  a/b.txt  \n\t/c\r\n//d/\n e f \n#x\n", Plain());
  ASSERT_TRUE(k.status.ok()) << k.status.ToString();
  EXPECT_EQ(k.keys, (Strings{"a/b.txt", "c", "d/", "e f"}));
}

TEST(KeyListTest, PlainKeyOfASlashAloneIsRefusedWithItsLine) {
  Keys k = Read("a\n/\nb\n", Plain());
  EXPECT_EQ(k.keys, Strings{"a"});
  EXPECT_EQ(k.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(k.status.message(), "keys.lst:2: an empty key (\"/\" names no object)");
}

TEST(KeyListTest, AKeyLongerThanS3AllowsIsRefused) {
  Keys k = Read("ok\n" + std::string(1025, 'k') + "\n", Plain());
  EXPECT_EQ(k.status.message(), "keys.lst:2: a key longer than 1024 bytes");
  EXPECT_TRUE(Read(std::string(1024, 'k'), Plain()).status.ok());
}

TEST(KeyListTest, CsvRowsAreBatchOperationsManifestRows) {
  Keys k = Read("src,a/b.txt\nsrc,with%20space+plus%2B,\n\"src\",\"q,uo\"\"te\"\n\nsrc,%C3%A9t%C3%A9\n",
                Csv());
  ASSERT_TRUE(k.status.ok()) << k.status.ToString();
  EXPECT_EQ(k.keys, (Strings{"a/b.txt", "with space plus+", "q,uo\"te", "\xC3\xA9t\xC3\xA9"}));
}

TEST(KeyListTest, CsvKeysAreRelativeToTheSourcePrefix) {
  Keys k = Read("src,pre/a\nsrc,pre/sub/b\n", Csv("src", "pre/"));
  EXPECT_EQ(k.keys, (Strings{"a", "sub/b"}));
  k = Read("src,pre/a\nsrc,other/b\n", Csv("src", "pre/"));
  EXPECT_EQ(k.keys, Strings{"a"});
  EXPECT_EQ(k.status.message(),
            "keys.lst:2: the key \"other/b\" is outside the source prefix \"pre/\"");
}

TEST(KeyListTest, CsvBadRowsAreOneErrorNamingFileAndLine) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"src,a\nother,b\n", "keys.lst:2: the row names bucket \"other\", the source's is \"src\""},
      {"src,a%2\n", "keys.lst:1: a bad %-escape in the key \"a%2\""},
      {"src,a%zz\n", "keys.lst:1: a bad %-escape in the key \"a%zz\""},
      {"src,\n", "keys.lst:1: an empty key"},
      {"src\n", "keys.lst:1: expected bucket,key[,version_id], found 1 field"},
      {"src,a,v,x\n", "keys.lst:1: expected bucket,key[,version_id], found 4 fields"},
      {"src,\"a\n", "keys.lst:1: a quoted field is not closed"},
      {"src,a,3HL4kqtJlcpXroDTDmJ\n",
       "keys.lst:1: a version id is not supported yet (ferry copies current versions)"},
  };
  for (const Case& c : cases) {
    Keys k = Read(c.text, Csv());
    EXPECT_EQ(k.status.code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_EQ(k.status.message(), c.message) << c.text;
  }
  Keys local = Read("src,a\n", Csv(""));
  EXPECT_EQ(local.status.message(),
            "keys.lst:1: a csv list names buckets; the source is not a bucket");
}

// A key decoded from %0a holds a newline: the error naming it stays one line (found by the
// key_list fuzz target: "a refusal is one line").
TEST(KeyListTest, AnEscapedControlByteInARefusedKeyIsShownEscaped) {
  Keys k = Read("src,prec/2%0a\n", Csv("src", "pre/"));
  EXPECT_EQ(k.status.message(),
            "keys.lst:1: the key \"prec/2\\x0a\" is outside the source prefix \"pre/\"");
  EXPECT_EQ(k.status.message().find('\n'), std::string::npos);
  Keys bucket = Read("s\x01" "c,a\n", Csv());
  EXPECT_EQ(bucket.status.message(),
            "keys.lst:1: the row names bucket \"s\\x01c\", the source's is \"src\"");
}

TEST(KeyListTest, AnErrorStaysAndNothingAfterItIsRead) {
  KeyListReader reader(MemorySource("src,a\nsrc,%\nsrc,c\n", "m.csv"), Csv());
  ASSERT_TRUE(reader.Next().ok());
  EXPECT_FALSE(reader.Next().ok());
  EXPECT_FALSE(reader.Next().ok());
}

TEST(KeyListTest, FormatsByFlagOrName) {
  EXPECT_EQ(*ParseListFormat("plain"), ListFormat::kPlain);
  EXPECT_EQ(*ParseListFormat("csv"), ListFormat::kCsv);
  EXPECT_EQ(ParseListFormat("tsv").status().message(),
            "--files-from-format: \"tsv\" is not one of plain, csv");
  EXPECT_EQ(FormatForName("manifest.csv"), ListFormat::kCsv);
  EXPECT_EQ(FormatForName("s3://b/m/Manifest.CSV.GZ"), ListFormat::kCsv);
  EXPECT_EQ(FormatForName("keys.txt"), ListFormat::kPlain);
  EXPECT_EQ(FormatForName("keys.gz"), ListFormat::kPlain);
  EXPECT_EQ(FormatForName("-"), ListFormat::kPlain);
}

TEST(KeyListTest, DecodeListKeyEdges) {
  EXPECT_EQ(DecodeListKey("a%2Fb"), "a/b");
  EXPECT_EQ(DecodeListKey("%41%6a"), "Aj");
  EXPECT_FALSE(DecodeListKey("%").has_value());
  EXPECT_FALSE(DecodeListKey("a%4").has_value());
  EXPECT_FALSE(DecodeListKey("%g1").has_value());
}

}  // namespace
}  // namespace ferry::lists
