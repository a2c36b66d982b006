// archive::Reader: opens a ferry archive (format.h) through ranged reads and streams entries
// out of it. Open costs three ranged reads (header, trailer, manifest); ReadEntry then reads
// only the frames that hold the entry, one ranged read per frame, so one object is restored
// from a remote archive without fetching the rest. Used by `ferry archive ls|cat`, later by
// the unpack workers and restore.
//
// Errors: Open refuses a file that is not an archive, truncated or corrupt with kDataLoss and
// one line. ReadEntry checks each frame it decodes completely (size and CRC32C) and the entry's
// CRC32C: a mismatch is kDataLoss naming the entry. Bytes reach the sink as they are decoded,
// so on such an error the sink may already hold part of the entry: callers that must not
// expose unchecked bytes write to a temporary place and publish after OK.
// Thread-safety: after Open, const methods may be called from many threads; ReadEntry uses
// the RangeSource, so concurrent ReadEntry calls need a RangeSource that allows them.
#pragma once

#include <memory>
#include <string_view>

#include "archive/format.h"
#include "archive/io.h"
#include "base/status.h"

namespace ferry::archive {

class Reader {
 public:
  static Result<std::unique_ptr<Reader>> Open(RangeSource& source);

  const Manifest& manifest() const { return manifest_; }
  const std::vector<Entry>& entries() const { return manifest_.entries; }
  // The entry with this key (and version id, when not empty); the last one added when the key
  // appears more than once. nullptr when absent.
  const Entry* Find(std::string_view key, std::string_view version_id = "") const;
  // The bytes of the archive that hold the entry: the whole stored size of frames it owns, a
  // proportional share of frames it shares with other entries.
  uint64_t StoredSize(const Entry& entry) const;

  // Writes the entry's bytes to `out`, checked (see the header comment).
  Status ReadEntry(const Entry& entry, ByteSink& out) const;

 private:
  explicit Reader(RangeSource& source) : source_(source) {}
  RangeSource& source_;
  Manifest manifest_;
};

}  // namespace ferry::archive
