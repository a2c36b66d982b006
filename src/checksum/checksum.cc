#include "checksum/checksum.h"

#include <isa-l/crc.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>

#include "base/status.h"

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

namespace {

// GF(2) 32x32 matrix times vector and matrix squaring: the classic way to advance a CRC
// register over `len` zero bytes in O(log len) steps.
uint32_t MatTimes(const uint32_t* mat, uint32_t vec) {
  uint32_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1) {
    if (vec & 1) sum ^= mat[i];
  }
  return sum;
}

void MatSquare(uint32_t* square, const uint32_t* mat) {
  for (int n = 0; n < 32; ++n) square[n] = MatTimes(mat, mat[n]);
}

}  // namespace

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  if (len_b == 0) return crc_a;
  uint32_t even[32];
  uint32_t odd[32];
  odd[0] = 0x82F63B78u;  // reflected Castagnoli polynomial: operator for one zero bit
  uint32_t row = 1;
  for (int n = 1; n < 32; ++n) {
    odd[n] = row;
    row <<= 1;
  }
  MatSquare(even, odd);  // two zero bits
  MatSquare(odd, even);  // four zero bits
  do {
    MatSquare(even, odd);  // first pass: one zero byte
    if (len_b & 1) crc_a = MatTimes(even, crc_a);
    len_b >>= 1;
    if (len_b == 0) break;
    MatSquare(odd, even);
    if (len_b & 1) crc_a = MatTimes(odd, crc_a);
    len_b >>= 1;
  } while (len_b != 0);
  return crc_a ^ crc_b;
}

namespace {

// OpenSSL 3 looks an algorithm up by name on every EVP_sha256() one-shot call, under a lock
// shared by all threads, and allocates a context for it. With 64 threads on two cores that
// cost about 5 us per signed request (three digests), five times the hashing of a small
// request itself. The algorithms are fetched once, and each thread keeps its contexts.
const EVP_MD* FetchedMd(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  FERRY_CHECK(md != nullptr);
  return md;  // kept for the life of the process
}

const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = FetchedMd("SHA256");
  return md;
}

const EVP_MD* Md5Md() {
  static const EVP_MD* const md = FetchedMd("MD5");
  return md;
}

// The calling thread's digest and HMAC-SHA256 contexts, freed when the thread ends.
class ThreadContexts {
 public:
  ThreadContexts() : digest_(EVP_MD_CTX_new()) { FERRY_CHECK(digest_ != nullptr); }
  ~ThreadContexts() {
    EVP_MD_CTX_free(digest_);
    if (hmac_ != nullptr) EVP_MAC_CTX_free(hmac_);
  }
  ThreadContexts(const ThreadContexts&) = delete;
  ThreadContexts& operator=(const ThreadContexts&) = delete;

  EVP_MD_CTX* digest() { return digest_; }

  EVP_MAC_CTX* hmac_sha256() {
    if (hmac_ == nullptr) {
      static EVP_MAC* const mac = [] {
        EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        FERRY_CHECK(m != nullptr);
        return m;
      }();
      hmac_ = EVP_MAC_CTX_new(mac);
      FERRY_CHECK(hmac_ != nullptr);
      char digest_name[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
          OSSL_PARAM_construct_end()};
      FERRY_CHECK(EVP_MAC_CTX_set_params(hmac_, params) == 1);
    }
    return hmac_;
  }

 private:
  EVP_MD_CTX* const digest_;
  EVP_MAC_CTX* hmac_ = nullptr;
};

ThreadContexts& Contexts() {
  thread_local ThreadContexts contexts;
  return contexts;
}

template <size_t N>
std::array<uint8_t, N> Digest(const EVP_MD* md, std::span<const std::byte> data) {
  std::array<uint8_t, N> out{};
  unsigned int len = 0;
  EVP_MD_CTX* ctx = Contexts().digest();
  FERRY_CHECK(EVP_DigestInit_ex2(ctx, md, nullptr) == 1);
  FERRY_CHECK(EVP_DigestUpdate(ctx, data.data(), data.size()) == 1);
  FERRY_CHECK(EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == N);
  return out;
}

}  // namespace

Md5Digest Md5(std::span<const std::byte> data) { return Digest<16>(Md5Md(), data); }
Sha256Digest Sha256(std::span<const std::byte> data) { return Digest<32>(Sha256Md(), data); }

Sha256Digest HmacSha256(std::span<const std::byte> key, std::span<const std::byte> data) {
  Sha256Digest out{};
  size_t len = 0;
  EVP_MAC_CTX* ctx = Contexts().hmac_sha256();
  FERRY_CHECK(EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                           nullptr) == 1);
  FERRY_CHECK(EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1);
  FERRY_CHECK(EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size());
  return out;
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
