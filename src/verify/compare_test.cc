#include "verify/compare.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ferry::verify {
namespace {

using Step = Decision::Step;
constexpr uint64_t kMiB = 1ull << 20;

std::string Md5Hex(std::span<const std::byte> data) { return checksum::Hex(checksum::Md5(data)); }

std::vector<std::byte> Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xff);
  return out;
}

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
        LayoutHasher h(decision.part_sizes, decision.whole);
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
  Pair differ(Obj(100, Md5Hex(a)), Obj(100, Md5Hex(b)));
  d = Decide(differ.facts, {});
  EXPECT_EQ(d.verdict, Verdict::kDiffer);
  EXPECT_EQ(d.reason, "md5");
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

TEST(DecideTest, FerryCrcDecidesAfterDetails) {
  Pair p(Obj(5, "x-1"), Obj(5, "y"));
  p.s.metadata[storage::kMetaCrc32c] = "0000abcd";
  p.d.metadata[storage::kMetaCrc32c] = "0000abcd";
  EXPECT_EQ(Decide(p.facts, {}).step, Step::kDetails);
  p.facts.src.details_known = p.facts.dst.details_known = true;
  auto d = Decide(p.facts, {});
  EXPECT_EQ(d.verdict, Verdict::kIdentical);
  EXPECT_EQ(d.reason, "crc32c");
  p.d.metadata[storage::kMetaCrc32c] = "0000abce";
  EXPECT_EQ(Decide(p.facts, {}).verdict, Verdict::kDiffer);
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
