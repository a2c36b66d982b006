// The cache index and prefix lock conformance cases (index_suite_test.cc), run against every
// database: SQLite in index_sqlite_test.cc, PostgreSQL in
// tests/integration/cache_index_pg_test.cc. A factory opens a session on the test's clock;
// each case uses a fresh cache name, so cases never see each other's rows.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "base/clock.h"
#include "state/sql_session.h"

namespace ferry::cache::testing {

using SessionFactory = std::unique_ptr<state::SqlSession> (*)(Clock& clock);

class CacheIndexConformanceTest : public ::testing::TestWithParam<SessionFactory> {};

}  // namespace ferry::cache::testing
