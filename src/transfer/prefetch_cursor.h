// PrefetchCursor: a ListingCursor that reads another one on a thread of its own, so that a
// side's listing goes on (its next page requested, its files stat'ed) while the merge compares
// what arrived. RunSync lists both sides this way: the two listings run concurrently and the
// comparison starts with the first batch of each.
//
// The reader copies objects into batches of `batch` objects and hands them over through a
// queue of at most `max_batches` batches; it waits while the queue is full, so memory stays
// bounded: about (max_batches + 2) x batch objects, whatever the listing's length.
//
// Order and errors are the inner cursor's: the same objects in the same order, then its end
// (nullptr) or its first error, which Next keeps returning (nothing after it is read). So a
// merge over prefetched cursors sees exactly what it would see over the inner ones.
//
// Thread-safety: like every ListingCursor, Next from one thread at a time. The inner cursor is
// used by the reader thread only, from construction until the destructor, which stops the
// reader (it finishes the inner Next in progress, e.g. one page request) and joins it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::transfer {

class PrefetchCursor : public storage::ListingCursor {
 public:
  struct Options {
    size_t batch = 1000;     // objects per hand-over (one S3 page)
    size_t max_batches = 2;  // batches waiting in the queue, at most
    // When set, the listing ends before the first object for which it is true (e.g. past the
    // end of a key range: nothing beyond is read ahead). Called on the reader thread.
    std::function<bool(const storage::ObjectInfo&)> ends_before;
  };

  explicit PrefetchCursor(std::unique_ptr<storage::ListingCursor> inner)
      : PrefetchCursor(std::move(inner), Options{}) {}
  PrefetchCursor(std::unique_ptr<storage::ListingCursor> inner, Options options);
  ~PrefetchCursor() override;
  PrefetchCursor(const PrefetchCursor&) = delete;
  PrefetchCursor& operator=(const PrefetchCursor&) = delete;

  Result<const storage::ObjectInfo*> Next() override;

 private:
  void Read(std::stop_token stop);

  const std::unique_ptr<storage::ListingCursor> inner_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::vector<storage::ObjectInfo>> ready_;  // GUARDED_BY(mu_)
  bool ended_ = false;                                   // GUARDED_BY(mu_): no more batches
  Status end_;  // GUARDED_BY(mu_): the inner cursor's error, or OK at its end

  // The consumer's side (Next's thread only).
  std::vector<storage::ObjectInfo> current_;
  size_t at_ = 0;
  bool finished_ = false;  // current_ was the last batch and is used up
  Status final_;

  std::jthread reader_;  // last: started when everything above exists
};

}  // namespace ferry::transfer
