// SqlSession: the seam between a state store's logic, written once in portable SQL (the
// JobStore: jobs/sql/), and a database driver (state/sqlite_session.cc, state/pg_session.cc). A
// driver knows how to connect, run one transaction and bind parameters; it knows nothing of
// runs, jobs or leases.
//
// SQL dialect used by the core: parameters are written $1, $2, ... (the SQLite driver binds
// them as ?1, ?2, ...); a parameter may appear several times; only integers and text are
// bound; literals are plain SQL. Statements are limited to what SQLite >= 3.35 and
// PostgreSQL >= 12 both accept (RETURNING, ON CONFLICT ... DO UPDATE, partial indexes). The few
// differences are the Dialect's strings.
//
// Thread-safety: a session is thread-safe; a SqlTx is used by the thread running its
// transaction only.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace ferry::state {

// A bound parameter. Text must outlive the Exec call only.
using SqlValue = std::variant<int64_t, std::string_view>;
// A result cell: NULL, an integer column or anything else as text.
using SqlCell = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<SqlCell>;

struct SqlRows {
  std::vector<SqlRow> rows;
  int64_t changes = 0;  // rows inserted, updated or deleted by the statement
};

// One open transaction.
class SqlTx {
 public:
  virtual ~SqlTx() = default;
  // Runs one statement. Errors: kUnavailable (connection lost, database busy), kNotFound
  // (foreign key), kAlreadyExists (unique key), kDataLoss (corrupt file), kInternal (a bug,
  // e.g. bad SQL). After an error the transaction can only be rolled back: return the error.
  virtual Result<SqlRows> ExecSpan(std::string_view sql, std::span<const SqlValue> params) = 0;

  Result<SqlRows> Exec(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    return ExecSpan(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
};

enum class TxMode { kRead, kWrite };

// What differs between the databases, as SQL text.
struct Dialect {
  std::string_view name;  // "sqlite" | "postgres"
  // Column definition of an auto-increment 64-bit primary key whose values are never reused.
  std::string_view id_column;
  // Appended to the claim's row-picking subquery ("" or " FOR UPDATE SKIP LOCKED").
  std::string_view lock_picked_rows;
  // Written between a table and an index name to make a query use that index (" INDEXED BY "),
  // or "" when the database has no such hint (PostgreSQL: see PgSession for how it gets the
  // plan right).
  std::string_view use_index;
  // Run first in the migration transaction, so that processes starting at once migrate one
  // after another ("" when a write transaction already excludes other writers).
  std::string_view migration_lock;
  // Counts the columns named $2 of table $1 in the current schema (0 or 1).
  std::string_view count_columns;
};

class SqlSession {
 public:
  virtual ~SqlSession() = default;

  virtual const Dialect& dialect() const = 0;

  // Runs `body` inside one transaction: commits when it returns OK (and then counts one
  // transaction), rolls back and returns its error otherwise. A driver may run `body` more
  // than once when the database undid an attempt (lost connection, serialization conflict),
  // so `body` must not keep state across calls other than its final output. kWrite takes the
  // write lock up front (SQLite BEGIN IMMEDIATE); kRead sees one consistent snapshot.
  virtual Status Transact(TxMode mode, const std::function<Status(SqlTx&)>& body) = 0;

  // Transact(kWrite, body) that returns OK only once the commit is on disk: a crash of the host
  // (power loss, kernel panic) after it returned keeps it. For what is acknowledged to someone
  // outside on the strength of the commit (an event intake's 200). The default is Transact: a
  // database whose every commit is durable (PostgreSQL, synchronous_commit on: its default,
  // which ferry never changes). The SQLite driver, whose commits do not wait for the disk
  // (WAL, synchronous=NORMAL), flushes this one.
  virtual Status TransactDurable(const std::function<Status(SqlTx&)>& body) {
    return Transact(TxMode::kWrite, body);
  }

  // Transactions committed so far.
  virtual uint64_t transactions() const = 0;
};

// Cell accessors; a cell of the wrong type reads as 0 or "".
int64_t CellInt(const SqlCell& cell);
std::string CellText(const SqlCell& cell);

}  // namespace ferry::state
