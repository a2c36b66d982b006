// One key's versions, oldest first, to every destination (see pass.h).
#include <chrono>
#include <optional>
#include <set>

#include "obs/log.h"
#include "replicate/pass_internal.h"
#include "replicate/replica.h"
#include "replicate/sla.h"
#include "replicate/transport.h"

namespace ferry::replicate::internal {
namespace {

using storage::ObjectInfo;

int64_t Nanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// How long after its PENDING row a write of a process that died may still land at the
// destination (the server completes requests whose client is gone; seconds on a loaded one).
constexpr std::chrono::seconds kWriteInFlightGrace{10};

// A REPLICA row says why (its message): a pass wrote the version here (the store's COMPLETED row
// of a pass to this source), or its marks name a connected origin ("replica of ORIGIN"). Marks
// decide nothing outside the locations the rules connect: a row whose origin they no longer
// connect, or an older row that says neither, is looked at again (one HEAD).
constexpr std::string_view kReplicaRowWrittenHere = "written here by a pass";
constexpr std::string_view kReplicaRowOf = "replica of ";

bool ReplicaRowHolds(const VersionStatus& row, const Connected& connected) {
  if (row.message == kReplicaRowWrittenHere) return true;
  if (row.message.compare(0, kReplicaRowOf.size(), kReplicaRowOf) != 0) return false;
  return connected.contains(std::string_view(row.message).substr(kReplicaRowOf.size()));
}

// Per destination, what this key's pass did there.
struct DestState {
  std::string blocked;              // why later versions wait ("": they don't)
  bool checked_current = false;     // the destination's current version was read
  std::optional<ObjectInfo> current;  // ... and it was this one (absent: none, or a marker)
  std::optional<WriteOrder> last_written;
  std::set<std::string> ours;       // the versions this pass made there
};

// A version and its write order.
struct Ordered {
  WriteOrder order;
  std::string version;
  std::chrono::system_clock::time_point listed;  // its time in the listing
};

class KeyPass {
 public:
  KeyPass(const PassOptions& o, const PassScope& scope, KeyWork& work, PassStats& stats,
          SlaMetrics& sla, std::stop_token stop)
      : o_(o),
        scope_(scope),
        work_(work),
        stats_(stats),
        sla_(sla),
        stop_(stop),
        connected_(ConnectedLocations(o.source_name, *o.rules)) {}

  Status Run() {
    RouteMarkersDirectly();
    FindUndoneDeletes();
    for (const ObjectInfo& v : work_.versions) {
      if (stop_.stop_requested()) return Status::Cancelled("replication pass interrupted");
      FERRY_RETURN_IF_ERROR(OneVersion(v));
    }
    FERRY_RETURN_IF_ERROR(Restore());
    FERRY_RETURN_IF_ERROR(HealSource());
    return SyncTags(o_, work_, read_tags_, stats_, sla_, stop_);
  }

 private:
  const VersionStatus* Row(const Rule& rule, const std::string& dest, const ObjectInfo& v) {
    const std::string version = VersionName(v);
    for (const VersionStatus& r : work_.rows) {
      if (r.rule == rule.id && r.destination == dest && r.source_version == version) return &r;
    }
    return nullptr;
  }

  // A transported destination that this key has a delete marker to replicate to takes the key
  // directly in this pass (archives carry no markers; one path keeps the key's order).
  void RouteMarkersDirectly() {
    if (o_.transported == nullptr) return;
    for (const ObjectInfo& v : work_.versions) {
      if (!v.delete_marker) continue;
      for (const Winner& w : WinningRules(*o_.rules, work_.key, nullptr)) {
        if (w.destination->transport.compress && Wanted(w, v)) {
          direct_.insert(w.destination->location);
        }
      }
    }
  }

  // A destination that keeps no versions took a replicated delete marker as a DELETE of the key.
  // When the source has since removed that marker (an undelete: its newest version is current
  // again) and nothing was written there after the DELETE, the source's current version is
  // written again, or the key would stay deleted there for good. (A versioned destination keeps
  // the marker, as S3 replication does: removing a marker is not replicated.)
  void FindUndoneDeletes() {
    if (work_.versions.empty()) return;
    const ObjectInfo& current = work_.versions.back();
    if (!current.is_latest || current.delete_marker) return;
    std::set<std::string> listed;
    for (const ObjectInfo& v : work_.versions) listed.insert(VersionName(v));
    for (const VersionStatus& marker : work_.rows) {
      if (!marker.delete_marker || marker.state != VersionState::kCompleted ||
          !marker.dest_version.empty() || listed.count(marker.source_version)) {
        continue;
      }
      bool written_since = false;
      for (const VersionStatus& r : work_.rows) {
        written_since = written_since ||
                        (r.rule == marker.rule && r.destination == marker.destination &&
                         !r.delete_marker && r.state == VersionState::kCompleted &&
                         r.updated_ns > marker.updated_ns);
      }
      if (!written_since) undone_deletes_.insert({marker.rule, marker.destination});
    }
  }

  // Whether `row` (of `v`) must be written again: `v` is the current version after an undelete.
  bool Undeleted(const VersionStatus* row, const ObjectInfo& v) const {
    return row != nullptr && !undone_deletes_.empty() && &v == &work_.versions.back() &&
           undone_deletes_.count({row->rule, row->destination}) != 0;
  }

  // Whether `w`'s versions of this key are packed for compressed transport.
  bool Transported(const Winner& w) const {
    return o_.transported != nullptr && w.destination->transport.compress &&
           !direct_.count(w.destination->location);
  }

  bool Done(const VersionStatus* row, const ObjectInfo& v) const {
    if (row == nullptr) return false;
    if (row->state == VersionState::kReplica) return ReplicaRowHolds(*row, connected_);
    // An unversioned source rewrites version "null": done only for the same bytes.
    return row->state == VersionState::kCompleted &&
           (VersionName(v) != "null" || row->source_etag == v.etag);
  }

  // Whether `row` (of `v`) says that `v`'s bytes, read twice alike, contradict what it declares
  // (IsLastingRefusal): a property of the version, unchanged while its ETag is. A normal pass
  // counts it failed again without reading it (--retry-failed reads it); newer versions of the
  // key do not wait for it.
  bool StillRefused(const VersionStatus* row, const ObjectInfo& v) {
    if (o_.retry_failed_only || row == nullptr || !IsLastingRefusal(*row) ||
        row->source_etag != v.etag) {
      return false;
    }
    stats_.failed.fetch_add(1);
    obs::Log(obs::Level::kWarn, "not replicating " + work_.key + " (version " + VersionName(v) +
                                    ") to " + row->destination + ": " + row->message +
                                    " (--retry-failed reads it again)");
    return true;
  }

  // Whether `w` wants `v` before looking at the version's details.
  bool Wanted(const Winner& w, const ObjectInfo& v) {
    if (w.rule->versions == VersionsMode::kLatest && !v.is_latest) return false;
    if (v.delete_marker && !w.rule->delete_markers) return false;
    if (!w.rule->existing_objects) {
      auto it = scope_.first_seen_ns.find(w.rule->id);
      const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             v.mtime.time_since_epoch())
                             .count();
      if (it != scope_.first_seen_ns.end() && ns <= it->second) return false;
    }
    const VersionStatus* row = Row(*w.rule, w.destination->location, v);
    if (o_.retry_failed_only) return row != nullptr && row->state == VersionState::kFailed;
    return !Done(row, v) || Undeleted(row, v);
  }

  VersionStatus NewRow(const Winner& w, const ObjectInfo& v, VersionState state) {
    VersionStatus s;
    s.source = o_.source_name;
    s.rule = w.rule->id;
    s.destination = w.destination->location;
    s.key = work_.key;
    s.source_version = VersionName(v);
    s.state = state;
    s.source_etag = v.etag;
    s.delete_marker = v.delete_marker;
    s.updated_ns = Nanos(o_.clock->Now());
    // SLA: pending since its write at the source (a time ahead of ours, clocks disagreeing,
    // counts from now).
    s.size = static_cast<int64_t>(v.size);
    const int64_t written = Nanos(v.mtime);
    s.pending_since_ns = written > 0 && written <= s.updated_ns ? written : s.updated_ns;
    auto first_seen = scope_.first_seen_ns.find(w.rule->id);
    s.threshold_ns = ThresholdNsFor(*w.rule, s.pending_since_ns,
                                    first_seen == scope_.first_seen_ns.end() ? 0
                                                                             : first_seen->second);
    return s;
  }

  // Records `done` (COMPLETED: `v` reached the destination now) and counts it in the SLA
  // metrics.
  Status Complete(VersionStatus done) {
    sla_.Completed(done);
    return o_.store->Record(done);
  }

  // `done` was written by a repair scan (PassOptions::scan_repairs): counted unless its version
  // predates its rule (the backfill of existing objects, which no event was to bring).
  void CountRepair(const Winner& w, const ObjectInfo& v, const VersionStatus& done) {
    if (!o_.scan_repairs) return;
    auto first_seen = scope_.first_seen_ns.find(w.rule->id);
    if (first_seen != scope_.first_seen_ns.end() && Nanos(v.mtime) <= first_seen->second) return;
    const VersionStatus* before = Row(*w.rule, w.destination->location, v);  // as listed
    sla_.Repaired(done, before == nullptr                          ? kRepairMissed
                        : before->state == VersionState::kFailed ? kRepairFailed
                                                                 : kRepairInterrupted);
  }

  Status OneVersion(const ObjectInfo& v) {
    stats_.versions_listed.fetch_add(1);
    if (o_.retry_failed_only) {
      bool any_failed = false;
      for (const VersionStatus& r : work_.rows) {
        any_failed = any_failed || (r.source_version == VersionName(v) &&
                                    r.state == VersionState::kFailed);
      }
      if (!any_failed) return Status::Ok();
    }
    // Tags decide the winners only when some rule filters on them: look at details first then.
    std::optional<ObjectInfo> details;
    const bool needs_tags = !v.delete_marker && NeedsTags(*o_.rules, work_.key);
    if (needs_tags) {
      Result<ObjectInfo> d = Details(v);
      if (!d.ok()) return FailAll(v, WinningRules(*o_.rules, work_.key, nullptr), d.status());
      details = *std::move(d);
    }
    static const storage::Tags kNoTags;
    const storage::Tags* tags = nullptr;
    if (details) tags = details->tags ? &*details->tags : &kNoTags;
    std::vector<Winner> winners = WinningRules(*o_.rules, work_.key, tags);
    std::vector<Winner> wanted;
    for (const Winner& w : winners) {
      const VersionStatus* row = Row(*w.rule, w.destination->location, v);
      if (Done(row, v) && !Undeleted(row, v) && !o_.retry_failed_only) {
        (row->state == VersionState::kReplica ? stats_.replicas : stats_.already).fetch_add(1);
        continue;
      }
      if (StillRefused(row, v)) continue;
      if (Wanted(w, v)) wanted.push_back(w);
    }
    if (wanted.empty()) return Status::Ok();
    // A version or delete marker a pass wrote here (the store says so), or a version whose
    // replica marks name another location the rules connect, is a replica.
    bool replica = work_.written_here.count(VersionName(v)) != 0;
    std::string replica_why(replica ? kReplicaRowWrittenHere : "");
    std::optional<ReadAhead> ahead;
    if (!replica && !v.delete_marker) {
      if (!details) {
        Status s = Fetch(v, wanted, details, ahead);
        if (!s.ok()) return FailAll(v, wanted, s);
      }
      replica = IsReplica(*details, o_.source_name, connected_);
      if (replica) {
        replica_why = std::string(kReplicaRowOf) + details->metadata.at(kMetaReplicaOrigin);
      }
    }
    for (const Winner& w : wanted) {
      if (!replica && details && details->etag_opaque && !w.rule->sse_kms_objects) {
        // S3 replicates SSE-KMS objects only for rules that select them: left out, said once
        // per version and counted (no row: a rule that selects them later still finds it).
        // The details say "encrypted, ETag not an MD5" (etag_opaque), for SSE-KMS and SSE-C
        // alike: an SSE-C version (read with the source remote's key) needs the criterion too
        // (docs/design/encryption.md).
        stats_.kms_not_selected.fetch_add(1);
        obs::Log(obs::Level::kInfo,
                 "not replicating " + work_.key + " (version " + VersionName(v) + ") to " +
                     w.destination->location + ": it is encrypted (SSE-KMS or SSE-C) and rule '" +
                     w.rule->id + "' does not select SseKmsEncryptedObjects");
        continue;
      }
      if (replica) {
        stats_.replicas.fetch_add(1);
        if (!o_.dry_run) {
          VersionStatus row = NewRow(w, v, VersionState::kReplica);
          row.message = replica_why;
          FERRY_RETURN_IF_ERROR(o_.store->Record(row));
        }
        continue;
      }
      FERRY_RETURN_IF_ERROR(
          ToDestination(w, v, details ? &*details : nullptr, ahead ? &*ahead : nullptr));
    }
    return Status::Ok();
  }

  // The details of `v` before any write of it. Read with its bytes (ReadVersionAhead: one GET
  // instead of a HEAD and a GET) when some destination takes the read path; a HEAD when every
  // destination copies on the server (a copy sends the metadata and reads nothing), in a dry
  // run (nothing is read), and before recovering a PENDING write (which may write nothing).
  Status Fetch(const ObjectInfo& v, const std::vector<Winner>& wanted,
               std::optional<ObjectInfo>& details, std::optional<ReadAhead>& ahead) {
    storage::Backend* reader = nullptr;
    bool pending = false;
    for (const Winner& w : wanted) {
      const VersionStatus* row = Row(*w.rule, w.destination->location, v);
      // A PENDING row to recover, or a REPLICA row to look at again: a HEAD first.
      pending = pending || (row != nullptr && (row->state == VersionState::kPending ||
                                               row->state == VersionState::kReplica));
      storage::Backend* dst = o_.dry_run || Transported(w)
                                  ? nullptr
                                  : o_.destinations.at(w.destination->location);
      if (reader == nullptr && dst != nullptr && !CopiesOnServer(o_, *o_.source, *dst, v.size)) {
        reader = dst;
      }
    }
    if (reader == nullptr || pending) {
      Result<ObjectInfo> d = Details(v);
      if (!d.ok()) return d.status();
      details = *std::move(d);
      return Status::Ok();
    }
    Result<ReadAhead> read = ReadVersionAhead(o_, *o_.source, *reader, v, stop_);
    if (!read.ok()) return read.status();
    ahead = std::move(*read);
    ahead->details.key = v.key;
    if (ahead->details.version_id.empty()) ahead->details.version_id = v.version_id;
    details = Listed(ahead->details, v);
    ahead->details = *details;
    return Status::Ok();
  }

  Result<ObjectInfo> Details(const ObjectInfo& v) {
    if (v.version_id.empty() || v.version_id == "null") {
      FERRY_ASSIGN_OR_RETURN(ObjectInfo d, o_.source->Stat(v.key, true, stop_));
      d.key = v.key;
      return Listed(std::move(d), v);
    }
    FERRY_ASSIGN_OR_RETURN(ObjectInfo d, o_.source->StatVersion(v.key, v.version_id, true, stop_));
    d.key = v.key;
    d.version_id = v.version_id;
    return Listed(std::move(d), v);
  }

  // `d` (a HEAD reply of `v`) with the listing's write time, which is finer (milliseconds);
  // remembered as a replica's order when it is one.
  ObjectInfo Listed(ObjectInfo d, const ObjectInfo& v) {
    if (v.mtime.time_since_epoch().count() != 0) d.mtime = v.mtime;
    if (d.tags) read_tags_[VersionName(v)] = *d.tags;
    if (IsReplica(d, o_.source_name, connected_)) {
      replica_orders_[VersionName(v)] = OrderOf(d, o_.source_name, connected_);
    } else {
      originals_.insert(VersionName(v));
    }
    return d;
  }

  // `v` could not be read. A lasting failure of its own (an archived version, a key the reader
  // may not use, a declared checksum its bytes do not match) does not hold back the key's newer
  // versions: S3 replicates each version on its own, and this one, when it can be read one day,
  // is written then without taking the newer one's place (WriteLate). A passing one does.
  Status FailAll(const ObjectInfo& v, const std::vector<Winner>& winners, const Status& error) {
    const bool passing = error.code() == ErrorCode::kUnavailable ||
                         error.code() == ErrorCode::kCancelled;
    for (const Winner& w : winners) {
      if (!o_.dry_run) FERRY_RETURN_IF_ERROR(Fail(w, v, error, passing));
    }
    if (o_.dry_run) {
      obs::Log(obs::Level::kWarn, "cannot read " + work_.key + ": " + error.message());
    }
    return Status::Ok();
  }

  // Records `v` FAILED at `w`'s destination; the key's later versions there wait unless the
  // failure was `v`'s own (`holds_back` false).
  Status Fail(const Winner& w, const ObjectInfo& v, const Status& error, bool holds_back = true) {
    stats_.failed.fetch_add(1);
    DestState& ds = dest_[w.destination->location];
    if (holds_back && ds.blocked.empty()) {
      ds.blocked = "an older version of the key (" + VersionName(v) + ") failed";
    }
    VersionStatus row = NewRow(w, v, VersionState::kFailed);
    row.error_code = std::string(ErrorCodeName(error.code()));
    row.http_status = HttpStatusFor(error.code());
    row.message = error.message();
    obs::Log(obs::Level::kWarn, "replicating " + work_.key + " (version " + row.source_version +
                                    ") to " + row.destination + " failed: " + error.message());
    sla_.Failed(row);
    return o_.store->Record(row);
  }

  Status ToDestination(const Winner& w, const ObjectInfo& v, const ObjectInfo* details,
                       ReadAhead* ahead) {
    const std::string& dest_name = w.destination->location;
    if (o_.dry_run) {
      stats_.planned.fetch_add(1);
      if (o_.plan) {
        o_.plan(w.rule->id + " -> " + dest_name + ": " + work_.key + " (" +
                (v.delete_marker ? "delete marker " : "version ") + VersionName(v) + ")");
      }
      return Status::Ok();
    }
    DestState& ds = dest_[dest_name];
    storage::Backend& dst = *o_.destinations.at(dest_name);
    const VersionStatus* row = Row(*w.rule, dest_name, v);
    // A version already on its way stays there, also behind an older one that failed.
    if (row != nullptr && row->state == VersionState::kPending && !v.delete_marker &&
        o_.in_transit) {
      Result<bool> on_its_way = o_.in_transit(*row);
      if (!on_its_way.ok()) return Fail(w, v, on_its_way.status());
      if (*on_its_way) {
        // Its archive's unpack writes it (maybe after a redrive of a dead unpack job): a newer
        // version written before it would be covered by it, stale data made current.
        stats_.already.fetch_add(1);
        ds.blocked = "an older version of the key (" + VersionName(v) + ") is on its way: " +
                     row->message;
        return Status::Ok();
      }
    }
    if (!ds.blocked.empty()) return Fail(w, v, Status::FailedPrecondition(ds.blocked));
    // A FAILED row too: a write that failed on the client's side (cancelled when its job lost
    // its lease, a reply lost to a timeout) may have been completed by the server. Not a row
    // queued for the pack job: its version was collected, never written.
    const bool queued = row != nullptr && row->state == VersionState::kPending &&
                        IsQueuedMessage(row->message);
    if (row != nullptr && !v.delete_marker && !queued &&
        (row->state == VersionState::kPending || row->state == VersionState::kFailed)) {
      Result<std::optional<std::string>> found = FindReplica(dst, *details);
      // A write its process sent just before it died may still be landing (the server finishes
      // a request whose client is gone): a recent PENDING row is looked for again once the
      // write could not be in flight any more, rather than written a second time.
      const auto pending_at = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::nanoseconds(row->updated_ns)));
      const auto settled = pending_at + kWriteInFlightGrace;
      // A packed version is written by its archive's unpack only: nothing in flight here.
      if (found.ok() && !*found && o_.clock->Now() < settled && !IsPackedMessage(row->message)) {
        o_.clock->SleepFor(std::chrono::ceil<std::chrono::milliseconds>(settled - o_.clock->Now()),
                           stop_);
        if (stop_.stop_requested()) return Status::Cancelled("replication pass interrupted");
        found = FindReplica(dst, *details);
      }
      if (!found.ok()) return Fail(w, v, found.status());
      if (*found) {
        stats_.recovered.fetch_add(1);
        VersionStatus done = NewRow(w, v, VersionState::kCompleted);
        done.dest_version = **found;
        ds.last_written = OrderOf(*details, o_.source_name, connected_);
        ds.ours.insert(**found);
        touched_ = true;
        FERRY_RETURN_IF_ERROR(Complete(std::move(done)));
        const VersionStatus* newer = WrittenAfter(w, v);
        return newer == nullptr || newer->dest_version.empty()
                   ? Status::Ok()
                   : NewerCurrentAgain(w, v, dst, *newer);
      }
    }
    const VersionStatus* newer = WrittenAfter(w, v);
    if (newer != nullptr) return WriteLate(w, v, details, ahead, dst, *newer);
    if (Transported(w) && !v.delete_marker) return Collect(w, v, *details, dst);
    // Two-way only (the destination may hold originals: a pass has read from it, or one wrote
    // this key to the source): the current version to keep current when it is later.
    if (!ds.checked_current && (scope_.two_way.count(dest_name) || !work_.written_rows.empty())) {
      ds.checked_current = true;
      Result<ObjectInfo> current = dst.Stat(work_.key, false, stop_);
      if (current.ok()) {
        ds.current = *std::move(current);
        ds.current->key = work_.key;
      } else if (current.status().code() != ErrorCode::kNotFound) {
        return Fail(w, v, current.status());
      }
    }
    FERRY_RETURN_IF_ERROR(o_.store->Record(NewRow(w, v, VersionState::kPending)));
    // A durable pass's job must still hold its lease: else another job may be on this key.
    if (o_.before_write) FERRY_RETURN_IF_ERROR(o_.before_write());
    Result<storage::WriteResult> written = Write(w, v, details, ahead, dst);
    if (!written.ok()) return Fail(w, v, written.status(), !IsLastingRefusal(written.status()));
    stats_.replicated.fetch_add(1);
    if (v.delete_marker) stats_.delete_markers.fetch_add(1);
    ds.last_written = v.delete_marker
                          ? WriteOrder{EpochMillis(v.mtime), o_.source_name, VersionName(v)}
                          : OrderOf(*details, o_.source_name, connected_);
    ds.ours.insert(written->version_id);
    touched_ = true;
    VersionStatus done = NewRow(w, v, VersionState::kCompleted);
    done.dest_version = written->version_id;
    if (!v.delete_marker) done.tags_digest = TagsDigest(details->tags.value_or(storage::Tags{}));
    CountRepair(w, v, done);
    return Complete(std::move(done));
  }

  // The newest later version of the key that a pass wrote to `w`'s destination: `v` comes late
  // (it failed on its own while they went on). nullptr when none.
  const VersionStatus* WrittenAfter(const Winner& w, const ObjectInfo& v) {
    const VersionStatus* newest = nullptr;
    bool after = false;
    for (const ObjectInfo& later : work_.versions) {
      if (after) {
        const VersionStatus* r = Row(*w.rule, w.destination->location, later);
        if (r != nullptr && r->state == VersionState::kCompleted) newest = r;
      }
      after = after || &later == &v;
    }
    return newest;
  }

  // Writes `v` after `newer` reached the destination: a versioned destination gets `v` and then
  // `newer` made current again (a kept copy, or its marker again), so the history is complete
  // and the current version stays the newest; one without versions holds only its current
  // object, which `v` would replace: `v` is recorded superseded there and not written.
  Status WriteLate(const Winner& w, const ObjectInfo& v, const ObjectInfo* details,
                   ReadAhead* ahead, storage::Backend& dst, const VersionStatus& newer) {
    if (newer.dest_version.empty()) {
      VersionStatus done = NewRow(w, v, VersionState::kCompleted);
      done.message = "superseded: the destination keeps no versions and holds a newer one (" +
                     newer.source_version + ")";
      return o_.store->Record(done);
    }
    FERRY_RETURN_IF_ERROR(o_.store->Record(NewRow(w, v, VersionState::kPending)));
    if (o_.before_write) FERRY_RETURN_IF_ERROR(o_.before_write());
    Result<storage::WriteResult> written = Write(w, v, details, ahead, dst);
    if (!written.ok()) return Fail(w, v, written.status(), !IsLastingRefusal(written.status()));
    stats_.replicated.fetch_add(1);
    VersionStatus done = NewRow(w, v, VersionState::kCompleted);
    done.dest_version = written->version_id;
    if (!v.delete_marker) done.tags_digest = TagsDigest(details->tags.value_or(storage::Tags{}));
    CountRepair(w, v, done);
    FERRY_RETURN_IF_ERROR(Complete(std::move(done)));
    return NewerCurrentAgain(w, v, dst, newer);
  }

  // After a late write of `v`: `newer` (COMPLETED at `w`'s versioned destination) made current
  // again. A failure records `v` FAILED: the next pass finds `v`'s replica and comes back here.
  Status NewerCurrentAgain(const Winner& w, const ObjectInfo& v, storage::Backend& dst,
                           const VersionStatus& newer) {
    std::optional<std::string> current;
    if (newer.delete_marker) {
      Result<storage::WriteResult> marker = dst.AddDeleteMarker(work_.key, stop_);
      if (marker.ok()) current = marker->version_id;
    } else {
      current = KeepCurrent(dst, w.destination->location, newer.dest_version);
    }
    if (!current) {  // KeepCurrent logged it
      return Fail(w, v, Status::Unavailable("making the newer version " + newer.source_version +
                                            " current again at " + w.destination->location +
                                            " failed"));
    }
    VersionStatus moved = newer;
    moved.dest_version = *current;
    return o_.store->Record(moved);
  }

  Result<storage::WriteResult> Write(const Winner& w, const ObjectInfo& v,
                                     const ObjectInfo* details, ReadAhead* ahead,
                                     storage::Backend& dst) {
    if (v.delete_marker) {
      Result<storage::WriteResult> marker = dst.AddDeleteMarker(work_.key, stop_);
      if (marker.ok() || marker.status().code() != ErrorCode::kFailedPrecondition) return marker;
      // An unversioned destination: the marker's meaning is a delete.
      FERRY_RETURN_IF_ERROR(dst.Delete(work_.key, stop_));
      return storage::WriteResult{};
    }
    storage::WriteSpec spec = SpecOf(*details, o_.source_name);
    FERRY_RETURN_IF_ERROR(CarryLock(*details, dst, spec));
    if (!w.destination->owner_account.empty()) {
      // AccessControlTranslation: the destination account gets the replica.
      spec.acl.grant_full_control = "id=\"" + w.destination->owner_account + "\"";
    }
    if (!w.destination->storage_class.empty()) spec.storage_class = w.destination->storage_class;
    return CopyVersion(o_,
                       {.src = *o_.source,
                        .dst = dst,
                        .version = *details,
                        .key = work_.key,
                        .spec = std::move(spec),
                        .ahead = ahead,
                        .journal = o_.journal ? o_.journal(w.destination->location, work_.key)
                                              : nullptr},
                       stats_, stop_);
  }

  // As S3 replication does: a version's retention and legal hold go with it to a destination
  // with object lock; to one without, a version that has them fails with one line (never
  // copied without its lock). The destination is asked (Backend::HasObjectLock, one request)
  // only for versions that have a lock.
  Status CarryLock(const ObjectInfo& d, storage::Backend& dst, storage::WriteSpec& spec) {
    if (!d.lock.any()) return Status::Ok();
    FERRY_ASSIGN_OR_RETURN(bool locked, dst.HasObjectLock(stop_));
    if (!locked) {
      return Status::FailedPrecondition(dst.Describe() + " has no object lock: the retention or "
                                        "legal hold of " + d.key + " cannot be carried there");
    }
    spec.lock = d.lock;
    return Status::Ok();
  }

  storage::WriteSpec SpecOf(const ObjectInfo& d, std::string_view origin_location) const {
    storage::WriteSpec spec;
    spec.size = d.size;
    spec.content = d.content;
    spec.metadata = d.metadata;
    if (!spec.metadata.count(storage::kMetaMtime)) {
      spec.metadata[storage::kMetaMtime] = std::to_string(
          std::chrono::duration_cast<std::chrono::nanoseconds>(d.mtime.time_since_epoch())
              .count());
    }
    MarkReplica(d, origin_location, connected_, spec.metadata);
    spec.tags = d.tags;
    spec.storage_class = d.storage_class;
    spec.mtime = d.source_mtime();
    // The replica keeps the version's additional checksum (the store checks the bytes against
    // it; a whole copy sends the value the bytes read were checked against).
    if (d.checksum) {
      spec.checksum_algorithm = d.checksum->algorithm;
      if (d.checksum->full_object()) spec.checksum_value = d.checksum->value;
    }
    return spec;
  }

  // A replica of the version with `details` that an interrupted pass wrote to `dst` (newest
  // first, a few versions).
  Result<std::optional<std::string>> FindReplica(storage::Backend& dst, const ObjectInfo& details) {
    std::map<std::string, std::string> marks;
    MarkReplica(details, o_.source_name, connected_, marks);
    const ReplicaFacts facts{.size = details.size,
                             .md5_etag = details.etag_is_md5() ? details.etag : std::string()};
    return FindReplicaOf(dst, work_.key, marks, facts, stop_);
  }

  // Hands `v` (with its details) for `w`'s destination to the pass's transport collector: the
  // keys job packs it, and records its row PENDING then (transport.h).
  // Its lock goes in the archive entry (format 2) as CarryLock decides for a direct write.
  Status Collect(const Winner& w, const ObjectInfo& v, const ObjectInfo& details,
                 storage::Backend& dst) {
    TransportedVersion t;
    t.destination = w.destination;
    t.version = details;
    t.version.key = work_.key;
    t.version.version_id = v.version_id;
    t.spec = SpecOf(details, o_.source_name);
    if (Status lock = CarryLock(details, dst, t.spec); !lock.ok()) return Fail(w, v, lock);
    t.row = NewRow(w, v, VersionState::kPending);
    if (o_.queue_transported) {
      // Left for the run's pack job, recorded while the key is held: a pack job that packed
      // the version already has made its row "packed in" (in transit: not collected again).
      VersionStatus waiting = t.row;
      waiting.message = QueuedMessage();
      FERRY_RETURN_IF_ERROR(o_.store->Record(waiting));
    }
    o_.transported->Add(std::move(t));
    return Status::Ok();
  }

  // Two-way: a destination whose current version was later than what this pass wrote keeps it
  // current (copied again as a replica of its original). And when the source's own current
  // version is the one just written, the source lost the same contest: a later write of the
  // other side reached it earlier (a reverse rule wrote it: a COMPLETED row says where) and was
  // then covered by a write ordered before it (clocks of two regions disagree, or the same
  // millisecond). That replica is made current on the source too, or each side would keep its
  // own.
  Status Restore() {
    for (auto& [name, ds] : dest_) {
      if (!ds.current || !ds.last_written || !MayBeLater(*ds.current, name, *ds.last_written)) {
        continue;
      }
      storage::Backend& dst = *o_.destinations.at(name);
      Result<std::optional<Ordered>> later = LaterThanOurs(dst, name, ds);
      if (!later.ok()) {
        stats_.failed.fetch_add(1);
        obs::Log(obs::Level::kWarn, "reading the versions of " + work_.key + " at " + name +
                                        " failed: " + later.status().message());
        continue;
      }
      if (!*later) continue;
      const Ordered theirs = **later;
      KeepCurrent(dst, name, theirs.version, theirs.listed);
      if (!SourceCurrentWasWritten(*ds.last_written)) continue;
      for (const VersionStatus& r : work_.written_rows) {
        if (r.source != theirs.order.origin || r.source_version != theirs.order.version) continue;
        if (r.delete_marker || r.dest_version.empty()) continue;
        std::optional<std::string> made = KeepCurrent(*o_.source, o_.source_name, r.dest_version);
        if (made) {
          VersionStatus moved = r;
          moved.dest_version = *made;
          FERRY_RETURN_IF_ERROR(o_.store->Record(moved));
        }
        break;
      }
    }
    return Status::Ok();
  }

  // Whether `current` (a HEAD reply: an original's time is whole seconds there) may be ordered
  // after `written`.
  bool MayBeLater(const ObjectInfo& current, const std::string& name,
                  const WriteOrder& written) const {
    WriteOrder bound = OrderOf(current, name, connected_);
    if (!IsReplica(current, name, connected_)) bound.time_ms += 999;
    return written < bound;
  }

  // The destination's versions from its newest down to the current one read before this pass
  // wrote: the latest-ordered one this pass did not make, when it is ordered after `ds`'s last
  // write. Nothing when the newest version is not this pass's (a write landed after ours: it is
  // the newest, and the reverse pass orders it), or when nothing there is later.
  Result<std::optional<Ordered>> LaterThanOurs(storage::Backend& dst, const std::string& name,
                                               const DestState& ds) {
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ListingCursor> cursor,
                           dst.ListVersions(work_.key, "", ""));
    std::optional<Ordered> best;
    bool newest = true;
    for (int looked = 0; looked < 64; ++looked) {
      FERRY_ASSIGN_OR_RETURN(const ObjectInfo* e, cursor->Next());
      if (e == nullptr || e->key != work_.key) break;
      const bool mine = ds.ours.count(e->version_id) != 0;
      if (newest && !mine) return std::optional<Ordered>();
      newest = false;
      if (!mine && !e->delete_marker) {
        FERRY_ASSIGN_OR_RETURN(ObjectInfo d,
                               dst.StatVersion(work_.key, e->version_id, false, stop_));
        d.key = work_.key;
        d.version_id = e->version_id;
        d.mtime = e->mtime;
        Ordered o{OrderOf(d, name, connected_), e->version_id, e->mtime};
        if (!best || best->order < o.order) best = std::move(o);
      }
      if (e->version_id == ds.current->version_id) break;
    }
    if (best && *ds.last_written < best->order) return best;
    return std::optional<Ordered>();
  }

  // The source's current version is a replica ordered before an original of the source (a
  // write covered by a replica written at the same time, seen by a pass that had work on the
  // key): that original is made current again. Only keys this pass wrote are looked at, so a
  // quiet key costs nothing.
  Status HealSource() {
    if (!touched_ || work_.versions.empty()) return Status::Ok();
    const ObjectInfo& current = work_.versions.back();
    if (!current.is_latest || current.delete_marker) return Status::Ok();
    const std::string current_name = VersionName(current);
    std::optional<Ordered> best;
    for (const ObjectInfo& v : work_.versions) {
      if (v.delete_marker || !KnownOriginal(v)) continue;
      Ordered o{WriteOrder{EpochMillis(v.mtime), o_.source_name, VersionName(v)}, v.version_id,
                v.mtime};
      if (!best || best->order < o.order) best = std::move(o);
    }
    if (!best || !KnownReplica(current_name)) return Status::Ok();
    auto it = replica_orders_.find(current_name);
    WriteOrder current_order;
    if (it != replica_orders_.end()) {
      current_order = it->second;
    } else {
      Result<ObjectInfo> d = current.version_id.empty()
                                 ? o_.source->Stat(work_.key, false, stop_)
                                 : o_.source->StatVersion(work_.key, current.version_id, false,
                                                          stop_);
      if (!d.ok()) {
        stats_.failed.fetch_add(1);
        obs::Log(obs::Level::kWarn, "reading the current version of " + work_.key + " at " +
                                        o_.source_name + " failed: " + d.status().message());
        return Status::Ok();
      }
      current_order = OrderOf(*d, o_.source_name, connected_);
    }
    if (current_order < best->order) {
      KeepCurrent(*o_.source, o_.source_name, best->version, best->listed);
    }
    return Status::Ok();
  }

  // A version of the source known to be a replica: a pass wrote it here, the store says so, or
  // its details said so in this pass.
  bool KnownReplica(const std::string& version) const {
    if (work_.written_here.count(version) || replica_orders_.count(version)) return true;
    for (const VersionStatus& r : work_.rows) {
      if (r.source_version == version && r.state == VersionState::kReplica) return true;
    }
    return false;
  }

  // A version of the source known to be an original: its details said so in this pass, or it
  // has a row that is not REPLICA.
  bool KnownOriginal(const ObjectInfo& v) const {
    const std::string version = VersionName(v);
    if (originals_.count(version)) return true;
    if (KnownReplica(version)) return false;
    for (const VersionStatus& r : work_.rows) {
      if (r.source_version == version) return true;
    }
    return false;
  }

  // Whether the source's current version is an original this pass ordered as `written`.
  bool SourceCurrentWasWritten(const WriteOrder& written) const {
    if (work_.versions.empty()) return false;
    const ObjectInfo& newest = work_.versions.back();
    return newest.is_latest && !newest.delete_marker && written.origin == o_.source_name &&
           written.version == VersionName(newest);
  }

  // Copies `version` of the key on `b` (location `name`) onto itself as its new current
  // version, carrying the replica metadata of its original (an original's time is `listed`,
  // its listing's, when given: a HEAD reply has whole seconds only). Returns the version made
  // (empty string when unversioned), nullopt after a failure (logged and counted).
  std::optional<std::string> KeepCurrent(storage::Backend& b, const std::string& name,
                                         const std::string& version,
                                         std::chrono::system_clock::time_point listed = {}) {
    Result<ObjectInfo> full = version.empty() ? b.Stat(work_.key, true, stop_)
                                              : b.StatVersion(work_.key, version, true, stop_);
    Status s = full.status();
    std::optional<std::string> made;
    if (full.ok() && o_.before_write) s = o_.before_write();
    if (full.ok() && s.ok()) {
      full->key = work_.key;
      full->version_id = version;
      if (listed.time_since_epoch().count() != 0) full->mtime = listed;
      storage::WriteSpec spec = SpecOf(*full, name);
      // The same bucket: its versions have a lock only where it has object lock.
      if (Status lock = CarryLock(*full, b, spec); !lock.ok()) spec.lock = {};
      spec.metadata[kMetaReplicaKept] = "1";  // a replica there even when its origin is `name`
      Result<storage::WriteResult> w = CopyVersion(
          o_,
          {.src = b,
           .dst = b,
           .version = *full,
           .key = work_.key,
           .spec = std::move(spec),
           .ahead = nullptr,
           .journal = nullptr},
          stats_, stop_);
      s = w.status();
      if (w.ok()) made = w->version_id;
    }
    if (!s.ok()) {
      stats_.failed.fetch_add(1);
      obs::Log(obs::Level::kWarn, "keeping the later current version of " + work_.key + " at " +
                                      name + " failed: " + s.message());
      return std::nullopt;
    }
    stats_.restored.fetch_add(1);
    return made;
  }

  const PassOptions& o_;
  const PassScope& scope_;
  KeyWork& work_;
  PassStats& stats_;
  SlaMetrics& sla_;
  std::stop_token stop_;
  const Connected connected_;  // where replica marks may name an origin (replica.h)
  std::map<std::string, DestState> dest_;
  std::map<std::string, WriteOrder> replica_orders_;  // replicas of the source read this pass
  std::set<std::string> originals_;                   // originals of the source read this pass
  std::map<std::string, storage::Tags> read_tags_;    // tags of versions read this pass
  bool touched_ = false;                              // this pass wrote something of the key
  std::set<std::string> direct_;  // transported destinations this key goes to directly
  // (rule, destination) whose DELETE of the key the source undid (FindUndoneDeletes)
  std::set<std::pair<std::string, std::string>> undone_deletes_;
};

}  // namespace

namespace {

// Whether a pass could write anything of `work`: some version lacks a finished row for a
// destination of a rule whose prefix takes the key, a row names a version the listing no longer
// has (an undelete), or tags or two-way order may need writes. False only for keys every
// destination has: those cost no lock (a scan of a replicated source stays a listing).
bool MayWrite(const PassOptions& o, const PassScope& scope, const KeyWork& work) {
  if (!scope.two_way.empty() || !work.written_rows.empty()) return true;
  const Connected connected = ConnectedLocations(o.source_name, *o.rules);
  std::set<std::string> listed;
  for (const ObjectInfo& v : work.versions) listed.insert(VersionName(v));
  for (const VersionStatus& r : work.rows) {
    if (!listed.count(r.source_version)) return true;
  }
  for (const Rule& rule : o.rules->rules) {
    if (!rule.enabled || work.key.compare(0, rule.prefix.size(), rule.prefix) != 0) continue;
    if (rule.replica_modifications) return true;
    for (const Destination& d : rule.destinations) {
      for (const ObjectInfo& v : work.versions) {
        const std::string version = VersionName(v);
        bool done = false;
        for (const VersionStatus& r : work.rows) {
          done = done || (r.rule == rule.id && r.destination == d.location &&
                          r.source_version == version &&
                          ((r.state == VersionState::kReplica &&
                            ReplicaRowHolds(r, connected)) ||
                           (r.state == VersionState::kCompleted &&
                            (version != "null" || r.source_etag == v.etag))));
        }
        if (!done) return true;
      }
    }
  }
  return false;
}

// The key's rows read again (after its lock was taken: they may have changed since the batch
// read them).
Status Reload(const PassOptions& o, KeyWork& work) {
  const std::string keys[] = {work.key};
  FERRY_ASSIGN_OR_RETURN(work.rows, o.store->ForKeys(o.source_name, keys));
  FERRY_ASSIGN_OR_RETURN(work.written_rows, o.store->WrittenTo(o.source_name, keys));
  work.written_here.clear();
  for (const VersionStatus& r : work.written_rows) work.written_here.insert(r.dest_version);
  return Status::Ok();
}

}  // namespace

Status ReplicateKey(const PassOptions& o, const PassScope& scope, KeyWork& work,
                    PassStats& stats, SlaMetrics& sla, std::stop_token stop) {
  if (!o.lock_key || o.dry_run || !MayWrite(o, scope, work)) {
    return KeyPass(o, scope, work, stats, sla, stop).Run();
  }
  FERRY_ASSIGN_OR_RETURN(bool held, o.lock_key(work.key));
  if (!held) {
    stats.busy.fetch_add(1);
    return Status::Ok();
  }
  Status s = Reload(o, work);
  if (s.ok()) s = KeyPass(o, scope, work, stats, sla, stop).Run();
  if (o.unlock_key) o.unlock_key(work.key);
  return s;
}

}  // namespace ferry::replicate::internal
