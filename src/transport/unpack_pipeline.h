// The writing side of one unpack (internal to unpack.cc), so that the destination's round trips
// overlap the reading and decoding of the archive:
//  - EntryWriters: small entries, decoded and checked by the reading thread, PUT as tasks of the
//    process's Executor (a window of entries past the recorded watermark, a byte bound of the
//    unpack's own, their bytes in the executor's ByteBudget); the watermark advances only over
//    a contiguous prefix of finished entries.
//  - PartUploader: the bytes of one large entry cut into parts uploaded in parallel as tasks of
//    the executor (a few in flight), so a large entry is never held whole and its parts' round
//    trips overlap its decode; its commit runs on the last part's task (LargeWrite::FinishThen),
//    so no worker ever waits for another task.
//
// EntryPresent: whether the destination holds an entry a crashed attempt may have written
// (options.present, else a Stat: same size, ferry CRC32C and ferry-mtime as the entry, then the
// bytes read back must have the entry's CRC32C: the ferry-* values are claims).
//
// Thread-safety: EntryWriters' public methods are called by the reading thread (Done and Fail
// also by its own threads); PartUploader's by one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transport/unpack.h"

namespace ferry::transport {

Result<bool> EntryPresent(storage::Backend& dst, const archive::Entry& entry,
                          const UnpackOptions& options, std::stop_token stop);

class LargeWrite;

class EntryWriters {
 public:
  struct Task {
    uint64_t index = 0;
    const archive::Entry* entry = nullptr;
    std::string bytes;   // decoded and checked
    bool check = false;  // may have been written by a crashed attempt: look first
    // A large entry decoded and checked whose last parts and commit are left to a writer
    // thread (bytes empty; `held` bytes of part buffers counted against max_bytes).
    std::shared_ptr<LargeWrite> large;
    uint64_t held = 0;
    uint64_t budgeted = 0;  // set by Push: the ByteBudget bytes its WaitRoom took
  };

  // `options` (its executor set) must outlive this; the watermark starts at `start` (the
  // recorded one). The writes are tasks of options.executor, the bytes they hold in its
  // ByteBudget (besides options.max_bytes).
  EntryWriters(storage::Backend& dst, const UnpackOptions& options, uint64_t start,
               std::stop_token stop);
  ~EntryWriters() { Stop(); }
  EntryWriters(const EntryWriters&) = delete;
  EntryWriters& operator=(const EntryWriters&) = delete;

  // Waits until entry `index` holding `size` bytes may start: below the recorded watermark +
  // options.window, within options.max_bytes and the executor's ByteBudget (taken here, and
  // given back when its write ends; overdrawn by this entry when no write of this unpack is
  // under way to free it; an entry not pushed gives it back at the next WaitRoom or Finish);
  // records the watermark (journal.Record) every
  // options.checkpoint_every entries and whenever the window waits on it (once the watermark
  // moved an eighth of the window past the last record). The first failure of
  // a write (or Cancelled when `stop` is requested) is returned.
  Status WaitRoom(uint64_t index, uint64_t size, UnpackJournal& journal, uint64_t entries);
  // Queues an entry's write on the executor (a small one, or a large one's tail). Waits while
  // this unpack's queue there is full.
  void Push(Task task);
  // Entry `index` is on the destination (or not meant for it): the watermark moves over it
  // once every entry below it is done too.
  void Done(uint64_t index);
  // Fails the unpack: no queued entry is written after this; Finish returns `s`.
  void Fail(Status s);
  // Waits until no write is queued or running; returns the first failure.
  Status Finish();
  // Finish, then leaves the executor.
  void Stop();

  std::atomic<uint64_t> written{0}, bytes_written{0}, already_present{0};

 private:
  void Run(Task& t);  // on a worker of the executor
  Status Write(const Task& t);
  void DoneLocked(uint64_t index);  // REQUIRES(mu_)
  void FailLocked(Status s);        // REQUIRES(mu_)
  void ReleaseReservedLocked();     // REQUIRES(mu_)
  void PushLarge(std::shared_ptr<Task> task);
  // Ends a write (its outcome, the watermark or the failure, its bytes) under mu_.
  void EndLocked(const Task& t, const Status& s);
  void DestroyFinished();  // the reading thread, without mu_

  storage::Backend& dst_;
  const UnpackOptions& options_;
  transfer::ByteBudget& budget_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t queued_bytes_ = 0;  // GUARDED_BY(mu_): of writes pushed and not ended
  uint64_t pending_ = 0;       // GUARDED_BY(mu_): writes pushed and not ended
  uint64_t reserved_ = 0;      // GUARDED_BY(mu_): budget taken by WaitRoom, not yet pushed
  std::set<uint64_t> done_;    // GUARDED_BY(mu_): finished entries above the watermark
  uint64_t watermark_;         // GUARDED_BY(mu_)
  uint64_t recorded_ = 0;      // GUARDED_BY(mu_): the watermark the journal holds
  Status error_;               // GUARDED_BY(mu_)
  // Large entries whose commit ran (FinishThen), kept until the reading thread destroys them:
  // their parts' queue must not be destroyed on the task of their last part.
  std::vector<std::shared_ptr<Task>> finished_;  // GUARDED_BY(mu_)
  std::stop_token stop_;
  std::unique_ptr<transfer::TaskQueue> tasks_;  // last: destroyed (its writes waited for) first
};

// The bytes of one chunked write, in parts of `part_size` (the last shorter), each handed to a
// priority task of `executor` as soon as it is full: at most `parts_at_once` parts upload at
// once and one more fills, so memory stays within (parts_at_once + 1) x part_size whatever the
// size of the object. Write returns the first failed part's error (or Cancelled) so that the
// decode stops early. Finish sends the last part (an empty one when nothing was written) and
// waits for every part; FinishThen sends it and returns, `then` running once every part has
// ended. After any error the caller aborts the writer. Buffers are reused from part to part: at
// most parts_at_once + 1 are allocated. The caller's thread waits for room (never a worker).
class PartUploader : public archive::ByteSink {
 public:
  // `writer` must outlive this.
  PartUploader(storage::ChunkWriter& writer, transfer::Executor& executor, uint64_t part_size,
               int parts_at_once, std::stop_token stop);
  // Parts not started are dropped, those under way waited for. Never destroyed from inside
  // FinishThen's `then` (its queue would wait for the task running it).
  ~PartUploader() override;
  PartUploader(const PartUploader&) = delete;
  PartUploader& operator=(const PartUploader&) = delete;

  Status Write(std::span<const std::byte> data) override;
  Status Finish();
  // Sends the last part and returns; `then` gets the first failure (or Ok) once every part has
  // ended: on the task of the last part to end, or on this thread when none is under way. It is
  // the last thing that task does with this uploader.
  void FinishThen(std::function<void(Status)> then);
  // Waits until no part is in flight (the current one is not sent); the first failure.
  Status Drain();

  // The most parts that were uploading at once (for tests and logs).
  int peak_in_flight() const;

 private:
  struct Part {
    int number = 0;
    uint64_t offset = 0;
    std::vector<std::byte> bytes;
  };
  Status SendLast();  // the last part (an empty one when nothing was written), unless sent
  Status Hand();  // current_ to a task, waiting while `parts_at_once` parts are in flight
  void Upload(Part& part);  // a part's task

  storage::ChunkWriter& writer_;
  const uint64_t part_size_;
  const int parts_at_once_;
  std::stop_token stop_;
  Part current_;     // the part being filled (the caller's thread only)
  int next_number_ = 1;
  uint64_t next_offset_ = 0;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  int in_flight_ = 0;                      // GUARDED_BY(mu_): handed and not ended
  int peak_in_flight_ = 0;                 // GUARDED_BY(mu_)
  std::vector<std::vector<std::byte>> free_;  // GUARDED_BY(mu_): buffers to fill again
  Status error_;                           // GUARDED_BY(mu_)
  std::function<void(Status)> then_;       // GUARDED_BY(mu_): FinishThen's, until it runs
  bool dropping_ = false;                  // GUARDED_BY(mu_): destroyed: parts not started go
  std::unique_ptr<transfer::TaskQueue> queue_;  // last: destroyed (its parts waited for) first
};

}  // namespace ferry::transport

namespace ferry::transport {

// One large entry's chunked write, split so that the reading thread decodes and checks the
// entry (Start) and a writer thread waits for its last parts and commits it (Finish) while the
// next entries are read. Start opens the write, runs `read` into a PartUploader and returns
// the write with its parts possibly still in flight; when `read` (the check) fails, the write
// is aborted and the error returned: nothing becomes visible. Finish waits for every part and
// commits (aborting on any failure). Destroyed without Finish: aborted.
class LargeWrite {
 public:
  static Result<std::unique_ptr<LargeWrite>> Start(const archive::Entry& entry,
                                                   const EntryReader& read,
                                                   storage::Backend& dst,
                                                   const UnpackOptions& options,
                                                   std::stop_token stop);
  ~LargeWrite();
  LargeWrite(const LargeWrite&) = delete;
  LargeWrite& operator=(const LargeWrite&) = delete;

  Status Finish(storage::WriteResult* made);
  // Finish without waiting: the last part is sent (this thread waits for room), and once every
  // part has ended, on the task of the last one (or here, when none is under way), the fence
  // (options.before_write) and the commit run (or the abort, after any failure), then
  // `done(status, what the commit made)`. The LargeWrite must outlive `done` and must not be
  // destroyed inside it.
  void FinishThen(std::function<void(Status, storage::WriteResult)> done);
  // Part buffers it may hold until Finish returns.
  static uint64_t Held(const UnpackOptions& options) {
    return (static_cast<uint64_t>(std::max(1, options.part_threads)) + 1) * options.part_size;
  }

 private:
  LargeWrite(std::unique_ptr<storage::ChunkWriter> writer, const UnpackOptions& options,
             std::stop_token stop);
  std::unique_ptr<storage::ChunkWriter> writer_;
  std::unique_ptr<PartUploader> parts_;
  std::function<Status()> before_commit_;  // options.before_write
  std::stop_token stop_;
  bool ended_ = false;  // committed or aborted
};

}  // namespace ferry::transport
