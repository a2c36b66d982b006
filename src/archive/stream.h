// archive::EntryStream: reads an archive's entries front to back, for an unpacker that wants
// most of them. Reader::ReadEntry reads an entry's frames by ranged reads, and decodes a frame
// it shares with other entries from its start: right for one object, quadratic for thousands
// of small entries sharing frames. EntryStream reads the data frames once, in large ranged
// reads, decodes them once as one zstd stream, and hands out each entry in manifest order
// (entries not wanted are decoded and dropped). Every frame's size and CRC32C and every
// entry's CRC32C are checked as in ReadEntry.
//
// Errors: kDataLoss for a corrupt archive or entry, naming it; the source's errors. After an
// error the stream is unusable. Bytes reach the sink before the entry's final check (see
// reader.h): callers that must not publish unchecked bytes buffer them.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "archive/format.h"
#include "archive/io.h"
#include "base/status.h"

namespace ferry::archive {

class EntryStream {
 public:
  // `manifest` (Reader::manifest()) and `source` must outlive the stream. Reads of up to
  // `read_size` bytes.
  EntryStream(const Manifest& manifest, RangeSource& source, size_t read_size = 8 << 20);
  ~EntryStream();
  EntryStream(const EntryStream&) = delete;
  EntryStream& operator=(const EntryStream&) = delete;

  // The bytes a stream over `manifest` holds while it lives, beyond what its source holds: its
  // input buffer (`read_size`, or all the frames when they are fewer bytes), the decoder's
  // window (at most the largest frame's decoded size) and its block and output buffers. For a
  // caller that counts them in a memory budget.
  static uint64_t MemoryFor(const Manifest& manifest, size_t read_size = 8 << 20);

  // Writes the bytes of entry `index` to `out`, checked. Indexes must increase from call to
  // call (the entries between are skipped); kInvalidArgument otherwise.
  Status Read(size_t index, ByteSink& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::archive
