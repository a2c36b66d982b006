// The per-pair decision of `ferry verify`: given what is known of a key on both sides (their
// listings, HEADs, layouts, the digests of bytes read), what is the verdict, or what must be
// learnt next. Pure: the command (cli/commands/verify.cc) does the I/O the decision asks for
// and calls again, until the decision is final. docs/design/verify.md has the table.
//
// Order of the checks for a key on both sides:
//  1. sizes differ                       -> differ ("size")
//  2. both ETags plain MD5s              -> equal: identical ("md5"); different: differ ("md5")
//                                           once HEADs show both are MD5s (not SSE-KMS/SSE-C)
//     both the same multipart ETag       -> identical ("etag")
//  3. (details: HEAD of the S3 sides)
//     the same x-amz-checksum-* algorithm declared for the full object on both -> compare
//                                           ("checksum-crc32", ...); two equal composite SHA
//                                           values over the same part count -> identical
//                                           ("checksum-sha256-composite"); nothing else of a
//                                           composite value decides (the layouts may differ)
//  4. read ONE side (a local file first, else the side whose ETag proves least):
//     the other side's plain MD5         -> compare with the MD5 of the bytes ("md5")
//     the other side's full-object x-amz-checksum-* -> compare with that digest of the bytes
//                                           ("checksum-crc32", ...; no layout needed)
//     the other side's multipart ETag    -> reproduce it from the bytes under the layout the
//                                           store told (HEAD partNumber=1) or the candidate
//                                           layouts ("layout"); no candidate reproduces it:
//                                           differ when the layout was told, else 5.
//  5. with --download (or when the second side is a local file): read the other side too and
//     compare the two MD5s ("content"); otherwise the pair is size-only ("size only": sizes
//     agree, content not checked).
// ferry's CRC32C (x-amz-meta-ferry-crc32c) decides nothing: it is a writer's claim, which a
// tool that changed the bytes may have kept (docs/design/integrity.md §8); equal or unequal
// claims only label a size-only reason.
// With --metadata, a pair found identical or size-only is then compared by user metadata
// (x-amz-meta-*, ferry's own ferry-* keys left out) and Content-Type, when both sides store
// metadata; a difference makes it differ ("metadata: <what>").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checksum/additional.h"
#include "checksum/checksum.h"
#include "storage/object_info.h"
#include "verify/multipart_etag.h"

namespace ferry::verify {

enum class Side { kSrc, kDst };

// What is known of one side of a pair.
struct SideFacts {
  const storage::ObjectInfo* info = nullptr;  // the listing's entry, or its HEAD (has_details)
  bool local = false;      // a file: reading it is cheap; it has no ETag
  bool metadata = false;   // the store keeps user metadata and Content-Type
  bool details_known = false;  // info->has_details, or a HEAD was made
  bool layout_asked = false;   // FirstPartSize was asked (for a multipart ETag)
  std::optional<uint64_t> first_part_size;  // what it answered
  // Digests of this side's bytes, once read (the whole MD5 and the candidate layouts).
  std::optional<LayoutHasher::Digests> read;
};

struct PairFacts {
  SideFacts src;
  SideFacts dst;
};

struct CompareOptions {
  bool download = false;  // read both sides when one read cannot tell
  bool metadata = false;  // compare user metadata and Content-Type
};

enum class Verdict { kIdentical, kDiffer, kSizeOnly };

// What to do next for a pair.
struct Decision {
  enum class Step {
    kDone,     // `verdict` and `reason` are final
    kDetails,  // HEAD (Stat) the sides whose details are not known yet, then decide again
    kLayout,   // ask `side`'s store for its part layout (FirstPartSize), then decide again
    kRead,     // read `side` whole through a LayoutHasher(part_sizes, whole)
  };
  Step step = Step::kDone;
  Verdict verdict = Verdict::kIdentical;
  std::string reason;
  Side side = Side::kSrc;
  std::vector<uint64_t> part_sizes;  // kRead: the candidate layouts to hash
  bool whole = false;                // kRead: also the MD5 of the whole object
  // kRead: also this additional checksum of the whole object (the other side declares it).
  std::optional<checksum::Algorithm> checksum{};
};

// The next step for a key on both sides. REQUIRES: facts.src.info and facts.dst.info.
Decision Decide(const PairFacts& facts, const CompareOptions& options);

// The first difference in user metadata (ferry-* keys left out) or Content-Type between two
// objects with details, as "metadata: <what>"; nullopt when they agree.
std::optional<std::string> MetadataDifference(const storage::ObjectInfo& src,
                                              const storage::ObjectInfo& dst);

}  // namespace ferry::verify
