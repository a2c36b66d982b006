// Unpackers of several regions without a shared state store: markers on staging (contract in
// unpack_listed.h).
#include "transport/unpack_listed.h"

#include <algorithm>
#include <set>

#include "archive/backend_io.h"
#include "archive/reader.h"

namespace ferry::transport {
namespace {

constexpr std::string_view kArchiveSuffix = ".fza";
constexpr std::string_view kMarkerInfix = ".fza.done/";

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

}  // namespace

std::string MarkerPrefix(std::string_view archive) { return std::string(archive) + ".done/"; }

bool IsMarker(std::string_view key) { return key.find(kMarkerInfix) != std::string_view::npos; }

Result<StagedListing> ListStaged(storage::Backend& staging) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, staging.List(""));
  StagedListing out;
  std::vector<std::string> markers;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (IsMarker(o->key)) {
      markers.push_back(o->key);
    } else if (EndsWith(o->key, kArchiveSuffix)) {
      out.archives.push_back(o->key);
    }
  }
  const std::set<std::string> archives(out.archives.begin(), out.archives.end());
  for (std::string& m : markers) {
    const size_t at = m.rfind(kMarkerInfix);
    if (!archives.count(m.substr(0, at + kArchiveSuffix.size()))) out.orphans.push_back(std::move(m));
  }
  return out;
}

Result<ListedResult> UnpackListed(storage::Backend& staging, const std::string& key,
                                  storage::Backend& dst, UnpackJournal& journal,
                                  const UnpackOptions& options, std::stop_token stop) {
  ListedResult out;
  if (!options.region.empty()) {
    auto marker = staging.Stat(MarkerPrefix(key) + options.region, false, stop);
    if (marker.ok()) {
      // Written before; the archive is still here: the others may all be done by now.
      out.skipped = true;
      auto info = staging.Stat(key, false, stop);
      if (!info.ok() && info.status().code() == ErrorCode::kNotFound) return out;
      FERRY_RETURN_IF_ERROR(info.status().WithContext("staged archive " + key));
      archive::BackendRangeSource source(staging, key, info->size, stop);
      auto reader = archive::Reader::Open(source);
      if (!reader.ok()) return reader.status().WithContext("staged archive " + key);
      FERRY_ASSIGN_OR_RETURN(out.unpack.archive_deleted,
                             DeleteIfAllDone(staging, key, RegionsOf((*reader)->manifest()), stop));
      return out;
    }
    if (marker.status().code() != ErrorCode::kNotFound) return marker.status();
  }
  MarkerJournal markers(staging, key, journal, stop);
  FERRY_ASSIGN_OR_RETURN(out.unpack, UnpackArchive(staging, key, dst, markers, options, stop));
  out.unpack.archive_deleted = out.unpack.archive_deleted || markers.deleted();
  return out;
}

}  // namespace ferry::transport
