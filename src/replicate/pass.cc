// RunPass: the source's version listing grouped by key, in batches whose statuses are read from
// the store at once, handed to the executor as one task per key (contract in pass.h).
#include "replicate/pass.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "replicate/key_markers.h"
#include "replicate/key_versions.h"
#include "replicate/pass_internal.h"

namespace ferry::replicate {
namespace {

using internal::KeyWork;

// Keys whose status rows are read with one query.
constexpr size_t kBatchKeys = 200;

obs::Registry& MetricsOf(const PassOptions& o) {
  return o.metrics != nullptr ? *o.metrics : obs::DefaultRegistry();
}

// A pass's keys as tasks of the executor (PassOptions::executor, checked non-null by the
// caller): one task per key, queued through a TaskQueue of the pass's own, so that at most the
// executor's bound of new objects waits and the executor's workers serve them beside every
// other run. The first fatal error cancels the rest.
class KeyQueue {
 public:
  KeyQueue(const PassOptions& o, const PassScope& scope, PassStats& stats,
           std::stop_token stop)
      : o_(o),
        scope_(scope),
        stats_(stats),
        sla_(MetricsOf(o), o.source_name, o.dry_run ? nullptr : o.rules),
        tasks_(o.executor->Open()) {
    on_stop_.emplace(stop, [this] { tasks_->Cancel(); });
  }
  ~KeyQueue() { (void)Finish(); }

  // Blocks while the pass's queue is full. False once the pass failed.
  bool Push(KeyWork work) {
    if (failed_.load()) return false;
    auto shared = std::make_shared<KeyWork>(std::move(work));
    tasks_->Push(
        [this, shared](std::stop_token stop) {
          if (failed_.load()) return;
          Status s = internal::ReplicateKey(o_, scope_, *shared, stats_, sla_, stop);
          if (s.ok()) return;
          std::lock_guard lock(mu_);
          if (error_.ok()) error_ = s;
          failed_.store(true);
          tasks_->Cancel();
        },
        /*priority=*/false);
    return !failed_.load();
  }

  // Waits for every queued key; returns the first fatal error.
  Status Finish() {
    tasks_->Wait();
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  const PassOptions& o_;  // the caller's, which outlive the queue
  const PassScope& scope_;
  PassStats& stats_;
  SlaMetrics sla_;
  std::unique_ptr<transfer::TaskQueue> tasks_;  // this pass's tasks on the executor
  std::optional<std::stop_callback<std::function<void()>>> on_stop_;
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  Status error_;  // GUARDED_BY(mu_)
};

// With PassOptions::defer_deletes: whether `w` would delete its key at a destination that
// keeps no versions (`r`: the pass's version rules), in which case it went to defer_deletes
// instead of the queue.
bool Deferred(const PassOptions& o, const internal::VersionRules& r, const KeyWork& w,
              PassStats& stats) {
  auto keeps_versions = [&o](const std::string& dest) {
    auto it = o.destinations.find(dest);
    return it != o.destinations.end() && it->second != nullptr && it->second->features().versions;
  };
  const uint64_t deletes = internal::MarkerDeletes(*o.rules, w.key, w.versions, w.rows,
                                                   w.written_here, r, keeps_versions);
  if (deletes == 0) return false;
  stats.deferred.fetch_add(1);
  o.defer_deletes(w.key, deletes);
  return true;
}

// Reads the store's rows for a batch of keys and hands the keys to the queue (or, for a key
// that would delete, to PassOptions::defer_deletes).
Status Dispatch(const PassOptions& o, const PassScope& scope, std::vector<KeyWork>& batch,
                KeyQueue& queue, PassStats& stats) {
  if (batch.empty()) return Status::Ok();
  if (o.store != nullptr) {
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (const KeyWork& w : batch) keys.push_back(w.key);
    FERRY_ASSIGN_OR_RETURN(std::vector<VersionStatus> rows, o.store->ForKeys(o.source_name, keys));
    FERRY_ASSIGN_OR_RETURN(std::vector<VersionStatus> written,
                           o.store->WrittenTo(o.source_name, keys));
    // Both come back in key order only by accident of the index: match by key.
    std::map<std::string_view, KeyWork*> by_key;
    for (KeyWork& w : batch) by_key[w.key] = &w;
    for (VersionStatus& r : rows) by_key.at(r.key)->rows.push_back(std::move(r));
    for (VersionStatus& r : written) {
      KeyWork& w = *by_key.at(r.key);
      w.written_here.insert(r.dest_version);
      w.written_rows.push_back(std::move(r));
    }
  }
  const bool deferring = o.defer_deletes && !o.dry_run;
  const Connected connected = deferring ? ConnectedLocations(o.source_name, *o.rules) : Connected{};
  const internal::VersionRules r{scope.first_seen_ns, connected, o.retry_failed_only};
  for (KeyWork& w : batch) {
    if (deferring && Deferred(o, r, w, stats)) continue;
    if (!queue.Push(std::move(w))) break;
  }
  batch.clear();
  return Status::Ok();
}

Result<std::unique_ptr<storage::ListingCursor>> OpenListing(storage::Backend& source,
                                                           bool& plain) {
  Result<std::unique_ptr<storage::ListingCursor>> versions = source.ListVersions("", "", "");
  plain = !versions.ok() && versions.status().code() == ErrorCode::kNotSupported;
  if (!plain) return versions;
  return source.List("");
}

// The listing of the whole source grouped by key, its keys replicated as they come.
Status ListAndReplicate(const PassOptions& o, const PassScope& scope, PassStats& stats,
                        std::stop_token stop) {
  bool plain = false;
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ListingCursor> cursor,
                         OpenListing(*o.source, plain));
  KeyQueue queue(o, scope, stats, stop);
  std::vector<KeyWork> batch;
  KeyWork current;
  Status listing;
  for (;;) {
    if (stop.stop_requested()) {
      listing = Status::Cancelled("replication pass interrupted");
      break;
    }
    Result<const storage::ObjectInfo*> next = cursor->Next();
    if (!next.ok()) {
      listing = next.status().WithContext("listing versions of " + o.source->Describe());
      break;
    }
    const storage::ObjectInfo* e = *next;
    if (e == nullptr || e->key != current.key || current.versions.empty()) {
      if (!current.versions.empty()) {
        std::reverse(current.versions.begin(), current.versions.end());  // oldest first
        batch.push_back(std::move(current));
        current = KeyWork{};
        if (batch.size() >= kBatchKeys) {
          listing = Dispatch(o, scope, batch, queue, stats);
          if (!listing.ok()) break;
        }
      }
      if (e == nullptr) break;
      current.key = e->key;
    }
    storage::ObjectInfo v = *e;
    if (plain) {
      v.version_id = "null";
      v.is_latest = true;
    }
    current.versions.push_back(std::move(v));
  }
  if (listing.ok()) listing = Dispatch(o, scope, batch, queue, stats);
  Status workers = queue.Finish();
  if (!listing.ok()) return listing;
  return workers;
}


}  // namespace

Result<PassScope> PreparePass(const PassOptions& o) {
  if (o.source == nullptr || o.rules == nullptr || o.clock == nullptr ||
      (o.store == nullptr && !o.dry_run)) {
    return Status::Internal("replication pass without a source, rules, clock or store");
  }
  PassScope scope;
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             o.clock->Now().time_since_epoch())
                             .count();
  for (const Rule& r : o.rules->rules) {
    if (!r.enabled) continue;
    if (o.dry_run) {
      scope.first_seen_ns[r.id] = now_ns;
      continue;
    }
    FERRY_ASSIGN_OR_RETURN(scope.first_seen_ns[r.id],
                           o.store->RuleFirstSeen(o.source_name, r.id, now_ns));
  }
  // A destination no pass has ever read from holds only what passes wrote there (and what
  // users wrote, which a first pass from it orders: HealSource): its current versions need
  // not be read before writing (one HEAD per key saved).
  for (const auto& [name, backend] : o.destinations) {
    if (o.dry_run) break;
    FERRY_ASSIGN_OR_RETURN(bool known, o.store->KnownSource(name));
    if (known) scope.two_way.insert(name);
  }
  return scope;
}

Status ReplicateKeys(const PassOptions& o, const PassScope& scope, std::vector<KeyVersions> keys,
                     PassStats& stats, std::stop_token stop) {
  if (o.source == nullptr || o.rules == nullptr || o.clock == nullptr ||
      (o.store == nullptr && !o.dry_run) || o.executor == nullptr) {
    return Status::Internal("replication pass without a source, rules, clock, store or executor");
  }
  KeyQueue queue(o, scope, stats, stop);
  std::vector<KeyWork> batch;
  Status dispatched;
  for (KeyVersions& k : keys) {
    if (stop.stop_requested()) {
      dispatched = Status::Cancelled("replication pass interrupted");
      break;
    }
    KeyWork w;
    w.key = std::move(k.key);
    w.versions = std::move(k.versions);
    batch.push_back(std::move(w));
    if (batch.size() >= kBatchKeys) {
      dispatched = Dispatch(o, scope, batch, queue, stats);
      if (!dispatched.ok()) break;
    }
  }
  if (dispatched.ok()) dispatched = Dispatch(o, scope, batch, queue, stats);
  Status workers = queue.Finish();
  if (!dispatched.ok()) return dispatched;
  return workers;
}

std::string PlanLine(const PlannedVersion& p) {
  return p.rule + " -> " + p.destination + ": " + p.key + " (" +
         (p.delete_marker ? "delete marker " : "version ") + p.version + ")";
}

Status RunPass(const PassOptions& o, PassStats& stats, std::stop_token stop) {
  if (o.executor == nullptr) return Status::Internal("replication pass without an executor");
  FERRY_ASSIGN_OR_RETURN(const PassScope scope, PreparePass(o));
  if (o.dry_run || o.store == nullptr) return ListAndReplicate(o, scope, stats, stop);
  // The SLA gauges at the start and at the end of the pass.
  SlaMetrics sla(MetricsOf(o), o.source_name, o.rules);
  SlaRefresher refresh(sla, *o.store, *o.clock, std::chrono::milliseconds(0));
  return ListAndReplicate(o, scope, stats, stop);
}

}  // namespace ferry::replicate
