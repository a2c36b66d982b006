// Multipart ETags: what an S3 ETag says about the bytes, and the reproduction of a "<md5>-N"
// ETag from the bytes when the part layout it was written with is not known.
//
// A multipart ETag is the MD5 of the concatenated binary MD5s of the N parts, then "-N". The
// part size is not in it: every part but the last has the same size P, and N = ceil(size / P).
// A reader that has the bytes therefore reproduces it by trying the part sizes that give N
// parts (CandidatePartSizes), all in ONE pass over the bytes (LayoutHasher: one MD5 state per
// candidate, plus one for the whole object).
//
// Pure: no I/O. Thread-safety: a LayoutHasher is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checksum/additional.h"
#include "checksum/checksum.h"

namespace ferry::verify {

// What an ETag says about the bytes.
struct ParsedETag {
  enum class Kind { kNone, kMd5, kMultipart };
  Kind kind = Kind::kNone;      // kNone: empty, opaque (SSE-KMS/SSE-C) or malformed
  checksum::Md5Digest digest{};  // kMd5: the MD5 of the bytes; kMultipart: of the part MD5s
  int parts = 0;                 // kMultipart: N (>= 1)
};

// Parses an unquoted ETag ("<32 hex>" or "<32 hex>-N"). `opaque` (the store said the ETag is
// no digest: SSE-KMS, SSE-C) gives kNone.
ParsedETag ParseETag(std::string_view etag, bool opaque = false);

// "<hex>-N", as S3 writes it.
std::string FormatMultipartETag(const checksum::Md5Digest& digest, int parts);

// The part sizes an object of `size` bytes written in `parts` parts may have been written
// with (each gives exactly `parts` parts), most likely first, at most `max`:
//  1. the defaults of common tools: 8 MiB (AWS CLI and SDKs), 5 MiB (rclone, s3 minimum),
//     16 MiB (ferry), 50 MiB (s5cmd), 15 MiB (s3cmd), 10 MiB;
//  2. what tools grow to when an object would need more than 10,000 parts: the defaults
//     doubled (rclone, ferry: powers of two times the default), and ceil(size / 10000)
//     rounded up to a whole MiB (AWS CLI);
//  3. powers of two MiB;
//  4. every other whole MiB that gives `parts` parts.
// parts == 1: {size} (one part: its digest does not depend on the part size). Empty when
// parts < 1 or size == 0 with parts > 1, or no whole MiB fits.
std::vector<uint64_t> CandidatePartSizes(uint64_t size, int parts, size_t max = 8);

// Hashes a stream of bytes once for the whole-object MD5, for every given part size's
// multipart digest and, when asked, for one additional checksum of the whole (the full-object
// x-amz-checksum-* the other side of a pair declares).
class LayoutHasher {
 public:
  // `part_sizes`: each > 0 (others are dropped). `whole`: also the MD5 of all the bytes.
  // `checksum`: also that algorithm's digest of all the bytes.
  LayoutHasher(std::vector<uint64_t> part_sizes, bool whole,
               std::optional<checksum::Algorithm> checksum = std::nullopt);
  LayoutHasher(const LayoutHasher&) = delete;
  LayoutHasher& operator=(const LayoutHasher&) = delete;

  void Update(std::span<const std::byte> data);

  struct Layout {
    uint64_t part_size = 0;
    int parts = 0;  // parts the bytes made under part_size (at least 1)
    checksum::Md5Digest digest{};
  };
  struct Digests {
    std::optional<checksum::Md5Digest> whole;
    std::vector<Layout> layouts;  // in the order given
    uint64_t bytes = 0;
    // The additional checksum asked for, as S3 writes it (base64 of the digest).
    std::optional<checksum::Declared> checksum{};
  };
  // Ends the hashing. Call once.
  Digests Finish();

 private:
  struct State {
    uint64_t part_size;
    uint64_t in_part = 0;  // bytes of the current part hashed so far
    int parts = 0;         // parts finished
    std::unique_ptr<checksum::Md5Hasher> part = std::make_unique<checksum::Md5Hasher>();
    checksum::Md5Hasher outer;  // over the finished parts' digests
    explicit State(uint64_t p) : part_size(p) {}
  };
  void EndPart(State& s);

  std::vector<std::unique_ptr<State>> states_;
  std::optional<checksum::Md5Hasher> whole_;
  std::unique_ptr<checksum::Hasher> checksum_;
  uint64_t bytes_ = 0;
};

// The part size of `digests` that reproduces the multipart ETag (digest, parts), if any.
std::optional<uint64_t> MatchingLayout(const LayoutHasher::Digests& digests,
                                       const checksum::Md5Digest& digest, int parts);

}  // namespace ferry::verify
