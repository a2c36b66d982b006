// The cache index conformance cases on SQLite (a fresh file per case).
#include <stdlib.h>

#include <filesystem>

#include "cache/index_suite.h"
#include "state/state.h"

namespace ferry::cache::testing {
namespace {

std::unique_ptr<state::SqlSession> OpenSqlite(Clock& clock) {
  (void)clock;
  char tmpl[] = "/tmp/ferry-cache-index-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return nullptr;
  auto session = state::OpenSqliteSession(std::string(tmpl) + "/state.db");
  return session.ok() ? std::move(session).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, CacheIndexConformanceTest, ::testing::Values(&OpenSqlite));

}  // namespace
}  // namespace ferry::cache::testing
