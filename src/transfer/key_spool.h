// KeySpool: keys kept in a temporary file ([u32 length][bytes] records) until the run replays
// them in batches: sync --delete's destination deletes and ferry move's source deletes
// (docs/design/planner.md). Memory stays bounded whatever their count; the file is gone when
// the spool is destroyed.
//
// Thread-safety: Add and count are thread-safe (a move's keys are added by the engine's
// workers); Replay is called once every Add has returned.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::transfer {

class KeySpool {
 public:
  KeySpool();
  ~KeySpool();
  KeySpool(const KeySpool&) = delete;
  KeySpool& operator=(const KeySpool&) = delete;

  // kInternal when the temporary file cannot be made or written (the key is then not kept).
  Status Add(std::string_view key);
  uint64_t count() const;
  // Calls `batch` with up to `n` keys at a time, in the order they were added.
  Status Replay(size_t n, const std::function<void(std::vector<std::string>)>& batch);

 private:
  mutable std::mutex mu_;
  std::FILE* file_;       // GUARDED_BY(mu_)
  uint64_t count_ = 0;    // GUARDED_BY(mu_)
};

}  // namespace ferry::transfer
