// SHA256_CTX and its functions are deprecated in OpenSSL 3 (see Sha256Of below): said before
// any OpenSSL header is read.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "checksum/checksum.h"

#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "base/status.h"
#include "checksum/additional.h"

namespace ferry::checksum {

uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc) {
  // ISA-L's crc32_iscsi works on the raw register: pre/post inversion is ours.
  uint32_t reg = ~crc;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    const int n = static_cast<int>(std::min<size_t>(left, 1u << 30));
    reg = crc32_iscsi(const_cast<unsigned char*>(p), n, reg);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return ~reg;
}

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  return static_cast<uint32_t>(CrcCombine(Algorithm::kCrc32c, crc_a, crc_b, len_b));
}

namespace {

// SHA-256 goes through OpenSSL's plain SHA256_CTX, which OpenSSL 3 marks deprecated but still
// ships (and uses the same SHA-NI / AVX code as EVP). Every EVP path costs more per call than
// a small digest does: a one-shot `EVP_Digest(..., EVP_sha256())` or `HMAC()` looks the
// algorithm up by name under a lock all threads share and allocates its contexts (5.8 us per
// signed request with 64 threads on two cores, measured), and even a fetched algorithm with a
// kept context frees, wipes and allocates its state on every init (OpenSSL 3.0). A SigV4
// request hashes three times, so this is per-request CPU on the small-object path; the
// SHA256_CTX is a plain struct on the stack. HMAC (RFC 2104) is built on it below and checked
// against RFC 4231's vectors in checksum_test.
Sha256Digest Sha256Of(std::span<const std::byte> a, std::span<const std::byte> b = {}) {
  SHA256_CTX ctx;
  FERRY_CHECK(SHA256_Init(&ctx) == 1);
  FERRY_CHECK(SHA256_Update(&ctx, a.data(), a.size()) == 1);
  if (!b.empty()) FERRY_CHECK(SHA256_Update(&ctx, b.data(), b.size()) == 1);
  Sha256Digest out{};
  FERRY_CHECK(SHA256_Final(out.data(), &ctx) == 1);
  return out;
}

// MD5 (Content-MD5 of small bodies, ETags) stays on EVP with the algorithm fetched once (the
// name lookup under a shared lock is what cost most) and one context per thread.
const EVP_MD* Md5Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "MD5", nullptr);
    FERRY_CHECK(m != nullptr);
    return m;  // kept for the life of the process
  }();
  return md;
}

struct ThreadMdContext {
  EVP_MD_CTX* const ctx = EVP_MD_CTX_new();
  ThreadMdContext() { FERRY_CHECK(ctx != nullptr); }
  ~ThreadMdContext() { EVP_MD_CTX_free(ctx); }
  ThreadMdContext(const ThreadMdContext&) = delete;
  ThreadMdContext& operator=(const ThreadMdContext&) = delete;
};

}  // namespace

Md5Digest Md5(std::span<const std::byte> data) {
  thread_local ThreadMdContext context;
  Md5Digest out{};
  unsigned int len = 0;
  FERRY_CHECK(EVP_DigestInit_ex2(context.ctx, Md5Md(), nullptr) == 1);
  FERRY_CHECK(EVP_DigestUpdate(context.ctx, data.data(), data.size()) == 1);
  FERRY_CHECK(EVP_DigestFinal_ex(context.ctx, out.data(), &len) == 1 && len == out.size());
  return out;
}

Sha256Digest Sha256(std::span<const std::byte> data) { return Sha256Of(data); }

Sha256Digest HmacSha256(std::span<const std::byte> key, std::span<const std::byte> data) {
  constexpr size_t kBlock = SHA256_CBLOCK;  // 64
  std::array<std::byte, kBlock> inner_pad{};
  std::array<std::byte, kBlock> outer_pad{};
  if (key.size() > kBlock) {  // a long key is hashed first
    const Sha256Digest hashed = Sha256Of(key);
    std::memcpy(inner_pad.data(), hashed.data(), hashed.size());
  } else if (!key.empty()) {
    std::memcpy(inner_pad.data(), key.data(), key.size());
  }
  outer_pad = inner_pad;
  for (size_t i = 0; i < kBlock; ++i) {
    inner_pad[i] ^= std::byte{0x36};
    outer_pad[i] ^= std::byte{0x5c};
  }
  const Sha256Digest inner = Sha256Of(inner_pad, data);
  return Sha256Of(outer_pad, std::as_bytes(std::span(inner)));
}

Md5Hasher::Md5Hasher() : ctx_(EVP_MD_CTX_new()) {
  FERRY_CHECK(ctx_ != nullptr);
  FERRY_CHECK(EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), Md5Md(), nullptr) == 1);
}
Md5Hasher::~Md5Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Md5Hasher::Update(std::span<const std::byte> data) {
  FERRY_CHECK(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) == 1);
}
Md5Digest Md5Hasher::Finish() {
  Md5Digest out{};
  unsigned int len = 0;
  FERRY_CHECK(EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len) == 1);
  return out;
}

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string Hex32(uint32_t v) {
  uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                  static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  return Hex(b);
}

std::optional<uint32_t> ParseHex32(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
    else return std::nullopt;
  }
  return v;
}

std::string Base64(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view s) {
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out(s.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(s.data()),
                                static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  if (!s.empty() && s.back() == '=') --len;
  if (s.size() > 1 && s[s.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace ferry::checksum
