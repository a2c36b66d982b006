// The automatic state file policy (state_files.h).
#include "app/state_files.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "checksum/checksum.h"
#include "state/state_url.h"

namespace ferry::app {

std::string StateDir() {
  if (const char* d = std::getenv("FERRY_STATE_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x != '\0') {
    return std::string(x) + "/ferry";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/tmp") + "/.local/state/ferry";
}

std::string AutoStatePath(std::string_view command, std::string_view source,
                          std::string_view destination) {
  const std::string id = checksum::Sha256Hex(std::string(command) + "\n" + std::string(source) +
                                             "\n" + std::string(destination));
  return StateDir() + "/run-" + id.substr(0, 20) + ".db";
}

bool KeepStateFile(bool automatic, bool run_done) { return !automatic || !run_done; }

Status CheckStateExists(const std::string& url) {
  auto parsed = state::ParseStateUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->type != state::StoreType::kSqlite) return Status::Ok();
  std::error_code ec;
  if (std::filesystem::exists(parsed->target, ec)) return Status::Ok();
  return Status::InvalidArgument("no state store at " + parsed->target +
                                 " (no such file; runs are recorded by ferry cp|sync --state)");
}

void RemoveStateFile(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

}  // namespace ferry::app
