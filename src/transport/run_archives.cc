// The staged archives of one run and their discard (contract in run_archives.h).
#include "transport/run_archives.h"

#include <cstdio>
#include <set>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::transport {
namespace {

std::string HexOf(const SyncArchiveNames& n) {
  const std::string identity =
      n.source + "\n" + n.destination + "\n" + std::to_string(n.created_ticks);
  return checksum::Hex32(checksum::Crc32c(checksum::AsBytes(identity)));
}

}  // namespace

std::string SyncArchiveNames::KeyOf(int64_t job) const {
  char name[96];
  std::snprintf(name, sizeof name, "%s%lld-%lld-%s.fza", backup ? "b" : "",
                static_cast<long long>(run), static_cast<long long>(job), HexOf(*this).c_str());
  return name;
}

std::string SyncArchiveNames::Prefix() const {
  return (backup ? "b" : "") + std::to_string(run) + "-";
}

bool SyncArchiveNames::Owns(std::string_view key) const {
  const std::string prefix = Prefix();
  if (key.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = key.substr(prefix.size());
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  return digits > 0 && rest.substr(digits) == "-" + HexOf(*this) + ".fza";
}

void AbortEarlierUploads(storage::Backend& staging, const std::string& key,
                         std::stop_token stop) {
  auto pending = staging.ListPendingUploads(key, stop);
  if (!pending.ok()) return;
  for (const auto& upload : *pending) {
    if (upload.key == key) (void)staging.AbortPendingUpload(upload, stop);
  }
}

Result<DiscardedArchives> DiscardArchives(const std::string& staging_name,
                                          storage::Backend& staging, const RunArchives& run,
                                          TransportStore* rows, std::stop_token stop) {
  DiscardedArchives out;
  // Unfinished uploads first: a complete archive is listed below.
  FERRY_ASSIGN_OR_RETURN(std::vector<storage::Backend::PendingUpload> pending,
                         staging.ListPendingUploads(run.prefix, stop));
  for (const storage::Backend::PendingUpload& upload : pending) {
    if (!run.owns(upload.key)) continue;
    FERRY_RETURN_IF_ERROR(staging.AbortPendingUpload(upload, stop));
    ++out.uploads;
  }
  std::set<std::string> gone;
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ListingCursor> cursor, staging.List(run.prefix));
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* e, cursor->Next());
    if (e == nullptr) break;
    if (run.owns(e->key)) gone.insert(e->key);
  }
  for (const std::string& key : gone) {
    FERRY_RETURN_IF_ERROR(staging.Delete(key, stop));
    ++out.archives;
  }
  if (rows != nullptr) {
    FERRY_ASSIGN_OR_RETURN(std::vector<ArchiveRow> progress, rows->Rows(staging_name));
    std::set<std::string> marked;
    for (const ArchiveRow& row : progress) {
      if (!run.owns(row.archive) || row.state == ArchiveState::kDone) continue;
      ++out.rows;
      if (!marked.insert(row.archive).second) continue;
      FERRY_RETURN_IF_ERROR(rows->ArchiveDeleted(staging_name, row.archive));
    }
  }
  if (stop.stop_requested()) return Status::Cancelled("interrupted");
  return out;
}

}  // namespace ferry::transport
