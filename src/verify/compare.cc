#include "verify/compare.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace ferry::verify {
namespace {

using Kind = ParsedETag::Kind;
using Step = Decision::Step;

Decision Done(Verdict v, std::string reason) {
  Decision d;
  d.step = Step::kDone;
  d.verdict = v;
  d.reason = std::move(reason);
  return d;
}

Decision Next(Step step, Side side = Side::kSrc, std::vector<uint64_t> part_sizes = {},
              bool whole = true) {
  Decision d;
  d.step = step;
  d.side = side;
  d.part_sizes = std::move(part_sizes);
  d.whole = whole;
  return d;
}

bool Known(const SideFacts& f) { return f.details_known || f.info->has_details; }

ParsedETag ETagOf(const SideFacts& f) {
  // A local file's "ETag" (if a backend ever gave one) is no digest the store computed.
  return ParseETag(f.info->etag, f.info->etag_opaque || f.local);
}

const char* Name(Side s) { return s == Side::kSrc ? "SRC" : "DST"; }

// The full-object additional checksum a side declares (after its HEAD), or nullptr. A
// composite value, or one that could be either (storage::ObjectInfo::checksum keeps none
// such: s3/checksums.cc), is never taken for the whole object's.
const checksum::Declared* FullObjectChecksum(const SideFacts& f) {
  if (!Known(f) || !f.info->checksum || !f.info->checksum->full_object()) return nullptr;
  return &*f.info->checksum;
}

std::string ChecksumReason(checksum::Algorithm a) {
  std::string name(checksum::AlgorithmName(a));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "checksum-" + name;
}

// What the additional checksums both sides declare decide, if anything (row 3).
std::optional<Decision> CompareDeclared(const SideFacts& src, const SideFacts& dst) {
  const auto& s = src.info->checksum;
  const auto& d = dst.info->checksum;
  if (!Known(src) || !Known(dst) || !s || !d || s->algorithm != d->algorithm) {
    return std::nullopt;
  }
  if (s->full_object() && d->full_object()) {
    return Done(s->value == d->value ? Verdict::kIdentical : Verdict::kDiffer,
                ChecksumReason(s->algorithm));
  }
  // Two composite values are each over their own side's parts, which may be cut elsewhere:
  // unequal values prove nothing. Equal SHA values over the same part count do: the outer
  // digest equal means the part digests are equal one by one, so the parts are, whatever
  // their sizes, and so is their concatenation. A CRC's outer value proves no such thing.
  if (!s->full_object() && !d->full_object() && s->parts == d->parts && s->value == d->value &&
      !checksum::IsCrc(s->algorithm)) {
    return Done(Verdict::kIdentical, ChecksumReason(s->algorithm) + "-composite");
  }
  return std::nullopt;
}

// The side to read when one read must decide: the one whose ETag proves least (none, then a
// multipart ETag against a plain MD5), a local file first among equals, else the source.
Side ReadSide(const PairFacts& f, const ParsedETag& s, const ParsedETag& d) {
  if (s.kind == Kind::kNone && d.kind == Kind::kNone) {
    return (!f.src.local && f.dst.local) ? Side::kDst : Side::kSrc;
  }
  if (s.kind == Kind::kNone) return Side::kSrc;
  if (d.kind == Kind::kNone) return Side::kDst;
  if (d.kind == Kind::kMultipart && s.kind == Kind::kMd5) return Side::kDst;
  // Between equals, the side whose counterpart declares a full-object checksum: the digest of
  // the bytes read then decides against it.
  if (s.kind == d.kind && FullObjectChecksum(f.src) && !FullObjectChecksum(f.dst)) {
    return Side::kDst;
  }
  return Side::kSrc;
}

// A size-only reason, with what ferry's CRC32C claims on both sides say appended: a label for
// the reader (equal claims are no proof: --download reads the bytes), never a verdict.
std::string SizeOnlyReason(const PairFacts& f, std::string doubt) {
  if (!Known(f.src) || !Known(f.dst)) return doubt;
  const auto sc = f.src.info->crc32c();
  const auto dc = f.dst.info->crc32c();
  if (!sc || !dc) return doubt;
  const std::string note = *sc == *dc ? "; equal ferry-crc32c claims, unconfirmed"
                                      : "; ferry-crc32c claims differ";
  const std::string hint = " (--download)";
  if (doubt.ends_with(hint)) return doubt.insert(doubt.size() - hint.size(), note);
  return doubt + note;
}

// What the listing (and HEADs) decide before any read: sizes, two ETags of one kind, the
// checksums both sides declare (rows 1-3); nullopt when a read (or a HEAD) must decide.
std::optional<Decision> DecideWithoutReads(const PairFacts& f, const ParsedETag& s,
                                           const ParsedETag& d) {
  if (s.kind == Kind::kMd5 && d.kind == Kind::kMd5) {
    if (s.digest == d.digest) return Done(Verdict::kIdentical, "md5");
    // Two different ETags that look like MD5s: an SSE-KMS or SSE-C object's ETag is no MD5,
    // and only a HEAD says so (a listing does not). "differ" once both are known digests;
    // otherwise the pair goes on without them (a read, a checksum, or size only).
    if (!Known(f.src) || !Known(f.dst)) return Next(Step::kDetails);
    return Done(Verdict::kDiffer, "md5");
  }
  if (s.kind == Kind::kMultipart && d.kind == Kind::kMultipart && s.parts == d.parts &&
      s.digest == d.digest) {
    return Done(Verdict::kIdentical, "etag");
  }
  // ferry's CRC32C (x-amz-meta-ferry-crc32c) is not compared here: it is a writer's claim,
  // which any tool can set or keep stale (a copy that changed the bytes but kept the metadata),
  // so it decides neither identical nor differ (docs/design/integrity.md); it only labels a
  // size-only verdict (SizeOnlyReason). The store's own checksums do decide.
  if (Known(f.src) && Known(f.dst)) {
    if (auto declared = CompareDeclared(f.src, f.dst)) return *declared;
  }
  return std::nullopt;
}

// The pair's reads: side `r` read first (ReadSide), checked against what `t` declares.
struct ReadPlan {
  Side r;
  Side t;
  const SideFacts& rf;
  const SideFacts& tf;
  const ParsedETag& te;  // t's ETag
  bool second_read_allowed;
};

ReadPlan ReadPlanOf(const PairFacts& f, const CompareOptions& o, const ParsedETag& s,
                    const ParsedETag& d) {
  const Side r = ReadSide(f, s, d);
  const SideFacts& tf = r == Side::kSrc ? f.dst : f.src;
  return ReadPlan{.r = r,
                  .t = r == Side::kSrc ? Side::kDst : Side::kSrc,
                  .rf = r == Side::kSrc ? f.src : f.dst,
                  .tf = tf,
                  .te = r == Side::kSrc ? d : s,
                  .second_read_allowed = o.download || tf.local};
}

// Before the first read: the details, t's layout, or the read of r (with the part sizes
// whose digests could match t's multipart ETag); size only when no read could decide.
Decision StepBeforeReads(const PairFacts& f, const ReadPlan& p) {
  const SideFacts& rf = p.rf;
  const SideFacts& tf = p.tf;
  const ParsedETag& te = p.te;
  // Details first (a HEAD costs less than a read; a declared checksum may decide), except for a
  // local file against a plain MD5, which one cheap read decides.
  const bool cheap_decisive = rf.local && te.kind == Kind::kMd5;
  if (!cheap_decisive && (!Known(f.src) || !Known(f.dst))) return Next(Step::kDetails);
  // A full-object checksum of the other side decides from one read, with no layout (an MD5
  // decides as well, and costs one pass less than both).
  const checksum::Declared* td =
      te.kind == Kind::kMd5 ? nullptr : FullObjectChecksum(tf);
  if (td != nullptr) {
    Decision d = Next(Step::kRead, p.r, {}, /*whole=*/false);
    d.checksum = td->algorithm;
    return d;
  }
  if (te.kind == Kind::kNone && !p.second_read_allowed) {
    // Nothing one read could be compared with: the other side must be read too.
    return Done(Verdict::kSizeOnly,
                SizeOnlyReason(f, "size only: no checksum common to both (--download)"));
  }
  if (te.kind == Kind::kMultipart && !tf.local && !tf.layout_asked) {
    return Next(Step::kLayout, p.t);
  }
  std::vector<uint64_t> sizes;
  if (te.kind == Kind::kMultipart) {
    if (tf.first_part_size) sizes.push_back(*tf.first_part_size);
    for (uint64_t part : CandidatePartSizes(tf.info->size, te.parts)) {
      if (std::find(sizes.begin(), sizes.end(), part) == sizes.end()) sizes.push_back(part);
    }
  }
  // The whole MD5 is needed unless only a layout can decide and no second read may follow
  // (one MD5 pass fewer over the bytes).
  const bool whole = te.kind != Kind::kMultipart || p.second_read_allowed;
  return Next(Step::kRead, p.r, std::move(sizes), whole);
}

// After r was read: its digests against t's ETag, declared checksum or layout; then t read
// too when allowed, else size only (with why).
Decision DecideFromReads(const PairFacts& f, const ReadPlan& p) {
  const SideFacts& rf = p.rf;
  const SideFacts& tf = p.tf;
  const ParsedETag& te = p.te;
  const LayoutHasher::Digests& rd = *rf.read;
  if (rd.bytes != rf.info->size) return Done(Verdict::kDiffer, "size (as read)");
  if (te.kind == Kind::kMd5 && rd.whole) {
    return Done(*rd.whole == te.digest ? Verdict::kIdentical : Verdict::kDiffer, "md5");
  }
  if (const checksum::Declared* td = FullObjectChecksum(tf);
      td != nullptr && rd.checksum && rd.checksum->algorithm == td->algorithm) {
    return Done(rd.checksum->value == td->value ? Verdict::kIdentical : Verdict::kDiffer,
                ChecksumReason(td->algorithm));
  }
  std::string doubt = "size only: no checksum common to both (--download)";
  if (te.kind == Kind::kMultipart) {
    if (tf.first_part_size) {
      // The store told the layout: the digest under it decides.
      for (const auto& l : rd.layouts) {
        if (l.part_size == *tf.first_part_size) {
          return Done(l.parts == te.parts && l.digest == te.digest ? Verdict::kIdentical
                                                                   : Verdict::kDiffer,
                      "layout");
        }
      }
    }
    if (MatchingLayout(rd, te.digest, te.parts)) return Done(Verdict::kIdentical, "layout");
    doubt = std::string("size only: no part size reproduces the multipart ETag of ") +
            Name(p.t) + " (--download)";
  }
  if (!tf.read) {
    if (p.second_read_allowed) return Next(Step::kRead, p.t);
    return Done(Verdict::kSizeOnly, SizeOnlyReason(f, doubt));
  }
  const LayoutHasher::Digests& td = *tf.read;
  if (td.bytes != tf.info->size) return Done(Verdict::kDiffer, "size (as read)");
  if (!rd.whole || !td.whole) return Done(Verdict::kSizeOnly, SizeOnlyReason(f, doubt));
  return Done(*rd.whole == *td.whole ? Verdict::kIdentical : Verdict::kDiffer, "content");
}

// Content only (metadata aside).
Decision DecideContent(const PairFacts& f, const CompareOptions& o) {
  if (f.src.info->size != f.dst.info->size) return Done(Verdict::kDiffer, "size");
  const ParsedETag s = ETagOf(f.src);
  const ParsedETag d = ETagOf(f.dst);
  if (auto decided = DecideWithoutReads(f, s, d)) return *decided;
  const ReadPlan p = ReadPlanOf(f, o, s, d);
  return p.rf.read ? DecideFromReads(f, p) : StepBeforeReads(f, p);
}

}  // namespace

Decision Decide(const PairFacts& facts, const CompareOptions& options) {
  Decision content = DecideContent(facts, options);
  if (content.step != Step::kDone || content.verdict == Verdict::kDiffer || !options.metadata ||
      !facts.src.metadata || !facts.dst.metadata) {
    return content;
  }
  if (!Known(facts.src) || !Known(facts.dst)) return Next(Step::kDetails);
  if (auto m = MetadataDifference(*facts.src.info, *facts.dst.info)) {
    return Done(Verdict::kDiffer, *m);
  }
  return content;
}

std::optional<std::string> MetadataDifference(const storage::ObjectInfo& src,
                                              const storage::ObjectInfo& dst) {
  if (src.content.content_type != dst.content.content_type) {
    return "metadata: Content-Type " + src.content.content_type + " vs " +
           dst.content.content_type;
  }
  auto own = [](const std::string& name) { return name.starts_with("ferry-"); };
  auto s = src.metadata.begin();
  auto d = dst.metadata.begin();
  while (true) {
    while (s != src.metadata.end() && own(s->first)) ++s;
    while (d != dst.metadata.end() && own(d->first)) ++d;
    if (s == src.metadata.end() && d == dst.metadata.end()) return std::nullopt;
    if (d == dst.metadata.end() || (s != src.metadata.end() && s->first < d->first)) {
      return "metadata: x-amz-meta-" + s->first + " only in SRC";
    }
    if (s == src.metadata.end() || d->first < s->first) {
      return "metadata: x-amz-meta-" + d->first + " only in DST";
    }
    if (s->second != d->second) return "metadata: x-amz-meta-" + s->first + " differs";
    ++s, ++d;
  }
}

}  // namespace ferry::verify
