// The cache index conformance cases on SQLite (a fresh file per case, in one temporary folder
// removed when the test program ends).
#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include "cache/index_suite.h"
#include "state/state.h"

namespace ferry::cache::testing {
namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/ferry-cache-index-test-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

std::unique_ptr<state::SqlSession> OpenSqlite(Clock& clock) {
  (void)clock;
  static TempDir dir;
  static std::atomic<int> n{0};
  if (dir.path.empty()) return nullptr;
  auto session = state::OpenSqliteSession(dir.path + "/state-" + std::to_string(n++) + ".db");
  return session.ok() ? std::move(session).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, CacheIndexConformanceTest, ::testing::Values(&OpenSqlite));

}  // namespace
}  // namespace ferry::cache::testing
