#include "transfer/content.h"

#include <algorithm>
#include <memory>

#include "transfer/verify.h"

namespace ferry::transfer {

Result<ContentDigest> ReadDigest(storage::Backend& backend, const storage::ObjectInfo& object,
                                 ByteBudget& budget, uint64_t chunk, bool with_md5,
                                 std::stop_token stop) {
  chunk = std::max<uint64_t>(1, std::min(chunk, object.size));
  if (!budget.Acquire(chunk, stop)) return Status::Cancelled("cancelled");
  BudgetLease lease(budget, chunk);
  std::unique_ptr<std::byte[]> buffer(new std::byte[chunk]);
  std::optional<checksum::Md5Hasher> md5;
  if (with_md5) md5.emplace();
  ContentDigest d;
  for (uint64_t off = 0; off < object.size; off += chunk) {
    const uint64_t n = std::min(chunk, object.size - off);
    std::span<std::byte> data(buffer.get(), n);
    FERRY_RETURN_IF_ERROR(backend.ReadAt(object.key, off, data, object.etag, stop));
    d.crc32c = checksum::Crc32c(data, d.crc32c);
    if (md5) md5->Update(data);
  }
  if (md5) d.md5 = md5->Finish();
  return d;
}

namespace {

// What the store computed of one side's bytes: a plain MD5 ETag. ferry's CRC32C
// (x-amz-meta-ferry-crc32c) is not taken: it is a writer's claim, which a tool that changed
// the bytes may have kept, so it can neither prove two objects equal nor stand for the bytes
// of its side (docs/design/integrity.md).
struct Declared {
  std::optional<checksum::Md5Digest> md5;
  bool any() const { return md5.has_value(); }
};

Declared DeclaredBy(const storage::ObjectInfo& o) {
  Declared d;
  if (o.etag_is_md5()) d.md5 = ParseMd5Hex(o.etag);
  return d;
}

// Whether the digest read matches what the other side's store computed.
bool Matches(const ContentDigest& read, const Declared& other) {
  return read.md5 && other.md5 && *read.md5 == *other.md5;
}

}  // namespace

Result<bool> SameContent(const StoredObject& src, const StoredObject& dst, ByteBudget& budget,
                         uint64_t chunk, std::stop_token stop) {
  if (src.object.size != dst.object.size) return false;
  const Declared s = DeclaredBy(src.object);
  const Declared d = DeclaredBy(dst.object);
  // S3's full-object checksums of one algorithm on both sides (HEADs with checksum mode).
  const std::optional<checksum::Declared>& sc = src.object.checksum;
  const std::optional<checksum::Declared>& dc = dst.object.checksum;
  if (src.object.has_details && dst.object.has_details && sc && dc && sc->full_object() &&
      dc->full_object() && sc->algorithm == dc->algorithm) {
    return sc->value == dc->value;
  }
  if (s.md5 && d.md5) return *s.md5 == *d.md5;
  // Read one side and compare with what the other declares; prefer the side that declares
  // nothing, then the cheaper one.
  auto read_and_compare = [&](const StoredObject& side, const Declared& other) -> Result<bool> {
    FERRY_ASSIGN_OR_RETURN(ContentDigest got, ReadDigest(side.backend, side.object, budget, chunk,
                                                         /*with_md5=*/true, stop));
    return Matches(got, other);
  };
  if (s.any() && !d.any()) return read_and_compare(dst, s);
  if (d.any() && !s.any()) return read_and_compare(src, d);
  FERRY_ASSIGN_OR_RETURN(ContentDigest a,
                         ReadDigest(src.backend, src.object, budget, chunk, false, stop));
  FERRY_ASSIGN_OR_RETURN(ContentDigest b,
                         ReadDigest(dst.backend, dst.object, budget, chunk, false, stop));
  return a.crc32c == b.crc32c;
}

}  // namespace ferry::transfer
