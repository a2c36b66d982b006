#include "checksum/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ferry::checksum {
namespace {

TEST(Crc32cTest, MatchesStandardCheckValue) {
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(AsBytes("")), 0u);
}

TEST(Crc32cTest, IncrementalEqualsWhole) {
  EXPECT_EQ(Crc32c(AsBytes("6789"), Crc32c(AsBytes("12345"))), 0xE3069283u);
}

TEST(Crc32cTest, CombineOfPartsEqualsCrcOfWhole) {
  std::mt19937 rng(7);
  std::vector<std::byte> data(1 << 20);
  for (auto& b : data) b = static_cast<std::byte>(rng());
  const uint32_t whole = Crc32c(data);
  for (size_t split : {size_t{0}, size_t{1}, size_t{4095}, size_t{65536}, data.size()}) {
    std::span<const std::byte> a(data.data(), split);
    std::span<const std::byte> b(data.data() + split, data.size() - split);
    EXPECT_EQ(Crc32cCombine(Crc32c(a), Crc32c(b), b.size()), whole) << "split " << split;
  }
}

TEST(DigestTest, KnownValues) {
  EXPECT_EQ(Hex(Md5(AsBytes(""))), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Md5Hasher h;
  h.Update(AsBytes("ab"));
  h.Update(AsBytes("c"));
  EXPECT_EQ(Hex(h.Finish()), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(EncodingTest, Base64RoundTripAndHex32) {
  const std::string s = "any carnal pleas";
  const std::string enc = Base64({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  EXPECT_EQ(enc, "YW55IGNhcm5hbCBwbGVhcw==");
  EXPECT_EQ(Base64Decode(enc), s);
  EXPECT_EQ(Hex32(0xE3069283u), "e3069283");
  EXPECT_EQ(ParseHex32("E3069283"), 0xE3069283u);
  EXPECT_FALSE(ParseHex32("xyz").has_value());
}

}  // namespace
}  // namespace ferry::checksum
