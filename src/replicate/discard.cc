// The archive names of a replication run, and the discard of a run's archives (--restart).
#include <cstdio>
#include <set>

#include "checksum/checksum.h"
#include "obs/log.h"
#include "replicate/transport.h"

namespace ferry::replicate {
namespace {

std::string HexOf(const RunArchiveNames& run, const std::string& staging) {
  const std::string identity =
      run.source + "\n" + std::to_string(run.created_ticks) + "\n" + staging;
  return checksum::Hex32(checksum::Crc32c(checksum::AsBytes(identity)));
}

}  // namespace

std::string RunArchiveNames::KeyOf(int64_t job, const std::string& staging) const {
  char name[96];
  std::snprintf(name, sizeof name, "r%lld-j%lld-%s.fza", static_cast<long long>(run),
                static_cast<long long>(job), HexOf(*this, staging).c_str());
  return name;
}

std::string RunArchiveNames::Prefix() const {
  return "r" + std::to_string(run) + "-j";
}

bool RunArchiveNames::IsOfRun(const std::string& staging, std::string_view key) const {
  const std::string prefix = Prefix();
  if (key.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = key.substr(prefix.size());
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits == 0) return false;
  return rest.substr(digits) == "-" + HexOf(*this, staging) + ".fza";
}

Result<DiscardedArchives> DiscardRunArchives(const RunArchiveNames& run,
                                             const std::map<std::string, storage::Backend*>& staging,
                                             transport::TransportStore& archives,
                                             std::stop_token stop) {
  DiscardedArchives out;
  for (const auto& [name, backend] : staging) {
    // Unfinished uploads first: a complete archive is listed below.
    FERRY_ASSIGN_OR_RETURN(std::vector<storage::Backend::PendingUpload> pending,
                           backend->ListPendingUploads(run.Prefix(), stop));
    for (const storage::Backend::PendingUpload& upload : pending) {
      if (!run.IsOfRun(name, upload.key)) continue;
      FERRY_RETURN_IF_ERROR(backend->AbortPendingUpload(upload, stop));
      ++out.uploads;
    }
    // Every archive of the run on staging, with or without progress rows (a keys job killed
    // between its upload and its rows left one without).
    std::set<std::string> gone;
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ListingCursor> cursor,
                           backend->List(run.Prefix()));
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* e, cursor->Next());
      if (e == nullptr) break;
      if (run.IsOfRun(name, e->key)) gone.insert(e->key);
    }
    for (const std::string& key : gone) {
      FERRY_RETURN_IF_ERROR(backend->Delete(key, stop));
      ++out.archives;
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<transport::ArchiveRow> rows, archives.Rows(name));
    std::set<std::string> marked;
    for (const transport::ArchiveRow& row : rows) {
      if (!run.IsOfRun(name, row.archive) || row.state == transport::ArchiveState::kDone) {
        continue;
      }
      ++out.rows;
      if (!marked.insert(row.archive).second) continue;
      FERRY_RETURN_IF_ERROR(archives.ArchiveDeleted(name, row.archive));
    }
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
  }
  if (out.archives + out.uploads + out.rows > 0) {
    obs::Log(obs::Level::kInfo,
             "discarded the staged archives of run " + std::to_string(run.run) + ": " +
                 std::to_string(out.archives) + " archives deleted, " +
                 std::to_string(out.uploads) + " unfinished uploads aborted");
  }
  return out;
}

}  // namespace ferry::replicate
