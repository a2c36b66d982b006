// Warm: lock the prefixes, list and decide, copy, record (see warm.h).
#include "cache/warm.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "obs/log.h"

namespace ferry::cache {
namespace {

int64_t MtimeNs(const storage::ObjectInfo& o) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(o.mtime.time_since_epoch()).count();
}

bool Unchanged(const Entry& e, const storage::ObjectInfo& o) {
  if (e.size != o.size) return false;
  if (!o.etag.empty() || !e.source_etag.empty()) return e.source_etag == o.etag;
  return e.source_mtime_ns == MtimeNs(o);
}

// Takes the prefix lock, waiting for overlapping requests, and renews it every third of its
// TTL until stopped. lost() turns true (and lost_token() is stopped) when a renewal finds the
// hold taken over.
class LockKeeper {
 public:
  LockKeeper(PrefixLocks& locks, Clock& clock, const WarmOptions& options)
      : locks_(locks), clock_(clock), options_(options) {}
  ~LockKeeper() { Stop(); }

  Status Acquire(const std::vector<std::string>& prefixes, WarmResult& result,
                 std::stop_token stop) {
    std::set<std::string> waited;
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(AcquireResult r,
                             locks_.TryAcquire(options_.owner, prefixes, options_.lock_ttl));
      if (r.hold) {
        hold_ = std::move(*r.hold);
        for (auto& who : r.taken_over) {
          obs::Log(obs::Level::kWarn, "took over the cache lock of a request whose lease ran out",
                   {{"owner", who}});
          result.taken_over.push_back(std::move(who));
        }
        break;
      }
      for (const Blocker& b : r.blockers) {
        if (waited.insert(b.owner).second) {
          obs::Log(obs::Level::kInfo, "waiting for an overlapping cache request",
                   {{"owner", b.owner}, {"prefix", b.prefix}});
          result.waited_for.push_back(b.owner);
        }
      }
      clock_.SleepFor(options_.poll, stop);
      if (stop.stop_requested()) return Status::Cancelled("interrupted while waiting for a lock");
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
  // Releases the lock (after Stop). Errors are logged: the lease runs out anyway.
  void Release() {
    Stop();
    if (!hold_) return;
    if (Status s = locks_.Release(*hold_); !s.ok()) {
      obs::Log(obs::Level::kWarn, "could not release the cache lock", {{"error", s.message()}});
    }
    hold_.reset();
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
        obs::Log(obs::Level::kError, "cache lock lost: stopping this request",
                 {{"error", s.message()}});
        lost_ = true;
        lost_source_.request_stop();
        return;
      }
      if (!s.ok()) {
        obs::Log(obs::Level::kWarn, "cache lock renewal failed", {{"error", s.message()}});
      }
    }
  }

  PrefixLocks& locks_;
  Clock& clock_;
  const WarmOptions& options_;
  std::optional<Hold> hold_;
  std::atomic<bool> lost_{false};
  std::stop_source lost_source_;
  std::condition_variable_any cv_;
  std::jthread renewer_;
};

// The copies of one request and their outcomes.
class Copier {
 public:
  Copier(const WarmContext& ctx, const WarmRequest& request, const WarmOptions& options,
         WarmResult& result, std::stop_token cancel)
      : ctx_(ctx),
        request_(request),
        options_(options),
        result_(result),
        cancel_(cancel),
        engine_(ctx.executor, options.transfer, ctx.source, ctx.cache, stats_) {}

  void Copy(const storage::ObjectInfo& o) {
    transfer::CopyRequest r;
    r.src = o;
    r.reason = "not cached";
    r.cancel = cancel_;
    r.done = [this, o](const Status& s) { Done(o, s); };
    engine_.Copy(std::move(r));
  }
  void Wait() { engine_.Wait(); }
  bool lock_lost() const { return cancel_.stop_requested(); }
  void Cancel() { engine_.Cancel(); }

 private:
  void Done(const storage::ObjectInfo& o, Status s) {
    if (s.ok()) {
      s = ctx_.index.Record(Copied{.key = o.key,
                                   .source_etag = o.etag,
                                   .source_version = o.version_id,
                                   .source_mtime_ns = MtimeNs(o),
                                   .size = o.size},
                            request_.ttl, options_.owner);
      if (!s.ok()) s = s.WithContext("copied, but not recorded in the cache index");
    } else if (s.code() != ErrorCode::kCancelled) {
      // Best effort: the failure is reported to this request in any case. A copy cancelled
      // (Ctrl-C, lock lost) says nothing about the data: not kept for later requests.
      (void)ctx_.index.RecordFailure(o.key, s.message(), options_.owner);
    }
    std::lock_guard lock(mu_);
    if (s.ok()) {
      result_.copied++;
      result_.bytes += o.size;
    } else {
      result_.failed++;
      result_.failures.push_back(KeyFailure{.key = o.key,
                                            .error = s.message(),
                                            .request = options_.owner,
                                            .at_ms = ctx_.index.NowMs()});
    }
  }

  const WarmContext& ctx_;
  const WarmRequest& request_;
  const WarmOptions& options_;
  WarmResult& result_;
  std::stop_token cancel_;
  std::mutex mu_;
  transfer::Stats stats_;
  transfer::TransferEngine engine_;
};

// Renews cached keys in batches; what a batch could not renew is copied.
class Renewer {
 public:
  Renewer(CacheIndex& index, Copier& copier, const WarmRequest& request, const WarmOptions& options,
          WarmResult& result)
      : index_(index), copier_(copier), request_(request), options_(options), result_(result) {}

  Status Add(const storage::ObjectInfo& o, bool joined) {
    pending_.emplace(o.key, Pending{o, joined});
    if (pending_.size() >= options_.renew_batch) return Flush();
    return Status::Ok();
  }
  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    std::vector<CacheIndex::RenewItem> items;
    items.reserve(pending_.size());
    for (const auto& [key, p] : pending_) {
      items.push_back({.key = key, .source_etag = p.object.etag});
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<std::string> missed, index_.Renew(items, request_.ttl));
    for (const std::string& key : missed) {
      // Marked expiring or changed since it was read: not cached any more.
      copier_.Copy(pending_.at(key).object);
      pending_.erase(key);
    }
    for (const auto& [key, p] : pending_) {
      result_.skipped++;
      if (p.joined) result_.joined++;
    }
    pending_.clear();
    return Status::Ok();
  }

 private:
  struct Pending {
    storage::ObjectInfo object;
    bool joined = false;
  };
  CacheIndex& index_;
  Copier& copier_;
  const WarmRequest& request_;
  const WarmOptions& options_;
  WarmResult& result_;
  std::map<std::string, Pending> pending_;
};

// Entries an expiry pass is deleting: wait until the pass is done with each (its row is gone),
// or take a row over once its mark's lease ran out (the pass died); then copy the object. One
// poll per round for all of them, not per key.
Status WaitForExpiry(const WarmContext& ctx, const WarmOptions& options,
                     std::vector<std::pair<Entry, storage::ObjectInfo>> waiting, Copier& copier,
                     Renewer& renewer, std::stop_token stop) {
  while (!waiting.empty()) {
    std::vector<std::pair<Entry, storage::ObjectInfo>> still;
    for (auto& [e, o] : waiting) {
      if (e.mark_expires_ms <= ctx.index.NowMs()) {
        FERRY_ASSIGN_OR_RETURN(bool dropped, ctx.index.DropStaleMark(e));
        if (dropped) {
          copier.Copy(o);
          continue;
        }
      }
      FERRY_ASSIGN_OR_RETURN(std::optional<Entry> now, ctx.index.Get(o.key));
      if (!now) {
        copier.Copy(o);
      } else if (!now->expiring) {
        // Copied again meanwhile (by a request that took the mark over).
        if (Unchanged(*now, o)) {
          FERRY_RETURN_IF_ERROR(renewer.Add(o, false));
        } else {
          copier.Copy(o);
        }
      } else {
        still.emplace_back(std::move(*now), std::move(o));
      }
    }
    waiting = std::move(still);
    if (waiting.empty()) break;
    ctx.index.clock().SleepFor(options.poll, stop);
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
  }
  return Status::Ok();
}

Status WarmPrefix(const WarmContext& ctx, const WarmRequest& request, const WarmOptions& options,
                  const std::string& prefix, int64_t started_ms, Copier& copier, Renewer& renewer,
                  WarmResult& result, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::vector<Entry> entries, ctx.index.EntriesUnder(prefix));
  std::unordered_map<std::string, Entry> by_key;
  by_key.reserve(entries.size());
  for (Entry& e : entries) by_key.emplace(e.key, std::move(e));
  entries.clear();
  // The listing's order does not matter (a directory bucket lists out of order): the index
  // decides per key.
  FERRY_ASSIGN_OR_RETURN(auto cursor, ctx.source.List(prefix));
  std::vector<std::pair<Entry, storage::ObjectInfo>> expiring;
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
    if (copier.lock_lost()) break;  // Warm reports it; queue nothing more
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    result.listed++;
    auto it = by_key.find(o->key);
    if (request.force || it == by_key.end()) {
      copier.Copy(*o);
    } else if (it->second.expiring) {
      expiring.emplace_back(it->second, *o);
    } else if (Unchanged(it->second, *o)) {
      const bool joined =
          it->second.copied_ms >= started_ms && it->second.copied_by != options.owner;
      FERRY_RETURN_IF_ERROR(renewer.Add(*o, joined));
    } else {
      copier.Copy(*o);  // the source changed since it was cached
    }
  }
  FERRY_RETURN_IF_ERROR(renewer.Flush());
  FERRY_RETURN_IF_ERROR(WaitForExpiry(ctx, options, std::move(expiring), copier, renewer, stop));
  return renewer.Flush();
}

}  // namespace

Result<WarmResult> Warm(const WarmRequest& request, const WarmContext& ctx,
                        const WarmOptions& options, std::stop_token stop) {
  if (request.prefixes.empty()) return Status::InvalidArgument("cache warm: no prefixes");
  if (request.ttl.count() <= 0) return Status::InvalidArgument("cache warm: TTL must be positive");
  if (options.owner.empty()) return Status::InvalidArgument("cache warm: no owner");
  Clock& clock = ctx.index.clock();
  const auto t0 = clock.MonoNow();
  const int64_t started_ms = ctx.index.NowMs();
  WarmResult result;
  result.prefixes = NormalizePrefixes(request.prefixes);

  LockKeeper keeper(ctx.locks, clock, options);
  FERRY_RETURN_IF_ERROR(keeper.Acquire(result.prefixes, result, stop));
  Status status = Status::Ok();
  if (request.force) status = ctx.index.ClearFailuresUnder(result.prefixes);
  {
    Copier copier(ctx, request, options, result, keeper.lost_token());
    Renewer renewer(ctx.index, copier, request, options, result);
    // Ctrl-C also stops the copies in flight (their objects fail as cancelled, unrecorded).
    std::stop_callback on_stop(stop, [&copier] { copier.Cancel(); });
    for (const std::string& prefix : result.prefixes) {
      if (!status.ok()) break;
      status = WarmPrefix(ctx, request, options, prefix, started_ms, copier, renewer, result, stop);
    }
    if (!status.ok()) copier.Cancel();
    copier.Wait();
  }
  const bool lost = keeper.lost();
  keeper.Release();
  if (stop.stop_requested()) return Status::Cancelled("interrupted");
  if (lost) {
    return Status::FailedPrecondition(
        "cache warm: the prefix lock was lost (the lease ran out and another request took the "
        "work over)");
  }
  FERRY_RETURN_IF_ERROR(status);
  for (const std::string& prefix : result.prefixes) {
    FERRY_ASSIGN_OR_RETURN(std::vector<KeyFailure> earlier, ctx.index.FailuresUnder(prefix));
    for (KeyFailure& f : earlier) {
      if (f.request != options.owner) result.earlier_failures.push_back(std::move(f));
    }
  }
  std::sort(result.failures.begin(), result.failures.end(),
            [](const KeyFailure& a, const KeyFailure& b) { return a.key < b.key; });
  result.seconds = std::chrono::duration<double>(clock.MonoNow() - t0).count();
  return result;
}

}  // namespace ferry::cache
