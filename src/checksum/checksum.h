// Checksums and encodings used on the data path: CRC32C (ferry's full-object checksum,
// hardware-accelerated through ISA-L, combinable across parts), MD5 (Content-MD5, ETags),
// SHA-256 and HMAC-SHA256 (SigV4), hex and base64.
//
// Thread-safety: free functions are pure; hasher objects are used by one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ferry::checksum {

inline std::span<const std::byte> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// CRC32C (Castagnoli), standard form: Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc = 0);
// CRC32C of A||B from crc(A), crc(B) and len(B).
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

using Md5Digest = std::array<uint8_t, 16>;
using Sha256Digest = std::array<uint8_t, 32>;

Md5Digest Md5(std::span<const std::byte> data);
Sha256Digest Sha256(std::span<const std::byte> data);
Sha256Digest HmacSha256(std::span<const std::byte> key, std::span<const std::byte> data);

// Incremental MD5 (for local files read in chunks).
class Md5Hasher {
 public:
  Md5Hasher();
  ~Md5Hasher();
  Md5Hasher(const Md5Hasher&) = delete;
  Md5Hasher& operator=(const Md5Hasher&) = delete;
  void Update(std::span<const std::byte> data);
  Md5Digest Finish();

 private:
  void* ctx_;
};

std::string Hex(std::span<const uint8_t> bytes);  // lower-case
std::string Hex32(uint32_t v);                    // 8 lower-case hex digits
std::optional<uint32_t> ParseHex32(std::string_view s);
std::string Base64(std::span<const uint8_t> bytes);
std::optional<std::string> Base64Decode(std::string_view s);

inline std::string Sha256Hex(std::string_view s) { return Hex(Sha256(AsBytes(s))); }

}  // namespace ferry::checksum
