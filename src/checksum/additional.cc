// S3's additional checksums (additional.h).
#include "checksum/additional.h"

#include <isa-l/crc.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/crc.hpp>
#include <cctype>
#include <charconv>

#include "base/status.h"
#include "checksum/checksum.h"

namespace ferry::checksum {
namespace {

// CRC-64/NVME: reflected, initial and final value all ones.
using Crc64NvmeEngine =
    boost::crc_optimal<64, 0xAD93D23594C93659ULL, ~0ULL, ~0ULL, true, true>;

constexpr uint64_t kCrc32Poly = 0xEDB88320u;            // reflected IEEE
constexpr uint64_t kCrc32cPoly = 0x82F63B78u;           // reflected Castagnoli
constexpr uint64_t kCrc64NvmePoly = 0x9A6C9329AC4BC9B5ULL;  // reflected NVMe

int Width(Algorithm a) { return a == Algorithm::kCrc64Nvme ? 64 : 32; }

size_t DigestSize(Algorithm a) {
  switch (a) {
    case Algorithm::kCrc32:
    case Algorithm::kCrc32c:
      return 4;
    case Algorithm::kCrc64Nvme:
      return 8;
    case Algorithm::kSha1:
      return 20;
    case Algorithm::kSha256:
      return 32;
  }
  return 0;
}

uint64_t Poly(Algorithm a) {
  switch (a) {
    case Algorithm::kCrc32:
      return kCrc32Poly;
    case Algorithm::kCrc32c:
      return kCrc32cPoly;
    default:
      return kCrc64NvmePoly;
  }
}

uint32_t Crc32Ieee(std::span<const std::byte> data, uint32_t crc) {
  // ISA-L's gzip CRC inverts the seed and the result itself: crc32_gzip_refl(0, ...) is the
  // standard CRC-32 and chaining passes the previous result.
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    const auto n = static_cast<uint64_t>(std::min<size_t>(left, 1u << 30));
    crc = crc32_gzip_refl(crc, p, n);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return crc;
}

uint64_t Reflect64(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 64; ++i, v >>= 1) r = (r << 1) | (v & 1);
  return r;
}

uint64_t Crc64Nvme(std::span<const std::byte> data, uint64_t crc) {
  // Resuming from a finished value: Boost's checksum() is the register XOR the final ~0, and a
  // reflected engine reflects the initial remainder it is given, so the register to resume
  // from is given as reflect(~crc) (~crc alone only works from 0, whose reflection is itself).
  Crc64NvmeEngine engine(Reflect64(~crc));
  engine.process_bytes(data.data(), data.size());
  return engine.checksum();
}

uint64_t CrcUpdate(Algorithm a, std::span<const std::byte> data, uint64_t crc) {
  switch (a) {
    case Algorithm::kCrc32:
      return Crc32Ieee(data, static_cast<uint32_t>(crc));
    case Algorithm::kCrc32c:
      return Crc32c(data, static_cast<uint32_t>(crc));
    default:
      return Crc64Nvme(data, crc);
  }
}

// GF(2) matrix (width x width) times a vector, and squaring: advancing a reflected CRC
// register over zero bytes in O(log n) steps.
uint64_t MatTimes(const uint64_t* mat, uint64_t vec) {
  uint64_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1) {
    if (vec & 1) sum ^= mat[i];
  }
  return sum;
}

void MatSquare(int width, uint64_t* square, const uint64_t* mat) {
  for (int n = 0; n < width; ++n) square[n] = MatTimes(mat, mat[n]);
}

std::string BigEndian(uint64_t v, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    out[bytes - 1 - i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

std::string Base64Of(std::string_view raw) {
  return Base64({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()});
}

const EVP_MD* ShaMd(Algorithm a) { return a == Algorithm::kSha1 ? EVP_sha1() : EVP_sha256(); }

}  // namespace

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (Algorithm a : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme,
                      Algorithm::kSha1, Algorithm::kSha256}) {
    if (upper == AlgorithmName(a)) return a;
  }
  return std::nullopt;
}

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kCrc32:
      return "CRC32";
    case Algorithm::kCrc32c:
      return "CRC32C";
    case Algorithm::kCrc64Nvme:
      return "CRC64NVME";
    case Algorithm::kSha1:
      return "SHA1";
    case Algorithm::kSha256:
      return "SHA256";
  }
  return "";
}

std::string HeaderName(Algorithm algorithm) {
  std::string name(AlgorithmName(algorithm));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return "x-amz-checksum-" + name;
}

std::string ElementName(Algorithm algorithm) {
  return "Checksum" + std::string(AlgorithmName(algorithm));
}

bool IsCrc(Algorithm algorithm) {
  return algorithm == Algorithm::kCrc32 || algorithm == Algorithm::kCrc32c ||
         algorithm == Algorithm::kCrc64Nvme;
}

std::optional<Declared> ParseDeclared(Algorithm algorithm, std::string_view value) {
  Declared d{.algorithm = algorithm};
  if (const size_t dash = value.rfind('-'); dash != std::string_view::npos) {
    const std::string_view count = value.substr(dash + 1);
    int n = 0;
    auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec != std::errc() || end != count.data() + count.size() || n < 1 || n > 10000) {
      return std::nullopt;
    }
    d.parts = n;
    value = value.substr(0, dash);
  }
  std::optional<std::string> raw = Base64Decode(value);
  if (!raw || raw->size() != DigestSize(algorithm)) return std::nullopt;
  d.value = std::string(value);
  return d;
}

struct Hasher::Sha {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Sha() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(Algorithm algorithm) : algorithm_(algorithm) {
  if (!IsCrc(algorithm)) {
    sha_ = std::make_unique<Sha>();
    FERRY_CHECK(sha_->ctx != nullptr);
    FERRY_CHECK(EVP_DigestInit_ex(sha_->ctx, ShaMd(algorithm), nullptr) == 1);
  }
}

Hasher::~Hasher() = default;

void Hasher::Update(std::span<const std::byte> data) {
  if (sha_) {
    FERRY_CHECK(EVP_DigestUpdate(sha_->ctx, data.data(), data.size()) == 1);
    return;
  }
  crc_ = CrcUpdate(algorithm_, data, crc_);
}

std::string Hasher::Finish() {
  if (!sha_) return BigEndian(crc_, DigestSize(algorithm_));
  std::string out(DigestSize(algorithm_), '\0');
  unsigned int len = 0;
  FERRY_CHECK(EVP_DigestFinal_ex(sha_->ctx, reinterpret_cast<unsigned char*>(out.data()), &len) ==
              1);
  FERRY_CHECK(len == out.size());
  return out;
}

std::string Compute(Algorithm algorithm, std::span<const std::byte> data) {
  Hasher h(algorithm);
  h.Update(data);
  return Base64Of(h.Finish());
}

uint64_t Crc(Algorithm algorithm, std::span<const std::byte> data) {
  FERRY_CHECK(IsCrc(algorithm));
  return CrcUpdate(algorithm, data, 0);
}

uint64_t CrcCombine(Algorithm algorithm, uint64_t crc_a, uint64_t crc_b, uint64_t len_b) {
  FERRY_CHECK(IsCrc(algorithm));
  if (len_b == 0) return crc_a;
  const int width = Width(algorithm);
  std::array<uint64_t, 64> even{};
  std::array<uint64_t, 64> odd{};
  odd[0] = Poly(algorithm);  // the operator for one zero bit
  uint64_t row = 1;
  for (int n = 1; n < width; ++n) {
    odd[static_cast<size_t>(n)] = row;
    row <<= 1;
  }
  MatSquare(width, even.data(), odd.data());  // two zero bits
  MatSquare(width, odd.data(), even.data());  // four zero bits
  do {
    MatSquare(width, even.data(), odd.data());  // first pass: one zero byte
    if (len_b & 1) crc_a = MatTimes(even.data(), crc_a);
    len_b >>= 1;
    if (len_b == 0) break;
    MatSquare(width, odd.data(), even.data());
    if (len_b & 1) crc_a = MatTimes(odd.data(), crc_a);
    len_b >>= 1;
  } while (len_b != 0);
  return crc_a ^ crc_b;
}

std::string EncodeCrc(Algorithm algorithm, uint64_t crc) {
  return Base64Of(BigEndian(crc, DigestSize(algorithm)));
}

std::optional<std::string> Composite(Algorithm algorithm,
                                     std::span<const std::string> part_values) {
  Hasher h(algorithm);
  for (const std::string& v : part_values) {
    std::optional<std::string> raw = Base64Decode(v);
    if (!raw || raw->size() != DigestSize(algorithm)) return std::nullopt;
    h.Update(AsBytes(*raw));
  }
  return Base64Of(h.Finish());
}

}  // namespace ferry::checksum
