// S3's additional checksums (x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}): the
// algorithms, their digests in the form S3 sends them (base64 of the big-endian digest bytes),
// the combination of CRCs across parts, and what an object declares (full object, or composite
// over its parts: "<base64>-N"). docs/design/integrity.md §1.
//
// CRC32 (IEEE, as zlib/gzip), CRC32C and SHA-1/SHA-256 come from ISA-L and OpenSSL; CRC64NVME
// (reflected polynomial 0x9A6C9329AC4BC9B5, the NVMe one) from Boost.CRC.
//
// Thread-safety: free functions are pure; a Hasher is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ferry::checksum {

enum class Algorithm { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (S3's names, any case); nullopt otherwise.
std::optional<Algorithm> ParseAlgorithm(std::string_view name);
// S3's name ("CRC64NVME").
std::string_view AlgorithmName(Algorithm algorithm);
// "x-amz-checksum-crc64nvme".
std::string HeaderName(Algorithm algorithm);
// "ChecksumCRC64NVME": the element of CompleteMultipartUpload / ListParts / CopyObjectResult.
std::string ElementName(Algorithm algorithm);
// The CRCs: their value over parts can be combined from the parts' values and lengths (a
// full-object checksum of an object written in parts).
bool IsCrc(Algorithm algorithm);

// What an object declares in x-amz-checksum-<algorithm> (with x-amz-checksum-type).
struct Declared {
  Algorithm algorithm = Algorithm::kCrc32c;
  std::string value{};  // base64 of the digest (composite: of the digest of the part digests)
  int parts = 0;      // composite ("<value>-N", x-amz-checksum-type COMPOSITE): N; 0 = full object
  bool full_object() const { return parts == 0; }
  bool operator==(const Declared&) const = default;
};

// Parses a header value ("<base64>" or "<base64>-N") of `algorithm`; nullopt when malformed
// (not base64 of the algorithm's digest size, a bad part count).
std::optional<Declared> ParseDeclared(Algorithm algorithm, std::string_view value);

// Incremental digest of one algorithm.
class Hasher {
 public:
  explicit Hasher(Algorithm algorithm);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Algorithm algorithm() const { return algorithm_; }
  void Update(std::span<const std::byte> data);
  // The digest's bytes (big-endian for the CRCs: as S3 encodes them). Once.
  std::string Finish();

 private:
  Algorithm algorithm_;
  uint64_t crc_ = 0;
  struct Sha;
  std::unique_ptr<Sha> sha_;
};

// Base64 of the digest of `data`: the value of x-amz-checksum-<algorithm>.
std::string Compute(Algorithm algorithm, std::span<const std::byte> data);

// The CRCs as numbers (standard form: Crc(algorithm, "123456789") is the check value).
uint64_t Crc(Algorithm algorithm, std::span<const std::byte> data);
// The CRC of A||B from crc(A), crc(B) and len(B). Only for IsCrc algorithms.
uint64_t CrcCombine(Algorithm algorithm, uint64_t crc_a, uint64_t crc_b, uint64_t len_b);
// Base64 of a CRC value's big-endian bytes (4 for CRC32/CRC32C, 8 for CRC64NVME).
std::string EncodeCrc(Algorithm algorithm, uint64_t crc);

// A composite checksum over parts: base64 of the digest (by `algorithm`) of the concatenated
// raw part digests (each given as base64), as S3 computes it for multipart uploads.
std::optional<std::string> Composite(Algorithm algorithm, std::span<const std::string> part_values);

}  // namespace ferry::checksum
