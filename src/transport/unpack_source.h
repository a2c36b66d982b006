// transport::ReadAheadSource (used by unpack.cc): a staged archive's frames read one range
// ahead of the archive::EntryStream that decodes them, so that range N+1 is downloaded while
// the entries of range N are decoded and written. The EntryStream reads the data front to back
// in ranges of one size (the last shorter): after each ReadAt at [o, o+n) that ends below
// `limit` (the end of the frames: nothing after it is read ahead), [o+n, o+n+n) (cut at
// `limit`) is read on a thread of its own; a ReadAt of exactly that range then takes its bytes,
// any other one reads directly.
//
// Errors: the inner source's, returned by the ReadAt that takes the range.
// Thread-safety: one thread at a time (as RangeSource); `inner`'s ReadAt is called from that
// thread and from one other, never at the same time, so a stateless source (BackendRangeSource)
// is fine.
#pragma once

#include <cstdint>
#include <future>
#include <span>
#include <vector>

#include "archive/io.h"
#include "base/status.h"

namespace ferry::transport {

class ReadAheadSource : public archive::RangeSource {
 public:
  // `inner` must outlive this.
  ReadAheadSource(archive::RangeSource& inner, uint64_t limit) : inner_(inner), limit_(limit) {}
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  uint64_t size() const override { return inner_.size(); }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) override;

  // Reads served from a range read ahead (for tests and logs).
  int hits() const { return hits_; }

 private:
  archive::RangeSource& inner_;
  const uint64_t limit_;
  std::future<Status> pending_;  // the range read ahead, if any
  uint64_t pending_offset_ = 0;
  std::vector<std::byte> pending_bytes_;
  int hits_ = 0;
};

}  // namespace ferry::transport
