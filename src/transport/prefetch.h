// The reads of a pack ahead of the archive writer (internal to pack.cc). Prefetcher reads the
// small objects of a batch as tasks on the process's Executor, several at once, in listing
// order: one GET per object is a round trip each, and a batch holds thousands of them. The
// window bounds memory: at most `window` objects of at most `small_limit` bytes are held ahead
// of the writer, their bytes counted in the executor's ByteBudget. RangeAhead does the same for
// the ranged reads of one large object (on threads of its own still).
//
// Thread-safety: Take and Read are called by one thread (Take in increasing index order).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "archive/io.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transfer/executor.h"

namespace ferry::transport {

// One small object read whole: its details as the GET gave them and its bytes.
struct ReadObject {
  Status status;
  bool vanished = false;  // gone from the source since it was listed
  storage::ObjectInfo object;
  std::string bytes;
};

// Reads `listed` whole (details and bytes in one GET); the listing's mtime kept when the GET
// only knows its second.
ReadObject ReadWhole(storage::Backend& src, const storage::ObjectInfo& listed,
                     std::stop_token stop);

// Paces the reads of several pipelines that share a source (pack.cc: in the order of the
// packs' UploadOrder, so that the archive whose bytes cross the link next is read first).
class ReadGate {
 public:
  virtual ~ReadGate() = default;
  // Before one read: waits for its turn. False when `stop` was requested meanwhile (the read
  // must not start); else `follower` is what to pass to End once the read is over.
  virtual bool Begin(std::stop_token stop, bool& follower) = 0;
  // Begin without waiting: false when the read may not start now.
  virtual bool TryBegin(bool& follower) = 0;
  virtual void End(bool follower) = 0;
};

struct PrefetchOptions {
  uint64_t small_limit = 1ull << 20;  // objects up to this size are read; larger: the caller's
  size_t reads = 32;                  // reads in flight at most (tasks on the executor)
  // Objects read ahead of the writer at most, and their listed bytes at most (0: window x
  // small_limit). One object is always allowed, whatever its size.
  size_t window = 1024;
  uint64_t window_bytes = 0;
  ReadGate* gate = nullptr;  // each read waits for its turn here first (null: none)
};

// The small objects of `objects` read whole ahead of the writer as tasks on the process's
// Executor: each read is one request in flight there, and its bytes are taken from the
// executor's ByteBudget before the read starts and given back when the writer takes the object
// (or when it is dropped), so packs hold no memory and no thread outside the process's budgets.
//
// Reads are started in index order by the writer (Take) and, as each read ends, by the task
// that read it, never waiting: the budget and the gate are tried, and what they refuse is left
// for later. When nothing is under way and the writer needs the next object, it waits for the
// gate on its own thread and overdraws the budget by that one object (ByteBudget::Overdraw):
// what would free the budget may wait for this pack. So a worker of the executor never waits
// for budget, gate or window, every read the writer waits for has been started, and the
// budget is exceeded by at most one small object per pack.
class Prefetcher {
 public:
  // `objects` must outlive the prefetcher. Reads stop when `stop` is requested or the
  // prefetcher is destroyed (which waits for the reads under way).
  Prefetcher(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
             transfer::Executor& executor, const PrefetchOptions& options, std::stop_token stop);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The object `index` (a small one), once read. Indexes increase from call to call.
  ReadObject Take(size_t index);
  // Hands a taken object's buffer back: a later read reuses it (its pages stay mapped, so
  // reading many small objects does not fault in fresh memory for each one).
  void GiveBack(std::string bytes);

 private:
  struct Started {
    size_t index;
    bool follower;
    std::string buffer;  // a spare to read into
  };
  // REQUIRES(mu_): skips the large objects at next_; true when the next object may be read
  // now (or none is left).
  bool HasRoom();
  // REQUIRES(mu_): starts the reads the window, reads, budget and gate allow now, without
  // waiting; the caller pushes them (Push) once mu_ is released.
  std::vector<Started> StartMore();
  // REQUIRES(mu_): next_ (a small object) is read from now on; its budget and gate were taken.
  Started StartNext(bool follower);
  void Push(std::vector<Started> started);
  void Read(Started s, std::stop_token stop);
  void Release(size_t index);  // REQUIRES(mu_): `index` leaves the window

  storage::Backend& src_;
  std::span<const storage::ObjectInfo> objects_;
  transfer::ByteBudget& budget_;
  const PrefetchOptions options_;
  const size_t window_;
  const uint64_t window_bytes_;
  std::stop_source own_stop_;  // requested by the caller's token or the destructor
  std::stop_callback<std::function<void()>> forward_stop_;  // the caller's token -> own_stop_
  std::mutex mu_;
  std::condition_variable_any writer_cv_;  // waits on own_stop_'s token too
  size_t next_ = 0;         // GUARDED_BY(mu_): the next index to read
  size_t taken_ = 0;        // GUARDED_BY(mu_): indexes below were taken by the writer
  size_t ahead_ = 0;        // GUARDED_BY(mu_): objects started, not taken yet
  uint64_t bytes_ahead_ = 0;  // GUARDED_BY(mu_): their listed sizes (budget bytes held)
  size_t in_flight_ = 0;      // GUARDED_BY(mu_): reads started and not ended
  size_t waiting_for_ = SIZE_MAX;  // GUARDED_BY(mu_): the index Take waits for
  std::map<size_t, ReadObject> ready_;  // GUARDED_BY(mu_)
  std::multimap<size_t, std::string> spare_;  // GUARDED_BY(mu_): buffers given back, by capacity
  uint64_t spare_bytes_ = 0;            // GUARDED_BY(mu_): their capacity
  std::unique_ptr<transfer::TaskQueue> queue_;  // last: destroyed (its reads waited for) first
};

// One large object read in ranged reads of `chunk` bytes pinned to its ETag (a changed object
// fails with the backend's kFailedPrecondition), up to `window` of them ahead of the reader on
// `threads` threads of its own, so that the archive writer compresses one range while the next
// ones are read (memory: window x chunk). Read hands the bytes out in order.
class RangeAhead : public archive::ChunkSource {
 public:
  // `object` (key, size, ETag) must outlive this. Stops (and its reads are cancelled) when
  // `stop` is requested or it is destroyed.
  RangeAhead(storage::Backend& src, const storage::ObjectInfo& object, size_t chunk, int threads,
             size_t window, std::stop_token stop, ReadGate* gate = nullptr);
  ~RangeAhead() override;
  RangeAhead(const RangeAhead&) = delete;
  RangeAhead& operator=(const RangeAhead&) = delete;

  Result<size_t> Read(std::span<std::byte> out) override;
  // The ranges read ahead are lent in place: the writer compresses from them, no copy.
  bool CanLend() const override { return true; }
  Result<std::span<const std::byte>> Lend() override;
  void Consume(size_t n) override;

 private:
  struct Range {
    Status status;
    std::vector<std::byte> bytes;
  };
  void Loop();
  // REQUIRES: mu_ held. Waits for the current range; nullptr at the end or when stopped
  // (`stopped` set).
  Range* Current(std::unique_lock<std::mutex>& lock, bool& stopped);
  // REQUIRES: mu_ held. `n` more bytes of the current range were handed out.
  void Advance(size_t n);

  storage::Backend& src_;
  const storage::ObjectInfo& object_;
  const size_t chunk_;
  const size_t chunks_;
  const size_t window_;
  ReadGate* const gate_;
  std::stop_source own_stop_;  // requested by the caller's token or the destructor
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::stop_callback<std::function<void()>> forward_stop_;  // the caller's token -> own_stop_
  size_t next_ = 0;      // GUARDED_BY(mu_): the next range a thread reads
  size_t current_ = 0;   // GUARDED_BY(mu_): the range Read is in
  size_t offset_ = 0;    // GUARDED_BY(mu_): bytes of it handed out
  std::map<size_t, Range> ready_;  // GUARDED_BY(mu_)
  std::vector<std::vector<std::byte>> spare_;  // GUARDED_BY(mu_): buffers of ranges handed out
  std::vector<std::jthread> threads_;
};

}  // namespace ferry::transport
