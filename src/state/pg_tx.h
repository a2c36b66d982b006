// PgTx: one PostgreSQL transaction on one libpq connection, as the SqlTx the store's SQL runs
// on; it maps libpq results and SQLSTATEs to Status and records whether the connection broke
// or the server asked for a rerun (PgSession reads that after the body returned).
// Internal to jobs/postgres/.
//
// Thread-safety: used by one thread at a time (the one holding the connection).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "state/sql_session.h"

namespace ferry::state {

struct PgTarget {
  std::string url;      // as given, handed to libpq
  std::string display;  // "postgres://user@host:port/db", for messages
};

class PgTx : public SqlTx {
 public:
  PgTx(PGconn* conn, const PgTarget& target) : conn_(conn), target_(target) {}

  // Parameters travel separately from the SQL text (PQexecParams): int64 as int8, text as text.
  Result<SqlRows> ExecSpan(std::string_view sql, std::span<const SqlValue> params) override;
  // A fixed statement without parameters, possibly several separated by ';' (PQexec); returns
  // the rows of the last one. For BEGIN, COMMIT, ROLLBACK.
  Result<SqlRows> Simple(const char* sql);

  bool broken() const { return broken_; }      // the connection is gone
  bool conflict() const { return conflict_; }  // serialization failure or deadlock: rerun
  bool failed() const { return failed_; }      // some statement failed

 private:
  // Consumes `r` (PQclear).
  Result<SqlRows> Handle(PGresult* r);

  PGconn* const conn_;
  const PgTarget& target_;
  bool broken_ = false;
  bool conflict_ = false;
  bool failed_ = false;
};

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running..."):
// one line, whitespace runs collapsed.
std::string OneLine(std::string_view text);

}  // namespace ferry::state
