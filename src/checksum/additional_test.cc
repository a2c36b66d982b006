#include "checksum/additional.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::checksum {
namespace {

const std::string kCheck = "123456789";

TEST(AdditionalChecksumTest, CrcsMatchTheirStandardCheckValues) {
  EXPECT_EQ(Crc(Algorithm::kCrc32, AsBytes(kCheck)), 0xCBF43926u);
  EXPECT_EQ(Crc(Algorithm::kCrc32c, AsBytes(kCheck)), 0xE3069283u);
  EXPECT_EQ(Crc(Algorithm::kCrc64Nvme, AsBytes(kCheck)), 0xAE8B14860A799888ULL);
  EXPECT_EQ(Crc(Algorithm::kCrc64Nvme, AsBytes("")), 0u);
}

TEST(AdditionalChecksumTest, HeaderValuesAreBase64OfBigEndianDigests) {
  // S3 sends CRC32 0xCBF43926 as the bytes CB F4 39 26.
  EXPECT_EQ(Compute(Algorithm::kCrc32, AsBytes(kCheck)), "y/Q5Jg==");
  EXPECT_EQ(Compute(Algorithm::kCrc32c, AsBytes(kCheck)), "4waSgw==");
  EXPECT_EQ(Compute(Algorithm::kCrc64Nvme, AsBytes(kCheck)), "rosUhgp5mIg=");
  // SHA-1 and SHA-256 of "abc" (FIPS 180 examples).
  EXPECT_EQ(Compute(Algorithm::kSha1, AsBytes("abc")), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  EXPECT_EQ(Compute(Algorithm::kSha256, AsBytes("abc")),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(AdditionalChecksumTest, HasherIsIncremental) {
  for (Algorithm a : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme,
                      Algorithm::kSha1, Algorithm::kSha256}) {
    Hasher h(a);
    h.Update(AsBytes("1234"));
    h.Update(AsBytes(""));
    h.Update(AsBytes("56789"));
    const std::string raw = h.Finish();
    EXPECT_EQ(Base64({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()}),
              Compute(a, AsBytes(kCheck)))
        << AlgorithmName(a);
  }
}

TEST(AdditionalChecksumTest, HasherIsIncrementalAtEveryCut) {
  // Two pieces, no empty one between (an empty update once hid a CRC64NVME resume that was
  // wrong by a reflection, which a second resume undid).
  const std::string data = "123456789abcdefghijklmnopqrstuvwxyz";
  for (Algorithm a : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme,
                      Algorithm::kSha1, Algorithm::kSha256}) {
    for (size_t cut = 0; cut <= data.size(); ++cut) {
      Hasher h(a);
      h.Update(AsBytes(std::string_view(data).substr(0, cut)));
      h.Update(AsBytes(std::string_view(data).substr(cut)));
      const std::string raw = h.Finish();
      EXPECT_EQ(Base64({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()}),
                Compute(a, AsBytes(data)))
          << AlgorithmName(a) << " cut at " << cut;
    }
  }
}

TEST(AdditionalChecksumTest, CrcsCombineAcrossParts) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 7 + i / 256));
  for (Algorithm a : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme}) {
    const uint64_t whole = Crc(a, AsBytes(data));
    for (size_t cut : {size_t{0}, size_t{1}, size_t{4095}, size_t{65536}, data.size()}) {
      const uint64_t first = Crc(a, AsBytes(std::string_view(data).substr(0, cut)));
      const std::string_view rest = std::string_view(data).substr(cut);
      EXPECT_EQ(CrcCombine(a, first, Crc(a, AsBytes(rest)), rest.size()), whole)
          << AlgorithmName(a) << " cut at " << cut;
    }
  }
  EXPECT_EQ(Crc32cCombine(static_cast<uint32_t>(Crc(Algorithm::kCrc32c, AsBytes("1234"))),
                          static_cast<uint32_t>(Crc(Algorithm::kCrc32c, AsBytes("56789"))), 5),
            0xE3069283u);
}

TEST(AdditionalChecksumTest, NamesParseInAnyCase) {
  EXPECT_EQ(ParseAlgorithm("crc64nvme"), Algorithm::kCrc64Nvme);
  EXPECT_EQ(ParseAlgorithm("SHA256"), Algorithm::kSha256);
  EXPECT_FALSE(ParseAlgorithm("MD5"));
  EXPECT_FALSE(ParseAlgorithm(""));
  EXPECT_EQ(HeaderName(Algorithm::kCrc32c), "x-amz-checksum-crc32c");
  EXPECT_EQ(ElementName(Algorithm::kSha1), "ChecksumSHA1");
}

TEST(AdditionalChecksumTest, DeclaredValuesAreFullObjectOrComposite) {
  std::optional<Declared> full = ParseDeclared(Algorithm::kCrc32, "y/Q5Jg==");
  ASSERT_TRUE(full);
  EXPECT_TRUE(full->full_object());
  std::optional<Declared> composite = ParseDeclared(Algorithm::kSha256,
      "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-3");
  ASSERT_TRUE(composite);
  EXPECT_EQ(composite->parts, 3);
  EXPECT_EQ(composite->value, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  // A CRC32 value is 4 bytes; a SHA-1 value is not a CRC32's.
  EXPECT_FALSE(ParseDeclared(Algorithm::kCrc32, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="));
  EXPECT_FALSE(ParseDeclared(Algorithm::kCrc32, "not base64!"));
  EXPECT_FALSE(ParseDeclared(Algorithm::kCrc32, "y/Q5Jg==-0"));
  EXPECT_FALSE(ParseDeclared(Algorithm::kCrc32, "y/Q5Jg==-x"));
}

TEST(AdditionalChecksumTest, CompositeIsTheDigestOfThePartDigests) {
  const std::vector<std::string> parts = {Compute(Algorithm::kSha256, AsBytes("1234")),
                                          Compute(Algorithm::kSha256, AsBytes("56789"))};
  std::string raw;
  for (const std::string& p : parts) raw += *Base64Decode(p);
  EXPECT_EQ(Composite(Algorithm::kSha256, parts), Compute(Algorithm::kSha256, AsBytes(raw)));
  const std::vector<std::string> bad = {"y/Q5Jg=="};
  EXPECT_FALSE(Composite(Algorithm::kSha256, bad));
}

}  // namespace
}  // namespace ferry::checksum
