// SyncRecorder: a BorrowedBackend that records the writes made through it (whether each
// deferred its durability, storage::WriteSpec::defer_durability) and each Backend::Sync, in
// order, for tests of the durability contract of storage/backend.h: writes, then Sync, then the
// record that says the objects are done. `on_sync` runs inside Sync, before it is forwarded (a
// test looks there at what the caller recorded so far); a non-OK answer is Sync's answer and
// the borrowed backend's Sync is then not called (a flush that failed).
// Test-only; header-only. Thread-safety: as BorrowedBackend; the log has a lock of its own.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "testing/borrowed_backend.h"

namespace ferry::testing {

class SyncRecorder : public BorrowedBackend {
 public:
  struct Event {
    enum Kind { kPut, kOpenChunked, kSync } kind;
    std::string key;        // "" for kSync
    bool deferred = false;  // the write's WriteSpec::defer_durability
  };

  explicit SyncRecorder(storage::Backend& b) : BorrowedBackend(b) {}

  Result<storage::WriteResult> Put(std::string_view k, std::span<const std::byte> d,
                                   const storage::WriteSpec& spec, std::stop_token s) override {
    auto r = BorrowedBackend::Put(k, d, spec, s);
    if (r.ok()) Log({Event::kPut, std::string(k), spec.defer_durability});
    return r;
  }
  Result<std::unique_ptr<storage::ChunkWriter>> OpenChunkWriter(std::string_view k,
                                                                const storage::WriteSpec& spec,
                                                                uint64_t part,
                                                                std::stop_token s) override {
    Log({Event::kOpenChunked, std::string(k), spec.defer_durability});
    return BorrowedBackend::OpenChunkWriter(k, spec, part, s);
  }
  Status Sync(std::stop_token s) override {
    Log({Event::kSync, "", false});
    if (on_sync) FERRY_RETURN_IF_ERROR(on_sync());
    return BorrowedBackend::Sync(s);
  }

  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // Set before the backend is used.
  std::function<Status()> on_sync;

 private:
  void Log(Event e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  mutable std::mutex mu_;
  std::vector<Event> events_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::testing
