// transport::ReadAheadSource (used by unpack.cc): a staged archive's frames read one range
// ahead of the archive::EntryStream that decodes them, so that range N+1 is downloaded while
// the entries of range N are decoded and written. The EntryStream reads the data front to back
// in ranges of one size (the last shorter): after each ReadAt at [o, o+n) that ends below
// `limit` (the end of the frames: nothing after it is read ahead), [o+n, o+n+n) (cut at
// `limit`) is read as a priority task of the process's executor (a request counted in its
// concurrency, the range's buffer in its ByteBudget: overdrawn, never waited for); a ReadAt of
// exactly that range then takes its bytes, any other one reads directly.
//
// Errors: the inner source's, returned by the ReadAt that takes the range.
// Thread-safety: one thread at a time (as RangeSource), never a worker of the executor (ReadAt
// waits for its task); `inner`'s ReadAt is called from that thread and from the task, never at
// the same time, so a stateless source (BackendRangeSource) is fine.
#pragma once

#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "archive/io.h"
#include "base/status.h"
#include "transfer/executor.h"

namespace ferry::transport {

class ReadAheadSource : public archive::RangeSource {
 public:
  // `inner` and `executor` must outlive this.
  ReadAheadSource(archive::RangeSource& inner, uint64_t limit, transfer::Executor& executor);
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  uint64_t size() const override { return inner_.size(); }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) override;

  // Reads served from a range read ahead (for tests and logs).
  int hits() const { return hits_; }

 private:
  // Waits for the range read ahead, if any: its status (OK when there is none).
  Status WaitPending();

  archive::RangeSource& inner_;
  const uint64_t limit_;
  transfer::Executor& executor_;
  std::unique_ptr<transfer::TaskQueue> tasks_;
  bool pending_ = false;  // a range is read ahead (its task may have ended)
  uint64_t pending_offset_ = 0;
  std::vector<std::byte> pending_bytes_;  // written by the task until done_
  uint64_t budgeted_ = 0;                 // pending_bytes_'s capacity, in the budget
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;      // GUARDED_BY(mu_): the task ended
  Status pending_status_;  // GUARDED_BY(mu_)
  int hits_ = 0;
};

}  // namespace ferry::transport
