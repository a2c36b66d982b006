// Warm: hold the prefixes, list and decide, claim, copy, record in batches (see warm.h).
#include "cache/warm.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "cache/warm_hold.h"
#include "cache/warm_plan.h"
#include "cache/warm_rows.h"
#include "obs/log.h"

namespace ferry::cache {
namespace {

using warm_internal::AddOnce;
using warm_internal::LockKeeper;

// What every part of one request works with (Copier, Claimer).
struct Work {
  const WarmContext& ctx;
  const WarmRequest& request;
  const WarmOptions& options;
  WarmResult& result;
};

// The copies of one request (of keys it claimed), and their outcomes recorded in batches by a
// thread of its own: every record_batch outcomes or record_interval, whichever comes first.
class Copier {
 public:
  Copier(const Work& work, const Hold& hold, std::stop_token cancel,
         std::function<Status()> fence)
      : fence_(std::move(fence)),
        ctx_(work.ctx),
        request_(work.request),
        options_(work.options),
        result_(work.result),
        hold_(hold),
        cancel_(cancel),
        engine_(work.ctx.executor, EngineOptions(work.options, copy_rows_), work.ctx.source,
                work.ctx.cache, stats_) {
    recorder_ = std::jthread([this](std::stop_token st) { RecordLoop(st); });
  }
  ~Copier() { Finish(); }

  void Copy(const storage::ObjectInfo& o) {
    transfer::CopyRequest r;
    r.src = o;
    r.reason = "not cached";
    r.cancel = cancel_;
    r.before_write = fence_;
    r.done = [this, o](const Status& s) { Done(o, s); };
    engine_.Copy(std::move(r));
  }
  // Waits for the copies, then records what is left: after it, every outcome is settled.
  void Finish() {
    engine_.Wait();
    if (recorder_.joinable()) {
      recorder_.request_stop();
      cv_.notify_all();
      recorder_.join();
    }
    std::vector<Outcome> rest;
    {
      std::lock_guard lock(mu_);
      rest.swap(pending_);
    }
    Settle(std::move(rest));
  }
  bool lock_lost() const { return cancel_.stop_requested(); }
  void Cancel() { engine_.Cancel(); }
  // A failure that is not this request's copy (the holder it waited for failed the key).
  void AddFailure(KeyFailure f, const storage::ObjectInfo& o) {
    Report(warm_rows::FailedByHolder(o, f.request, f.error));
    std::lock_guard lock(result_mu_);
    result_.failed++;
    result_.failures.push_back(std::move(f));
  }

 private:
  struct Outcome {
    storage::ObjectInfo object;
    Status status;
    std::optional<report::Row> row;  // the engine's, when the request has a report
  };

  // The request's transfer options, the engine's rows taken by `rows` when it has a report.
  static transfer::TransferOptions EngineOptions(const WarmOptions& options,
                                                 warm_rows::CopyRows& rows) {
    transfer::TransferOptions t = options.transfer;
    t.report = options.report != nullptr ? &rows : nullptr;
    return t;
  }
  void Report(report::Row row) {
    if (options_.report != nullptr) options_.report->Add(std::move(row));
  }

  void Done(const storage::ObjectInfo& o, const Status& s) {
    std::optional<report::Row> row = copy_rows_.Take(o.key);
    std::lock_guard lock(mu_);
    if (pending_.empty()) {
      first_ = ctx_.index.clock().MonoNow();
      cv_.notify_all();  // the recorder waits for a first outcome, then for the interval
    }
    pending_.push_back(Outcome{o, s, std::move(row)});
    if (pending_.size() >= options_.record_batch) cv_.notify_all();
  }

  // An outcome is recorded at the latest record_interval after it finished (counted from the
  // first one pending); with none pending the recorder waits for one, not on the clock.
  void RecordLoop(std::stop_token st) {
    Clock& clock = ctx_.index.clock();
    std::unique_lock lock(mu_);
    while (!st.stop_requested()) {
      if (pending_.empty()) {
        cv_.wait(lock, st, [this] { return !pending_.empty(); });
        continue;
      }
      clock.WaitUntil(cv_, lock, st, first_ + options_.record_interval,
                      [this] { return pending_.size() >= options_.record_batch; });
      if (st.stop_requested()) break;  // Finish records the rest
      std::vector<Outcome> batch;
      batch.swap(pending_);
      lock.unlock();
      Settle(std::move(batch));
      lock.lock();
    }
  }

  // One transaction for the batch; the result counts what was recorded.
  void Settle(std::vector<Outcome> batch) {
    if (batch.empty()) return;
    SettleBatch(batch);
    if (options_.report == nullptr) return;
    for (Outcome& out : batch) {
      if (!out.status.ok()) {
        Report(warm_rows::CopyFailed(out.object, std::move(out.row), out.status));
        continue;
      }
      auto unrecorded = unrecorded_.find(out.object.key);
      if (unrecorded != unrecorded_.end()) {
        Report(warm_rows::CopyFailed(out.object, std::nullopt, unrecorded->second));
      } else {
        Report(warm_rows::Copied(out.object, std::move(out.row)));
      }
    }
    unrecorded_.clear();
  }

  // Records the batch in one transaction and counts it; the copies it could not record are left
  // in unrecorded_ (for their rows).
  void SettleBatch(const std::vector<Outcome>& batch) {
    std::vector<Copied> copied;
    std::vector<KeyFailure> failed;
    std::vector<KeyFailure> cancelled;
    std::vector<std::string> released;
    uint64_t bytes = 0;
    const int64_t now = ctx_.index.NowMs();
    for (const Outcome& out : batch) {
      const storage::ObjectInfo& o = out.object;
      if (out.status.ok()) {
        copied.push_back(Copied{.key = o.key,
                                .source_etag = o.etag,
                                .source_version = o.version_id,
                                .source_mtime_ns = SourceMtimeNs(o),
                                .size = o.size});
        bytes += o.size;
        continue;
      }
      KeyFailure f{
          .key = o.key, .error = out.status.message(), .request = options_.owner, .at_ms = now};
      if (out.status.code() == ErrorCode::kCancelled) {
        // A copy cancelled (Ctrl-C, hold lost) says nothing about the data: not kept for
        // later requests, its claim is only dropped.
        released.push_back(o.key);
        cancelled.push_back(std::move(f));
      } else {
        failed.push_back(std::move(f));
      }
    }
    Result<std::vector<std::string>> settled =
        ctx_.index.Settle(hold_.id, copied, failed, released, request_.ttl, options_.owner);
    std::lock_guard lock(result_mu_);
    if (settled.ok()) {
      result_.copied += copied.size() - settled->size();
      result_.bytes += bytes;
      for (std::string& key : *settled) {
        if (options_.report != nullptr) {
          unrecorded_.insert_or_assign(
              key, Status::FailedPrecondition("copied while an expiry pass was deleting it: not "
                                              "recorded as cached"));
        }
        result_.failed++;
        result_.failures.push_back(KeyFailure{
            .key = std::move(key),
            .error = "copied while an expiry pass was deleting it: not recorded as cached",
            .request = options_.owner,
            .at_ms = now});
      }
    } else {
      const std::string why =
          settled.status().WithContext("copied, but not recorded in the cache index").message();
      for (const Copied& c : copied) {
        if (options_.report != nullptr) {
          unrecorded_.insert_or_assign(c.key, Status(settled.status().code(), why));
        }
        result_.failed++;
        result_.failures.push_back(
            KeyFailure{.key = c.key, .error = why, .request = options_.owner, .at_ms = now});
      }
    }
    for (auto* list : {&failed, &cancelled}) {
      for (KeyFailure& f : *list) {
        result_.failed++;
        result_.failures.push_back(std::move(f));
      }
    }
  }

  const std::function<Status()> fence_;  // the hold's, before each copy becomes visible
  const WarmContext& ctx_;
  const WarmRequest& request_;
  const WarmOptions& options_;
  WarmResult& result_;
  const Hold& hold_;
  std::stop_token cancel_;
  std::mutex result_mu_;  // result_'s copy and failure counts
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<Outcome> pending_;  // GUARDED_BY(mu_): finished, not recorded yet
  Clock::MonoTime first_{};       // GUARDED_BY(mu_): when the first of pending_ finished
  // Of the batch being settled (the recorder's thread, or Finish's after it stopped): copies
  // the index did not record, with why.
  std::unordered_map<std::string, Status> unrecorded_;
  warm_rows::CopyRows copy_rows_;  // before engine_: the engine adds to it
  transfer::Stats stats_;
  transfer::TransferEngine engine_;
  std::jthread recorder_;  // last: stopped first
};

// Claims the keys to copy in batches, just ahead of the copies (the engine's queue is bounded,
// so a claimed batch waits in Copy): an overlapping request that starts later finds the keys
// this one has not reached yet unclaimed and copies them itself. Keys another request holds
// (or an expiry pass is deleting) wait, and are asked for again every poll.
class Claimer {
 public:
  Claimer(const Work& work, Copier& copier, const Hold& hold, int64_t since_ms)
      : ctx_(work.ctx),
        options_(work.options),
        result_(work.result),
        copier_(copier),
        hold_(hold),
        claim_options_{
            .since_ms = since_ms, .force = work.request.force, .ttl = work.request.ttl} {}

  Status Add(const storage::ObjectInfo& o) {
    Clock& clock = ctx_.index.clock();
    if (pending_.empty()) first_ = clock.MonoNow();
    pending_.push_back(Want{o, ""});
    if (pending_.size() >= options_.claim_batch ||
        clock.MonoNow() - first_ >= options_.record_interval) {
      return Flush();
    }
    return Status::Ok();
  }
  Status Flush() {
    std::vector<Want> batch;
    batch.swap(pending_);
    return ClaimBatch(std::move(batch));
  }
  // Asks for the waiting keys every poll until none is left.
  Status WaitForTheRest(std::stop_token stop) {
    FERRY_RETURN_IF_ERROR(Flush());
    while (!waiting_.empty()) {
      if (copier_.lock_lost()) return Status::Ok();  // Warm reports it
      ctx_.index.clock().SleepFor(options_.poll, stop);
      if (stop.stop_requested()) return Status::Cancelled("interrupted");
      std::vector<Want> again;
      again.swap(waiting_);
      for (size_t i = 0; i < again.size(); i += options_.claim_batch) {
        const size_t end = std::min(again.size(), i + options_.claim_batch);
        FERRY_RETURN_IF_ERROR(ClaimBatch(std::vector<Want>(
            std::make_move_iterator(again.begin() + static_cast<ptrdiff_t>(i)),
            std::make_move_iterator(again.begin() + static_cast<ptrdiff_t>(end)))));
      }
    }
    return Status::Ok();
  }

 private:
  struct Want {
    storage::ObjectInfo object;
    std::string waited_on;  // the owner whose claim it waits for
  };

  Status ClaimBatch(std::vector<Want> batch) {
    if (batch.empty()) return Status::Ok();
    std::vector<ClaimItem> items;
    items.reserve(batch.size());
    for (const Want& w : batch) {
      items.push_back(ClaimItem{.key = w.object.key,
                                .source_etag = w.object.etag,
                                .source_mtime_ns = SourceMtimeNs(w.object),
                                .size = w.object.size,
                                .waited_on = w.waited_on});
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<ClaimOutcome> outcomes,
                           ctx_.index.Claim(hold_.id, options_.owner, items, claim_options_));
    for (size_t i = 0; i < batch.size(); ++i) {
      ClaimOutcome& out = outcomes[i];
      Want& w = batch[i];
      switch (out.state) {
        case ClaimState::kClaimed:
          if (out.taken_over) {
            obs::Log(obs::Level::kWarn, "took over a key of a request whose lease ran out",
                     {{"owner", out.owner}, {"key", w.object.key}});
            AddOnce(result_.taken_over, std::move(out.owner));
          }
          copier_.Copy(w.object);
          break;
        case ClaimState::kJoined:
        case ClaimState::kCached:
          if (out.state == ClaimState::kJoined) result_.joined++;
          result_.skipped++;
          if (options_.report != nullptr) {
            options_.report->Add(
                warm_rows::Cached(w.object, out.state == ClaimState::kJoined));
          }
          break;
        case ClaimState::kHeld:
          if (!out.owner.empty() && w.waited_on.empty()) {
            obs::Log(obs::Level::kInfo, "waiting for a key an overlapping request is copying",
                     {{"owner", out.owner}, {"key", w.object.key}});
          }
          AddOnce(result_.waited_for, out.owner);
          waiting_.push_back(Want{std::move(w.object), std::move(out.owner)});
          break;
        case ClaimState::kExpiring:
          waiting_.push_back(Want{std::move(w.object), std::move(w.waited_on)});
          break;
        case ClaimState::kFailedByHolder:
          copier_.AddFailure(KeyFailure{.key = w.object.key,
                                        .error = std::move(out.error),
                                        .request = std::move(out.owner),
                                        .at_ms = ctx_.index.NowMs()},
                             w.object);
          break;
      }
    }
    return Status::Ok();
  }

  const WarmContext& ctx_;
  const WarmOptions& options_;
  WarmResult& result_;
  Copier& copier_;
  const Hold& hold_;
  const ClaimOptions claim_options_;
  std::vector<Want> pending_;
  Clock::MonoTime first_;
  std::vector<Want> waiting_;
};

// Renews cached keys in batches; what a batch could not renew is claimed and copied.
class Renewer {
 public:
  Renewer(CacheIndex& index, Claimer& claimer, const WarmRequest& request,
          const WarmOptions& options, WarmResult& result)
      : index_(index), claimer_(claimer), request_(request), options_(options), result_(result) {}

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
      FERRY_RETURN_IF_ERROR(claimer_.Add(pending_.at(key).object));
      pending_.erase(key);
    }
    for (const auto& [key, p] : pending_) {
      result_.skipped++;
      if (p.joined) result_.joined++;
      if (options_.report != nullptr) options_.report->Add(warm_rows::Cached(p.object, p.joined));
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
  Claimer& claimer_;
  const WarmRequest& request_;
  const WarmOptions& options_;
  WarmResult& result_;
  std::map<std::string, Pending> pending_;
};

// One request's run over its prefixes: what WarmPrefix lists for and where the keys go.
struct WarmRun {
  const WarmContext& ctx;
  const WarmRequest& request;
  const WarmOptions& options;
  // When the request started (the index's time): a cached key another request copied since
  // then is counted as joined.
  int64_t started_ms;
  Copier& copier;      // the request's copies (the listing stops when its hold is lost)
  Claimer& claimer;    // takes the keys to claim and copy: not cached, expiring or changed
  Renewer& renewer;    // takes the keys cached and unchanged: their expiry extended
  WarmResult& result;  // counts the keys listed
};

Status WarmPrefix(const WarmRun& run, const std::string& prefix, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::vector<Entry> entries, run.ctx.index.EntriesUnder(prefix));
  std::unordered_map<std::string, Entry> by_key;
  by_key.reserve(entries.size());
  for (Entry& e : entries) by_key.emplace(e.key, std::move(e));
  entries.clear();
  // The listing's order does not matter (a directory bucket lists out of order): the index
  // decides per key.
  FERRY_ASSIGN_OR_RETURN(auto cursor, run.ctx.source.List(prefix));
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
    if (run.copier.lock_lost()) break;  // Warm reports it; queue nothing more
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (o->not_followed) continue;  // a symbolic link to a folder: nothing of it is warmed
    run.result.listed++;
    auto it = by_key.find(o->key);
    if (run.request.force || it == by_key.end() || it->second.expiring ||
        !CachedUnchanged(it->second, *o)) {
      // Not cached, marked by an expiry pass, or changed at the source: claim and copy (the
      // claim looks at the entry again).
      FERRY_RETURN_IF_ERROR(run.claimer.Add(*o));
    } else {
      const bool joined =
          it->second.copied_ms >= run.started_ms && it->second.copied_by != run.options.owner;
      FERRY_RETURN_IF_ERROR(run.renewer.Add(*o, joined));
    }
  }
  FERRY_RETURN_IF_ERROR(run.renewer.Flush());
  return run.claimer.Flush();
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
  const uint64_t transactions_before = ctx.index.session().transactions();
  WarmResult result;
  result.prefixes = NormalizePrefixes(request.prefixes);

  LockKeeper keeper(ctx.locks, clock, options);
  FERRY_RETURN_IF_ERROR(keeper.Acquire(result.prefixes, result));
  Status status = Status::Ok();
  if (request.force) status = ctx.index.ClearFailuresUnder(result.prefixes);
  {
    const Work work{.ctx = ctx, .request = request, .options = options, .result = result};
    Copier copier(work, keeper.hold(), keeper.lost_token(), [&keeper] { return keeper.Fence(); });
    Claimer claimer(work, copier, keeper.hold(), started_ms);
    Renewer renewer(ctx.index, claimer, request, options, result);
    // Ctrl-C also stops the copies in flight (their objects fail as cancelled, unrecorded).
    std::stop_callback on_stop(stop, [&copier] { copier.Cancel(); });
    const WarmRun run{.ctx = ctx,
                      .request = request,
                      .options = options,
                      .started_ms = started_ms,
                      .copier = copier,
                      .claimer = claimer,
                      .renewer = renewer,
                      .result = result};
    for (const std::string& prefix : result.prefixes) {
      if (!status.ok()) break;
      status = WarmPrefix(run, prefix, stop);
    }
    if (status.ok()) status = claimer.WaitForTheRest(stop);
    if (!status.ok()) copier.Cancel();
    copier.Finish();  // every copy recorded before the hold goes
  }
  const bool lost = keeper.lost();
  keeper.Release();
  if (stop.stop_requested()) return Status::Cancelled("interrupted");
  if (lost) {
    return Status::FailedPrecondition(
        "cache warm: the hold on the prefixes was lost (the lease ran out and another request "
        "took the work over)");
  }
  FERRY_RETURN_IF_ERROR(status);
  // A failure of a request this one waited for is reported among its failures already.
  std::set<std::pair<std::string, std::string>> reported;
  for (const KeyFailure& f : result.failures) reported.emplace(f.key, f.request);
  for (const std::string& prefix : result.prefixes) {
    FERRY_ASSIGN_OR_RETURN(std::vector<KeyFailure> earlier, ctx.index.FailuresUnder(prefix));
    for (KeyFailure& f : earlier) {
      if (f.request == options.owner || reported.contains({f.key, f.request})) continue;
      result.earlier_failures.push_back(std::move(f));
    }
  }
  std::sort(result.failures.begin(), result.failures.end(),
            [](const KeyFailure& a, const KeyFailure& b) { return a.key < b.key; });
  result.seconds = std::chrono::duration<double>(clock.MonoNow() - t0).count();
  result.index_transactions = ctx.index.session().transactions() - transactions_before;
  return result;
}

}  // namespace ferry::cache
