// The archive names of a replication run, and the discard of a run's archives (--restart).
#include <cstdio>
#include <set>

#include "checksum/checksum.h"
#include "obs/log.h"
#include "replicate/transport.h"
#include "transport/run_archives.h"

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
  for (const auto& entry : staging) {
    // not a structured binding: clang 14 (the sanitizer build) cannot capture one
    const std::string& name = entry.first;
    storage::Backend* backend = entry.second;
    const transport::RunArchives of_run{
        .prefix = run.Prefix(),
        .owns = [&run, &name](std::string_view key) { return run.IsOfRun(name, key); }};
    FERRY_ASSIGN_OR_RETURN(transport::DiscardedArchives d,
                           transport::DiscardArchives(name, *backend, of_run, &archives, stop));
    out.archives += d.archives;
    out.uploads += d.uploads;
    out.rows += d.rows;
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
