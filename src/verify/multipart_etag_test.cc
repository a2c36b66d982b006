#include "verify/multipart_etag.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "testing/test_data.h"

namespace ferry::verify {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::vector<std::byte> RandomBytes(size_t n, uint32_t seed) { return ferry::testing::RandomBytes(n, seed); }

// The expected multipart ETag, computed the way S3 does: the MD5 of the concatenated binary
// MD5s of the parts, then "-N".
std::string ExpectedETag(std::span<const std::byte> data, uint64_t part) {
  std::string concatenated;
  int parts = 0;
  for (uint64_t off = 0; off < data.size(); off += part, ++parts) {
    const auto d = checksum::Md5(data.subspan(off, std::min<uint64_t>(part, data.size() - off)));
    concatenated.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  return checksum::Hex(checksum::Md5(checksum::AsBytes(concatenated))) + "-" +
         std::to_string(parts);
}

TEST(ParseETagTest, PlainMultipartAndOthers) {
  auto md5 = ParseETag("900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5.kind, ParsedETag::Kind::kMd5);
  EXPECT_EQ(checksum::Hex(md5.digest), "900150983cd24fb0d6963f7d28e17f72");
  auto mp = ParseETag("900150983CD24FB0D6963F7D28E17F72-12");
  EXPECT_EQ(mp.kind, ParsedETag::Kind::kMultipart);
  EXPECT_EQ(mp.parts, 12);
  EXPECT_EQ(ParseETag("900150983cd24fb0d6963f7d28e17f72", /*opaque=*/true).kind,
            ParsedETag::Kind::kNone);
  for (const char* bad : {"", "abc", "900150983cd24fb0d6963f7d28e17f7g",
                          "900150983cd24fb0d6963f7d28e17f72-", "900150983cd24fb0d6963f7d28e17f72-0",
                          "900150983cd24fb0d6963f7d28e17f72-1x",
                          "900150983cd24fb0d6963f7d28e17f72-12345678"}) {
    EXPECT_EQ(ParseETag(bad).kind, ParsedETag::Kind::kNone) << bad;
  }
}

TEST(MultipartETagTest, KnownMd5sOfParts) {
  // Two parts "abc" and "" would not happen; "abc" + "abc" with a 3-byte layout: the ETag is
  // MD5(md5("abc") || md5("abc")), checked against a fixed value.
  LayoutHasher h({3}, true);
  h.Update(checksum::AsBytes("ab"));
  h.Update(checksum::AsBytes("cabc"));
  auto d = h.Finish();
  EXPECT_EQ(checksum::Hex(*d.whole), checksum::Hex(checksum::Md5(checksum::AsBytes("abcabc"))));
  ASSERT_EQ(d.layouts.size(), 1u);
  EXPECT_EQ(d.layouts[0].parts, 2);
  const auto abc = checksum::Md5(checksum::AsBytes("abc"));
  EXPECT_EQ(checksum::Hex(abc), "900150983cd24fb0d6963f7d28e17f72");
  std::string both(reinterpret_cast<const char*>(abc.data()), 16);
  both += both;
  EXPECT_EQ(FormatMultipartETag(d.layouts[0].digest, d.layouts[0].parts),
            checksum::Hex(checksum::Md5(checksum::AsBytes(both))) + "-2");
}

TEST(MultipartETagTest, SeveralLayoutsInOnePassWithAShortLastPart) {
  // 23 MiB + 5 bytes: the last part is short under every layout.
  const auto data = RandomBytes(23 * kMiB + 5, 7);
  const std::vector<uint64_t> sizes = {5 * kMiB, 8 * kMiB, 16 * kMiB, 7 * kMiB + 3};
  LayoutHasher h(sizes, true);
  // Fed in uneven pieces that straddle part boundaries.
  for (size_t off = 0; off < data.size();) {
    const size_t n = std::min<size_t>(data.size() - off, 3 * kMiB + 17);
    h.Update(std::span(data).subspan(off, n));
    off += n;
  }
  auto d = h.Finish();
  EXPECT_EQ(d.bytes, data.size());
  EXPECT_EQ(*d.whole, checksum::Md5(data));
  ASSERT_EQ(d.layouts.size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(d.layouts[i].part_size, sizes[i]);
    EXPECT_EQ(FormatMultipartETag(d.layouts[i].digest, d.layouts[i].parts),
              ExpectedETag(data, sizes[i]))
        << sizes[i];
  }
  // The one matching the 8 MiB upload is found, and no other.
  const ParsedETag aws = ParseETag(ExpectedETag(data, 8 * kMiB));
  EXPECT_EQ(MatchingLayout(d, aws.digest, aws.parts), 8 * kMiB);
  const ParsedETag other = ParseETag(ExpectedETag(data, 6 * kMiB));
  EXPECT_EQ(MatchingLayout(d, other.digest, other.parts), std::nullopt);
}

TEST(MultipartETagTest, ExactMultipleAndEmpty) {
  const auto data = RandomBytes(10 * kMiB, 3);  // exactly two 5 MiB parts: no empty third
  LayoutHasher h({5 * kMiB}, false);
  h.Update(data);
  auto d = h.Finish();
  EXPECT_FALSE(d.whole.has_value());
  EXPECT_EQ(d.layouts[0].parts, 2);
  EXPECT_EQ(FormatMultipartETag(d.layouts[0].digest, 2), ExpectedETag(data, 5 * kMiB));

  LayoutHasher empty({5 * kMiB}, true);
  auto e = empty.Finish();
  EXPECT_EQ(checksum::Hex(*e.whole), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(e.layouts[0].parts, 1);  // one empty part
}

TEST(CandidatePartSizesTest, ToolDefaultsFirstAndOnlyFittingSizes) {
  // 25 MiB in 4 parts: 8 MiB (AWS CLI) first; 7 MiB also gives 4 parts.
  auto c = CandidatePartSizes(25 * kMiB, 4, 16);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0], 8 * kMiB);
  for (uint64_t p : c) EXPECT_EQ((25 * kMiB + p - 1) / p, 4u) << p;
  EXPECT_NE(std::find(c.begin(), c.end(), 7 * kMiB), c.end());
  // 25 MiB in 5 parts: rclone's 5 MiB.
  EXPECT_EQ(CandidatePartSizes(25 * kMiB, 5)[0], 5 * kMiB);
  // s5cmd: 120 MiB in 3 parts of 50 MiB (before the powers of two).
  auto s5 = CandidatePartSizes(120 * kMiB, 3);
  EXPECT_EQ(s5[0], 50 * kMiB);
  // 100 GiB with the 5 MiB default grown to fit 10,000 parts: 20 MiB (5 doubled twice).
  auto big = CandidatePartSizes(100ull << 30, 5120);
  EXPECT_NE(std::find(big.begin(), big.end(), 20 * kMiB), big.end());
  // One part: the size itself; none for nonsense.
  EXPECT_EQ(CandidatePartSizes(123, 1), std::vector<uint64_t>{123});
  EXPECT_TRUE(CandidatePartSizes(123, 0).empty());
  EXPECT_TRUE(CandidatePartSizes(0, 3).empty());
  EXPECT_LE(CandidatePartSizes(1ull << 30, 3, 4).size(), 4u);
}

TEST(CandidatePartSizesTest, ReproducesUploadsOfCommonTools) {
  // An object written by each tool's default is reproduced from the candidates alone.
  const auto data = RandomBytes(27 * kMiB + 123, 11);
  for (uint64_t part : {5 * kMiB, 8 * kMiB, 16 * kMiB, 10 * kMiB}) {
    const ParsedETag e = ParseETag(ExpectedETag(data, part));
    LayoutHasher h(CandidatePartSizes(data.size(), e.parts), true);
    h.Update(data);
    EXPECT_EQ(MatchingLayout(h.Finish(), e.digest, e.parts), part) << part;
  }
}

TEST(LayoutHasherTest, AnAdditionalChecksumOfTheWholeInTheSamePass) {
  std::mt19937 rng(9);
  std::vector<std::byte> data(3 * 1024 * 1024 + 17);
  for (auto& b : data) b = static_cast<std::byte>(rng() & 0xff);
  for (checksum::Algorithm a : {checksum::Algorithm::kCrc32, checksum::Algorithm::kCrc32c,
                                checksum::Algorithm::kCrc64Nvme, checksum::Algorithm::kSha1,
                                checksum::Algorithm::kSha256}) {
    LayoutHasher h({1024 * 1024}, true, a);
    // Uneven pieces: the value does not depend on how the bytes arrive.
    std::span<const std::byte> rest(data);
    for (size_t n = 1; !rest.empty(); n = n * 3 + 1) {
      const size_t take = std::min(n, rest.size());
      h.Update(rest.first(take));
      rest = rest.subspan(take);
    }
    auto d = h.Finish();
    ASSERT_TRUE(d.checksum.has_value());
    EXPECT_EQ(d.checksum->algorithm, a);
    EXPECT_TRUE(d.checksum->full_object());
    EXPECT_EQ(d.checksum->value, checksum::Compute(a, data));
    EXPECT_TRUE(d.whole.has_value());
    EXPECT_EQ(d.layouts.size(), 1u);
  }
  LayoutHasher none({}, false);
  EXPECT_FALSE(none.Finish().checksum.has_value());
}

}  // namespace
}  // namespace ferry::verify
