// archive::Writer: packs entries (an object's bytes and metadata) into a ferry archive
// (format.h), streaming: entries are read in chunks and their compressed frames written to a
// ByteSink as they are made, so no entry is ever held whole in memory. The source packer (the
// CLI's `ferry archive pack`, later the pack workers of compressed transport) calls Add once
// per object, then Finish.
//
// Layout decisions (docs/design/archive.md):
//  - an entry larger than `small_limit` starts its own frames, split every `frame_size` raw
//    bytes; its first chunk is sampled (compressed at level 1) and when the ratio is below
//    `min_ratio` its frames are stored raw (zstd raw blocks: 6 bytes a frame + 3 bytes per
//    128 KiB), so incompressible data costs no CPU and under 0.01% of space;
//  - smaller entries are appended to a shared frame, closed once it holds `frame_size` raw
//    bytes, so that many small objects compress nearly as well as one solid stream.
// zstd compresses with `threads` workers (ZSTD_c_nbWorkers) at `level`, in jobs of `job_size`.
//
// Errors: a failed Add (the sink or the source failed, or the source gave more or fewer bytes
// than header.size: kDataLoss) leaves the archive unusable: later calls return that error.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "archive/format.h"
#include "archive/io.h"
#include "base/clock.h"
#include "base/status.h"

namespace ferry::archive {

struct WriterOptions {
  int level = 3;                      // zstd level, 1..22 (negative: zstd's fast levels)
  int threads = 0;                    // zstd workers; 0 = one per hardware thread
  // Input bytes per zstd worker job (ZSTD_c_jobSize) when there are several workers: 1 MiB
  // jobs compressed csv and log text 1.3x faster than zstd's default (8 MiB at level 3) on 2
  // cores, at the same ratio within 1% (bench/bench-codec.sh).
  uint64_t job_size = 1ull << 20;
  uint64_t frame_size = 16ull << 20;  // raw bytes per frame (bounds memory and random access)
  uint64_t small_limit = 1ull << 20;  // entries up to this size share frames
  double min_ratio = 1.05;            // below this sampled ratio a large entry is stored raw
  // What the archive may hold (format.h): Add refuses an entry past them with
  // kInvalidArgument, leaving the archive unusable, so that every archive written reads back.
  ManifestLimits limits;
  // Times the stages (WriteSummary's *_seconds). Null: SystemClock::Default(). Not owned.
  Clock* clock = nullptr;
};

struct WriteSummary {
  uint64_t entries = 0;
  uint64_t frames = 0;
  uint64_t raw_bytes = 0;       // sum of entry sizes
  uint64_t archive_bytes = 0;   // the whole archive, manifest and trailer included
  uint64_t stored_entries = 0;  // entries stored raw
  // Where the writer's thread spent its time (wall seconds), to find what serialises packing:
  // reading entry bodies (ChunkSource::Read), handing bytes to zstd (it copies them into its
  // job buffers and blocks while every worker is busy), waiting at frame ends (the last jobs
  // of a frame are compressed while the writer waits: workers idle until the next frame's
  // first job), and the sink's writes.
  double read_seconds = 0;
  double feed_seconds = 0;
  double frame_end_seconds = 0;
  double sink_seconds = 0;
};

class Writer {
 public:
  // Writes the header frame. kInvalidArgument for options out of range.
  static Result<std::unique_ptr<Writer>> Open(ByteSink& sink, const WriterOptions& options);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends one entry whose bytes `body` yields (exactly header.size of them).
  Status Add(const EntryHeader& header, ChunkSource& body);
  // Ends the last frame and writes the manifest and trailer. The caller then closes the sink.
  Result<WriteSummary> Finish();

  // The manifest so far (frames and entries added).
  const Manifest& manifest() const { return manifest_; }

 private:
  struct Impl;
  Writer(ByteSink& sink, const WriterOptions& options);
  Status AddLarge(Entry& entry, ChunkSource& body);
  Status AddSmall(Entry& entry, ChunkSource& body);
  Status BeginFrame(bool stored, uint64_t pledged);
  Status Feed(std::span<const std::byte> data);
  Status EndFrame();
  Status Emit(std::span<const std::byte> data);

  ByteSink& sink_;
  WriterOptions options_;
  uint64_t items_ = 0;  // metadata pairs, tags and destinations of the entries added
  std::unique_ptr<Impl> impl_;
  Manifest manifest_;
  Status failed_;
  uint64_t written_ = 0;  // bytes sent to the sink
  WriteSummary times_;    // only the *_seconds fields are kept here
  bool frame_open_ = false;
};

}  // namespace ferry::archive
