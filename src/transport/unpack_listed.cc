// Unpackers of several regions without a shared state store: markers on staging (contract in
// unpack_listed.h).
#include "transport/unpack_listed.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "archive/backend_io.h"
#include "archive/reader.h"
#include "storage/sorted_listing.h"
#include "transport/claim.h"

namespace ferry::transport {
namespace {

constexpr std::string_view kArchiveSuffix = ".fza";
constexpr std::string_view kMarkerInfix = ".fza.done/";

// The archive a marker's or a claim's key belongs to.
std::string ArchiveOf(std::string_view key) {
  size_t at = key.find(kClaimInfix);
  if (at == std::string_view::npos) at = key.rfind(kMarkerInfix);
  return std::string(key.substr(0, at + kArchiveSuffix.size()));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The regions whose markers `archive` has.
Result<std::set<std::string>> Markers(storage::Backend& staging, std::string_view archive) {
  const std::string prefix = MarkerPrefix(archive);
  FERRY_ASSIGN_OR_RETURN(auto cursor, staging.List(prefix));
  std::set<std::string> regions;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (o->key.compare(0, prefix.size(), prefix) != 0) continue;
    regions.insert(o->key.substr(prefix.size()));
  }
  return regions;
}

// Deletes the archive, then its markers, once every region of `regions` has its marker.
// True when it did.
Result<bool> DeleteIfAllDone(storage::Backend& staging, const std::string& archive,
                             const std::vector<std::string>& regions, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::set<std::string> done, Markers(staging, archive));
  for (const std::string& r : regions) {
    if (!done.count(r)) return false;
  }
  FERRY_RETURN_IF_ERROR(staging.Delete(archive, stop));
  for (const std::string& r : done) {
    FERRY_RETURN_IF_ERROR(staging.Delete(MarkerPrefix(archive) + r, stop));
  }
  return true;
}

// The journal of one region's unpacker: progress in `inner`, the end decided by the markers.
class MarkerJournal : public UnpackJournal {
 public:
  MarkerJournal(storage::Backend& staging, const std::string& archive, UnpackJournal& inner,
                std::stop_token stop)
      : staging_(staging), archive_(archive), inner_(inner), stop_(std::move(stop)) {}
  Result<std::optional<uint64_t>> Load() override { return inner_.Load(); }
  Status Record(uint64_t written, uint64_t entries, bool done) override {
    return inner_.Record(written, entries, done);
  }
  Result<bool> Complete() override { return inner_.Complete(); }
  Result<bool> Unpacked(uint64_t entries, const std::vector<std::string>& regions,
                        const std::string& region) override {
    if (region.empty() || std::all_of(regions.begin(), regions.end(),
                                      [&](const std::string& r) { return r == region; })) {
      return true;  // nobody else needs it
    }
    FERRY_RETURN_IF_ERROR(
        staging_.Put(MarkerPrefix(archive_) + region, {}, storage::WriteSpec{}, stop_).status());
    // This unpacker's part is done whoever deletes the archive.
    FERRY_RETURN_IF_ERROR(inner_.Record(entries, entries, true));
    FERRY_ASSIGN_OR_RETURN(deleted_, DeleteIfAllDone(staging_, archive_, regions, stop_));
    return false;  // deleted here already, with the markers, when it was the last
  }
  Status Deleted(uint64_t entries) override { return inner_.Record(entries, entries, true); }
  bool deleted() const { return deleted_; }

 private:
  storage::Backend& staging_;
  const std::string& archive_;
  UnpackJournal& inner_;
  std::stop_token stop_;
  bool deleted_ = false;
};

// The journal of a claimed archive: every record is first a generation of the claim (which
// fails once the claim is lost), then this unpacker's own. Load: the larger of the watermark
// the claim carried over from the chain and this unpacker's own (both say "every entry below
// is on the destination").
class ClaimJournal : public UnpackJournal {
 public:
  ClaimJournal(Claim& claim, UnpackJournal& inner) : claim_(claim), inner_(inner) {}
  Result<std::optional<uint64_t>> Load() override {
    FERRY_ASSIGN_OR_RETURN(std::optional<uint64_t> own, inner_.Load());
    const std::optional<uint64_t> carried = claim_.carried();
    if (!carried) return own;
    if (!own) return carried;
    return std::optional<uint64_t>(std::max(*own, *carried));
  }
  Status Record(uint64_t written, uint64_t entries, bool done) override {
    FERRY_RETURN_IF_ERROR(claim_.Record(written, entries, done));
    return inner_.Record(written, entries, done);
  }
  Result<bool> Complete() override { return inner_.Complete(); }
  Result<bool> Unpacked(uint64_t entries, const std::vector<std::string>& regions,
                        const std::string& region) override {
    return inner_.Unpacked(entries, regions, region);
  }
  Status Deleted(uint64_t entries) override { return Record(entries, entries, true); }

 private:
  Claim& claim_;
  UnpackJournal& inner_;
};

}  // namespace

std::string MarkerPrefix(std::string_view archive) { return std::string(archive) + ".done/"; }

bool IsMarker(std::string_view key) { return key.find(kMarkerInfix) != std::string_view::npos; }

bool IsRunArchive(std::string_view key) {
  if (!EndsWith(key, kArchiveSuffix)) return false;
  std::string_view name = key.substr(0, key.size() - kArchiveSuffix.size());
  auto digits = [&name]() {
    size_t n = 0;
    while (n < name.size() && name[n] >= '0' && name[n] <= '9') ++n;
    name.remove_prefix(n);
    return n > 0;
  };
  auto dash = [&name]() {
    if (name.empty() || name[0] != '-') return false;
    name.remove_prefix(1);
    return true;
  };
  if (!digits() || !dash() || !digits() || !dash() || name.size() != 8) return false;
  return name.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<StagedCounts> ScanStaged(storage::Backend& staging, const StagedVisitor& visit) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, storage::ListSorted(staging, ""));
  StagedCounts counts;
  // The "*.fza" keys listed so far that prefix the current key, shortest first: an archive's
  // markers and claims ("<archive>.done/...", "<archive>.claim/...") list after it, and every
  // key between the two starts with it too.
  std::vector<std::string> open;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    const std::string& key = o->key;
    while (!open.empty() && !StartsWith(key, open.back())) open.pop_back();
    if (IsMarker(key) || IsClaim(key)) {
      const std::string archive = ArchiveOf(key);
      if (!IsRunArchive(archive)) continue;
      if (std::find(open.begin(), open.end(), archive) != open.end()) continue;
      ++counts.orphans;
      if (visit.orphan) FERRY_RETURN_IF_ERROR(visit.orphan(key));
    } else if (EndsWith(key, kArchiveSuffix)) {
      open.push_back(key);
      if (IsRunArchive(key)) {
        ++counts.archives;
        if (visit.archive) FERRY_RETURN_IF_ERROR(visit.archive(key));
      } else {
        ++counts.others;
      }
    }
  }
  return counts;
}

Result<ListedResult> UnpackListed(storage::Backend& staging, const std::string& key,
                                  storage::Backend& dst, UnpackJournal& journal,
                                  const ListedOptions& options, std::stop_token stop) {
  ListedResult out;
  std::unique_ptr<Claim> claim;
  if (options.claims != nullptr) {
    Claim::Outcome outcome = Claim::Outcome::kHeld;
    FERRY_ASSIGN_OR_RETURN(claim, Claim::Acquire(staging, key, *options.claims, &outcome, stop));
    if (outcome == Claim::Outcome::kHeld) {
      out.held = true;
      return out;
    }
    if (outcome == Claim::Outcome::kDone) {
      out.skipped = true;
      return out;
    }
    // Owned. The archive may be gone: its last owner deleted it, then its claim.
    auto info = staging.Stat(key, false, stop);
    if (!info.ok() && info.status().code() == ErrorCode::kNotFound) {
      FERRY_RETURN_IF_ERROR(claim->Release());
      out.skipped = true;
      return out;
    }
    FERRY_RETURN_IF_ERROR(info.status().WithContext("staged archive " + key));
  }
  auto release = [&]() { return claim ? claim->Release() : Status::Ok(); };
  if (!options.unpack.region.empty()) {
    auto marker = staging.Stat(MarkerPrefix(key) + options.unpack.region, false, stop);
    if (marker.ok()) {
      // Written before; the archive is still here: the others may all be done by now.
      out.skipped = true;
      auto info = staging.Stat(key, false, stop);
      if (!info.ok() && info.status().code() == ErrorCode::kNotFound) {
        FERRY_RETURN_IF_ERROR(release());
        return out;
      }
      FERRY_RETURN_IF_ERROR(info.status().WithContext("staged archive " + key));
      archive::BackendRangeSource source(staging, key, info->size, stop);
      auto reader = archive::Reader::Open(source);
      if (!reader.ok()) return reader.status().WithContext("staged archive " + key);
      FERRY_ASSIGN_OR_RETURN(out.unpack.archive_deleted,
                             DeleteIfAllDone(staging, key, RegionsOf((*reader)->manifest()), stop));
      FERRY_RETURN_IF_ERROR(release());
      return out;
    }
    if (marker.status().code() != ErrorCode::kNotFound) return marker.status();
  }
  UnpackOptions o = options.unpack;
  // Without a region every entry goes to `dst`: an archive meant for named regions (each with
  // a destination of its own) is not this unpacker's to write, nor to delete.
  o.refuse_named_regions = options.unpack.region.empty();
  std::optional<ClaimJournal> claimed;
  if (claim) {
    o.before_write = [c = claim.get(), outer = options.unpack.before_write]() -> Status {
      FERRY_RETURN_IF_ERROR(c->Fence());
      return outer ? outer() : Status::Ok();
    };
    claimed.emplace(*claim, journal);
  }
  MarkerJournal markers(staging, key, claimed ? static_cast<UnpackJournal&>(*claimed) : journal,
                        stop);
  // A failure keeps the claim: it expires, and whoever takes it over resumes at its watermark.
  FERRY_ASSIGN_OR_RETURN(out.unpack, UnpackArchive(staging, key, dst, markers, o, stop));
  out.unpack.archive_deleted = out.unpack.archive_deleted || markers.deleted();
  FERRY_RETURN_IF_ERROR(release());
  return out;
}

HeldArchives::HeldArchives(std::chrono::milliseconds ttl, Clock& clock)
    : retry_(std::max(std::chrono::milliseconds(1), ttl / 4)), clock_(clock) {}

void HeldArchives::Held(const std::string& key) {
  if (held_.size() >= kMaxHeld && !held_.count(key)) return;
  held_[key] = clock_.MonoNow();
}

void HeldArchives::Forget(const std::string& key) { held_.erase(key); }

void HeldArchives::Retain(const std::set<std::string>& listed) {
  std::erase_if(held_, [&](const auto& h) { return !listed.count(h.first); });
}

std::vector<std::string> HeldArchives::Due() const {
  const Clock::MonoTime now = clock_.MonoNow();
  std::vector<std::string> due;
  for (const auto& [key, at] : held_) {
    if (now - at >= retry_) due.push_back(key);
  }
  return due;
}

std::chrono::milliseconds HeldArchives::NextListingIn(std::chrono::milliseconds interval) const {
  if (held_.empty()) return interval;
  Clock::MonoTime first = held_.begin()->second;
  for (const auto& h : held_) first = std::min(first, h.second);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      first + retry_ - clock_.MonoNow());
  auto wait = std::max(std::chrono::milliseconds(0), left);
  if (interval.count() > 0) wait = std::min(wait, interval);
  return wait;
}

Status UnpackPass(storage::Backend& staging, HeldArchives& held,
                  const std::function<bool(const std::string& key)>& try_archive,
                  std::stop_token stop) {
  std::set<std::string> ahead;  // held archives retried before the listing reached them
  std::set<std::string> seen;   // held archives this listing shows
  auto attempt = [&](const std::string& key) {
    if (try_archive(key)) {
      held.Held(key);
    } else {
      held.Forget(key);
    }
  };
  StagedVisitor visit;
  // Markers and claims of an archive deleted by an unpacker that died before deleting them.
  visit.orphan = [&](const std::string& key) {
    (void)staging.Delete(key, stop);
    return Status::Ok();
  };
  visit.archive = [&](const std::string& key) -> Status {
    if (stop.stop_requested()) return Status::Cancelled("interrupted; rerun to resume");
    if (!ahead.erase(key)) attempt(key);
    for (const std::string& due : held.Due()) {
      if (stop.stop_requested()) return Status::Cancelled("interrupted; rerun to resume");
      if (due > key) ahead.insert(due);
      attempt(due);
    }
    if (held.Contains(key)) seen.insert(key);
    return Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(ScanStaged(staging, visit).status());
  // Held archives this listing did not show are gone (their retries ahead of it included).
  held.Retain(seen);
  return Status::Ok();
}

}  // namespace ferry::transport
