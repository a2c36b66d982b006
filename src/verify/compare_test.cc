#include "verify/compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <vector>

#include "testing/test_data.h"

namespace ferry::verify {
namespace {

using Step = Decision::Step;
constexpr uint64_t kMiB = 1ull << 20;

std::string Md5Hex(std::span<const std::byte> data) { return checksum::Hex(checksum::Md5(data)); }

std::vector<std::byte> Bytes(size_t n, uint32_t seed) { return ferry::testing::RandomBytes(n, seed); }

std::string MultipartETagOf(std::span<const std::byte> data, uint64_t part) {
  LayoutHasher h({part}, false);
  h.Update(data);
  auto d = h.Finish();
  return FormatMultipartETag(d.layouts[0].digest, d.layouts[0].parts);
}

storage::ObjectInfo Obj(uint64_t size, std::string etag) {
  storage::ObjectInfo o;
  o.key = "k";
  o.size = size;
  o.etag = std::move(etag);
  return o;
}

// A pair of S3 objects as listed (no details).
struct Pair {
  storage::ObjectInfo s, d;
  PairFacts facts;
  Pair(storage::ObjectInfo src, storage::ObjectInfo dst) : s(std::move(src)), d(std::move(dst)) {
    facts.src.info = &s;
    facts.dst.info = &d;
    facts.src.metadata = facts.dst.metadata = true;
  }
  SideFacts& side(Side x) { return x == Side::kSrc ? facts.src : facts.dst; }
  // What the command does for `decision`: HEAD (details as given), the layout, a read.
  void Do(const Decision& decision, std::span<const std::byte> src_bytes,
          std::span<const std::byte> dst_bytes, std::optional<uint64_t> told = std::nullopt) {
    switch (decision.step) {
      case Step::kDetails:
        facts.src.details_known = facts.dst.details_known = true;
        break;
      case Step::kLayout:
        side(decision.side).layout_asked = true;
        side(decision.side).first_part_size = told;
        break;
      case Step::kRead: {
        LayoutHasher h(decision.part_sizes, decision.whole, decision.checksum);
        h.Update(decision.side == Side::kSrc ? src_bytes : dst_bytes);
        side(decision.side).read = h.Finish();
        break;
      }
      case Step::kDone:
        break;
    }
  }
  // Runs the steps to the end; `steps` collects them.
  Decision Run(const CompareOptions& o, std::span<const std::byte> src_bytes,
               std::span<const std::byte> dst_bytes, std::vector<Step>* steps = nullptr,
               std::optional<uint64_t> told = std::nullopt) {
    for (int i = 0; i < 10; ++i) {
      Decision d = Decide(facts, o);
      if (steps) steps->push_back(d.step);
      if (d.step == Step::kDone) return d;
      Do(d, src_bytes, dst_bytes, told);
    }
    ADD_FAILURE() << "no decision";
    return {};
  }
};

TEST(DecideTest, SizesDifferFromTheListing) {
  Pair p(Obj(10, "a"), Obj(11, "a"));
  auto d = Decide(p.facts, {});
  EXPECT_EQ(d.step, Step::kDone);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "size");
}

TEST(DecideTest, PlainMd5sDecideFromTheListing) {
  const auto a = Bytes(100, 1), b = Bytes(100, 2);
  Pair same(Obj(100, Md5Hex(a)), Obj(100, Md5Hex(a)));
  auto d = Decide(same.facts, {});
  EXPECT_EQ(d.step, Step::kDone);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "md5");
  // Different ones: the HEADs first (an ETag may be no MD5), then differ.
  Pair differ(Obj(100, Md5Hex(a)), Obj(100, Md5Hex(b)));
  std::vector<Step> steps;
  d = differ.Run({}, a, b, &steps);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "md5");
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kDone}));
}

TEST(DecideTest, DifferentListedETagsThatAreNoMd5sAreNoDifference) {
  // Two SSE-KMS copies of the same bytes: 32 hex digits each in the listing, different; the
  // HEAD says they are no MD5s (x-amz-server-side-encryption: aws:kms).
  const auto a = Bytes(100, 1);
  Pair p(Obj(100, "0123456789abcdef0123456789abcdef"), Obj(100, "fedcba9876543210fedcba9876543210"));
  EXPECT_EQ(Decide(p.facts, {}).step, Step::kDetails);
  p.s.etag_opaque = p.d.etag_opaque = true;
  p.facts.src.details_known = p.facts.dst.details_known = true;
  auto d = Decide(p.facts, {});
  EXPECT_EQ(d.step, Step::kDone);
  EXPECT_EQ(d.verdict, Verdict::kSizeOnly);
  // With --download both are read and compared.
  d = p.Run({.download = true, .metadata = false}, a, a);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "content");
}

TEST(DecideTest, EqualMultipartETagsDecideFromTheListing) {
  const auto a = Bytes(12 * kMiB, 1);
  const std::string e = MultipartETagOf(a, 5 * kMiB);
  Pair p(Obj(a.size(), e), Obj(a.size(), e));
  auto d = Decide(p.facts, {});
  EXPECT_EQ(d.step, Step::kDone);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "etag");
}

// ferry's CRC32C (x-amz-meta-ferry-crc32c) is a writer's claim: issue 43's scenario is a copy
// whose bytes differ in one byte, re-uploaded in other parts with the metadata kept. Equal
// claims never make a pair identical, unequal ones never make it differ; with --download both
// sides are read whenever no store-computed fact decides (docs/design/integrity.md).
TEST(DecideTest, FerryCrcClaimsNeverDecide) {
  const auto a = Bytes(13 * kMiB + 5, 21);
  auto b = a;
  b[7 * kMiB + 3] ^= std::byte{0x01};
  const std::string claim = checksum::Hex32(checksum::Crc32c(a));
  auto forged = [&](std::span<const std::byte> dst_bytes, uint64_t dst_part) {
    Pair p(Obj(a.size(), MultipartETagOf(a, 16 * kMiB)),
           Obj(dst_bytes.size(), MultipartETagOf(dst_bytes, dst_part)));
    p.s.metadata[storage::kMetaCrc32c] = claim;
    p.d.metadata[storage::kMetaCrc32c] = claim;  // kept by the tool that changed the bytes
    return p;
  };
  {  // default: the one read reproduces no layout of DST: size only, the claims only a label
    Pair p = forged(b, 6 * kMiB);
    std::vector<Step> steps;
    auto d = p.Run({}, a, b, &steps);
    EXPECT_EQ(d.verdict, Verdict::kSizeOnly);
    EXPECT_NE(d.reason.find("equal ferry-crc32c claims, unconfirmed"), std::string::npos)
        << d.reason;
    EXPECT_TRUE(d.reason.ends_with("(--download)")) << d.reason;
    EXPECT_TRUE(p.facts.src.read.has_value());
  }
  {  // --download: both sides read, the bytes differ
    Pair p = forged(b, 6 * kMiB);
    auto d = p.Run({.download = true, .metadata = false}, a, b);
    EXPECT_EQ(d.verdict, Verdict::kDiffer);
    EXPECT_EQ(d.reason, "content");
    EXPECT_TRUE(p.facts.src.read.has_value());
    EXPECT_TRUE(p.facts.dst.read.has_value());
  }
  {  // the same bytes under equal claims: decided by a store fact (the layout), not the claim
    Pair p = forged(a, 6 * kMiB);
    auto d = p.Run({}, a, a);
    EXPECT_EQ(d.verdict, Verdict::kIdentical);
    EXPECT_EQ(d.reason, "layout");
  }
  {  // a stale claim on DST over the same bytes: no difference from it
    Pair p = forged(a, 6 * kMiB);
    p.d.metadata[storage::kMetaCrc32c] = "0badc0de";
    auto d = p.Run({}, a, a);
    EXPECT_EQ(d.verdict, Verdict::kIdentical);
    EXPECT_EQ(d.reason, "layout");
  }
  {  // unequal claims over bytes nothing the store computed can compare: size only, labelled
    Pair p(Obj(a.size(), "0123456789abcdef0123456789abcdef"),
           Obj(a.size(), "fedcba9876543210fedcba9876543210"));
    p.s.etag_opaque = p.d.etag_opaque = true;  // SSE-KMS: no ETag is an MD5
    p.s.metadata[storage::kMetaCrc32c] = claim;
    p.d.metadata[storage::kMetaCrc32c] = "0badc0de";
    auto d = p.Run({}, a, a);
    EXPECT_EQ(d.verdict, Verdict::kSizeOnly);
    EXPECT_NE(d.reason.find("ferry-crc32c claims differ"), std::string::npos) << d.reason;
    // and equal claims over different bytes, with --download: read and compared
    p.d.metadata[storage::kMetaCrc32c] = claim;
    p.facts.src.read.reset();
    d = p.Run({.download = true, .metadata = false}, a, b);
    EXPECT_EQ(d.verdict, Verdict::kDiffer);
    EXPECT_EQ(d.reason, "content");
  }
}

checksum::Declared Full(checksum::Algorithm a, std::span<const std::byte> data) {
  return checksum::Declared{.algorithm = a, .value = checksum::Compute(a, data), .parts = 0};
}

// A composite value as S3 makes it: `algorithm` over the part digests of `data` cut at `part`.
checksum::Declared CompositeOf(checksum::Algorithm a, std::span<const std::byte> data,
                               uint64_t part) {
  std::vector<std::string> parts;
  for (uint64_t at = 0; at < data.size(); at += part) {
    parts.push_back(checksum::Compute(a, data.subspan(at, std::min<uint64_t>(part, data.size() - at))));
  }
  return checksum::Declared{.algorithm = a, .value = *checksum::Composite(a, parts),
                            .parts = static_cast<int>(parts.size())};
}

TEST(DecideTest, FullObjectChecksumsOfOneAlgorithmDecideAfterDetails) {
  using checksum::Algorithm;
  // Two multipart layouts of the same size (no ETag decides): the checksums do, without a read.
  const auto a = Bytes(21 * kMiB + 9, 11);
  auto b = a;
  b[9 * kMiB] ^= std::byte{0x20};
  for (Algorithm alg : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme,
                        Algorithm::kSha1, Algorithm::kSha256}) {
    Pair same(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(a.size(), MultipartETagOf(a, 5 * kMiB)));
    same.s.checksum = Full(alg, a);
    same.d.checksum = Full(alg, a);
    std::vector<Step> steps;
    auto d = same.Run({}, a, a, &steps);
    EXPECT_EQ(d.verdict, Verdict::kIdentical);
    std::string name(checksum::AlgorithmName(alg));
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    EXPECT_EQ(d.reason, "checksum-" + name);
    EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kDone}));

    // One byte differs, same size, different layouts: found by the checksums, no read.
    Pair differ(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(b.size(), MultipartETagOf(b, 5 * kMiB)));
    differ.s.checksum = Full(alg, a);
    differ.d.checksum = Full(alg, b);
    steps.clear();
    d = differ.Run({}, a, b, &steps);
    EXPECT_EQ(d.verdict, Verdict::kDiffer) << name;
    EXPECT_EQ(d.reason, "checksum-" + name);
    EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kDone}));
  }
}

TEST(DecideTest, ChecksumsOfDifferentAlgorithmsDecideNothing) {
  using checksum::Algorithm;
  const auto a = Bytes(13 * kMiB, 12);
  auto b = a;
  b[1] ^= std::byte{1};
  Pair p(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(b.size(), MultipartETagOf(b, 5 * kMiB)));
  p.s.checksum = Full(Algorithm::kCrc32, a);
  p.d.checksum = Full(Algorithm::kSha256, b);
  // The source is read with the destination's SHA-256: the difference is found by it.
  std::vector<Step> steps;
  auto d = p.Run({}, a, b, &steps);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "checksum-sha256");
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kRead, Step::kDone}));
}

TEST(DecideTest, CompositeValuesNeverCompareWithAWholeObjectValue) {
  using checksum::Algorithm;
  // 10 MiB in two 5 MiB parts: the composite CRC32 of the parts against the full CRC32 of the
  // same bytes. They differ as strings, but the content is the same: never "differ" from them.
  const auto a = Bytes(10 * kMiB, 13);
  Pair p(Obj(a.size(), MultipartETagOf(a, 5 * kMiB)), Obj(a.size(), MultipartETagOf(a, 8 * kMiB)));
  p.s.checksum = CompositeOf(Algorithm::kCrc32, a, 5 * kMiB);
  p.d.checksum = Full(Algorithm::kCrc32, a);
  ASSERT_NE(p.s.checksum->value, p.d.checksum->value);
  std::vector<Step> steps;
  auto d = p.Run({}, a, a, &steps);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  // The source is read (the destination's full value is what the read can be checked against).
  EXPECT_EQ(d.reason, "checksum-crc32");
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kRead, Step::kDone}));
  EXPECT_TRUE(p.facts.src.read.has_value());
}

TEST(DecideTest, CompositeValuesOfDifferentLayoutsDecideNothing) {
  using checksum::Algorithm;
  // The same bytes cut at 5 and at 6 MiB: two parts each, different composite values, same
  // content. Not "differ"; the layouts are then reproduced from a read as without checksums.
  const auto a = Bytes(11 * kMiB, 14);
  for (Algorithm alg : {Algorithm::kCrc32, Algorithm::kSha256}) {
    Pair p(Obj(a.size(), MultipartETagOf(a, 6 * kMiB)), Obj(a.size(), MultipartETagOf(a, 8 * kMiB)));
    p.s.checksum = CompositeOf(alg, a, 6 * kMiB);
    p.d.checksum = CompositeOf(alg, a, 8 * kMiB);
    ASSERT_EQ(p.s.checksum->parts, p.d.checksum->parts);
    ASSERT_NE(p.s.checksum->value, p.d.checksum->value);
    auto d = p.Run({}, a, a);
    EXPECT_EQ(d.verdict, Verdict::kIdentical);
    EXPECT_EQ(d.reason, "layout");
  }
}

TEST(DecideTest, EqualCompositeShaValuesAreIdenticalButNotEqualCompositeCrcs) {
  using checksum::Algorithm;
  const auto a = Bytes(11 * kMiB, 15);
  Pair sha(Obj(a.size(), MultipartETagOf(a, 6 * kMiB)), Obj(a.size(), MultipartETagOf(a, 8 * kMiB)));
  sha.s.checksum = sha.d.checksum = CompositeOf(Algorithm::kSha256, a, 6 * kMiB);
  std::vector<Step> steps;
  auto d = sha.Run({}, a, a, &steps);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "checksum-sha256-composite");
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kDone}));
  // A CRC's composite: equal values are not taken as proof; the ETags decide as without.
  auto b = a;
  b[3] ^= std::byte{4};
  Pair crc(Obj(a.size(), MultipartETagOf(a, 6 * kMiB)), Obj(b.size(), MultipartETagOf(b, 8 * kMiB)));
  crc.s.checksum = crc.d.checksum = CompositeOf(Algorithm::kCrc32, a, 6 * kMiB);
  d = crc.Run({}, a, b, nullptr, 8 * kMiB);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "layout");
}

TEST(DecideTest, AFullChecksumChecksTheOtherSidesReadWithoutItsLayout) {
  using checksum::Algorithm;
  // SRC multipart with a full CRC32 (aws --checksum-algorithm CRC32 FULL_OBJECT), DST an
  // SSE-KMS-like object with no digest: reading DST decides against SRC's checksum, where
  // it would otherwise be size-only.
  const auto a = Bytes(9 * kMiB, 16);
  auto b = a;
  b[8 * kMiB + 1] ^= std::byte{8};
  for (bool same : {true, false}) {
    Pair p(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(a.size(), "opaque"));
    p.d.etag_opaque = true;
    p.s.checksum = Full(Algorithm::kCrc32, a);
    std::vector<Step> steps;
    auto d = p.Run({}, a, same ? a : b, &steps);
    EXPECT_EQ(d.verdict, same ? Verdict::kIdentical : Verdict::kDiffer);
    EXPECT_EQ(d.reason, "checksum-crc32");
    EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kRead, Step::kDone}));
    EXPECT_TRUE(p.facts.dst.read.has_value());
    EXPECT_FALSE(p.facts.src.layout_asked);
  }
  // Both multipart, only SRC declares one: DST is read, no layout asked.
  Pair q(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(b.size(), MultipartETagOf(b, 5 * kMiB)));
  q.s.checksum = Full(Algorithm::kSha1, a);
  auto d = q.Run({}, a, b);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "checksum-sha1");
  EXPECT_TRUE(q.facts.dst.read.has_value());
  EXPECT_FALSE(q.facts.src.read.has_value());
}

TEST(DecideTest, MultipartAgainstPlainMd5ReadsTheMultipartSideOnce) {
  const auto a = Bytes(13 * kMiB, 1);
  Pair p(Obj(a.size(), Md5Hex(a)), Obj(a.size(), MultipartETagOf(a, 8 * kMiB)));
  std::vector<Step> steps;
  auto d = p.Run({}, a, a, &steps);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "md5");
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kRead, Step::kDone}));
  EXPECT_TRUE(p.facts.dst.read.has_value());
  EXPECT_FALSE(p.facts.src.read.has_value());
  // One byte changed on the multipart side, same size: differ.
  auto b = a;
  b[7 * kMiB] ^= std::byte{1};
  Pair q(Obj(a.size(), Md5Hex(a)), Obj(b.size(), MultipartETagOf(b, 8 * kMiB)));
  EXPECT_EQ(q.Run({}, a, b).verdict, Verdict::kDiffer);
}

TEST(DecideTest, TwoMultipartLayoutsAreReproducedFromOneRead) {
  // aws (8 MiB) against rclone (5 MiB): the source is read, the destination's ETag reproduced.
  const auto a = Bytes(21 * kMiB + 9, 4);
  Pair p(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(a.size(), MultipartETagOf(a, 5 * kMiB)));
  std::vector<Step> steps;
  auto d = p.Run({}, a, a, &steps);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "layout");
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kLayout, Step::kRead, Step::kDone}));
  EXPECT_FALSE(p.facts.dst.read.has_value());
}

TEST(DecideTest, UnreproducibleLayoutIsSizeOnlyOrReadsBothWithDownload) {
  // A 6 MiB + 1 byte layout no candidate tries first... but every whole MiB is tried: use an
  // odd part size instead.
  const auto a = Bytes(21 * kMiB, 5);
  const uint64_t odd = 7 * kMiB + 4097;
  Pair p(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(a.size(), MultipartETagOf(a, odd)));
  auto d = p.Run({}, a, a);
  EXPECT_EQ(d.verdict, Verdict::kSizeOnly);
  EXPECT_NE(d.reason.find("DST"), std::string::npos) << d.reason;

  Pair q(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(a.size(), MultipartETagOf(a, odd)));
  d = q.Run({.download = true, .metadata = false}, a, a);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "content");
  auto b = a;
  b[0] ^= std::byte{1};
  Pair r(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(b.size(), MultipartETagOf(b, odd)));
  EXPECT_EQ(r.Run({.download = true, .metadata = false}, a, b).verdict, Verdict::kDiffer);
}

TEST(DecideTest, ALayoutToldByTheStoreDecides) {
  const auto a = Bytes(21 * kMiB, 5);
  const uint64_t odd = 7 * kMiB + 4097;
  auto b = a;
  b[20 * kMiB] ^= std::byte{1};
  // The destination's bytes differ; the store tells its layout: a mismatch there is a
  // difference, not a doubt.
  Pair p(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(b.size(), MultipartETagOf(b, odd)));
  auto d = p.Run({}, a, b, nullptr, odd);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "layout");
  Pair q(Obj(a.size(), MultipartETagOf(a, 8 * kMiB)), Obj(a.size(), MultipartETagOf(a, odd)));
  EXPECT_EQ(q.Run({}, a, a, nullptr, odd).verdict, Verdict::kIdentical);
}

TEST(DecideTest, LocalFileAgainstPlainMd5IsReadWithoutHeads) {
  const auto a = Bytes(1000, 1);
  Pair p(Obj(a.size(), ""), Obj(a.size(), Md5Hex(a)));
  p.facts.src.local = true;
  std::vector<Step> steps;
  auto d = p.Run({}, a, a, &steps);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(steps, (std::vector<Step>{Step::kRead, Step::kDone}));
  auto b = a;
  b[999] ^= std::byte{1};
  Pair q(Obj(b.size(), ""), Obj(a.size(), Md5Hex(a)));
  q.facts.src.local = true;
  EXPECT_EQ(q.Run({}, b, a).verdict, Verdict::kDiffer);
}

TEST(DecideTest, LocalFileAgainstMultipartReproducesTheLayout) {
  const auto a = Bytes(11 * kMiB + 3, 2);
  Pair p(Obj(a.size(), ""), Obj(a.size(), MultipartETagOf(a, 5 * kMiB)));
  p.facts.src.local = true;
  auto d = p.Run({}, a, a);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "layout");
}

TEST(DecideTest, NothingToCompareIsSizeOnlyUnlessBothAreRead) {
  // Two opaque (SSE) ETags: no read can be compared with anything but the other read.
  auto s = Obj(10, "00000000000000000000000000000000");
  auto t = Obj(10, "11111111111111111111111111111111");
  s.etag_opaque = t.etag_opaque = true;
  const auto a = Bytes(10, 1);
  Pair p(s, t);
  std::vector<Step> steps;
  auto d = p.Run({}, a, a, &steps);
  EXPECT_EQ(d.verdict, Verdict::kSizeOnly);
  EXPECT_EQ(steps, (std::vector<Step>{Step::kDetails, Step::kDone}));  // nothing read
  Pair q(s, t);
  d = q.Run({.download = true, .metadata = false}, a, a);
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "content");
  // Two local files are always read (cheap).
  Pair l(Obj(10, ""), Obj(10, ""));
  l.facts.src.local = l.facts.dst.local = true;
  auto b = a;
  b[3] ^= std::byte{4};
  EXPECT_EQ(l.Run({}, a, b).verdict, Verdict::kDiffer);
}

TEST(DecideTest, MetadataOnlyWithTheFlagAndOnlyForEqualContent) {
  const auto a = Bytes(100, 1);
  Pair p(Obj(100, Md5Hex(a)), Obj(100, Md5Hex(a)));
  p.s.metadata["color"] = "red";
  p.d.metadata["color"] = "blue";
  p.s.metadata[storage::kMetaMtime] = "1";  // ferry's own keys never count
  EXPECT_EQ(Decide(p.facts, {}).verdict, Verdict::kIdentical);
  const CompareOptions meta{.download = false, .metadata = true};
  EXPECT_EQ(Decide(p.facts, meta).step, Step::kDetails);
  p.facts.src.details_known = p.facts.dst.details_known = true;
  auto d = Decide(p.facts, meta);
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "metadata: x-amz-meta-color differs");
  p.d.metadata["color"] = "red";
  EXPECT_EQ(Decide(p.facts, meta).verdict, Verdict::kIdentical);
  // A side that keeps no metadata (a local folder) is not compared by it.
  p.d.metadata["color"] = "blue";
  p.facts.dst.metadata = false;
  EXPECT_EQ(Decide(p.facts, meta).verdict, Verdict::kIdentical);
}

TEST(MetadataDifferenceTest, ContentTypeAndKeysOnOneSide) {
  storage::ObjectInfo a, b;
  a.content.content_type = b.content.content_type = "text/plain";
  a.metadata = {{"ferry-crc32c", "1"}, {"x", "1"}};
  b.metadata = {{"x", "1"}, {"ferry-mtime", "2"}};
  EXPECT_EQ(MetadataDifference(a, b), std::nullopt);
  b.metadata["y"] = "2";
  EXPECT_EQ(MetadataDifference(a, b), "metadata: x-amz-meta-y only in DST");
  a.metadata["a"] = "0";
  EXPECT_EQ(MetadataDifference(a, b), "metadata: x-amz-meta-a only in SRC");
  b.content.content_type = "image/png";
  EXPECT_EQ(MetadataDifference(a, b), "metadata: Content-Type text/plain vs image/png");
}

}  // namespace
}  // namespace ferry::verify
