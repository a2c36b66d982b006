// One key's versions, oldest first, to every destination (see pass.h): the sequence. KeyPass
// gathers the facts (the key's rows, listed versions, details read, the destination's current
// version), asks the decisions (key_versions.h: which versions are wanted; key_markers.h: delete
// markers; key_order.h: late writes and two-way order; key_replicas.h: replica recognition and
// recovery; key_records.h: rows and write specs) and acts: reads here, writes through a
// KeyWriter (key_writes.h), two-way convergence after the versions (key_two_way.h).
#include <chrono>
#include <optional>
#include <set>

#include "obs/log.h"
#include "replicate/key_markers.h"
#include "replicate/key_order.h"
#include "replicate/key_records.h"
#include "replicate/key_replicas.h"
#include "replicate/key_two_way.h"
#include "replicate/key_versions.h"
#include "replicate/key_writes.h"
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
        connected_(ConnectedLocations(o.source_name, *o.rules)),
        version_rules_{scope.first_seen_ns, connected_, o.retry_failed_only},
        seen_(o.source_name, connected_, work.rows, work.written_here),
        writer_(o, work.key, connected_, stats, stop) {}

  Status Run() {
    if (o_.transported != nullptr) {
      direct_ = MarkerDirectDestinations(*o_.rules, work_.key, work_.versions, work_.rows,
                                         version_rules_);
    }
    undone_deletes_ = FindUndoneDeletes(work_.versions, work_.rows);
    for (const ObjectInfo& v : work_.versions) {
      if (stop_.stop_requested()) return Status::Cancelled("replication pass interrupted");
      FERRY_RETURN_IF_ERROR(OneVersion(v));
    }
    const TwoWayKey two_way{.o = o_,
                            .work = work_,
                            .connected = connected_,
                            .seen = seen_,
                            .writer = writer_,
                            .stats = stats_,
                            .stop = stop_};
    FERRY_RETURN_IF_ERROR(KeepLatestCurrent(two_way, dest_));
    FERRY_RETURN_IF_ERROR(HealCoveredWrite(two_way, touched_));
    return SyncTags(o_, work_, read_tags_, stats_, sla_, stop_);
  }

 private:
  const VersionStatus* Row(const Rule& rule, const std::string& dest, const ObjectInfo& v) const {
    return FindKeyRow(work_.rows, rule.id, dest, VersionName(v));
  }

  bool Undeleted(const VersionStatus* row, const ObjectInfo& v) const {
    return IsUndeleted(row, v, work_.versions, undone_deletes_);
  }

  // Whether `w`'s versions of this key are packed for compressed transport.
  bool Transported(const Winner& w) const {
    return o_.transported != nullptr && w.destination->transport.compress &&
           !direct_.count(w.destination->location);
  }

  VersionStatus NewRow(const Winner& w, const ObjectInfo& v, VersionState state) const {
    return NewKeyRow({.source = o_.source_name,
                      .rule = *w.rule,
                      .destination = w.destination->location,
                      .key = work_.key,
                      .first_seen_ns = scope_.first_seen_ns},
                     v, state, Nanos(o_.clock->Now()));
  }

  // Records `done` (COMPLETED: `v` reached the destination now) and counts it in the SLA
  // metrics.
  Status Complete(VersionStatus done) {
    sla_.Completed(done);
    return o_.store->Record(done);
  }

  // `done` was written by a repair scan (PassOptions::scan_repairs): counted (RepairReasonOf).
  void CountRepair(const Winner& w, const ObjectInfo& v, const VersionStatus& done) {
    if (!o_.scan_repairs) return;
    const VersionStatus* before = Row(*w.rule, w.destination->location, v);  // as listed
    std::optional<std::string_view> reason =
        RepairReasonOf(before, v, w.rule->id, scope_.first_seen_ns);
    if (reason) sla_.Repaired(done, *reason);
  }

  // The winners of `winners` that want `v` (JudgeVersion), the others counted.
  std::vector<Winner> WantedOf(const ObjectInfo& v, const std::vector<Winner>& winners) {
    std::vector<Winner> wanted;
    for (const Winner& w : winners) {
      const VersionStatus* row = Row(*w.rule, w.destination->location, v);
      switch (JudgeVersion(*w.rule, v, row, Undeleted(row, v), version_rules_)) {
        case VersionVerdict::kDone:
          stats_.already.fetch_add(1);
          break;
        case VersionVerdict::kReplica:
          stats_.replicas.fetch_add(1);
          break;
        case VersionVerdict::kRefused:
          stats_.failed.fetch_add(1);
          obs::Log(obs::Level::kWarn, "not replicating " + work_.key + " (version " +
                                          VersionName(v) + ") to " + row->destination + ": " +
                                          row->message + " (--retry-failed reads it again)");
          break;
        case VersionVerdict::kWanted:
          wanted.push_back(w);
          break;
        case VersionVerdict::kNotWanted:
          break;
      }
    }
    return wanted;
  }

  Status OneVersion(const ObjectInfo& v) {
    stats_.versions_listed.fetch_add(1);
    if (o_.retry_failed_only && !HasFailedRow(work_.rows, v)) return Status::Ok();
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
    const std::vector<Winner> wanted = WantedOf(v, WinningRules(*o_.rules, work_.key, tags));
    if (wanted.empty()) return Status::Ok();
    // A version or delete marker a pass wrote here (the store says so), or a version whose
    // replica marks name another location the rules connect, is a replica (the REPLICA row's
    // message says which).
    std::optional<std::string> replica = ReplicaByStore(work_.written_here, v);
    std::optional<ReadAhead> ahead;
    if (!replica && !v.delete_marker) {
      if (!details) {
        Status s = Fetch(v, wanted, details, ahead);
        if (!s.ok()) return FailAll(v, wanted, s);
      }
      replica = ReplicaByMarks(*details, o_.source_name, connected_);
    }
    for (const Winner& w : wanted) {
      if (!replica && details && EncryptedNotSelected(*w.rule, *details)) {
        NotSelected(w, v);
        continue;
      }
      if (replica) {
        stats_.replicas.fetch_add(1);
        if (!o_.dry_run) {
          VersionStatus row = NewRow(w, v, VersionState::kReplica);
          row.message = *replica;
          FERRY_RETURN_IF_ERROR(o_.store->Record(row));
        }
        continue;
      }
      FERRY_RETURN_IF_ERROR(
          ToDestination(w, v, details ? &*details : nullptr, ahead ? &*ahead : nullptr));
    }
    return Status::Ok();
  }

  // An encrypted version that `w`'s rule does not select (EncryptedNotSelected): left out, said
  // once per version and counted (no row: a rule that selects them later still finds it).
  void NotSelected(const Winner& w, const ObjectInfo& v) {
    stats_.kms_not_selected.fetch_add(1);
    obs::Log(obs::Level::kInfo,
             "not replicating " + work_.key + " (version " + VersionName(v) + ") to " +
                 w.destination->location + ": it is encrypted (SSE-KMS or SSE-C) and rule '" +
                 w.rule->id + "' does not select SseKmsEncryptedObjects");
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
  // remembered as a replica with its order, or as an original (SourceVersionsSeen).
  ObjectInfo Listed(ObjectInfo d, const ObjectInfo& v) {
    if (v.mtime.time_since_epoch().count() != 0) d.mtime = v.mtime;
    if (d.tags) read_tags_[VersionName(v)] = *d.tags;
    seen_.Learn(d, VersionName(v));
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
    KeyDestState& ds = dest_[w.destination->location];
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

  // `v` to `w`'s destination, in the key's order there: planned only (dry run); left to the
  // archive it is on its way in; failed behind an older version; recovered when an earlier
  // attempt's write is found; written late; collected for compressed transport; else written.
  Status ToDestination(const Winner& w, const ObjectInfo& v, const ObjectInfo* details,
                       ReadAhead* ahead) {
    const std::string& dest_name = w.destination->location;
    if (o_.dry_run) {
      stats_.planned.fetch_add(1);
      if (!v.delete_marker) stats_.planned_bytes.fetch_add(v.size);
      if (o_.plan) {
        o_.plan(PlannedVersion{.rule = w.rule->id,
                               .destination = dest_name,
                               .key = work_.key,
                               .version = VersionName(v),
                               .delete_marker = v.delete_marker,
                               .size = v.delete_marker ? 0 : v.size});
      }
      return Status::Ok();
    }
    KeyDestState& ds = dest_[dest_name];
    storage::Backend& dst = *o_.destinations.at(dest_name);
    const VersionStatus* row = Row(*w.rule, dest_name, v);
    // A version already on its way stays there, also behind an older one that failed.
    if (std::optional<Status> s = StaysOnItsWay(w, v, row, ds)) return *s;
    if (!ds.blocked.empty()) return Fail(w, v, Status::FailedPrecondition(ds.blocked));
    if (MayHaveLanded(row, v)) {
      if (std::optional<Status> s = Recover(w, v, *row, *details, dst, ds)) return *s;
    }
    const VersionStatus* newer =
        WrittenAfter(work_.versions, v, work_.rows, w.rule->id, dest_name);
    if (newer != nullptr) return WriteLate(w, v, details, ahead, dst, *newer);
    if (Transported(w) && !v.delete_marker) return Collect(w, v, *details, dst);
    if (std::optional<Status> s = ReadCurrent(w, v, dst, ds)) return *s;
    return WriteInOrder(w, v, details, ahead, dst, ds);
  }

  // A version PENDING in another run's archive (PassOptions::in_transit) is written by that
  // archive's unpack (maybe after a redrive of a dead unpack job): a newer version written
  // before it would be covered by it, stale data made current. So the key's later versions wait.
  // A Status: `v`'s outcome here (Ok: left to the archive); nullopt: not on its way.
  std::optional<Status> StaysOnItsWay(const Winner& w, const ObjectInfo& v,
                                      const VersionStatus* row, KeyDestState& ds) {
    if (row == nullptr || row->state != VersionState::kPending || v.delete_marker ||
        !o_.in_transit) {
      return std::nullopt;
    }
    Result<bool> on_its_way = o_.in_transit(*row);
    if (!on_its_way.ok()) return Fail(w, v, on_its_way.status());
    if (!*on_its_way) return std::nullopt;
    stats_.already.fetch_add(1);
    ds.blocked =
        "an older version of the key (" + VersionName(v) + ") is on its way: " + row->message;
    return Status::Ok();
  }

  // `v`'s `row` says an earlier attempt may have written it (MayHaveLanded): its replica is
  // looked for at `dst`, once more after the write could not be in flight any more
  // (InFlightUntil: the server finishes a request whose client is gone), rather than written a
  // second time. Found: recorded COMPLETED, and a newer version written since made current
  // again. A Status: `v`'s outcome; nullopt: not found, to be written.
  std::optional<Status> Recover(const Winner& w, const ObjectInfo& v, const VersionStatus& row,
                                const ObjectInfo& details, storage::Backend& dst, KeyDestState& ds) {
    Result<std::optional<std::string>> found = writer_.FindReplica(dst, details);
    if (found.ok() && !*found) {
      if (std::optional<std::chrono::system_clock::time_point> settled =
              InFlightUntil(row, o_.clock->Now())) {
        o_.clock->SleepFor(
            std::chrono::ceil<std::chrono::milliseconds>(*settled - o_.clock->Now()), stop_);
        if (stop_.stop_requested()) return Status::Cancelled("replication pass interrupted");
        found = writer_.FindReplica(dst, details);
      }
    }
    if (!found.ok()) return Fail(w, v, found.status());
    if (!*found) return std::nullopt;
    stats_.recovered.fetch_add(1);
    VersionStatus done = NewRow(w, v, VersionState::kCompleted);
    done.dest_version = **found;
    ds.last_written = OrderOf(details, o_.source_name, connected_);
    ds.ours.insert(**found);
    touched_ = true;
    FERRY_RETURN_IF_ERROR(Complete(std::move(done)));
    const VersionStatus* newer =
        WrittenAfter(work_.versions, v, work_.rows, w.rule->id, w.destination->location);
    return newer == nullptr || newer->dest_version.empty()
               ? Status::Ok()
               : NewerCurrentAgain(w, v, dst, *newer);
  }

  // Two-way only (the destination may hold originals: a pass has read from it, or one wrote
  // this key to the source): the destination's current version, read before the key's first
  // write there, to keep current when it is later (KeepLatestCurrent). A Status: `v` failed on it.
  std::optional<Status> ReadCurrent(const Winner& w, const ObjectInfo& v, storage::Backend& dst,
                                    KeyDestState& ds) {
    if (ds.checked_current ||
        (!scope_.two_way.count(w.destination->location) && work_.written_rows.empty())) {
      return std::nullopt;
    }
    ds.checked_current = true;
    Result<ObjectInfo> current = dst.Stat(work_.key, false, stop_);
    if (current.ok()) {
      ds.current = *std::move(current);
      ds.current->key = work_.key;
    } else if (current.status().code() != ErrorCode::kNotFound) {
      return Fail(w, v, current.status());
    }
    return std::nullopt;
  }

  // Writes `v` in the key's order: PENDING, the write, COMPLETED with the version it made.
  Status WriteInOrder(const Winner& w, const ObjectInfo& v, const ObjectInfo* details,
                      ReadAhead* ahead, storage::Backend& dst, KeyDestState& ds) {
    FERRY_RETURN_IF_ERROR(o_.store->Record(NewRow(w, v, VersionState::kPending)));
    // A durable pass's job must still hold its lease: else another job may be on this key.
    if (o_.before_write) FERRY_RETURN_IF_ERROR(o_.before_write());
    Result<storage::WriteResult> written = writer_.Write(*w.destination, v, details, ahead, dst);
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

  // Writes `v` after `newer` reached the destination: a versioned destination gets `v` and then
  // `newer` made current again (a kept copy, or its marker again), so the history is complete
  // and the current version stays the newest; one without versions is superseded
  // (SupersededMessage).
  Status WriteLate(const Winner& w, const ObjectInfo& v, const ObjectInfo* details,
                   ReadAhead* ahead, storage::Backend& dst, const VersionStatus& newer) {
    if (std::optional<std::string> superseded = SupersededMessage(newer)) {
      VersionStatus done = NewRow(w, v, VersionState::kCompleted);
      done.message = *std::move(superseded);
      return o_.store->Record(done);
    }
    FERRY_RETURN_IF_ERROR(o_.store->Record(NewRow(w, v, VersionState::kPending)));
    if (o_.before_write) FERRY_RETURN_IF_ERROR(o_.before_write());
    Result<storage::WriteResult> written = writer_.Write(*w.destination, v, details, ahead, dst);
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
      current = writer_.KeepCurrent(dst, w.destination->location, newer.dest_version);
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
    t.spec = ReplicaSpecOf(details, o_.source_name, connected_);
    if (Status lock = writer_.CarryLock(details, dst, t.spec); !lock.ok()) return Fail(w, v, lock);
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

  const PassOptions& o_;
  const PassScope& scope_;
  KeyWork& work_;
  PassStats& stats_;
  SlaMetrics& sla_;
  std::stop_token stop_;
  const Connected connected_;  // where replica marks may name an origin (replica.h)
  const VersionRules version_rules_;  // what the version decisions read (key_versions.h)
  SourceVersionsSeen seen_;  // replicas and originals of the source known in this pass
  KeyWriter writer_;         // the writes of the key (key_writes.h)
  std::map<std::string, KeyDestState> dest_;
  std::map<std::string, storage::Tags> read_tags_;    // tags of versions read this pass
  bool touched_ = false;                              // this pass wrote something of the key
  std::set<std::string> direct_;  // transported destinations this key goes to directly
  // (rule, destination) whose DELETE of the key the source undid (FindUndoneDeletes)
  UndoneDeletes undone_deletes_;
};

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
  if (!o.lock_key || o.dry_run || !KeyMayWrite(o.source_name, *o.rules, scope, work)) {
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
