// The SQLite driver: a SqlSession over one sqlite3 connection (jobs/sqlite/sqlite_job_store.h
// states the behaviour it promises).
#include "state/state.h"

#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "state/sql_session.h"

namespace ferry::state {
namespace {

constexpr int kBusyTimeoutMs = 10'000;

constexpr Dialect kSqliteDialect = {
    .name = "sqlite",
    .id_column = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .lock_picked_rows = "",  // BEGIN IMMEDIATE already excludes other writers
    // Without statistics SQLite's planner would walk all of a run's jobs through jobs_by_run.
    .use_index = " INDEXED BY ",
    .migration_lock = "",
    .count_columns = "SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2",
};

// Maps a SQLite result code (extended codes on) to a Status; `where` names the database.
Status MapError(int rc, std::string_view message, std::string_view where) {
  std::string m = "state store " + std::string(where) + ": " + std::string(message);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(m + " (another process held it longer than " +
                                 std::to_string(kBusyTimeoutMs / 1000) + " s)");
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return Status::NotFound(m);
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(m);
      }
      return Status::Internal(m);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::DataLoss(m);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return Status::Unavailable(m);
    default:
      return Status::Internal(m);
  }
}

// The core writes parameters as $N; SQLite's ?N binds the same index.
std::string ToSqliteParams(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  }
  return out;
}

class SqliteSession : public SqlSession {
 public:
  SqliteSession(sqlite3* db, std::string where) : db_(db), where_(std::move(where)) {}
  ~SqliteSession() override {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  const Dialect& dialect() const override { return kSqliteDialect; }
  uint64_t transactions() const override { return transactions_.load(); }

  Status Transact(TxMode mode, const std::function<Status(SqlTx&)>& body) override {
    std::lock_guard lock(mu_);
    return TransactLocked(mode, body);
  }

  // synchronous=FULL for this transaction only: in WAL mode its COMMIT then syncs the log (and
  // with it every commit before it: the log is appended in order). NORMAL stays the rule for
  // the others, so that a worker's many small commits (leases, finishes, checkpoints) do not
  // each wait for the disk: docs/design/state.md has the figures.
  Status TransactDurable(const std::function<Status(SqlTx&)>& body) override {
    std::lock_guard lock(mu_);
    FERRY_RETURN_IF_ERROR(Run("PRAGMA synchronous = FULL", {}).status());
    Status s = TransactLocked(TxMode::kWrite, body);
    // Should this fail, the connection stays FULL: slower, never less durable.
    (void)Run("PRAGMA synchronous = NORMAL", {});
    return s;
  }

 private:
  // REQUIRES: mu_ held.
  Status TransactLocked(TxMode mode, const std::function<Status(SqlTx&)>& body) {
    FERRY_RETURN_IF_ERROR(Run(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN", {}).status());
    Tx tx(*this);
    Status s = body(tx);
    if (s.ok()) {
      s = Run("COMMIT", {}).status();
      if (s.ok()) {
        transactions_.fetch_add(1);
        return s;
      }
    }
    // Some errors (disk full, I/O) end the transaction by themselves.
    if (!sqlite3_get_autocommit(db_)) (void)Run("ROLLBACK", {});
    return s;
  }

  class Tx : public SqlTx {
   public:
    explicit Tx(SqliteSession& session) : session_(session) {}
    Result<SqlRows> ExecSpan(std::string_view sql, std::span<const SqlValue> params) override {
      return session_.Run(sql, params);
    }

   private:
    SqliteSession& session_;
  };

  // REQUIRES: mu_ held.
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = stmts_.find(std::string(sql));
    if (it != stmts_.end()) return it->second;
    const std::string text = ToSqliteParams(sql);
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return MapError(rc, std::string(sqlite3_errmsg(db_)) + " in: " + text, where_);
    }
    stmts_.emplace(std::string(sql), stmt);
    return stmt;
  }

  // Runs one statement to completion. REQUIRES: mu_ held.
  Result<SqlRows> Run(std::string_view sql, std::span<const SqlValue> params) {
    FERRY_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      int rc;
      if (const int64_t* v = std::get_if<int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, index, *v);
      } else {
        const std::string_view text = std::get<std::string_view>(params[i]);
        // SQLITE_STATIC: the text outlives the statement's run (reset below). A null data
        // pointer would bind NULL, not "".
        rc = sqlite3_bind_text64(stmt, index, text.data() ? text.data() : "", text.size(),
                                 SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(stmt);
        return MapError(rc, sqlite3_errmsg(db_), where_);
      }
    }
    SqlRows out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const int columns = sqlite3_column_count(stmt);
      SqlRow row(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            break;
          case SQLITE_INTEGER:
            row[c] = static_cast<int64_t>(sqlite3_column_int64(stmt, c));
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row[c] =
                std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    Status status;
    if (rc == SQLITE_DONE) {
      out.changes = sqlite3_changes64(db_);
    } else {
      status = MapError(rc, sqlite3_errmsg(db_), where_);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!status.ok()) return status;
    return out;
  }

  std::mutex mu_;
  sqlite3* const db_;                                     // GUARDED_BY(mu_)
  const std::string where_;                               // "sqlite:///abs/path", for messages
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;  // GUARDED_BY(mu_); key: core SQL
  std::atomic<uint64_t> transactions_{0};
};

}  // namespace

Result<std::unique_ptr<SqlSession>> OpenSqliteSession(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  const std::string where = "sqlite://" + abs.string();
  if (abs.has_parent_path()) {
    fs::create_directories(abs.parent_path(), ec);
    if (ec) {
      return Status::Unavailable("cannot create the folder of state store " + where + ": " +
                                 ec.message());
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("cannot open state store " + where + ": " + message);
  }
  auto session = std::make_unique<SqliteSession>(db, where);  // owns db from here
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  for (const char* pragma :
       {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"}) {
    char* error = nullptr;
    rc = sqlite3_exec(db, pragma, nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      return MapError(rc, message, where).WithContext("opening the state store");
    }
  }
  return std::unique_ptr<SqlSession>(std::move(session));
}

}  // namespace ferry::state
