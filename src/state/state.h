// The state module: the SQL databases that ferry keeps durable state in (SQLite, the embedded
// default, and PostgreSQL, for several machines), below any one store's logic. A store (the
// JobStore of jobs/, and any later small store such as a cache index) is written once in
// portable SQL over a SqlSession (sql_session.h), owns a *component* of the database's schema
// with its own ordered migrations (migrate.h), and opens its session from a state URL
// (state_url.h). docs/design/state.md tells how a new store adds its tables.
//
// Errors: kInvalidArgument for a malformed URL; kUnavailable when the database cannot be
// reached or opened; kDataLoss when a file is not a SQLite database.
// Thread-safety: sessions are thread-safe (sql_session.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "state/migrate.h"
#include "state/sql_session.h"
#include "state/state_url.h"

namespace ferry::state {

// Opens (creating the file and its parent folders if missing) the SQLite database at `path`:
// one connection behind a mutex, WAL, synchronous=NORMAL (FULL for TransactDurable), busy
// timeout 10 s, foreign keys on, prepared statements cached for the connection's life.
Result<std::unique_ptr<SqlSession>> OpenSqliteSession(const std::string& path);

struct PgOptions {
  int max_connections = 8;
  // How long one call keeps reconnecting to a lost server before it returns kUnavailable.
  // Measured, and slept, on the session's Clock.
  std::chrono::milliseconds reconnect_budget{30'000};
};

// Connects to a PostgreSQL URL (libpq connection URI; one attempt): a pool of up to
// max_connections, reconnecting and rerunning transactions as pg_session.h describes. `clock`
// must outlive the session.
Result<std::unique_ptr<SqlSession>> OpenPgSession(const std::string& url, Clock& clock,
                                                  PgOptions options = {});

// Opens the session a state URL names (ParseStateUrl).
Result<std::unique_ptr<SqlSession>> OpenSession(const std::string& url, Clock& clock);

}  // namespace ferry::state
