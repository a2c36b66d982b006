// Cutoff: the in-memory run's --max-transfer SIZE, --max-duration DUR and --cutoff-mode
// hard|soft|cautious (rclone's meaning; docs/design/guards.md). RunSync asks it before each copy
// it hands to the engine whether the copy may start, tells it how each one ended, and reads
// from it why the run was cut and what was left.
//
// Bytes are counted when a copy starts (on a worker), the whole object's size:
//   hard      no copy starts once the copies started hold the limit or more, and the copies in
//             flight are cancelled then (ShouldCancel) and left, not failed
//             (TransferOptions::cut); a duration cut cancels them too.
//   soft      the same, but copies in flight finish.
//   cautious  a copy that would take the bytes started past the limit is not started (nor any
//             after it): the run never copies more than the limit.
// A duration cut is decided on the run's Clock (never std::chrono::steady_clock directly).
// Thread-safety: thread-safe (MayStart on the listing thread, Ended on engine workers).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace ferry::transfer {

enum class CutoffMode { kHard, kSoft, kCautious };

// "hard", "soft" or "cautious" (any case); kInvalidArgument otherwise.
Result<CutoffMode> ParseCutoffMode(std::string_view text);
// The limits as --max-transfer and --max-duration (and [sync]'s keys) take them, one parser for
// the flags and the config: a size of at least 1 byte ("10GiB", plan::ParseSize), a duration of
// at least 1s ("90m", plan::ParseAge). kInvalidArgument, one line without the flag's or key's
// name (the caller adds it): "'0': at least 1 byte".
Result<uint64_t> ParseMaxTransfer(std::string_view text);
Result<std::chrono::seconds> ParseMaxDuration(std::string_view text);
const char* CutoffModeName(CutoffMode mode);

struct CutoffOptions {
  uint64_t max_transfer = 0;                 // bytes; 0: no limit
  std::chrono::milliseconds max_duration{0};  // 0: no limit
  CutoffMode mode = CutoffMode::kHard;
  bool any() const { return max_transfer > 0 || max_duration.count() > 0; }
};

enum class CutoffReason { kNone, kMaxTransfer, kMaxDuration };

class Cutoff {
 public:
  // The duration counts from `start` (on `clock`'s MonoNow scale). `clock` must outlive this.
  Cutoff(const CutoffOptions& options, Clock& clock, Clock::MonoTime start);

  // As a copy of `size` bytes starts (TransferOptions::may_start, on a worker): true to start
  // it. False once the run is cut; the call that cuts it sets reason().
  bool MayStart(uint64_t size);
  // A copy of `size` bytes handed to the engine ended with `status`: one the cut cancelled or
  // kept from starting is left.
  void Ended(uint64_t size, const Status& status);
  // A copy of `size` bytes never handed to the engine because the run was cut: left.
  void Left(uint64_t size);
  // Whether the run is cut, the deadline checked now (a run past it is cut here).
  bool CutNow();
  // The deadline passed (the run's timer saw it): cuts the run for --max-duration.
  void DeadlinePassed();
  // Hard mode and the run is cut: the copies in flight are to be cancelled now.
  bool ShouldCancel() const { return options_.mode == CutoffMode::kHard && cut(); }

  bool cut() const { return reason() != CutoffReason::kNone; }
  CutoffReason reason() const;
  Clock::MonoTime deadline() const { return deadline_; }
  const CutoffOptions& options() const { return options_; }
  uint64_t objects_left() const { return objects_left_.load(); }
  uint64_t bytes_left() const { return bytes_left_.load(); }
  // One line: which limit stopped the run, what is left, that nothing was deleted and that a
  // rerun copies the rest. `listing_stopped`: the listing ended at the cut (a duration cut), so
  // what is left is what was found until then.
  std::string Describe(bool listing_stopped) const;

 private:
  void Trip(CutoffReason why);  // mu_ held

  const CutoffOptions options_;
  Clock& clock_;
  const Clock::MonoTime deadline_;
  mutable std::mutex mu_;
  CutoffReason reason_ = CutoffReason::kNone;  // guarded by mu_
  uint64_t started_bytes_ = 0;                 // guarded by mu_
  std::atomic<uint64_t> objects_left_{0};
  std::atomic<uint64_t> bytes_left_{0};
};

}  // namespace ferry::transfer
