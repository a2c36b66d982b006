// Migrate: the schema_version table by component, and each component's migrations in order.
#include "state/migrate.h"

#include <string>

namespace ferry::state {
namespace {

// The component a schema_version row had before components existed.
constexpr char kFirstComponent[] = "jobs";

// Creates schema_version, or gives an older one its component column.
Status EnsureVersionTable(SqlTx& tx, const Dialect& dialect) {
  FERRY_RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT"
                                " NULL, component TEXT NOT NULL DEFAULT 'jobs')")
                            .status());
  FERRY_ASSIGN_OR_RETURN(SqlRows columns,
                         tx.Exec(dialect.count_columns, {"schema_version", "component"}));
  if (!columns.rows.empty() && CellInt(columns.rows[0][0]) > 0) return Status::Ok();
  return tx
      .Exec(std::string("ALTER TABLE schema_version ADD COLUMN component TEXT NOT NULL DEFAULT '") +
            kFirstComponent + "'")
      .status();
}

}  // namespace

Status Migrate(SqlSession& session, const Component& component) {
  const Dialect& dialect = session.dialect();
  const auto newest = static_cast<int64_t>(component.migrations.size());
  const std::string name(component.name);
  return session.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    if (!dialect.migration_lock.empty()) {
      FERRY_RETURN_IF_ERROR(tx.Exec(dialect.migration_lock).status());
    }
    FERRY_RETURN_IF_ERROR(EnsureVersionTable(tx, dialect));
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows, tx.Exec("SELECT version FROM schema_version WHERE component = $1", {name}));
    int64_t version = 0;
    if (rows.rows.empty()) {
      FERRY_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO schema_version (component, version) VALUES ($1, 0)", {name})
              .status());
    } else {
      version = CellInt(rows.rows[0][0]);
    }
    if (version > newest) {
      return Status::FailedPrecondition(
          "the state store has schema version " + std::to_string(version) + " of " + name +
          ", newer than this ferry knows (" + std::to_string(newest) + "): upgrade ferry");
    }
    for (; version < newest; ++version) {
      if (Status s = component.migrations[static_cast<size_t>(version)](tx, dialect); !s.ok()) {
        return s.WithContext("migrating the state store's " + name + " to schema version " +
                             std::to_string(version + 1));
      }
    }
    return tx
        .Exec("UPDATE schema_version SET version = $1 WHERE component = $2", {version, name})
        .status();
  });
}

Result<int64_t> ComponentVersion(SqlSession& session, std::string_view component) {
  int64_t version = 0;
  FERRY_RETURN_IF_ERROR(session.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    version = 0;
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT version FROM schema_version WHERE component = $1", {component}));
    if (!rows.rows.empty()) version = CellInt(rows.rows[0][0]);
    return Status::Ok();
  }));
  return version;
}

}  // namespace ferry::state
