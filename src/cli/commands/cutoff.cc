#include "cli/commands/cutoff.h"

#include <condition_variable>
#include <mutex>

#include "transfer/progress.h"

namespace ferry::cli {

void AddCutoffOptions(CLI::App* cmd, CutoffArgs& args, bool sync) {
  // ferry sync's defaults come from the config's [sync] (its flags win; "off" drops a key's)
  auto key = [sync](const char* name) {
    return sync ? std::string(" (default: [sync] ") + name + "; off: no limit)" : std::string();
  };
  cmd->add_option("--max-transfer", args.max_transfer,
                  "stop once SIZE bytes of copies were started (e.g. 10GiB); no delete is made, "
                  "exit 8; a rerun copies the rest (a durable run resumes)" +
                      key("max_transfer"));
  cmd->add_option("--max-duration", args.max_duration,
                  "stop after DUR (e.g. 90m, 2h); no delete is made, exit 10; a rerun copies the "
                  "rest (a durable run resumes)" + key("max_duration"));
  cmd->add_option("--cutoff-mode", args.cutoff_mode,
                  "how a limit stops the run: hard (copies in flight cancelled, the default), "
                  "soft (they finish) or cautious (no copy that would pass --max-transfer "
                  "starts)" + std::string(sync ? " (default: [sync] cutoff_mode)" : ""));
}

namespace {

// --max-transfer, else [sync] max_transfer ("off": neither). A durable run takes it too: the
// command's worker stops at it (WorkerOptions::cutoff).
Status ApplyMaxTransfer(const CutoffArgs& a, const app::Config* config,
                        transfer::CutoffOptions& out) {
  if (a.max_transfer == "off") return Status::Ok();
  if (!a.max_transfer.empty()) {
    auto v = transfer::ParseMaxTransfer(a.max_transfer);
    if (!v.ok()) return v.status().WithContext("--max-transfer");
    out.max_transfer = *v;
  } else if (config != nullptr && config->sync.max_transfer) {
    out.max_transfer = *config->sync.max_transfer;
  }
  return Status::Ok();
}

// --max-duration, else [sync] max_duration ("off": neither).
Status ApplyMaxDuration(const CutoffArgs& a, const app::Config* config,
                        transfer::CutoffOptions& out) {
  if (a.max_duration == "off") return Status::Ok();
  if (!a.max_duration.empty()) {
    auto v = transfer::ParseMaxDuration(a.max_duration);
    if (!v.ok()) return v.status().WithContext("--max-duration");
    out.max_duration = *v;
  } else if (config != nullptr && config->sync.max_duration) {
    out.max_duration = *config->sync.max_duration;
  }
  return Status::Ok();
}

}  // namespace

Status ApplyCutoffFlags(const CutoffArgs& a, const app::Config* config,
                        transfer::CutoffOptions& out) {
  FERRY_RETURN_IF_ERROR(ApplyMaxTransfer(a, config, out));
  FERRY_RETURN_IF_ERROR(ApplyMaxDuration(a, config, out));
  if (!a.cutoff_mode.empty()) {
    if (!out.any()) {
      return Status::InvalidArgument("--cutoff-mode needs --max-transfer or --max-duration");
    }
    auto mode = transfer::ParseCutoffMode(a.cutoff_mode);
    if (!mode.ok()) return mode.status().WithContext("--cutoff-mode");
    out.mode = *mode;
  } else if (config != nullptr && config->sync.cutoff_mode && out.any()) {
    // the key's mode goes with whichever limit the run has (the parser refused it alone)
    out.mode = *config->sync.cutoff_mode;
  } else {
    return Status::Ok();
  }
  return Status::Ok();
}

int CutoffExitCode(transfer::CutoffReason reason, int otherwise) {
  switch (reason) {
    case transfer::CutoffReason::kMaxTransfer: return kExitMaxTransfer;
    case transfer::CutoffReason::kMaxDuration: return kExitMaxDuration;
    case transfer::CutoffReason::kNone: break;
  }
  return otherwise;
}

DurableTransferCut::DurableTransferCut(const transfer::CutoffOptions& options, Clock& clock) {
  transfer::CutoffOptions mine = options;
  // a hard deadline stops the run as Ctrl-C does (DurableDeadline)
  if (mine.mode == transfer::CutoffMode::kHard) mine.max_duration = std::chrono::milliseconds(0);
  if (!mine.any()) return;
  cutoff_.emplace(mine, clock, clock.MonoNow());
}

std::string DurableTransferCut::Describe() const {
  const transfer::CutoffOptions& o = cutoff_->options();
  const std::string limit =
      cutoff_->reason() == transfer::CutoffReason::kMaxDuration
          ? "--max-duration " + std::to_string(o.max_duration.count() / 1000) + "s"
          : "--max-transfer " + transfer::HumanBytes(static_cast<double>(o.max_transfer));
  return "stopped by " + limit + " (--cutoff-mode " + transfer::CutoffModeName(o.mode) +
         "): the run is unfinished and nothing was deleted; run the same command again (or "
         "ferry worker) to finish it";
}

DurableDeadline::DurableDeadline(std::chrono::milliseconds duration, std::stop_token outer,
                                 Clock& clock)
    : duration_(duration) {
  on_outer_.emplace(outer, std::function<void()>([this] { source_.request_stop(); }));
  if (duration.count() <= 0) return;
  const Clock::MonoTime deadline = clock.MonoNow() + duration;
  timer_ = std::jthread([this, &clock, deadline](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    clock.WaitUntil(cv, lock, stop, deadline, [] { return false; });
    if (stop.stop_requested() || source_.stop_requested()) return;
    passed_ = true;
    source_.request_stop();
  });
}

DurableDeadline::~DurableDeadline() {
  if (timer_.joinable()) timer_.request_stop(), timer_.join();
}

std::string DurableDeadline::Describe() const {
  return "stopped by --max-duration " + std::to_string(duration_.count() / 1000) +
         "s (--cutoff-mode hard): the run is unfinished and nothing was deleted; run the same "
         "command again (or ferry worker) to finish it";
}

}  // namespace ferry::cli
