#include "storage/key.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::storage {
namespace {

using namespace std::string_literals;

void ExpectRefused(std::string_view key, std::string_view reason_part) {
  Status s = ValidateLocalKey(key);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << PrintableKey(key);
  EXPECT_NE(s.message().find(reason_part), std::string::npos) << s.message();
}

TEST(ValidateLocalKeyTest, RefusesKeysThatLeaveTheFolder) {
  ExpectRefused("../x", "\"..\" path segment");
  ExpectRefused("a/../../x", "\"..\" path segment");
  ExpectRefused("a/..", "\"..\" path segment");
  ExpectRefused("..", "\"..\" path segment");
  ExpectRefused("/etc/passwd", "absolute");
  ExpectRefused("/", "absolute");
}

TEST(ValidateLocalKeyTest, RefusesNulAndEmptyOrDotSegments) {
  ExpectRefused("a\0b"s, "NUL");
  ExpectRefused("", "empty");
  ExpectRefused("a//b", "empty path segment");
  ExpectRefused("./a", "\".\" path segment");
  ExpectRefused("a/./b", "\".\" path segment");
  ExpectRefused(".", "\".\" path segment");
}

TEST(ValidateLocalKeyTest, RefusesDirectoryMarkersWithAClearReason) {
  ExpectRefused("photos/", "directory marker");
  ExpectRefused("a/b/", "directory marker");
}

TEST(ValidateLocalKeyTest, RefusesFerryTemporaryNames) {
  ExpectRefused(".ferry-tmp-0123", "reserved");
  ExpectRefused("a/.ferry-tmp-x/b", "reserved");
  EXPECT_TRUE(ValidateLocalKey("a/x.ferry-tmp-").ok());
}

TEST(ValidateLocalKeyTest, AcceptsOrdinaryAndUnusualButSafeKeys) {
  for (const char* key : {"a", "données/ü.txt", "a b+c%d", "a\\b", ".hidden", "..a", "a..", "a/...",
                          "日本/語", "x-y_z~!@#$^&*()=[]{};:'\",<>?"}) {
    EXPECT_TRUE(ValidateLocalKey(key).ok()) << key;
  }
}

TEST(ValidateLocalKeyTest, LimitIs1024Bytes) {
  EXPECT_TRUE(ValidateLocalKey(std::string(1024, 'k')).ok());
  Status s = ValidateLocalKey(std::string(1025, 'k'));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("1025 bytes"), std::string::npos) << s.message();
  EXPECT_LT(s.message().size(), 200u) << "the message should not repeat the whole key";
}

TEST(ValidateLocalKeyTest, MessageNamesTheKeyEscaped) {
  Status s = ValidateLocalKey("a/../\n\x01x");
  EXPECT_NE(s.message().find("\"a/../\\x0a\\x01x\""), std::string::npos) << s.message();
  s = ValidateLocalKey("a\0b"s);
  EXPECT_NE(s.message().find("a\\x00b"), std::string::npos) << s.message();
}

TEST(PrintableKeyTest, KeepsValidUtf8AndEscapesTheRest) {
  EXPECT_EQ(PrintableKey("données/ü.txt"), "données/ü.txt");
  EXPECT_EQ(PrintableKey("a b"), "a b");
  EXPECT_EQ(PrintableKey("tab\there"), "tab\\x09here");
  EXPECT_EQ(PrintableKey("\x7f"), "\\x7f");
  EXPECT_EQ(PrintableKey("q\"b\\"), "q\\\"b\\\\");
  EXPECT_EQ(PrintableKey("\xff\xfe"), "\\xff\\xfe");                    // never valid
  EXPECT_EQ(PrintableKey("\xc3"), "\\xc3");                             // truncated sequence
  EXPECT_EQ(PrintableKey("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(PrintableKey("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(PrintableKey("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(PrintableKey("\xc2\x85"), "\\u0085");                       // C1 control (NEL)
  EXPECT_EQ(PrintableKey("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");      // emoji kept
}


TEST(IsValidUtf8Test, AcceptsWellFormedAndRefusesTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("a/b c%+"));
  EXPECT_TRUE(IsValidUtf8("données/ü/日本/\xF0\x9F\x98\x80/\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));          // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xC3"));             // cut short
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));         // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));     // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace ferry::storage
