// ferry cp/sync's --max-transfer SIZE, --max-duration DUR and --cutoff-mode hard|soft|cautious
// (transfer/cutoff.h, docs/design/guards.md): the flags registered and checked (with sync's
// defaults from [sync] in the config), the exit status of a cut run, and the deadline of a
// durable run.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "app/config.h"
#include "base/clock.h"
#include "base/status.h"
#include "transfer/cutoff.h"

namespace ferry::cli {

struct CutoffArgs {
  std::string max_transfer;  // "" = no limit
  std::string max_duration;  // "" = no limit
  std::string cutoff_mode;   // "" = hard
};

// rclone's exit statuses of a run stopped by a limit.
inline constexpr int kExitMaxTransfer = 8;
inline constexpr int kExitMaxDuration = 10;

// `sync`: ferry sync, whose help names the [sync] keys that stand for absent flags.
void AddCutoffOptions(CLI::App* cmd, CutoffArgs& args, bool sync);

// Sets `out` from the flags and, for ferry sync (`config` not null), the config's [sync]
// max_transfer, max_duration and cutoff_mode where a flag is absent; a flag wins over its key,
// and "off" (--max-transfer off, --max-duration off) sets no limit whatever the key says.
// kInvalidArgument, one line naming the flag: a bad size or duration, 0, an unknown mode,
// --cutoff-mode without a limit (the keys' own values were checked when the config was read).
// A durable run takes them in every mode: its command's worker stops at them
// (DurableTransferCut; a hard --max-duration stops the run as Ctrl-C does: DurableDeadline).
Status ApplyCutoffFlags(const CutoffArgs& a, const app::Config* config,
                        transfer::CutoffOptions& out);

// 8 for --max-transfer, 10 for --max-duration, else `otherwise`.
int CutoffExitCode(transfer::CutoffReason reason, int otherwise);

// A durable run's --max-transfer, and its --max-duration in soft or cautious mode (a hard one is
// DurableDeadline's): the Cutoff its command's worker asks as each copy starts and as it claims
// (jobs::WorkerOptions::cutoff), and the line of a run it cut. Past the deadline the worker
// starts no copy and claims no job; the copies in flight finish. Empty without those limits.
class DurableTransferCut {
 public:
  DurableTransferCut(const transfer::CutoffOptions& options, Clock& clock);
  transfer::Cutoff* cutoff() { return cutoff_ ? &*cutoff_ : nullptr; }
  bool cut() const { return cutoff_ && cutoff_->cut(); }
  transfer::CutoffReason reason() const {
    return cutoff_ ? cutoff_->reason() : transfer::CutoffReason::kNone;
  }
  // "stopped by --max-transfer 3.5 MiB (--cutoff-mode cautious): the run is unfinished and
  // nothing was deleted; run the same command again (or ferry worker) to finish it"
  std::string Describe() const;

 private:
  std::optional<transfer::Cutoff> cutoff_;
};

// A durable run's --max-duration: token() stops when `outer` does or when `duration` has passed
// on `clock` (then passed() is true). Zero `duration`: only `outer`.
class DurableDeadline {
 public:
  DurableDeadline(std::chrono::milliseconds duration, std::stop_token outer, Clock& clock);
  ~DurableDeadline();
  DurableDeadline(const DurableDeadline&) = delete;
  DurableDeadline& operator=(const DurableDeadline&) = delete;

  std::stop_token token() const { return source_.get_token(); }
  bool passed() const { return passed_.load(); }
  // The one line of a run stopped at its deadline.
  std::string Describe() const;

 private:
  std::chrono::milliseconds duration_;
  std::stop_source source_;
  std::atomic<bool> passed_{false};
  std::optional<std::stop_callback<std::function<void()>>> on_outer_;
  std::jthread timer_;  // last: stopped and joined first
};

}  // namespace ferry::cli
