// transport::PackObjects: the source side of compressed transport. Packs a batch of objects of
// a source backend, with all their metadata (user metadata, content headers, tags, storage
// class, modification time, ferry's CRC32C) into one ferry archive (src/archive) written to a
// ByteSink: the pack job (jobs/kinds/pack_kind.cc) gives it a BackendSink on the staging
// location, so the archive appears there only once complete. Small objects are read whole with
// their details in one GET, ahead of the writer on a few threads (prefetch.h); larger ones are
// read in ranged reads pinned to the ETag their Stat saw, so that no object is ever held whole
// in memory. Incompressible entries are stored raw by the archive writer
// (docs/design/archive.md).
//
// Errors: a source object that is gone since it was listed is left out (counted in `vanished`);
// any other failure of the source or sink (a 412 of an object changed mid-read included) fails
// the whole archive: the caller discards it and the job retries.
// Thread-safety: one call per thread; the backend may be shared.
#pragma once

#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "archive/writer.h"
#include "base/status.h"
#include "storage/backend.h"

namespace ferry::transport {

struct PackOptions {
  archive::WriterOptions writer;
  // Regions the entries are meant for (each entry's `destinations`); empty = every region.
  std::vector<std::string> destinations;
  // Objects up to this size are read whole with their details in one request.
  uint64_t whole_read_limit = 1ull << 20;
  // Small objects are read ahead of the writer on this many threads, at most `read_window`
  // of them at once (memory: read_window x whole_read_limit at most).
  int read_threads = 16;
  size_t read_window = 32;
};

struct PackResult {
  archive::WriteSummary summary;
  uint64_t vanished = 0;  // listed, then gone from the source before it was read
};

// The archive entry header of an object as Stat or ReadObject describe it.
archive::EntryHeader HeaderOf(const storage::ObjectInfo& object);

// Packs `objects` (as listed: key, size, ETag) of `src` into an archive written to `sink`
// (the caller closes the sink after OK).
Result<PackResult> PackObjects(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                               archive::ByteSink& sink, const PackOptions& options,
                               std::stop_token stop);

}  // namespace ferry::transport
