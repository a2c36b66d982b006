#include "base/form_decode.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(FormDecodeTest, PlusIsASpaceAndPercentTwoHexDigitsAByte) {
  EXPECT_EQ(FormDecode("a+b%2Bc%2bd"), "a b+c+d");
  EXPECT_EQ(FormDecode("photos/2024/IMG%20%C3%A9.jpg"), "photos/2024/IMG \xC3\xA9.jpg");
  EXPECT_EQ(FormDecode("%00x"), std::string("\0x", 2));
  EXPECT_EQ(FormDecode(""), "");
  EXPECT_EQ(FormDecode("plain~key_-."), "plain~key_-.");
}

TEST(FormDecodeTest, APercentWithoutTwoHexDigitsIsRefused) {
  EXPECT_EQ(FormDecode("%"), std::nullopt);
  EXPECT_EQ(FormDecode("a%4"), std::nullopt);
  EXPECT_EQ(FormDecode("a%4g"), std::nullopt);
  EXPECT_EQ(FormDecode("%%41"), std::nullopt);
  EXPECT_EQ(FormDecode("x%41"), "xA");  // the last escape may end the text
}

}  // namespace
}  // namespace ferry
