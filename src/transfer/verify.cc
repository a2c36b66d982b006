#include "transfer/verify.h"

#include "transfer/journal.h"

#include <algorithm>
#include <string_view>

namespace ferry::transfer {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint64_t PartsFor(uint64_t size, uint64_t part) { return (size + part - 1) / part; }

}  // namespace

std::optional<checksum::Md5Digest> ParseMd5Hex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  checksum::Md5Digest d{};
  for (size_t i = 0; i < 16; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return d;
}

SourceCheck CheckOf(const storage::ObjectInfo& src) {
  SourceCheck c;
  if (src.has_details) c.crc32c = src.crc32c();
  if (src.has_details && src.checksum && src.checksum->full_object()) c.declared = src.checksum;
  if (src.etag_opaque) return c;
  if (src.etag_is_md5()) {
    c.md5 = ParseMd5Hex(src.etag);
    return c;
  }
  const size_t dash = src.etag.find('-');
  if (dash == 32) {
    int parts = 0;
    for (char ch : std::string_view(src.etag).substr(dash + 1)) {
      if (ch < '0' || ch > '9' || parts > 100000) return c;
      parts = parts * 10 + (ch - '0');
    }
    if (parts >= 1) {
      c.multipart = ParseMd5Hex(std::string_view(src.etag).substr(0, 32));
      if (c.multipart) c.parts = parts;
    }
  }
  return c;
}

std::vector<uint64_t> CandidatePartSizes(uint64_t size, int parts, size_t max) {
  std::vector<uint64_t> out;
  if (parts < 1 || size == 0) return out;
  const auto n = static_cast<uint64_t>(parts);
  if (n == 1) return {size};  // one part: its digest does not depend on the part size
  auto fits = [&](uint64_t p) { return p > 0 && PartsFor(size, p) == n; };
  auto add = [&](uint64_t p) {
    if (out.size() < max && fits(p) && std::find(out.begin(), out.end(), p) == out.end()) {
      out.push_back(p);
    }
  };
  for (uint64_t mib : {8, 5, 16, 15, 64, 10, 32, 100, 128, 50, 25, 256, 512}) add(mib * kMiB);
  // Every whole MiB with the right part count: the range [ceil(size/n), ceil(size/(n-1))).
  const uint64_t low = (size + n - 1) / n;
  for (uint64_t p = (low + kMiB - 1) / kMiB * kMiB; out.size() < max && fits(p); p += kMiB) {
    add(p);
  }
  return out;
}

checksum::Md5Digest MultipartDigest(std::span<const checksum::Md5Digest> part_md5s) {
  checksum::Md5Hasher h;
  for (const auto& d : part_md5s) {
    h.Update(std::as_bytes(std::span<const uint8_t>(d.data(), d.size())));
  }
  return h.Finish();
}

checksum::Md5Digest MultipartDigestOf(std::span<const std::byte> data, uint64_t part_size) {
  std::vector<checksum::Md5Digest> parts;
  for (uint64_t off = 0; off < data.size(); off += part_size) {
    parts.push_back(checksum::Md5(data.subspan(off, std::min<uint64_t>(part_size,
                                                                       data.size() - off))));
  }
  if (parts.empty()) parts.push_back(checksum::Md5(data));
  return MultipartDigest(parts);
}

bool MatchesDeclared(const checksum::Declared& declared, std::span<const std::byte> data,
                     uint32_t crc) {
  const std::string got = declared.algorithm == checksum::Algorithm::kCrc32c
                              ? checksum::EncodeCrc(declared.algorithm, crc)
                              : checksum::Compute(declared.algorithm, data);
  return got == declared.value;
}

WholeCheck CheckWhole(const SourceCheck& check, std::span<const std::byte> data, uint32_t crc,
                      bool md5_checked_by_destination, std::optional<uint64_t> exact_part_size) {
  // A checksum the store computed decides, whatever ferry's CRC32C says: that is a writer's
  // claim, which may be stale (docs/design/integrity.md).
  if (check.declared) {
    return MatchesDeclared(*check.declared, data, crc) ? WholeCheck::kVerified
                                                       : WholeCheck::kMismatch;
  }
  // The claim matching the bytes read is the cheap path: bytes damaged on the way do not make
  // the CRC32C the writer recorded. A claim that does not match proves nothing by itself (the
  // bytes may be right and the claim stale): the store's digests below decide then.
  if (check.crc32c && *check.crc32c == crc) return WholeCheck::kVerified;
  const bool claim_contradicts = check.crc32c.has_value();
  if (check.md5) {
    if (md5_checked_by_destination) return WholeCheck::kVerified;
    return checksum::Md5(data) == *check.md5 ? WholeCheck::kVerified : WholeCheck::kMismatch;
  }
  if (check.multipart) {
    if (exact_part_size) {
      return MultipartDigestOf(data, *exact_part_size) == *check.multipart
                 ? WholeCheck::kVerified
                 : WholeCheck::kMismatch;
    }
    for (uint64_t p : CandidatePartSizes(data.size(), check.parts)) {
      if (MultipartDigestOf(data, p) == *check.multipart) return WholeCheck::kVerified;
    }
    // Either corrupt bytes or a layout no candidate reproduces: the caller asks the store for
    // the exact layout when it can, else counts the object as unverified.
    if (!claim_contradicts) return WholeCheck::kUnverified;
  }
  // Only the claim, and it does not match: the bytes are not written (kMismatch, read again by
  // the caller); whether the read or the claim is wrong, no store fact can tell.
  return claim_contradicts ? WholeCheck::kMismatch : WholeCheck::kUnverified;
}

std::string SourcePin(const std::string& etag, const std::string& version_id, uint64_t size,
                      int64_t mtime_ns) {
  return "etag=" + etag + ";version=" + version_id + ";size=" + std::to_string(size) +
         ";mtime=" + std::to_string(mtime_ns);
}

}  // namespace ferry::transfer
