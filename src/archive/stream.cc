#include "archive/stream.h"

#include <zstd.h>

#include <algorithm>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::archive {
namespace {

Status CorruptStream(std::string why) { return Status::DataLoss("corrupt archive: " + std::move(why)); }

}  // namespace

struct EntryStream::Impl {
  const Manifest& manifest;
  RangeSource& source;
  size_t read_size;
  ZSTD_DCtx* dctx = nullptr;
  Status failed;
  // Input: the data frames, [next_read, data_end) not read yet; in[in_pos, in.size()) unread.
  uint64_t next_read = 0;
  uint64_t data_end = 0;
  std::vector<std::byte> in;
  size_t in_pos = 0;
  // Output: decoded bytes out[out_pos, out_end) not handed out yet; `raw` is the position in
  // the decoded stream of out[out_end] (every byte decoded so far).
  std::vector<std::byte> out;
  size_t out_pos = 0;
  size_t out_end = 0;
  uint64_t raw = 0;
  uint64_t consumed = 0;  // position in the decoded stream of out[out_pos]
  // Frame checks: the frame being decoded, where it ends in the decoded stream, its CRC so far.
  size_t frame = 0;
  uint64_t frame_end = 0;
  uint32_t frame_crc = 0;
  std::vector<uint64_t> frame_start;  // raw offset of each frame's first byte
  int64_t last_index = -1;

  Impl(const Manifest& m, RangeSource& s, size_t r) : manifest(m), source(s), read_size(r) {}
  ~Impl() { ZSTD_freeDCtx(dctx); }

  Status Init() {
    dctx = ZSTD_createDCtx();
    FERRY_CHECK(dctx != nullptr);
    const auto& frames = manifest.frames;
    uint64_t raw_at = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      if (i > 0 && frames[i].offset != frames[i - 1].offset + frames[i - 1].stored_size) {
        return CorruptStream("frames are not contiguous");
      }
      frame_start.push_back(raw_at);
      raw_at += frames[i].raw_size;
    }
    if (!frames.empty()) {
      next_read = frames.front().offset;
      data_end = frames.back().offset + frames.back().stored_size;
      if (data_end > source.size()) return CorruptStream("frames run past the end of the archive");
      frame_end = frames.front().raw_size;
    }
    out.resize(ZSTD_DStreamOutSize());
    return Status::Ok();
  }

  // Accounts `data` (just decoded) to the frames it belongs to, checking each that ends.
  Status CheckFrames(std::span<const std::byte> data) {
    uint64_t at = raw - data.size();
    while (!data.empty()) {
      if (frame >= manifest.frames.size()) return CorruptStream("more bytes than the frames hold");
      const size_t take = static_cast<size_t>(std::min<uint64_t>(data.size(), frame_end - at));
      frame_crc = checksum::Crc32c(data.first(take), frame_crc);
      data = data.subspan(take);
      at += take;
      if (at == frame_end) {
        if (frame_crc != manifest.frames[frame].crc32c) {
          return CorruptStream("frame " + std::to_string(frame) + " checksum mismatch");
        }
        ++frame;
        frame_crc = 0;
        frame_end = frame < manifest.frames.size() ? at + manifest.frames[frame].raw_size : at;
        // Empty frames (none are written, but a manifest may hold them) end at once.
        while (frame < manifest.frames.size() && manifest.frames[frame].raw_size == 0) {
          if (manifest.frames[frame].crc32c != 0) return CorruptStream("empty frame with a checksum");
          ++frame;
          frame_end = frame < manifest.frames.size() ? at + manifest.frames[frame].raw_size : at;
        }
      }
    }
    return Status::Ok();
  }

  // Decodes more bytes into `out` (which must be fully handed out).
  Status Decode() {
    out_pos = out_end = 0;
    while (out_end == 0) {
      if (in_pos == in.size()) {
        if (next_read >= data_end) return CorruptStream("the frames end before the entries do");
        const size_t n = static_cast<size_t>(std::min<uint64_t>(read_size, data_end - next_read));
        in.resize(n);
        in_pos = 0;
        FERRY_RETURN_IF_ERROR(source.ReadAt(next_read, in));
        next_read += n;
      }
      ZSTD_inBuffer ib{in.data(), in.size(), in_pos};
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      const size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
      if (ZSTD_isError(r)) return CorruptStream(std::string("zstd: ") + ZSTD_getErrorName(r));
      in_pos = ib.pos;
      out_end = ob.pos;
    }
    raw += out_end;
    return CheckFrames(std::span<const std::byte>(out.data(), out_end));
  }

  // Hands the next `n` decoded bytes to `sink` (nullptr: dropped), feeding `crc`.
  Status Pull(uint64_t n, ByteSink* sink, uint32_t& crc) {
    while (n > 0) {
      if (out_pos == out_end) FERRY_RETURN_IF_ERROR(Decode());
      const size_t take = static_cast<size_t>(std::min<uint64_t>(n, out_end - out_pos));
      const std::span<const std::byte> piece(out.data() + out_pos, take);
      if (sink != nullptr) {
        crc = checksum::Crc32c(piece, crc);
        FERRY_RETURN_IF_ERROR(sink->Write(piece));
      }
      out_pos += take;
      consumed += take;
      n -= take;
    }
    return Status::Ok();
  }

  Status Read(size_t index, ByteSink& sink) {
    if (static_cast<int64_t>(index) <= last_index || index >= manifest.entries.size()) {
      return Status::InvalidArgument("entries must be read in increasing order");
    }
    last_index = static_cast<int64_t>(index);
    const Entry& e = manifest.entries[index];
    uint32_t crc = 0;
    if (e.frame_count > 0) {
      if (e.first_frame >= frame_start.size()) return CorruptStream("entry frames out of range");
      const uint64_t start = frame_start[e.first_frame] + e.offset_in_frame;
      if (start < consumed) return CorruptStream(e.header.key + ": entries overlap");
      uint32_t ignored = 0;
      FERRY_RETURN_IF_ERROR(Pull(start - consumed, nullptr, ignored));
      FERRY_RETURN_IF_ERROR(Pull(e.header.size, &sink, crc));
    } else if (e.header.size != 0) {
      return CorruptStream(e.header.key + ": no frames for a non-empty entry");
    }
    if (crc != e.crc32c) return CorruptStream(e.header.key + ": checksum mismatch");
    return Status::Ok();
  }
};

EntryStream::EntryStream(const Manifest& manifest, RangeSource& source, size_t read_size)
    : impl_(std::make_unique<Impl>(manifest, source, read_size)) {
  impl_->failed = impl_->Init();
}

EntryStream::~EntryStream() = default;

uint64_t EntryStream::MemoryFor(const Manifest& manifest, size_t read_size) {
  uint64_t stored = 0;
  uint64_t largest = 0;
  for (const FrameInfo& f : manifest.frames) {
    stored += f.stored_size;
    largest = std::max(largest, f.raw_size);
  }
  // zstd keeps a window of at most the frame's content size, and at most 8 MiB at the levels
  // whose parameters ferry writes with (windowLog <= 23 up to level 19), and a block buffer
  // beside it (DStreamInSize); DStreamOutSize is `out`
  return std::min<uint64_t>(read_size, stored) + std::min<uint64_t>(largest, 8ull << 20) +
         ZSTD_DStreamInSize() + ZSTD_DStreamOutSize();
}

Status EntryStream::Read(size_t index, ByteSink& out) {
  if (!impl_->failed.ok()) return impl_->failed;
  Status s = impl_->Read(index, out);
  if (!s.ok() && s.code() != ErrorCode::kInvalidArgument) impl_->failed = s;
  return s;
}

}  // namespace ferry::archive
