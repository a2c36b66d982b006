#include "archive/writer.h"

#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::archive {
namespace {

constexpr size_t kChunk = 1 << 20;                // bytes read from a body at a time
constexpr size_t kSampleBytes = 256 << 10;        // bytes of a large entry's first chunk sampled
constexpr size_t kRawBlock = ZSTD_BLOCKSIZE_MAX;  // 128 KiB, the largest zstd block

Status ZstdError(std::string_view doing, size_t code) {
  return Status::Internal(std::string(doing) + ": " + ZSTD_getErrorName(code));
}

// Adds the time of its scope on `clock` to `*total`.
class StageTimer {
 public:
  StageTimer(double* total, const Clock& clock)
      : total_(total), clock_(clock), start_(clock.MonoNow()) {}
  ~StageTimer() { *total_ += std::chrono::duration<double>(clock_.MonoNow() - start_).count(); }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  double* total_;
  const Clock& clock_;
  Clock::MonoTime start_;
};

// Reads until `out` is full or the body ends; returns the bytes read.
Result<size_t> ReadFull(ChunkSource& body, std::span<std::byte> out, double* seconds,
                        const Clock& clock) {
  StageTimer timer(seconds, clock);
  size_t got = 0;
  while (got < out.size()) {
    FERRY_ASSIGN_OR_RETURN(size_t n, body.Read(out.subspan(got)));
    if (n == 0) break;
    got += n;
  }
  return got;
}

void PutLe(std::vector<std::byte>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

// A byte buffer left uninitialized: its pages are touched only as they are written. Zero-filled
// vectors cost every pack, however small, a memset of 1.4 MiB and its page faults (2-3 ms of a
// 30 ms `ferry archive pack` of one file).
class RawBuffer {
 public:
  void Allocate(size_t n) {
    bytes_.reset(new std::byte[n]);
    size_ = n;
  }
  std::byte* data() { return bytes_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<std::byte[]> bytes_;
  size_t size_ = 0;
};

}  // namespace

struct Writer::Impl {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_CCtx* sample_cctx = nullptr;
  RawBuffer out;     // zstd output buffer
  RawBuffer chunk;   // body input buffer
  RawBuffer sample;  // sample compression output
  // The frame being written.
  bool stored = false;
  uint64_t raw = 0;
  uint32_t crc = 0;
  std::vector<std::byte> block;  // stored frames: the raw block not yet emitted
  ~Impl() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeCCtx(sample_cctx);
  }
};

Writer::Writer(ByteSink& sink, const WriterOptions& options)
    : sink_(sink), options_(options), impl_(std::make_unique<Impl>()) {}

Writer::~Writer() = default;

Result<std::unique_ptr<Writer>> Writer::Open(ByteSink& sink, const WriterOptions& options) {
  if (options.level < 1 || options.level > ZSTD_maxCLevel()) {
    return Status::InvalidArgument("compression level must be 1.." +
                                   std::to_string(ZSTD_maxCLevel()));
  }
  if (options.threads < 0 || options.threads > 256) {
    return Status::InvalidArgument("threads must be 0..256");
  }
  if (options.job_size < (512u << 10) || options.job_size > (256u << 20)) {
    return Status::InvalidArgument("zstd job size must be 512 KiB..256 MiB");
  }
  if (options.frame_size < (64u << 10) || options.frame_size > (1ull << 30)) {
    return Status::InvalidArgument("frame size must be 64 KiB..1 GiB");
  }
  std::unique_ptr<Writer> w(new Writer(sink, options));
  Impl& im = *w->impl_;
  im.cctx = ZSTD_createCCtx();
  im.sample_cctx = ZSTD_createCCtx();
  FERRY_CHECK(im.cctx != nullptr && im.sample_cctx != nullptr);
  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (size_t r = ZSTD_CCtx_setParameter(im.cctx, ZSTD_c_compressionLevel, options.level);
      ZSTD_isError(r)) {
    return ZstdError("zstd level", r);
  }
  // A libzstd built without threads refuses workers: compress on this thread then.
  (void)ZSTD_CCtx_setParameter(im.cctx, ZSTD_c_nbWorkers, threads);
  if (threads > 1) {
    // zstd's own job size at level 3 is 8 MiB: a 16 MiB frame would be two jobs, the second
    // compressed while the writer waits at the frame's end. Jobs of job_size keep every worker
    // busy while the next input is fed.
    (void)ZSTD_CCtx_setParameter(im.cctx, ZSTD_c_jobSize, static_cast<int>(options.job_size));
  }
  im.out.Allocate(ZSTD_CStreamOutSize());
  im.chunk.Allocate(kChunk);
  im.sample.Allocate(ZSTD_compressBound(kSampleBytes));
  const std::string header = EncodeHeader();
  FERRY_RETURN_IF_ERROR(w->Emit(checksum::AsBytes(header)));
  return w;
}

Status Writer::Emit(std::span<const std::byte> data) {
  if (data.empty()) return Status::Ok();
  StageTimer timer(&times_.sink_seconds, ClockOr(options_.clock));
  FERRY_RETURN_IF_ERROR(sink_.Write(data));
  written_ += data.size();
  return Status::Ok();
}

Status Writer::BeginFrame(bool stored, uint64_t pledged) {
  Impl& im = *impl_;
  manifest_.frames.push_back(FrameInfo{
      .offset = written_, .stored_size = 0, .raw_size = 0, .crc32c = 0, .stored = stored});
  frame_open_ = true;
  im.stored = stored;
  im.raw = 0;
  im.crc = 0;
  im.block.clear();
  if (stored) {
    // Frame header: magic, descriptor 0 (no content size, no checksum, not single-segment),
    // window descriptor 0x38 (128 KiB = one raw block).
    std::vector<std::byte> h;
    PutLe(h, kZstdMagic, 4);
    h.push_back(std::byte{0x00});
    h.push_back(std::byte{0x38});
    return Emit(h);
  }
  if (size_t r = ZSTD_CCtx_setPledgedSrcSize(im.cctx, pledged); ZSTD_isError(r)) {
    return ZstdError("zstd frame", r);
  }
  return Status::Ok();
}

Status Writer::Feed(std::span<const std::byte> data) {
  Impl& im = *impl_;
  im.raw += data.size();
  im.crc = checksum::Crc32c(data, im.crc);
  if (im.stored) {
    while (!data.empty()) {
      if (im.block.size() == kRawBlock) {  // more follows: the buffered block is not the last
        std::vector<std::byte> h;
        PutLe(h, uint64_t{kRawBlock} << 3, 3);  // Last_Block 0, Block_Type 0 (raw), size
        FERRY_RETURN_IF_ERROR(Emit(h));
        FERRY_RETURN_IF_ERROR(Emit(im.block));
        im.block.clear();
      }
      const size_t take = std::min(data.size(), kRawBlock - im.block.size());
      im.block.insert(im.block.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
      data = data.subspan(take);
    }
    return Status::Ok();
  }
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{im.out.data(), im.out.size(), 0};
    size_t r;
    {
      StageTimer timer(&times_.feed_seconds, ClockOr(options_.clock));
      r = ZSTD_compressStream2(im.cctx, &out, &in, ZSTD_e_continue);
    }
    if (ZSTD_isError(r)) return ZstdError("zstd compress", r);
    FERRY_RETURN_IF_ERROR(Emit(std::span(im.out.data(), out.pos)));
  }
  return Status::Ok();
}

Status Writer::EndFrame() {
  Impl& im = *impl_;
  frame_open_ = false;
  if (im.stored) {
    std::vector<std::byte> h;
    PutLe(h, (uint64_t{im.block.size()} << 3) | 1, 3);  // the last block
    FERRY_RETURN_IF_ERROR(Emit(h));
    FERRY_RETURN_IF_ERROR(Emit(im.block));
    im.block.clear();
  } else {
    for (;;) {
      ZSTD_inBuffer in{nullptr, 0, 0};
      ZSTD_outBuffer out{im.out.data(), im.out.size(), 0};
      size_t left;
      {
        StageTimer timer(&times_.frame_end_seconds, ClockOr(options_.clock));
        left = ZSTD_compressStream2(im.cctx, &out, &in, ZSTD_e_end);
      }
      if (ZSTD_isError(left)) return ZstdError("zstd compress", left);
      FERRY_RETURN_IF_ERROR(Emit(std::span(im.out.data(), out.pos)));
      if (left == 0) break;
    }
  }
  FrameInfo& f = manifest_.frames.back();
  f.stored_size = written_ - f.offset;
  f.raw_size = im.raw;
  f.crc32c = im.crc;
  return Status::Ok();
}

Status Writer::Add(const EntryHeader& header, ChunkSource& body) {
  if (!failed_.ok()) return failed_;
  const ManifestLimits& limits = options_.limits;
  const uint64_t items = header.metadata.size() + (header.tags ? header.tags->size() : 0) +
                         header.destinations.size();
  auto refuse = [&]() {
    failed_ = Status::InvalidArgument(
        "an archive holds at most " + std::to_string(limits.max_entries) + " objects, " +
        std::to_string(limits.max_frames) + " frames and " + std::to_string(limits.max_items) +
        " metadata pairs, tags and destinations; pack fewer objects into each");
    return failed_;
  };
  if (manifest_.entries.size() >= limits.max_entries || items > limits.max_items - items_) {
    return refuse();
  }
  items_ += items;
  Entry entry;
  entry.header = header;
  Status s = header.size > options_.small_limit ? AddLarge(entry, body) : AddSmall(entry, body);
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  manifest_.entries.push_back(std::move(entry));
  if (manifest_.frames.size() > limits.max_frames) return refuse();
  return Status::Ok();
}

Status Writer::AddLarge(Entry& entry, ChunkSource& body) {
  Impl& im = *impl_;
  if (frame_open_) FERRY_RETURN_IF_ERROR(EndFrame());  // the shared frame of small entries
  const uint64_t size = entry.header.size;
  entry.first_frame = static_cast<uint32_t>(manifest_.frames.size());
  entry.offset_in_frame = 0;
  uint64_t done = 0;
  bool first = true;
  const bool lends = body.CanLend();
  while (done < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size - done));
    std::span<const std::byte> data;
    if (lends) {  // compressed where the source holds it: no copy into the chunk
      Result<std::span<const std::byte>> lent = [&] {
        StageTimer timer(&times_.read_seconds, ClockOr(options_.clock));
        return body.Lend();
      }();
      FERRY_RETURN_IF_ERROR(lent.status());
      data = lent->first(static_cast<size_t>(std::min<uint64_t>(lent->size(), size - done)));
    } else {
      FERRY_ASSIGN_OR_RETURN(
          size_t n, ReadFull(body, std::span(im.chunk.data(), want), &times_.read_seconds,
                             ClockOr(options_.clock)));
      data = std::span<const std::byte>(im.chunk.data(), n);
    }
    const size_t n = data.size();
    if (n == 0 || (!lends && n < want)) {
      return Status::DataLoss(entry.header.key + ": source ended at byte " +
                              std::to_string(done + n) + " of " + std::to_string(size));
    }
    if (first) {
      // Sample the first chunk: data that does not compress is stored raw.
      const size_t k = std::min(n, kSampleBytes);
      const size_t c =
          ZSTD_compressCCtx(im.sample_cctx, im.sample.data(), im.sample.size(), data.data(), k, 1);
      entry.stored = !ZSTD_isError(c) && c > 0 &&
                     static_cast<double>(k) / static_cast<double>(c) < options_.min_ratio;
      first = false;
    }
    while (!data.empty()) {
      if (!frame_open_) {
        FERRY_RETURN_IF_ERROR(BeginFrame(entry.stored, std::min(options_.frame_size, size - done)));
        ++entry.frame_count;
      }
      const size_t take =
          static_cast<size_t>(std::min<uint64_t>(data.size(), options_.frame_size - im.raw));
      FERRY_RETURN_IF_ERROR(Feed(data.first(take)));
      entry.crc32c = checksum::Crc32c(data.first(take), entry.crc32c);
      data = data.subspan(take);
      done += take;
      if (im.raw == options_.frame_size) FERRY_RETURN_IF_ERROR(EndFrame());
    }
    if (lends) body.Consume(n);
  }
  if (frame_open_) FERRY_RETURN_IF_ERROR(EndFrame());
  std::byte extra[1];
  FERRY_ASSIGN_OR_RETURN(size_t more, body.Read(extra));
  if (more != 0) {
    return Status::DataLoss(entry.header.key + ": source is longer than its size " +
                            std::to_string(size));
  }
  return Status::Ok();
}

Status Writer::AddSmall(Entry& entry, ChunkSource& body) {
  Impl& im = *impl_;
  const uint64_t size = entry.header.size;
  if (size > 0) {
    if (!frame_open_) FERRY_RETURN_IF_ERROR(BeginFrame(false, ZSTD_CONTENTSIZE_UNKNOWN));
    entry.first_frame = static_cast<uint32_t>(manifest_.frames.size() - 1);
    entry.frame_count = 1;
    entry.offset_in_frame = im.raw;
  }
  uint64_t done = 0;
  if (const auto held = body.InMemory(); held.has_value() && held->size() == size) {
    // Already in memory (read ahead whole): compressed in place, no copy into the chunk.
    FERRY_RETURN_IF_ERROR(Feed(*held));
    entry.crc32c = checksum::Crc32c(*held, entry.crc32c);
    body.Consume(held->size());
    done = size;
  }
  while (done < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size - done));
    FERRY_ASSIGN_OR_RETURN(size_t n,
                           ReadFull(body, std::span(im.chunk.data(), want), &times_.read_seconds,
                                    ClockOr(options_.clock)));
    if (n < want) {
      return Status::DataLoss(entry.header.key + ": source ended at byte " +
                              std::to_string(done + n) + " of " + std::to_string(size));
    }
    std::span<const std::byte> data(im.chunk.data(), n);
    FERRY_RETURN_IF_ERROR(Feed(data));
    entry.crc32c = checksum::Crc32c(data, entry.crc32c);
    done += n;
  }
  std::byte extra[1];
  FERRY_ASSIGN_OR_RETURN(size_t more, body.Read(extra));
  if (more != 0) {
    return Status::DataLoss(entry.header.key + ": source is longer than its size " +
                            std::to_string(size));
  }
  if (frame_open_ && im.raw >= options_.frame_size) FERRY_RETURN_IF_ERROR(EndFrame());
  return Status::Ok();
}

Result<WriteSummary> Writer::Finish() {
  if (!failed_.ok()) return failed_;
  if (frame_open_) FERRY_RETURN_IF_ERROR(EndFrame());
  const std::string plain = EncodeManifest(manifest_);
  std::string packed(ZSTD_compressBound(plain.size()), '\0');
  const size_t n = ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(),
                                 std::min(options_.level, 19));
  if (ZSTD_isError(n)) return ZstdError("zstd manifest", n);
  packed.resize(n);
  if (packed.size() > 0xffffffffull - 8) return Status::InvalidArgument("manifest too large");
  const uint64_t manifest_offset = written_;
  std::vector<std::byte> h;
  PutLe(h, kSkippableMagic, 4);
  PutLe(h, packed.size(), 4);
  FERRY_RETURN_IF_ERROR(Emit(h));
  FERRY_RETURN_IF_ERROR(Emit(checksum::AsBytes(packed)));
  const std::string trailer =
      EncodeTrailer(Trailer{.manifest_offset = manifest_offset,
                            .manifest_size = 8 + packed.size(),
                            .manifest_crc32c = checksum::Crc32c(checksum::AsBytes(packed))});
  FERRY_RETURN_IF_ERROR(Emit(checksum::AsBytes(trailer)));
  WriteSummary summary;
  summary.entries = manifest_.entries.size();
  summary.frames = manifest_.frames.size();
  for (const Entry& e : manifest_.entries) {
    summary.raw_bytes += e.header.size;
    if (e.stored) ++summary.stored_entries;
  }
  summary.archive_bytes = written_;
  summary.read_seconds = times_.read_seconds;
  summary.feed_seconds = times_.feed_seconds;
  summary.frame_end_seconds = times_.frame_end_seconds;
  summary.sink_seconds = times_.sink_seconds;
  failed_ = Status::FailedPrecondition("archive already finished");
  return summary;
}

}  // namespace ferry::archive
