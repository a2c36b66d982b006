// Compressed transport of replicated versions: the pack of a keys job's collected versions and
// the unpack into one destination (contracts in transport.h).
#include "replicate/transport.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "archive/backend_io.h"
#include "archive/writer.h"
#include "checksum/checksum.h"
#include "obs/log.h"
#include "replicate/pass_internal.h"
#include "replicate/replica.h"
#include "replicate/sla.h"
#include "transfer/verify.h"
#include "transport/level.h"
#include "transport/level_advisor.h"
#include "transport/pack.h"

namespace ferry::replicate {
namespace {

using storage::ObjectInfo;

constexpr std::string_view kPackedIn = "packed in ";
constexpr std::string_view kQueued = "queued for transport";

// `clock`'s time in ns since the Unix epoch (null: SystemClock::Default()).
int64_t NowNs(const Clock* clock) {
  const Clock& c = ClockOr(clock);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(c.Now().time_since_epoch()).count();
}

// One archive entry: a version and the destinations (of one staging location) that want it.
struct Entry {
  const TransportedVersion* first = nullptr;
  std::vector<const TransportedVersion*> items;
};

archive::EntryHeader HeaderOf(const TransportedVersion& t, const std::vector<std::string>& regions) {
  archive::EntryHeader h;
  h.key = t.row.key;
  h.size = t.spec.size;
  h.version_id = VersionName(t.version);
  h.etag = t.version.etag;
  h.mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.spec.mtime.time_since_epoch())
          .count();
  h.content = t.spec.content;
  h.metadata = t.spec.metadata;
  h.metadata.erase(std::string(storage::kMetaCrc32c));  // the unpack adds the entry's own
  h.tags = t.spec.tags;
  h.storage_class = t.spec.storage_class;
  h.destinations = regions;
  h.lock = t.spec.lock;  // set only for destinations with object lock (CarryLock, key.cc)
  return h;
}

// One archive of a pack: the entries of one staging location.
struct ArchiveToPack {
  storage::Backend& staging;          // the staging location
  const std::string& key;             // the archive's key there
  const std::vector<Entry>& entries;  // in archive order
  int level;  // the zstd level; 0: the adaptive one (t.levels), else transport::kStartLevel
  // Set to the index in `entries` of a version whose own bytes what it declares refuses
  // (PackOptions::refused): the pack failed, and packs again without it.
  std::optional<size_t>* refused = nullptr;
};

// Packs `to_pack.entries` into `to_pack.key` on `to_pack.staging`.
Result<archive::WriteSummary> PackOne(const PassOptions& o, const PackTransportOptions& t,
                                      const ArchiveToPack& to_pack, std::stop_token stop) {
  storage::Backend& staging = to_pack.staging;
  const std::string& key = to_pack.key;
  const std::vector<Entry>& entries = to_pack.entries;
  const int level = to_pack.level;
  std::unique_ptr<transport::AdaptiveLevel> adaptive;
  if (level == 0 && t.levels != nullptr) {
    std::vector<ObjectInfo> objects;
    for (const Entry& e : entries) objects.push_back(e.first->version);
    auto a = transport::AdaptiveLevel::Start(*t.levels, objects);
    if (a.ok()) {
      adaptive = std::move(a).value();
    } else {
      obs::Log(obs::Level::kWarn, "adaptive level unavailable", {{"error", a.status().message()}});
    }
  }
  archive::WriterOptions w;
  w.level = level != 0 ? level : adaptive ? adaptive->level() : transport::kStartLevel;
  if (t.retry) transport::AbortEarlierUploads(staging, key, stop);
  uint64_t raw_bytes = 0;
  for (const Entry& e : entries) raw_bytes += e.first->version.size;
  if (t.executor == nullptr) return Status::InvalidArgument("PackTransported: no executor");
  FERRY_ASSIGN_OR_RETURN(auto sink,
                         archive::BackendSink::Open(staging, key,
                                                    archive::ArchivePartSize(raw_bytes),
                                                    *t.executor, stop));
  // The one pack pipeline (transport/pack.h), given the versions with their details: each is
  // read by version id ahead of the writer as the executor's tasks, checked against what it
  // declares (else read twice), and entered with the header a direct copy would write.
  std::vector<ObjectInfo> versions;
  std::vector<std::vector<std::string>> regions;
  versions.reserve(entries.size());
  for (const Entry& e : entries) {
    versions.push_back(e.first->version);
    versions.back().key = e.first->row.key;
    std::vector<std::string>& r = regions.emplace_back();
    for (const TransportedVersion* item : e.items) {
      const std::string& region = item->destination->transport.region;
      if (std::find(r.begin(), r.end(), region) == r.end()) r.push_back(region);
    }
  }
  transport::PackOptions p;
  p.writer = w;
  p.executor = t.executor;
  p.versions = true;
  p.header_of = [&](size_t i, const ObjectInfo&) { return HeaderOf(*entries[i].first, regions[i]); };
  if (to_pack.refused != nullptr) p.refused = [&to_pack](size_t i) { *to_pack.refused = i; };
  FERRY_ASSIGN_OR_RETURN(transport::PackResult packed,
                         transport::PackObjects(*o.source, versions, *sink, p, stop));
  const archive::WriteSummary& summary = packed.summary;
  FERRY_RETURN_IF_ERROR(sink->Close());
  if (adaptive) {
    if (Status s = adaptive->Finish(summary.raw_bytes, summary.archive_bytes); !s.ok()) {
      obs::Log(obs::Level::kWarn, "level history not recorded", {{"error", s.message()}});
    }
  }
  return summary;
}

}  // namespace

void TransportCollector::Add(TransportedVersion v) {
  std::lock_guard lock(mu_);
  keys_.insert(v.version.key);
  items_.push_back(std::move(v));
}

bool TransportCollector::Has(const std::string& key) const {
  std::lock_guard lock(mu_);
  return keys_.count(key) > 0;
}

std::vector<std::string> TransportCollector::Keys() const {
  std::lock_guard lock(mu_);
  return {keys_.begin(), keys_.end()};
}

std::vector<TransportedVersion> TransportCollector::Take() {
  std::lock_guard lock(mu_);
  return std::exchange(items_, {});
}

size_t TransportCollector::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

std::string PackedMessage(const std::string& staging, const std::string& archive) {
  return std::string(kPackedIn) + archive + " at " + staging;
}

std::function<Result<bool>(const VersionStatus&)> InTransit(
    transport::TransportStore& archives,
    std::function<std::string(const std::string& staging)> archive_key) {
  return [&archives, archive_key = std::move(archive_key)](
             const VersionStatus& row) -> Result<bool> {
    if (row.state != VersionState::kPending || !IsPackedMessage(row.message)) return false;
    const std::string rest = row.message.substr(kPackedIn.size());
    const size_t at = rest.find(" at ");
    if (at == std::string::npos) return false;
    const std::string archive = rest.substr(0, at);
    const std::string staging = rest.substr(at + 4);
    if (archive == archive_key(staging)) return false;  // this job's own: packed again
    FERRY_ASSIGN_OR_RETURN(std::optional<transport::ArchiveRow> progress,
                           archives.Get(staging, archive, row.destination));
    return progress.has_value() && progress->state != transport::ArchiveState::kDone &&
           progress->state != transport::ArchiveState::kUnpacked;
  };
}

bool IsPackedMessage(const std::string& message) {
  return message.compare(0, kPackedIn.size(), kPackedIn) == 0;
}

std::string QueuedMessage() { return std::string(kQueued); }

bool IsQueuedMessage(const std::string& message) { return message == kQueued; }

PackBatching BatchingOf(const RuleSet& rules) {
  PackBatching b;
  bool first = true;
  for (const Rule& r : rules.rules) {
    if (!r.enabled) continue;
    for (const Destination& d : r.destinations) {
      const Transport& t = d.transport;
      if (!t.compress) continue;
      b.max_delay = first ? t.max_delay : std::min(b.max_delay, t.max_delay);
      b.objects = first ? t.batch_objects : std::min(b.objects, t.batch_objects);
      b.bytes = first ? t.batch_bytes : std::min(b.bytes, t.batch_bytes);
      first = false;
    }
  }
  return b;
}

namespace {

// Whether `older`, the version right below the replica `newer` in its key's history, is what a
// chunked write's commit leaves when its process dies between its two steps (storage/s3
// multipart.cc: the upload completed, then copied onto itself with the ferry-crc32c it learnt
// while streaming, then the completed version deleted): the same replica, same bytes, without
// the stamp the copy added. A kept copy (a newer version written again to stay current) is a
// write of its own and never matches.
bool IsUnstampedTwin(const ObjectInfo& older, const ObjectInfo& newer) {
  return older.size == newer.size && older.etag == newer.etag && !older.etag.empty() &&
         older.metadata.count(storage::kMetaCrc32c) == 0 &&
         newer.metadata.count(storage::kMetaCrc32c) != 0 &&
         newer.metadata.count(kMetaReplicaKept) == 0 &&
         older.metadata.count(kMetaReplicaKept) == 0;
}

// Whether `d` (a destination version's HEAD) has what the replica of an original with `facts`
// must have: its size, and its MD5 where both ETags are MD5s. Marks copied onto other bytes
// (any writer may set them) never make a replica of them.
bool AgreesWithReplicaFacts(const ObjectInfo& d, const ReplicaFacts& facts) {
  if (d.size != facts.size) return false;
  return facts.md5_etag.empty() || !d.etag_is_md5() || d.etag == facts.md5_etag;
}

}  // namespace

Result<std::optional<std::string>> FindReplicaOf(storage::Backend& dst, const std::string& key,
                                                 const std::map<std::string, std::string>& marks,
                                                 const ReplicaFacts& facts, std::stop_token stop) {
  Result<std::unique_ptr<storage::ListingCursor>> cursor = dst.ListVersions(key, "", "");
  if (!cursor.ok()) {
    if (cursor.status().code() == ErrorCode::kNotSupported) return std::optional<std::string>();
    return cursor.status();
  }
  std::optional<ObjectInfo> found;
  for (int looked = 0; looked < 16; ++looked) {
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* e, (*cursor)->Next());
    if (e == nullptr || e->key != key) break;
    if (e->delete_marker) {
      if (found) break;
      continue;
    }
    const std::string version = e->version_id;
    Result<ObjectInfo> d = dst.StatVersion(key, version, false, stop);
    // A version deleted since the listing is not the replica; any other failure leaves the
    // question open: the caller must not take it for "not there" and write the version again.
    if (!d.ok() && d.status().code() == ErrorCode::kNotFound) continue;
    if (!d.ok()) return d.status().WithContext("looking for the replica of " + key);
    d->version_id = version;
    if (!found) {
      if (IsReplicaOf(d->metadata, marks) && AgreesWithReplicaFacts(*d, facts)) {
        found = *std::move(d);
      }
      continue;
    }
    // The version below the replica: the completed upload of an interrupted stamped commit is
    // deleted as that commit would have (a second version of one source version otherwise
    // stays in the destination's history).
    if (IsReplicaOf(d->metadata, marks) && IsUnstampedTwin(*d, *found)) {
      Status removed = dst.DeleteVersion(key, version, stop);
      if (!removed.ok() && removed.code() != ErrorCode::kNotFound) {
        obs::Log(obs::Level::kWarn, "could not remove an interrupted commit's first version",
                 {{"key", key}, {"version", version}, {"error", removed.message()}});
      } else {
        obs::Log(obs::Level::kInfo, "removed an interrupted commit's first version",
                 {{"key", key}, {"version", version}, {"replica", found->version_id}});
      }
    }
    break;
  }
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(found->version_id);
}

namespace {

// `e`'s version, whose bytes read twice alike what it declares refused (`why`: the pack's
// kDataLoss), is its destinations' lasting failure, as a direct copy records it (CopyVersion,
// internal::IsLastingRefusal): FAILED, the key's newer versions not held back, and not read
// again by the next pass while its ETag is the same.
Status RecordRefused(const PassOptions& o, const Entry& e, const Status& why) {
  for (const TransportedVersion* item : e.items) {
    VersionStatus row = item->row;
    row.state = VersionState::kFailed;
    row.error_code = std::string(ErrorCodeName(ErrorCode::kDataLoss));
    row.http_status = internal::HttpStatusFor(ErrorCode::kDataLoss);
    row.message = std::string(internal::kReadTwiceAlike) + ": " + why.message();
    row.updated_ns = NowNs(o.clock);
    obs::Log(obs::Level::kWarn, "replicating " + row.key + " (version " + row.source_version +
                                    ") to " + row.destination + " failed: " + row.message);
    FERRY_RETURN_IF_ERROR(o.store->Record(row));
  }
  return Status::Ok();
}

}  // namespace

Result<PackedTransport> PackTransported(const PassOptions& o, std::vector<TransportedVersion> items,
                                        const PackTransportOptions& t, std::stop_token stop) {
  PackedTransport out;
  // A key's versions stay in the order the pass collected them (oldest first).
  std::stable_sort(items.begin(), items.end(),
                   [](const TransportedVersion& a, const TransportedVersion& b) {
                     return a.row.key < b.row.key;
                   });
  std::map<std::string, std::vector<Entry>> by_staging;
  for (const TransportedVersion& item : items) {
    std::vector<Entry>& entries = by_staging[item.destination->transport.staging];
    if (entries.empty() || entries.back().first->row.key != item.row.key ||
        entries.back().first->row.source_version != item.row.source_version) {
      entries.push_back(Entry{&item, {}});
    }
    entries.back().items.push_back(&item);
  }
  for (auto& [staging_name, entries] : by_staging) {
    auto staging = t.staging.find(staging_name);
    if (staging == t.staging.end()) {
      return Status::Internal("staging location " + staging_name + " is not open");
    }
    const std::string key = t.archive_key(staging_name);
    const int level = entries.front().first->destination->transport.level;
    // A version whose own bytes contradict what it declares fails its pack: it is recorded
    // failed and left out, and the others are packed again (its earlier upload aborted), so
    // that one version never holds back the rest for ever (issue 43 item 11).
    PackTransportOptions again = t;
    Result<archive::WriteSummary> packed = Status::Internal("not packed");
    for (;;) {
      std::optional<size_t> refused;
      packed = PackOne(o, again,
                       {.staging = *staging->second,
                        .key = key,
                        .entries = entries,
                        .level = level,
                        .refused = &refused},
                       stop);
      if (packed.ok() || !refused || *refused >= entries.size()) break;
      FERRY_RETURN_IF_ERROR(RecordRefused(o, entries[*refused], packed.status()));
      out.refused += entries[*refused].items.size();
      entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(*refused));
      again.retry = true;
      if (entries.empty()) break;
    }
    if (entries.empty()) continue;  // every version refused: no archive
    FERRY_RETURN_IF_ERROR(packed.status());
    const archive::WriteSummary& summary = *packed;
    // Packed: the rows go PENDING (the version is on its way), then the archive's progress
    // rows, one per destination; the caller's job finish enqueues the unpacks.
    std::map<std::string, TransportUnpack> unpacks;
    for (const Entry& e : entries) {
      for (const TransportedVersion* item : e.items) {
        VersionStatus row = item->row;
        row.state = VersionState::kPending;
        row.message = PackedMessage(staging_name, key);
        row.updated_ns = NowNs(o.clock);
        FERRY_RETURN_IF_ERROR(o.store->Record(row));
        const Destination& d = *item->destination;
        TransportUnpack& u = unpacks[d.location];
        u.archive = key;
        u.staging = staging_name;
        u.destination = d.location;
        u.region = d.transport.region;
        u.storage_class = d.storage_class;
        u.objects += 1;
        u.bytes += item->spec.size;
        ++out.versions;
      }
    }
    for (const auto& [name, u] : unpacks) {
      FERRY_RETURN_IF_ERROR(t.archives->Staged(
          transport::ArchiveRow{.staging = staging_name,
                                .archive = key,
                                .destination = name,
                                .state = transport::ArchiveState::kStaged,
                                .entries = summary.entries,
                                .written = 0,
                                .archive_bytes = summary.archive_bytes,
                                .updated_ns = 0}));
      out.unpacks.push_back(u);
    }
    ++out.archives;
    out.entries += summary.entries;
    out.bytes_in += summary.raw_bytes;
    out.bytes_wire += summary.archive_bytes;
  }
  return out;
}

Result<transport::UnpackResult> UnpackTransported(const TransportUnpack& u,
                                                  const TransportedUnpackSides& sides,
                                                  std::stop_token stop) {
  storage::Backend& dst = sides.dst;
  StatusStore& status = sides.status;
  const std::string& source_name = sides.source_name;
  SlaMetrics sla(sides.metrics != nullptr ? *sides.metrics : obs::DefaultRegistry());
  // Records the version of `e` COMPLETED at this destination (its packed PENDING rows).
  auto complete = [&](const archive::Entry& e, const std::string& made) -> Status {
    const std::vector<std::string> keys{e.header.key};
    FERRY_ASSIGN_OR_RETURN(std::vector<VersionStatus> rows, status.ForKeys(source_name, keys));
    for (VersionStatus& r : rows) {
      if (r.destination != u.destination || r.source_version != e.header.version_id ||
          r.state != VersionState::kPending || !IsPackedMessage(r.message)) {
        continue;
      }
      r.state = VersionState::kCompleted;
      r.dest_version = made;
      r.message.clear();
      r.tags_digest = TagsDigest(e.header.tags.value_or(storage::Tags{}));
      r.updated_ns = NowNs(sides.clock);
      sla.Completed(r);
      FERRY_RETURN_IF_ERROR(status.Record(r));
    }
    return Status::Ok();
  };
  transport::UnpackOptions o;
  o.executor = sides.executor;
  o.region = u.region;
  o.storage_class = u.storage_class;
  o.ordered_keys = true;
  o.preserve_lock = true;  // the entries' locks were carried as a direct write carries them
  o.before_write = sides.before_write;
  o.on_written = [&](const archive::Entry& e, const storage::WriteResult& w) {
    return complete(e, w.version_id);
  };
  // Written by a crashed attempt? Its row says so, or its replica metadata at the destination.
  o.present = [&](const archive::Entry& e) -> Result<bool> {
    // (Not for an unversioned source: its one version "null" is rewritten in place, and a
    // COMPLETED row may be an earlier write's.)
    const std::vector<std::string> keys{e.header.key};
    FERRY_ASSIGN_OR_RETURN(std::vector<VersionStatus> rows, status.ForKeys(source_name, keys));
    for (const VersionStatus& r : rows) {
      if (e.header.version_id != "null" && r.destination == u.destination &&
          r.source_version == e.header.version_id && r.state == VersionState::kCompleted) {
        return true;
      }
    }
    FERRY_ASSIGN_OR_RETURN(std::optional<std::string> found,
                           FindReplicaOf(dst, e.header.key, e.header.metadata,
                                         ReplicaFacts{.size = e.header.size, .md5_etag = {}},
                                         stop));
    if (!found) return false;
    FERRY_RETURN_IF_ERROR(complete(e, *found));
    return true;
  };
  transport::StoreUnpackJournal journal(
      sides.archives, transport::ArchiveRow{.staging = u.staging,
                                      .archive = u.archive,
                                      .destination = u.destination,
                                      .state = transport::ArchiveState::kUnpacking,
                                      .entries = 0,
                                      .written = 0,
                                      .archive_bytes = 0,
                                      .updated_ns = 0});
  return transport::UnpackArchive(sides.staging, u.archive, dst, journal, o, stop);
}

}  // namespace ferry::replicate
