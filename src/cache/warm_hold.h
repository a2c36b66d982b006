// The hold of one warm request on its prefixes (internal to warm.cc, see warm.h): taken without
// waiting, renewed on a thread of its own, and the fence a copy passes before it becomes visible.
//
// Thread-safety: Acquire, Stop and Release on the request's thread; Fence from the copies'
// tasks; lost() and lost_token() from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "cache/locks.h"
#include "cache/warm.h"
#include "obs/log.h"

namespace ferry::cache::warm_internal {

// Adds `owner` to `list` unless it is empty or there already.
inline void AddOnce(std::vector<std::string>& list, std::string owner) {
  if (owner.empty()) return;
  if (std::find(list.begin(), list.end(), owner) == list.end()) list.push_back(std::move(owner));
}

// Takes the request's hold on its prefixes (never waits) and renews it every third of its TTL
// until stopped. lost() turns true (and lost_token() is stopped) when a renewal finds the hold
// taken over. Fence() is the last check before a copy becomes visible: it passes while the hold
// was renewed less than half its TTL ago (on the clock), else renews it now, so that a request
// whose renewals stalled (a paused process, a database out of reach) never writes a key after
// the request that took its hold over wrote it (stale bytes under the heir's record).
class LockKeeper {
 public:
  LockKeeper(PrefixLocks& locks, Clock& clock, const WarmOptions& options)
      : locks_(locks), clock_(clock), options_(options) {}
  ~LockKeeper() { Stop(); }

  Status Acquire(const std::vector<std::string>& prefixes, WarmResult& result) {
    FERRY_ASSIGN_OR_RETURN(AcquireResult r,
                           locks_.Acquire(options_.owner, prefixes, options_.lock_ttl));
    hold_ = std::move(r.hold);
    Renewed();
    for (auto& who : r.taken_over) {
      obs::Log(obs::Level::kWarn, "took over the cache hold of a request whose lease ran out",
               {{"owner", who}});
      AddOnce(result.taken_over, std::move(who));
    }
    for (Overlap& o : r.overlapping) {
      obs::Log(obs::Level::kInfo, "an overlapping cache request is in flight: sharing its keys",
               {{"owner", o.owner}, {"prefix", o.prefix}});
      AddOnce(result.overlapping, std::move(o.owner));
    }
    renewer_ = std::jthread([this](std::stop_token st) { RenewLoop(st); });
    return Status::Ok();
  }

  void Stop() {
    if (renewer_.joinable()) {
      renewer_.request_stop();
      cv_.notify_all();
      renewer_.join();
    }
  }
  // Releases the hold and its claims (after Stop). Errors are logged: the lease runs out anyway.
  void Release() {
    Stop();
    if (!hold_) return;
    if (Status s = locks_.Release(*hold_); !s.ok()) {
      obs::Log(obs::Level::kWarn, "could not release the cache hold", {{"error", s.message()}});
    }
    hold_.reset();
  }
  const Hold& hold() const { return *hold_; }
  Status Fence() {
    std::lock_guard lock(fence_mu_);
    if (lost_.load()) return Status::Cancelled("the cache hold was lost");
    if (clock_.MonoNow() - renewed_ < options_.lock_ttl / 2) return Status::Ok();
    Status s = locks_.Renew(*hold_, options_.lock_ttl);
    if (s.code() == ErrorCode::kFailedPrecondition) {
      Lost(s);
      return Status::Cancelled("the cache hold was lost: " + s.message());
    }
    FERRY_RETURN_IF_ERROR(s.WithContext("renewing the cache hold before a write"));
    renewed_ = clock_.MonoNow();
    return Status::Ok();
  }
  bool lost() const { return lost_.load(); }
  std::stop_token lost_token() const { return lost_source_.get_token(); }

 private:
  void RenewLoop(std::stop_token st) {
    const auto period = options_.lock_ttl / 3;
    std::mutex mu;
    std::unique_lock lock(mu);
    while (!st.stop_requested()) {
      clock_.WaitUntil(cv_, lock, st, clock_.MonoNow() + period, [] { return false; });
      if (st.stop_requested()) return;
      Status s = locks_.Renew(*hold_, options_.lock_ttl);
      if (s.code() == ErrorCode::kFailedPrecondition) {
        Lost(s);
        return;
      }
      if (s.ok()) Renewed();
      if (!s.ok()) {
        obs::Log(obs::Level::kWarn, "cache hold renewal failed", {{"error", s.message()}});
      }
    }
  }

  void Renewed() {
    std::lock_guard lock(fence_mu_);
    renewed_ = clock_.MonoNow();
  }
  void Lost(const Status& why) {
    if (lost_.exchange(true)) return;
    obs::Log(obs::Level::kError, "cache hold lost: stopping this request",
             {{"error", why.message()}});
    lost_source_.request_stop();
  }

  PrefixLocks& locks_;
  Clock& clock_;
  const WarmOptions& options_;
  std::optional<Hold> hold_;
  std::mutex fence_mu_;
  Clock::MonoTime renewed_;  // GUARDED_BY(fence_mu_): the hold's last renewal here
  std::atomic<bool> lost_{false};
  std::stop_source lost_source_;
  std::condition_variable_any cv_;
  std::jthread renewer_;
};

}  // namespace ferry::cache::warm_internal
