#include "archive/reader.h"

#include <zstd.h>

#include <algorithm>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::archive {
namespace {

constexpr uint64_t kMaxManifestBytes = 1ull << 30;
// A manifest's plain size is at most kManifestFloor + kManifestRatio x its compressed size.
constexpr uint64_t kManifestFloor = 1ull << 20;
constexpr uint64_t kManifestRatio = 64;
// A frame holds at most WriterOptions::frame_size (1 GiB at most) plus one small entry; a
// larger one is a damaged or hostile manifest, refused before a buffer is sized for it.
constexpr uint64_t kMaxFrameBytes = 2ull << 30;

uint64_t Le(std::span<const std::byte> b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(b[at + i]) << (8 * i);
  return v;
}

Status Corrupt(std::string why) { return Status::DataLoss("corrupt archive: " + std::move(why)); }

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

Result<std::unique_ptr<Reader>> Reader::Open(RangeSource& source) {
  const uint64_t size = source.size();
  if (size < kHeaderSize + kTrailerSize) {
    return Status::DataLoss("truncated or corrupt archive (" + std::to_string(size) + " bytes)");
  }
  std::vector<std::byte> buf(kHeaderSize);
  FERRY_RETURN_IF_ERROR(source.ReadAt(0, buf));
  FERRY_RETURN_IF_ERROR(CheckHeader(buf));
  buf.resize(kTrailerSize);
  FERRY_RETURN_IF_ERROR(source.ReadAt(size - kTrailerSize, buf));
  FERRY_ASSIGN_OR_RETURN(Trailer t, DecodeTrailer(buf));
  if (t.manifest_offset < kHeaderSize || t.manifest_size < 8 ||
      t.manifest_size > kMaxManifestBytes || t.manifest_offset > size - kTrailerSize ||
      t.manifest_offset + t.manifest_size != size - kTrailerSize) {
    return Corrupt("the trailer points outside the archive");
  }
  buf.resize(t.manifest_size);
  FERRY_RETURN_IF_ERROR(source.ReadAt(t.manifest_offset, buf));
  if (Le(buf, 0, 4) != kSkippableMagic || Le(buf, 4, 4) != t.manifest_size - 8) {
    return Corrupt("no manifest frame where the trailer says");
  }
  const std::span<const std::byte> packed = std::span<const std::byte>(buf).subspan(8);
  if (checksum::Crc32c(packed) != t.manifest_crc32c) return Corrupt("manifest checksum mismatch");
  const unsigned long long plain_size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (plain_size == ZSTD_CONTENTSIZE_ERROR || plain_size == ZSTD_CONTENTSIZE_UNKNOWN ||
      plain_size > kMaxManifestBytes) {
    return Corrupt("unreadable manifest");
  }
  // What the manifest may expand to is bounded by what was given: a manifest ferry writes
  // compresses a few times, never kManifestRatio times (a few hundred bytes of a hostile one
  // expanding to gigabytes of empty entries in memory are refused here, before anything is
  // allocated).
  if (plain_size > kManifestFloor + kManifestRatio * packed.size()) {
    return Corrupt("the manifest would expand to " + std::to_string(plain_size) + " bytes from " +
                   std::to_string(packed.size()));
  }
  std::vector<std::byte> plain(plain_size);
  const size_t n = ZSTD_decompress(plain.data(), plain.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != plain_size) return Corrupt("unreadable manifest");
  FERRY_ASSIGN_OR_RETURN(Manifest m, DecodeManifest(plain));
  uint64_t at = kHeaderSize;
  for (const FrameInfo& f : m.frames) {
    if (f.offset < at || f.offset > t.manifest_offset ||
        f.stored_size > t.manifest_offset - f.offset || f.stored_size > kMaxFrameBytes) {
      return Corrupt("frame table out of order or past the manifest");
    }
    at = f.offset + f.stored_size;
  }
  std::unique_ptr<Reader> r(new Reader(source));
  r->manifest_ = std::move(m);
  return r;
}

const Entry* Reader::Find(std::string_view key, std::string_view version_id) const {
  for (auto it = manifest_.entries.rbegin(); it != manifest_.entries.rend(); ++it) {
    if (it->header.key == key && (version_id.empty() || it->header.version_id == version_id)) {
      return &*it;
    }
  }
  return nullptr;
}

uint64_t Reader::StoredSize(const Entry& e) const {
  if (e.frame_count == 0) return 0;
  uint64_t stored = 0;
  for (uint32_t i = e.first_frame; i < e.first_frame + e.frame_count; ++i) {
    const FrameInfo& f = manifest_.frames[i];
    if (e.frame_count == 1 && f.raw_size > e.header.size && f.raw_size > 0) {
      // a shared frame: the entry's share
      return static_cast<uint64_t>(static_cast<double>(f.stored_size) *
                                   static_cast<double>(e.header.size) /
                                   static_cast<double>(f.raw_size));
    }
    stored += f.stored_size;
  }
  return stored;
}

Status Reader::ReadEntry(const Entry& e, ByteSink& out) const {
  const std::string& key = e.header.key;
  uint64_t skip = e.offset_in_frame;
  uint64_t left = e.header.size;
  uint32_t crc = 0;
  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  FERRY_CHECK(dctx != nullptr);
  std::vector<std::byte> stored;
  std::vector<std::byte> plain(ZSTD_DStreamOutSize());
  for (uint32_t i = e.first_frame; left > 0 && i < e.first_frame + e.frame_count; ++i) {
    const FrameInfo& f = manifest_.frames[i];
    stored.resize(f.stored_size);
    FERRY_RETURN_IF_ERROR(source_.ReadAt(f.offset, stored));
    (void)ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
    ZSTD_inBuffer in{stored.data(), stored.size(), 0};
    uint64_t frame_raw = 0;
    uint32_t frame_crc = 0;
    bool complete = false;
    while (left > 0 || !complete) {
      ZSTD_outBuffer o{plain.data(), plain.size(), 0};
      const size_t r = ZSTD_decompressStream(dctx.get(), &o, &in);
      if (ZSTD_isError(r)) {
        return Corrupt("frame " + std::to_string(i) + " of " + key + ": " + ZSTD_getErrorName(r));
      }
      std::span<const std::byte> got(plain.data(), o.pos);
      frame_raw += got.size();
      frame_crc = checksum::Crc32c(got, frame_crc);
      const size_t skipped = static_cast<size_t>(std::min<uint64_t>(skip, got.size()));
      skip -= skipped;
      got = got.subspan(skipped);
      const size_t take = static_cast<size_t>(std::min<uint64_t>(left, got.size()));
      if (take > 0) {
        FERRY_RETURN_IF_ERROR(out.Write(got.first(take)));
        crc = checksum::Crc32c(got.first(take), crc);
        left -= take;
      }
      if (r == 0) {
        complete = true;
        break;
      }
      if (left == 0) break;  // the rest of a shared frame belongs to other entries
      if (in.pos == in.size && o.pos < o.size) {
        return Corrupt("frame " + std::to_string(i) + " of " + key + " is cut short");
      }
    }
    if (complete && (frame_raw != f.raw_size || frame_crc != f.crc32c || in.pos != in.size)) {
      return Corrupt("frame " + std::to_string(i) + " of " + key + " fails its checksum");
    }
  }
  if (left != 0) return Corrupt(key + " is shorter than its size");
  if (crc != e.crc32c) return Corrupt(key + " fails its checksum (CRC32C)");
  return Status::Ok();
}

}  // namespace ferry::archive
