// transport::Prefetcher (internal to pack.cc): reads the small objects of a batch ahead of the
// archive writer, on a few threads, in listing order: one GET per object is a round trip each,
// and a batch holds thousands of them. The window bounds memory: at most `window` objects of at
// most `small_limit` bytes are held ahead of the writer.
//
// Thread-safety: Take is called by one thread, in increasing index order.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"

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

class Prefetcher {
 public:
  // Reads the objects of `objects` up to `small_limit` bytes (the others are left to the
  // caller) on `threads` threads. `objects` must outlive the prefetcher.
  Prefetcher(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
             uint64_t small_limit, int threads, size_t window, std::stop_token stop);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The object `index` (a small one), once read. Indexes increase from call to call.
  ReadObject Take(size_t index);

 private:
  void Loop(std::stop_token stop);

  storage::Backend& src_;
  std::span<const storage::ObjectInfo> objects_;
  const uint64_t small_limit_;
  const size_t window_;
  std::stop_token stop_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  size_t next_ = 0;     // GUARDED_BY(mu_): the next index a thread takes
  size_t taken_ = 0;    // GUARDED_BY(mu_): indexes below were taken by the writer
  std::map<size_t, ReadObject> ready_;  // GUARDED_BY(mu_)
  std::vector<std::jthread> threads_;
};

}  // namespace ferry::transport
