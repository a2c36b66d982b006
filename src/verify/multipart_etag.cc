#include "verify/multipart_etag.h"

#include <algorithm>
#include <memory>

namespace ferry::verify {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kToolMaxParts = 10000;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseDigest(std::string_view hex, checksum::Md5Digest& out) {
  if (hex.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

uint64_t PartsFor(uint64_t size, uint64_t part) { return (size + part - 1) / part; }

}  // namespace

ParsedETag ParseETag(std::string_view etag, bool opaque) {
  ParsedETag p;
  if (opaque) return p;
  if (etag.size() == 32) {
    if (ParseDigest(etag, p.digest)) p.kind = ParsedETag::Kind::kMd5;
    return p;
  }
  if (etag.size() < 34 || etag[32] != '-' || etag.size() > 32 + 1 + 6) return p;
  int parts = 0;
  for (char c : etag.substr(33)) {
    if (c < '0' || c > '9') return p;
    parts = parts * 10 + (c - '0');
  }
  if (parts < 1 || !ParseDigest(etag.substr(0, 32), p.digest)) return p;
  p.kind = ParsedETag::Kind::kMultipart;
  p.parts = parts;
  return p;
}

std::string FormatMultipartETag(const checksum::Md5Digest& digest, int parts) {
  return checksum::Hex(digest) + "-" + std::to_string(parts);
}

std::vector<uint64_t> CandidatePartSizes(uint64_t size, int parts, size_t max) {
  std::vector<uint64_t> out;
  if (parts < 1) return out;
  if (parts == 1) return {size};
  if (size == 0) return out;
  const auto n = static_cast<uint64_t>(parts);
  auto add = [&](uint64_t p) {
    if (out.size() < max && p > 0 && PartsFor(size, p) == n &&
        std::find(out.begin(), out.end(), p) == out.end()) {
      out.push_back(p);
    }
  };
  // 1. Tools' defaults.
  for (uint64_t mib : {8, 5, 16, 50, 15, 10}) add(mib * kMiB);
  // 2. Grown to fit 10,000 parts: doubled defaults, and the AWS CLI's ceil(size / 10000).
  for (uint64_t base : {5 * kMiB, 8 * kMiB, 16 * kMiB, 50 * kMiB}) {
    uint64_t p = base;
    while (PartsFor(size, p) > kToolMaxParts && p < (5ull << 30)) p *= 2;
    add(p);
  }
  const uint64_t aws = (size + kToolMaxParts - 1) / kToolMaxParts;
  add((aws + kMiB - 1) / kMiB * kMiB);
  add(aws);
  // 3. Powers of two MiB.
  for (uint64_t p = kMiB; p <= (5ull << 30); p *= 2) add(p);
  // 4. Every other whole MiB with the right count: [ceil(size / n), ceil(size / (n - 1))).
  const uint64_t low = (size + n - 1) / n;
  for (uint64_t p = (low + kMiB - 1) / kMiB * kMiB; out.size() < max && PartsFor(size, p) == n;
       p += kMiB) {
    add(p);
  }
  return out;
}

LayoutHasher::LayoutHasher(std::vector<uint64_t> part_sizes, bool whole,
                           std::optional<checksum::Algorithm> checksum) {
  for (uint64_t p : part_sizes) {
    if (p > 0) states_.push_back(std::make_unique<State>(p));
  }
  if (whole) whole_.emplace();
  if (checksum) checksum_ = std::make_unique<checksum::Hasher>(*checksum);
}

void LayoutHasher::EndPart(State& s) {
  const checksum::Md5Digest d = s.part->Finish();
  s.outer.Update(std::as_bytes(std::span<const uint8_t>(d.data(), d.size())));
  s.part = std::make_unique<checksum::Md5Hasher>();
  s.in_part = 0;
  ++s.parts;
}

void LayoutHasher::Update(std::span<const std::byte> data) {
  bytes_ += data.size();
  if (whole_) whole_->Update(data);
  if (checksum_) checksum_->Update(data);
  for (auto& sp : states_) {
    State& s = *sp;
    std::span<const std::byte> rest = data;
    while (!rest.empty()) {
      const uint64_t room = s.part_size - s.in_part;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(room, rest.size()));
      s.part->Update(rest.first(n));
      s.in_part += n;
      rest = rest.subspan(n);
      if (s.in_part == s.part_size) EndPart(s);
    }
  }
}

LayoutHasher::Digests LayoutHasher::Finish() {
  Digests d;
  d.bytes = bytes_;
  if (whole_) d.whole = whole_->Finish();
  if (checksum_) {
    const std::string raw = checksum_->Finish();
    d.checksum = checksum::Declared{
        .algorithm = checksum_->algorithm(),
        .value = checksum::Base64(std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(raw.data()), raw.size())),
        .parts = 0};
  }
  for (auto& sp : states_) {
    State& s = *sp;
    // A last short part, or the one (empty) part of an empty object.
    if (s.in_part > 0 || s.parts == 0) EndPart(s);
    d.layouts.push_back(Layout{s.part_size, s.parts, s.outer.Finish()});
  }
  return d;
}

std::optional<uint64_t> MatchingLayout(const LayoutHasher::Digests& digests,
                                       const checksum::Md5Digest& digest, int parts) {
  for (const auto& l : digests.layouts) {
    if (l.parts == parts && l.digest == digest) return l.part_size;
  }
  return std::nullopt;
}

}  // namespace ferry::verify
