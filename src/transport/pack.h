// transport::PackObjects: the source side of compressed transport. Packs a batch of objects of
// a source backend, with all their metadata (user metadata, content headers, tags, storage
// class, modification time, ferry's CRC32C) into one ferry archive (src/archive) written to a
// ByteSink: the pack job (transport/kinds/pack_kind.cc) gives it a BackendSink on the staging
// location, so the archive appears there only once complete. Small objects are read whole with
// their details in one GET, ahead of the writer on a few threads (prefetch.h); larger ones are
// read in ranged reads pinned to the ETag their Stat saw, a few ranges ahead of the writer, so
// that no object is ever held whole in memory. Incompressible entries are stored raw by the
// archive writer (docs/design/archive.md), whose zstd runs on worker threads of its own.
//
// A pipeline: reads ahead of compression, and compression ahead of the archive's writes. The
// archive's bytes go to the sink on a thread of their own (at most `upload_ahead` bytes
// waiting), so a sink that uploads each part as it fills (archive::BackendSink) sends part N
// while the next entries are read and compressed. Packs given one UploadOrder send in its order,
// so their archives are complete one after another.
//
// Errors: a source object that is gone since it was listed is left out (counted in `vanished`);
// any other failure of the source or sink (a 412 of an object changed mid-read included) fails
// the whole archive: the caller discards it and the job retries (an object whose own bytes
// contradict what it declares is named to PackOptions::refused first).
// Thread-safety: one call per thread; the backend may be shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "archive/writer.h"
#include "base/clock.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transport/upload_order.h"

namespace ferry::transport {

class Prefetcher;  // prefetch.h

struct PackOptions {
  archive::WriterOptions writer;
  // Regions the entries are meant for (each entry's `destinations`); empty = every region.
  std::vector<std::string> destinations;
  // Objects up to this size are read whole with their details in one request.
  uint64_t whole_read_limit = 1ull << 20;
  // The process's executor (required): the small objects' reads run as its tasks, their bytes
  // taken from its ByteBudget (prefetch.h). Not owned.
  transfer::Executor* executor = nullptr;
  // Small objects are read ahead of the writer, `reads` at once, at most `read_window` of them
  // and `read_window_bytes` of their sizes (the memory they hold). Counted in bytes, not only
  // objects: 64 objects of 4 KiB held the 32 reads to 256 KiB ahead.
  size_t reads = 32;
  size_t read_window = 1024;
  uint64_t read_window_bytes = 64ull << 20;
  // Larger objects are read in ranges of `range_size` bytes, up to `range_window` of them ahead
  // of the writer, `range_reads` at once, as tasks of the executor (memory: range_window x
  // range_size, in its ByteBudget).
  size_t range_size = 4u << 20;
  size_t range_reads = 4;
  size_t range_window = 4;
  // Archive bytes made but not yet taken by the sink, at most (the writer waits beyond); held
  // in the executor's ByteBudget while they wait (overdrawn: never waited for).
  size_t upload_ahead = 32u << 20;
  // Packs running at once that share a link (upload_order.h): the archive's writes to the sink
  // wait for the turn of `order_ticket`, which the caller Joined before and Leaves after it
  // closed the sink (the last part crosses the link too: the caller sends it in turn, then
  // completes the archive out of turn). The source's reads follow the same order (UploadOrder::BeginRead: the packs behind
  // the first still reading share a few reads). Null: the bytes go to the sink as soon as they
  // are made, and every read starts at once. Not owned.
  UploadOrder* order = nullptr;
  uint64_t order_ticket = 0;
  // Replication's transport (replicate/transport.h): the objects are versions a pass described
  // (details and tags; a version id, or "null"/"" for an unversioned source's one version).
  // Each is read by its version id (an unversioned one pinned to its ETag), never Stat'ed
  // again. A version gone from the source fails the pack (kNotFound): its status row must not
  // say it was packed.
  bool versions = false;
  // Each entry's header, given the object's index among all the pack's objects and the object
  // as read (with its details). Null: HeaderOf(object) with `destinations`. Replication writes
  // what a direct copy would, with its regions; `ferry archive pack` keeps ferry's own metadata.
  std::function<archive::EntryHeader(size_t index, const storage::ObjectInfo& object)> header_of;
  // An object whose bytes, read twice alike, what it declares refuses with nothing the store
  // computed to settle it otherwise (a stale or forged ferry-crc32c: docs/design/integrity.md
  // §8; or bytes damaged at rest) holds wrong bytes of its own, not bytes corrupted on the way:
  // packing it again would fail again, for ever. When set, `refused` is told its index (as
  // header_of's) before the pack fails with kDataLoss (a message holding kReadTwiceAlike,
  // prefetch.h): the caller leaves it out and packs the rest again (replication records it as
  // the version's lasting failure). Either way it is never archived.
  std::function<void(size_t index)> refused;
  // Times the stages (PackResult's seconds, and the writer's unless writer.clock is set).
  // Null: SystemClock::Default(). Not owned.
  Clock* clock = nullptr;
};

struct PackResult {
  archive::WriteSummary summary;
  uint64_t vanished = 0;  // listed, then gone from the source before it was read
  // Large objects read a second time: nothing they declare could prove the first read (a
  // multipart ETag in a layout the store does not tell), so two reads must agree.
  uint64_t read_twice = 0;
  // Where the time went (seconds on PackOptions::clock, for the pack job's log): the whole
  // pack, the writer waiting for reads of the source, and waiting for the sink (the upload) to
  // take the archive's bytes, during packing and after the last entry.
  double seconds = 0;
  double read_wait_seconds = 0;
  double sink_wait_seconds = 0;
  double drain_seconds = 0;
};

// The archive entry header of an object as Stat or ReadObject describe it.
archive::EntryHeader HeaderOf(const storage::ObjectInfo& object);

// One archive packed from batches of objects as they are listed (`ferry archive pack` streams
// a whole tree's listing): Open, Add each batch in order, Finish. The one pack pipeline: every
// archive ferry writes from a store's objects is packed here.
// Errors: the first failure of Add fails the pack (later calls return kFailedPrecondition);
// destroyed without Finish, the archive is given up (nothing more reaches the sink).
class Packer {
 public:
  static Result<std::unique_ptr<Packer>> Open(storage::Backend& src, archive::ByteSink& sink,
                                              const PackOptions& options, std::stop_token stop);
  ~Packer();
  Packer(const Packer&) = delete;
  Packer& operator=(const Packer&) = delete;

  // Packs `objects` (as listed: key, size, ETag; or versions) after those of earlier calls.
  // The span need not outlive the call.
  Status Add(std::span<const storage::ObjectInfo> objects);
  // Completes the archive: every byte has been written to the sink when this returns (the
  // caller closes the sink after OK). Once.
  Result<PackResult> Finish();

 private:
  struct State;
  explicit Packer(std::unique_ptr<State> state);
  Status AddBatch(std::span<const storage::ObjectInfo> objects);
  // AddBatch's steps for object `i` of the batch (`listed` as listed): its entry header; its
  // entry from one whole read (prefetched by `ahead`), or from ranged reads after a Stat (its
  // details; nullopt: gone from the source). A vanished object adds nothing and is OK.
  archive::EntryHeader HeaderFor(size_t i, const storage::ObjectInfo& object) const;
  Status AddWhole(size_t i, const storage::ObjectInfo& listed, Prefetcher& ahead);
  Status AddInRanges(size_t i, const storage::ObjectInfo& listed);
  Result<std::optional<storage::ObjectInfo>> DetailsOfLarge(const storage::ObjectInfo& listed);
  std::unique_ptr<State> state_;
};

// Packs `objects` into an archive written to `sink` (a Packer given one batch). `sink` is
// written from one thread of its own, one call at a time, in order.
Result<PackResult> PackObjects(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                               archive::ByteSink& sink, const PackOptions& options,
                               std::stop_token stop);

// Runs `close` (the caller's flush of the sink: the archive's last part crosses the link; its
// completion, which carries no bytes, the caller runs after) in the turn of `ticket` of `order`
// (null: at once): the pack counts as having bytes to send while it waits and flushes, so the
// packs behind it wait. kCancelled, without closing,
// when `stop` is requested while it waits.
Status CloseInTurn(UploadOrder* order, uint64_t ticket, const std::function<Status()>& close,
                   std::stop_token stop);

}  // namespace ferry::transport
