// CatalogStore over the portable SQL of state/sql_session.h (contract in catalog.h).
#include "backup/catalog.h"

#include <algorithm>
#include <map>

#include "state/migrate.h"

namespace ferry::backup {
namespace {

using state::SqlRow;
using state::SqlTx;
using state::SqlValue;

// Version 1: archives and their entries.
Status CreateTables(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  FERRY_RETURN_IF_ERROR(
      tx.Exec("CREATE TABLE catalog_archives (location TEXT NOT NULL, archive TEXT NOT NULL,"
              " entries BIGINT NOT NULL, archive_bytes BIGINT NOT NULL,"
              " backed_up BIGINT NOT NULL, PRIMARY KEY (location, archive))")
          .status());
  FERRY_RETURN_IF_ERROR(
      tx.Exec("CREATE TABLE catalog_entries (location TEXT NOT NULL, archive TEXT NOT NULL,"
              " entry BIGINT NOT NULL, object_key TEXT NOT NULL, version_id TEXT NOT NULL,"
              " size BIGINT NOT NULL, etag TEXT NOT NULL, crc32c BIGINT NOT NULL,"
              " mtime_ns BIGINT NOT NULL, first_frame BIGINT NOT NULL,"
              " frame_count BIGINT NOT NULL, offset_in_frame BIGINT NOT NULL,"
              " data_offset BIGINT NOT NULL, data_bytes BIGINT NOT NULL,"
              " backed_up BIGINT NOT NULL, PRIMARY KEY (location, archive, entry))")
          .status());
  return tx.Exec("CREATE INDEX catalog_entries_by_key ON catalog_entries (location, object_key)")
      .status();
}

// Version 2: deletions and retention. Keys compare in byte order in both databases (SQLite's
// BINARY; PostgreSQL's "C" collation, also for catalog_entries.object_key): LiveKeysBetween
// walks intervals of the source's listing order.
Status AddDeletions(SqlTx& tx, const state::Dialect& d) {
  const bool pg = d.name == "postgres";
  const std::string key_type = pg ? "TEXT COLLATE \"C\" NOT NULL" : "TEXT NOT NULL";
  if (pg) {
    FERRY_RETURN_IF_ERROR(
        tx.Exec("ALTER TABLE catalog_entries ALTER COLUMN object_key TYPE TEXT COLLATE \"C\"")
            .status());
  }
  FERRY_RETURN_IF_ERROR(tx.Exec("CREATE TABLE catalog_tombstones (location TEXT NOT NULL,"
                                " object_key " + key_type + ", deleted_at BIGINT NOT NULL,"
                                " run BIGINT NOT NULL,"
                                " PRIMARY KEY (location, object_key, deleted_at))")
                            .status());
  FERRY_RETURN_IF_ERROR(tx.Exec("CREATE TABLE catalog_gone (location TEXT NOT NULL,"
                                " run BIGINT NOT NULL, object_key " + key_type + ","
                                " seen_at BIGINT NOT NULL,"
                                " PRIMARY KEY (location, run, object_key))")
                            .status());
  FERRY_RETURN_IF_ERROR(
      tx.Exec("CREATE TABLE catalog_doomed (location TEXT NOT NULL, archive TEXT NOT NULL,"
              " entries BIGINT NOT NULL, archive_bytes BIGINT NOT NULL,"
              " backed_up BIGINT NOT NULL, PRIMARY KEY (location, archive))")
          .status());
  return tx.Exec("CREATE TABLE catalog_sources (location TEXT NOT NULL PRIMARY KEY,"
                 " source TEXT NOT NULL)")
      .status();
}

constexpr state::Migration kMigrations[] = {&CreateTables, &AddDeletions};
constexpr state::Component kComponent{"catalog", kMigrations};

constexpr const char* kEntryColumns =
    "location, archive, entry, object_key, version_id, size, etag, crc32c, mtime_ns,"
    " first_frame, frame_count, offset_in_frame, data_offset, data_bytes, backed_up";

CatalogEntry EntryFrom(const SqlRow& r) {
  auto u = [&](size_t i) { return static_cast<uint64_t>(state::CellInt(r[i])); };
  CatalogEntry e;
  e.location = state::CellText(r[0]);
  e.archive = state::CellText(r[1]);
  e.entry = u(2);
  e.key = state::CellText(r[3]);
  e.version_id = state::CellText(r[4]);
  e.size = u(5);
  e.etag = state::CellText(r[6]);
  e.crc32c = static_cast<uint32_t>(u(7));
  e.mtime_ns = state::CellInt(r[8]);
  e.first_frame = u(9);
  e.frame_count = u(10);
  e.offset_in_frame = u(11);
  e.data_offset = u(12);
  e.data_bytes = u(13);
  e.backed_up_ms = state::CellInt(r[14]);
  return e;
}

int64_t I(uint64_t v) { return static_cast<int64_t>(v); }

Status DeleteArchive(SqlTx& tx, std::string_view location, std::string_view archive) {
  FERRY_RETURN_IF_ERROR(
      tx.Exec("DELETE FROM catalog_entries WHERE location = $1 AND archive = $2",
              {location, archive})
          .status());
  return tx.Exec("DELETE FROM catalog_archives WHERE location = $1 AND archive = $2",
                 {location, archive})
      .status();
}

}  // namespace

bool NewerThan(const CatalogEntry& a, const CatalogEntry& b) {
  if (a.backed_up_ms != b.backed_up_ms) return a.backed_up_ms > b.backed_up_ms;
  if (a.archive != b.archive) return a.archive > b.archive;
  return a.entry > b.entry;
}

std::optional<CatalogEntry> PickVersion(std::span<const CatalogEntry> versions,
                                        std::string_view version_id, int64_t at_ms) {
  const CatalogEntry* best = nullptr;
  for (const CatalogEntry& e : versions) {
    if (!version_id.empty() ? e.version_id != version_id
                            : (at_ms > 0 && e.backed_up_ms > at_ms)) {
      continue;
    }
    if (best == nullptr || NewerThan(e, *best)) best = &e;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

Selected SelectVersion(std::span<const CatalogEntry> versions,
                       std::span<const Tombstone> tombstones, std::string_view version_id,
                       int64_t at_ms) {
  Selected out;
  out.entry = PickVersion(versions, version_id, at_ms);
  if (!version_id.empty()) return out;
  for (const Tombstone& t : tombstones) {
    if (at_ms > 0 && t.deleted_ms > at_ms) continue;
    if (out.entry && t.deleted_ms < out.entry->backed_up_ms) continue;
    out.deleted_ms = std::max(out.deleted_ms, t.deleted_ms);
  }
  return out;
}

Result<std::unique_ptr<CatalogStore>> CatalogStore::Open(state::SqlSession& session) {
  FERRY_RETURN_IF_ERROR(state::Migrate(session, kComponent));
  return std::unique_ptr<CatalogStore>(new CatalogStore(session));
}

namespace {

// Inserts `a` and its `entries` (replacing the archive's earlier rows), all at `backed_up_ms`.
Status InsertArchive(SqlTx& tx, const CatalogArchive& a, std::span<const CatalogEntry> entries,
                     int64_t backed_up_ms) {
  FERRY_RETURN_IF_ERROR(DeleteArchive(tx, a.location, a.archive));
  FERRY_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO catalog_archives (location, archive, entries, archive_bytes,"
              " backed_up) VALUES ($1, $2, $3, $4, $5)",
              {a.location, a.archive, I(a.entries), I(a.archive_bytes), backed_up_ms})
          .status());
  const std::string insert = std::string("INSERT INTO catalog_entries (") + kEntryColumns +
                             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                             " $13, $14, $15)";
  for (const CatalogEntry& e : entries) {
    FERRY_RETURN_IF_ERROR(
        tx.Exec(insert, {a.location, a.archive, I(e.entry), e.key, e.version_id, I(e.size),
                         e.etag, int64_t{e.crc32c}, e.mtime_ns, I(e.first_frame),
                         I(e.frame_count), I(e.offset_in_frame), I(e.data_offset),
                         I(e.data_bytes), backed_up_ms})
            .status());
  }
  return Status::Ok();
}

// The newest time of any row (entry of another archive than `archive`, or tombstone) of the
// keys of `entries` at `location`; 0 when none.
Result<int64_t> NewestRowOf(SqlTx& tx, std::string_view location, std::string_view archive,
                            std::span<const CatalogEntry> entries) {
  // The keys are $3... in both statements ($2: the archive, unused by the tombstones').
  auto keys_from = [](size_t first) {
    std::string in;
    for (size_t i = 0; i < CatalogStore::kLookupBatch; ++i) {
      in += (i ? ", $" : "$") + std::to_string(i + first);
    }
    return in;
  };
  const std::string entries_sql =
      "SELECT MAX(backed_up) FROM catalog_entries WHERE location = $1 AND archive <> $2 AND"
      " object_key IN (" + keys_from(3) + ")";
  const std::string tombstones_sql =
      "SELECT MAX(deleted_at) FROM catalog_tombstones WHERE location = $1 AND"
      " object_key IN (" + keys_from(2) + ")";
  int64_t newest = 0;
  for (size_t at = 0; at < entries.size(); at += CatalogStore::kLookupBatch) {
    const auto batch =
        entries.subspan(at, std::min(CatalogStore::kLookupBatch, entries.size() - at));
    // Always kLookupBatch keys (the last one repeated): one statement shape, prepared once.
    std::vector<SqlValue> params;
    params.reserve(CatalogStore::kLookupBatch + 2);
    params.emplace_back(location);
    params.emplace_back(archive);
    for (size_t i = 0; i < CatalogStore::kLookupBatch; ++i) {
      params.emplace_back(std::string_view(batch[std::min(i, batch.size() - 1)].key));
    }
    FERRY_ASSIGN_OR_RETURN(auto newest_entry, tx.ExecSpan(entries_sql, params));
    params.erase(params.begin() + 1);
    FERRY_ASSIGN_OR_RETURN(auto newest_tombstone, tx.ExecSpan(tombstones_sql, params));
    for (const auto* rows : {&newest_entry, &newest_tombstone}) {
      if (!rows->rows.empty()) newest = std::max(newest, state::CellInt(rows->rows[0][0]));
    }
  }
  return newest;
}

}  // namespace

Status CatalogStore::RecordArchive(const CatalogArchive& a, std::span<const CatalogEntry> entries) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return InsertArchive(tx, a, entries, a.backed_up_ms);
  });
}

Result<int64_t> CatalogStore::RecordNewestArchive(const CatalogArchive& a,
                                                  std::span<const CatalogEntry> entries) {
  int64_t at = a.backed_up_ms;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(const int64_t newest, NewestRowOf(tx, a.location, a.archive, entries));
    at = std::max(a.backed_up_ms, newest + 1);
    return InsertArchive(tx, a, entries, at);
  }));
  return at;
}

Result<bool> CatalogStore::HasArchive(std::string_view location, std::string_view archive) {
  bool found = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(auto rows,
                           tx.Exec("SELECT entries FROM catalog_archives WHERE location = $1"
                                   " AND archive = $2",
                                   {location, archive}));
    found = !rows.rows.empty();
    return Status::Ok();
  }));
  return found;
}

Result<std::vector<CatalogArchive>> CatalogStore::Archives(std::string_view location) {
  std::vector<CatalogArchive> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        auto rows, tx.Exec("SELECT location, archive, entries, archive_bytes, backed_up"
                           " FROM catalog_archives WHERE location = $1",
                           {location}));
    for (const SqlRow& r : rows.rows) {
      out.push_back(CatalogArchive{.location = state::CellText(r[0]),
                                   .archive = state::CellText(r[1]),
                                   .entries = static_cast<uint64_t>(state::CellInt(r[2])),
                                   .archive_bytes = static_cast<uint64_t>(state::CellInt(r[3])),
                                   .backed_up_ms = state::CellInt(r[4])});
    }
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(),
            [](const CatalogArchive& a, const CatalogArchive& b) { return a.archive < b.archive; });
  return out;
}

Result<uint64_t> CatalogStore::ForgetArchivesExcept(std::string_view location,
                                                    const std::set<std::string>& keep) {
  FERRY_ASSIGN_OR_RETURN(std::vector<CatalogArchive> archives, Archives(location));
  uint64_t forgotten = 0;
  for (const CatalogArchive& a : archives) {
    if (keep.count(a.archive) != 0) continue;
    FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
      return DeleteArchive(tx, location, a.archive);
    }));
    ++forgotten;
  }
  return forgotten;
}

Result<std::vector<CatalogEntry>> CatalogStore::Latest(std::string_view location,
                                                       std::span<const std::string> keys) {
  std::map<std::string_view, CatalogEntry> latest;
  std::map<std::string_view, int64_t> deleted;  // newest tombstone of a key
  std::string in;
  for (size_t i = 0; i < kLookupBatch; ++i) in += (i ? ", $" : "$") + std::to_string(i + 2);
  const std::string sql = std::string("SELECT ") + kEntryColumns +
                          " FROM catalog_entries WHERE location = $1 AND object_key IN (" + in +
                          ")";
  const std::string tombstones_sql =
      "SELECT object_key, MAX(deleted_at) FROM catalog_tombstones WHERE location = $1 AND"
      " object_key IN (" + in + ") GROUP BY object_key";
  for (size_t at = 0; at < keys.size(); at += kLookupBatch) {
    const auto batch = keys.subspan(at, std::min(kLookupBatch, keys.size() - at));
    // Always kLookupBatch keys (the last one repeated): one statement shape, prepared once.
    std::vector<SqlValue> params;
    params.reserve(kLookupBatch + 1);
    params.emplace_back(location);
    for (size_t i = 0; i < kLookupBatch; ++i) {
      params.emplace_back(std::string_view(batch[std::min(i, batch.size() - 1)]));
    }
    std::vector<CatalogEntry> found;
    std::vector<std::pair<std::string, int64_t>> gone;
    FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
      found.clear();
      gone.clear();
      FERRY_ASSIGN_OR_RETURN(auto rows, tx.ExecSpan(sql, params));
      for (const SqlRow& r : rows.rows) found.push_back(EntryFrom(r));
      FERRY_ASSIGN_OR_RETURN(auto dead, tx.ExecSpan(tombstones_sql, params));
      for (const SqlRow& r : dead.rows) {
        gone.emplace_back(state::CellText(r[0]), state::CellInt(r[1]));
      }
      return Status::Ok();
    }));
    for (auto& [k, t] : gone) {
      auto key = std::find(batch.begin(), batch.end(), k);
      if (key != batch.end()) deleted[*key] = t;
    }
    for (CatalogEntry& e : found) {
      auto key = std::find(batch.begin(), batch.end(), e.key);
      if (key == batch.end()) continue;
      auto it = latest.find(*key);
      if (it == latest.end()) {
        latest.emplace(*key, std::move(e));
      } else if (NewerThan(e, it->second)) {
        it->second = std::move(e);
      }
    }
  }
  std::vector<CatalogEntry> out;
  out.reserve(latest.size());
  for (auto& [k, e] : latest) {
    // A tombstone at least as new as the newest entry: deleted (SelectVersion's rule).
    auto d = deleted.find(k);
    if (d != deleted.end() && d->second >= e.backed_up_ms) continue;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<CatalogEntry>> CatalogStore::Versions(std::string_view location,
                                                         std::string_view key) {
  std::vector<CatalogEntry> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(auto rows,
                           tx.Exec(std::string("SELECT ") + kEntryColumns +
                                       " FROM catalog_entries WHERE location = $1"
                                       " AND object_key = $2",
                                       {location, key}));
    for (const SqlRow& r : rows.rows) out.push_back(EntryFrom(r));
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(), NewerThan);
  return out;
}

Status CatalogStore::Visit(std::string_view location, std::string_view prefix,
                           const std::function<Status(const CatalogEntry&)>& visit) {
  std::vector<CatalogEntry> all;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    all.clear();
    FERRY_ASSIGN_OR_RETURN(auto rows,
                           tx.Exec(std::string("SELECT ") + kEntryColumns +
                                       " FROM catalog_entries WHERE location = $1",
                                   {location}));
    for (const SqlRow& r : rows.rows) {
      CatalogEntry e = EntryFrom(r);
      if (e.key.starts_with(prefix)) all.push_back(std::move(e));
    }
    return Status::Ok();
  }));
  // Keys in byte order (not the database's collation: PostgreSQL's may be a locale's), each
  // key's versions newest first.
  std::stable_sort(all.begin(), all.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    if (a.key != b.key) return a.key < b.key;
    return NewerThan(a, b);
  });
  for (const CatalogEntry& e : all) FERRY_RETURN_IF_ERROR(visit(e));
  return Status::Ok();
}

}  // namespace ferry::backup
