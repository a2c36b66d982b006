// The SQLite JobStore: ferry's embedded default, one database file shared by the threads of
// one process and by several ferry processes on the same machine.
//
// Built by OpenJobStore for "sqlite://..." URLs and plain paths, and directly by tests that
// need a FakeClock. The store logic is SqlJobStore (jobs/sql/); its driver (state/) holds one
// connection behind a mutex, with prepared statements cached for the connection's life.
// The file runs in WAL mode (readers never block the writer) with synchronous=NORMAL (a power
// loss may drop the last transactions, never corrupt the file) except for Enqueue, whose commit
// is synced (FULL: on disk when it returns), busy_timeout 10 s and foreign
// keys on. Write methods start with BEGIN IMMEDIATE, so two processes never both hold a read
// lock they then try to upgrade: the second waits (up to the busy timeout) instead of failing.
//
// Errors: kUnavailable when the file cannot be opened or created, or stays locked by another
// process past the busy timeout; kDataLoss when the file is not a SQLite database.
//
// Thread-safety: all methods are thread-safe; calls are serialized on the one connection.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "jobs/job_store.h"

namespace ferry::jobs {

// Opens (creating the file and its parent folders if missing) the SQLite database at `path`
// and creates or migrates its schema. Times are read from `clock`, which must outlive the store.
Result<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path, Clock& clock);

}  // namespace ferry::jobs
