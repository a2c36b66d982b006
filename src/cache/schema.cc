// The cache's tables: component "cache" of the state database (state/migrate.h runs them).
// Each entry of kCacheMigrations takes the component from version i to i + 1.
//
// Keys are compared as bytes on both databases (range scans of a prefix): SQLite's TEXT
// compares bytes; on PostgreSQL the key columns use the "C" collation.
//
// To change the schema: append a migration, never edit a released one.
#include "cache/schema.h"

#include <string>

namespace ferry::cache::internal {
namespace {

// Version 1: entries, failures, prefix locks and the per-cache guard row that serializes the
// lock table's check-then-insert.
Status CreateTables(state::SqlTx& tx, const state::Dialect& d) {
  const std::string key_type =
      d.name == "postgres" ? "TEXT COLLATE \"C\" NOT NULL" : "TEXT NOT NULL";
  const std::string statements[] = {
      "CREATE TABLE cache_entries (cache TEXT NOT NULL, key " + key_type +
          ", source_etag TEXT NOT NULL, source_version TEXT NOT NULL,"
          " source_mtime_ns BIGINT NOT NULL, size BIGINT NOT NULL, expires BIGINT NOT NULL,"
          " generation BIGINT NOT NULL, state TEXT NOT NULL, mark_expires BIGINT NOT NULL,"
          " copied BIGINT NOT NULL, copied_by TEXT NOT NULL, PRIMARY KEY (cache, key))",
      // The expiry pass walks a cache's rows by expiry time.
      "CREATE INDEX cache_entries_by_expiry ON cache_entries (cache, expires)",
      "CREATE TABLE cache_failures (cache TEXT NOT NULL, key " + key_type +
          ", error TEXT NOT NULL, request TEXT NOT NULL, at BIGINT NOT NULL,"
          " PRIMARY KEY (cache, key))",
      "CREATE TABLE cache_lock_guard (cache TEXT PRIMARY KEY, counter BIGINT NOT NULL)",
      "CREATE TABLE cache_locks (cache TEXT NOT NULL, prefix " + key_type +
          ", hold BIGINT NOT NULL, owner TEXT NOT NULL, expires BIGINT NOT NULL,"
          " acquired BIGINT NOT NULL, PRIMARY KEY (cache, hold, prefix))",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

// Version 2: claims, one row per key a warm request is copying (its hold, locks.h), so that
// overlapping requests wait for one another per key (CacheIndex::Claim).
Status CreateClaims(state::SqlTx& tx, const state::Dialect& d) {
  const std::string key_type =
      d.name == "postgres" ? "TEXT COLLATE \"C\" NOT NULL" : "TEXT NOT NULL";
  const std::string statements[] = {
      "CREATE TABLE cache_claims (cache TEXT NOT NULL, key " + key_type +
          ", hold BIGINT NOT NULL, owner TEXT NOT NULL, claimed BIGINT NOT NULL,"
          " PRIMARY KEY (cache, key))",
      // Releasing a hold drops its claims.
      "CREATE INDEX cache_claims_by_hold ON cache_claims (cache, hold)",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

constexpr state::Migration kCacheMigrations[] = {&CreateTables, &CreateClaims};

}  // namespace

const state::Component& CacheComponent() {
  static const state::Component component{.name = "cache", .migrations = kCacheMigrations};
  return component;
}

}  // namespace ferry::cache::internal
