// Verify: what the bytes of a copied object can be checked against, and the checks. Pure
// functions used by the engine before an object becomes visible at the destination.
//
// A source declares at most these, strongest first:
//  - a full-object additional checksum (x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256},
//    S3 HEAD/GET with checksum mode): compared with the bytes read (whole reads; the CRCs also
//    combined over parts), beside any of the below;
//  - ferry's CRC32C (x-amz-meta-ferry-crc32c), a writer's claim: bytes read that match it are
//    verified; a claim that does not match is stale or the read is damaged, and only the
//    store's digests below can tell which (docs/design/integrity.md);
//  - a plain MD5 ETag: the MD5 of the bytes (sent as the PUT's Content-MD5 to a destination
//    that checks it, or compared by the engine before the write);
//  - a multipart ETag "<md5>-N": the MD5 of the N part MD5s. Reproducing the source's part
//    layout (the part size, from the store where it can tell, else guessed from the sizes
//    tools commonly use) makes the digest of the bytes read comparable with it.
// What none of these covers is counted as unverified in the run's summary, never silent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "checksum/additional.h"
#include "checksum/checksum.h"
#include "storage/object_info.h"

namespace ferry::transfer {

struct SourceCheck {
  std::optional<uint32_t> crc32c;               // ferry's full-object CRC32C
  std::optional<checksum::Md5Digest> md5;       // plain MD5 ETag
  std::optional<checksum::Md5Digest> multipart;  // digest part of a "<md5>-N" ETag
  int parts = 0;                                 // N of a multipart ETag
  // A full-object x-amz-checksum-* (composite ones are not here: their part layout is the
  // multipart ETag's, which checks the same parts).
  std::optional<checksum::Declared> declared;
  bool any() const { return crc32c || md5 || multipart || declared; }
};

// What `src` declares. Metadata counts only with details (has_details).
SourceCheck CheckOf(const storage::ObjectInfo& src);

// Part sizes a multipart ETag with `parts` parts of an object of `size` bytes may have been
// written with (ceil(size / part) == parts), most likely first: the defaults of common tools
// (8 MiB: AWS CLI and SDKs; 5 MiB; 16 MiB; 15 MiB: s3cmd; 64 MiB, ...), then every other whole
// MiB in range. At most `max` sizes. Empty when parts < 1.
std::vector<uint64_t> CandidatePartSizes(uint64_t size, int parts, size_t max = 8);

// The digest of a multipart ETag: MD5 over the concatenated binary part MD5s.
checksum::Md5Digest MultipartDigest(std::span<const checksum::Md5Digest> part_md5s);
// The same, over `data` cut into parts of `part_size` bytes.
checksum::Md5Digest MultipartDigestOf(std::span<const std::byte> data, uint64_t part_size);

// 32 hex digits to a digest; nullopt when malformed.
std::optional<checksum::Md5Digest> ParseMd5Hex(std::string_view hex);

// Whether `data` (whose CRC32C is `crc`) has the full-object checksum `declared`.
bool MatchesDeclared(const checksum::Declared& declared, std::span<const std::byte> data,
                     uint32_t crc);

// The outcome of checking a whole object's bytes.
enum class WholeCheck {
  kVerified,    // a declared checksum matched
  kMismatch,    // a declared checksum did not match: the bytes are not the source's
  kUnverified,  // nothing declared that these bytes could be checked against
};

// Checks `data` (whose CRC32C is `crc`) against `check`: a declared additional checksum first
// (it decides alone, whatever ferry's CRC32C says), then ferry's CRC32C when it matches, then
// the MD5 / multipart ETag (which decide over a CRC32C claim that does not match); kMismatch
// from the claim only when no digest of the store could check the bytes. The plain MD5 is skipped when
// `md5_checked_by_destination` (the destination will refuse a body that does not match the
// Content-MD5 it is sent): the result is then kVerified. A multipart ETag is tried with every
// candidate part size (plus `exact_part_size` when the store told it, which alone decides).
WholeCheck CheckWhole(const SourceCheck& check, std::span<const std::byte> data, uint32_t crc,
                      bool md5_checked_by_destination,
                      std::optional<uint64_t> exact_part_size = std::nullopt);

}  // namespace ferry::transfer
