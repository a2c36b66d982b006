// The cache index and prefix lock conformance cases (src/cache/index_suite_test.cc) on
// PostgreSQL (FERRY_TEST_PG_URL): the lock table's guard row must serialize concurrent
// acquisitions across connections, and keys must compare as bytes there too.
#include <cstdlib>

#include "cache/index_suite.h"
#include "state/state.h"

namespace ferry::cache::testing {
namespace {

std::unique_ptr<state::SqlSession> OpenPg(Clock& clock) {
  const char* url = std::getenv("FERRY_TEST_PG_URL");
  if (url == nullptr) {
    ADD_FAILURE() << "FERRY_TEST_PG_URL not set: run through scripts/test-all.sh";
    return nullptr;
  }
  // The session's own clock measures reconnect budgets: the real one, not the test's fake.
  (void)clock;
  auto session = state::OpenPgSession(url, SystemClock::Default());
  if (!session.ok()) {
    ADD_FAILURE() << session.status().message();
    return nullptr;
  }
  return std::move(session).value();
}

INSTANTIATE_TEST_SUITE_P(Postgres, CacheIndexConformanceTest, ::testing::Values(&OpenPg));

}  // namespace
}  // namespace ferry::cache::testing
