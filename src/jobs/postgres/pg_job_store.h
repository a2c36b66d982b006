// The PostgreSQL JobStore: the state store for several ferry processes on several machines.
//
// Built by OpenJobStore for "postgres://" and "postgresql://" URLs (libpq connection URIs), and
// directly by tests that need a FakeClock. The store logic is SqlJobStore (jobs/sql/), shared
// with SQLite; its driver (state/pg_session.h) adds what a server brings:
//  * Claim picks rows with FOR UPDATE SKIP LOCKED, so concurrent claimers never wait for each
//    other and never get the same job.
//  * Schema creation and migration run under pg_advisory_xact_lock, so processes that start at
//    once do not race.
//  * A pool of up to `max_connections` connections, opened lazily: each call holds one for the
//    length of its transaction.
//  * Lost connections (server restart, network fault) are dropped and reopened, and the call
//    goes on: a transaction cut off before COMMIT is run again; one cut off during COMMIT is
//    looked up on the server (txid_status) and either counts as done or is run again. So a
//    restart is invisible to callers, and nothing is applied twice. Connection attempts back
//    off for up to `reconnect_budget`; then the call returns kUnavailable and the caller
//    retries later (if the COMMIT's fate could not be learned, the message says so).
//  * Values always travel as parameters (PQexecParams), never inside SQL text.
//  * Messages name the server as postgres://user@host:port/db and never show the password.
//
// Errors: kInvalidArgument for a URL libpq cannot parse; kUnavailable when the server cannot be
// reached (at open: after one attempt with connect_timeout 5 s unless the URL sets it).
//
// Thread-safety: all methods are thread-safe; up to `max_connections` calls run in parallel.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "state/state.h"

namespace ferry::jobs {

// The pool size and reconnect budget (state/state.h).
using PgStoreOptions = state::PgOptions;

// Connects to `url` (one attempt), creates or migrates the schema and returns the store. Times
// are read from `clock`, which must outlive the store.
Result<std::unique_ptr<JobStore>> OpenPgJobStore(const std::string& url, Clock& clock,
                                                 PgStoreOptions options = {});

}  // namespace ferry::jobs
