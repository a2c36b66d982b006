// The reads of a pack ahead of the archive writer (internal to pack.cc). Prefetcher reads the
// small objects of a batch as tasks on the process's Executor, several at once, in listing
// order: one GET per object is a round trip each, and a batch holds thousands of them. The
// window bounds memory: at most `window` objects of at most `small_limit` bytes are held ahead
// of the writer, their bytes counted in the executor's ByteBudget. RangeAhead does the same for
// the ranged reads of one large object. Both are ReadAhead (read_ahead.h).
//
// Thread-safety: Take and Read are called by one thread (Take in increasing index order).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "archive/io.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transport/prefetch_gate.h"
#include "transport/read_ahead.h"

namespace ferry::transport {

// One small object read whole: its details as the GET gave them and its bytes.
struct ReadObject {
  Status status;
  bool vanished = false;  // gone from the source since it was listed
  // status is kDataLoss because two reads gave the same bytes and what the object declares
  // refused both: the object's own bytes, not a fault of the transfer (PackOptions::refused).
  bool refused_alike = false;
  storage::ObjectInfo object;
  std::string bytes;
};

// The error of an object whose bytes, read twice alike (CRC32C `crc`), what it declares refused:
// it holds kReadTwiceAlike, as replication's lasting failures do (replicate/pass_internal.h).
inline constexpr std::string_view kReadTwiceAlike = "its bytes, read twice alike";
std::string ReadTwiceAlikeMessage(const std::string& key, uint32_t crc);

// Whether reads of `object` name its version: `by_version` (the objects are versions a
// replication pass described) and it has a version id other than "null" (an unversioned
// source's one version is read as the object, pinned to its ETag).
bool ReadsVersion(const storage::ObjectInfo& object, bool by_version);

// `out.size()` bytes of `object` at `offset`: of its version (ReadsVersion), else of the object
// pinned to its ETag (a changed object: the backend's kFailedPrecondition).
Status ReadRangeOf(storage::Backend& src, const storage::ObjectInfo& object, bool by_version,
                   uint64_t offset, std::span<std::byte> out, std::stop_token stop);

// Reads `listed` whole (details and bytes in one GET; by its version id when ReadsVersion);
// the listing's mtime kept when the GET only knows its second.
ReadObject ReadWhole(storage::Backend& src, const storage::ObjectInfo& listed,
                     std::stop_token stop, bool by_version = false);

struct PrefetchOptions {
  uint64_t small_limit = 1ull << 20;  // objects up to this size are read; larger: the caller's
  size_t reads = 32;                  // reads in flight at most (tasks on the executor)
  // Objects read ahead of the writer at most, and their listed bytes at most (0: window x
  // small_limit). One object is always allowed, whatever its size.
  size_t window = 1024;
  uint64_t window_bytes = 0;
  ReadGate* gate = nullptr;  // each read waits for its turn here first (null: none)
  bool by_version = false;   // versions: read by version id (ReadsVersion)
};

// The small objects of `objects` read whole ahead of the writer as tasks of the process's
// Executor (read_ahead.h: what bounds the reads, and why none waits on a worker): each read is
// one request in flight there, and its bytes are taken from the executor's ByteBudget before
// the read starts and given back when the writer takes the object (or passes it by).
class Prefetcher : private ReadAhead<ReadObject> {
 public:
  // `objects` must outlive the prefetcher. Reads stop when `stop` is requested or the
  // prefetcher is destroyed (which waits for the reads under way).
  Prefetcher(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
             transfer::Executor& executor, const PrefetchOptions& options, std::stop_token stop);
  ~Prefetcher() override;

  // The object `index` (a small one), once read. Indexes increase from call to call.
  ReadObject Take(size_t index);
  // Hands a taken object's buffer back: a later read reuses it (its pages stay mapped, so
  // reading many small objects does not fault in fresh memory for each one).
  void GiveBack(std::string bytes);

 private:
  bool Skipped(size_t i) const override { return objects_[i].size > small_limit_; }
  uint64_t Bytes(size_t i) const override { return objects_[i].size; }
  ReadObject PrepareItem(size_t i) override;
  void ReadItem(size_t i, ReadObject& item, std::stop_token stop) override;

  storage::Backend& src_;
  std::span<const storage::ObjectInfo> objects_;
  const uint64_t small_limit_;
  const bool by_version_;
  const size_t window_;
  const uint64_t window_bytes_;
  std::multimap<size_t, std::string> spare_;  // GUARDED_BY(mu_): buffers given back, by capacity
  uint64_t spare_bytes_ = 0;                  // GUARDED_BY(mu_): their capacity
};

struct RangeAheadOptions {
  size_t chunk = 4u << 20;   // bytes per ranged read
  size_t reads = 4;          // reads in flight at most (tasks on the executor)
  size_t window = 4;         // ranges read ahead of the reader at most
  ReadGate* gate = nullptr;  // each read waits for its turn here first (null: none)
  bool by_version = false;   // a version: read by its version id (ReadsVersion)
};

// One range of a RangeAhead.
struct ReadRange {
  Status status;
  std::vector<std::byte> bytes;
};

// One large object read in ranged reads of `chunk` bytes pinned to its ETag (a changed object
// fails with the backend's kFailedPrecondition), up to `window` of them ahead of the reader as
// tasks of the process's Executor, their bytes in its ByteBudget (read_ahead.h), so that the
// archive writer compresses one range while the next ones are read (memory: window x chunk).
// Read hands the bytes out in order.
class RangeAhead : public archive::ChunkSource, private ReadAhead<ReadRange> {
 public:
  // `object` (key, size, ETag) must outlive this. Stops (and its reads are cancelled) when
  // `stop` is requested or it is destroyed.
  RangeAhead(storage::Backend& src, const storage::ObjectInfo& object,
             transfer::Executor& executor, const RangeAheadOptions& options,
             std::stop_token stop);
  ~RangeAhead() override;

  Result<size_t> Read(std::span<std::byte> out) override;
  // The ranges read ahead are lent in place: the writer compresses from them, no copy.
  bool CanLend() const override { return true; }
  Result<std::span<const std::byte>> Lend() override;
  void Consume(size_t n) override;

 private:
  uint64_t Bytes(size_t i) const override;
  ReadRange PrepareItem(size_t i) override;
  void ReadItem(size_t i, ReadRange& item, std::stop_token stop) override;
  // REQUIRES: mu_ held. The current range, once read; nullptr at the end or when stopped
  // (`stopped` set).
  ReadRange* Current(std::unique_lock<std::mutex>& lock, bool& stopped);
  // REQUIRES: mu_ held. `n` more bytes of the current range were handed out.
  void Advance(std::unique_lock<std::mutex>& lock, size_t n);

  storage::Backend& src_;
  const storage::ObjectInfo& object_;
  const size_t chunk_;
  const bool by_version_;
  size_t current_ = 0;  // GUARDED_BY(mu_): the range Read is in
  size_t offset_ = 0;   // GUARDED_BY(mu_): bytes of it handed out
  std::vector<std::vector<std::byte>> spare_;  // GUARDED_BY(mu_): buffers of ranges handed out
};

}  // namespace ferry::transport
