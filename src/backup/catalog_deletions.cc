// CatalogStore's deletions (tombstones, the keys a run's listing lacked) and the rows a
// retention forgets (contracts in catalog.h).
#include <algorithm>
#include <map>

#include "backup/catalog.h"

namespace ferry::backup {
namespace {

using state::SqlRow;
using state::SqlTx;
using state::SqlValue;

int64_t AsInt64(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace

Result<std::vector<std::string>> CatalogStore::LiveKeysBetween(
    std::string_view location, std::string_view after, const std::optional<std::string>& last) {
  std::vector<std::string> live;
  std::string from(after);
  for (;;) {
    // One page of keys with their newest entry, then the tombstones of the same interval.
    std::map<std::string, std::pair<int64_t, int64_t>> page;  // key -> (entry, tombstone)
    std::string page_last;
    bool more = false;
    FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
      page.clear();
      more = false;
      const std::string bound = last ? " AND object_key <= $3" : "";
      std::vector<SqlValue> params{location, std::string_view(from)};
      if (last) params.emplace_back(std::string_view(*last));
      FERRY_ASSIGN_OR_RETURN(
          auto rows,
          tx.ExecSpan("SELECT object_key, MAX(backed_up) FROM catalog_entries WHERE location = $1"
                      " AND object_key > $2" + bound + " GROUP BY object_key ORDER BY object_key"
                      " LIMIT " + std::to_string(kRangePage),
                      params));
      if (rows.rows.empty()) return Status::Ok();
      more = rows.rows.size() == kRangePage;
      for (const SqlRow& r : rows.rows) page[state::CellText(r[0])] = {state::CellInt(r[1]), 0};
      page_last = state::CellText(rows.rows.back()[0]);
      FERRY_ASSIGN_OR_RETURN(
          auto dead, tx.Exec("SELECT object_key, MAX(deleted_at) FROM catalog_tombstones"
                             " WHERE location = $1 AND object_key > $2 AND object_key <= $3"
                             " GROUP BY object_key",
                             {location, std::string_view(from), std::string_view(page_last)}));
      for (const SqlRow& r : dead.rows) {
        auto it = page.find(state::CellText(r[0]));
        if (it != page.end()) it->second.second = state::CellInt(r[1]);
      }
      return Status::Ok();
    }));
    for (auto& [key, times] : page) {
      // A tombstone at least as new as the newest entry: deleted (SelectVersion's rule).
      if (times.second == 0 || times.second < times.first) live.push_back(key);
    }
    if (!more) break;
    from = page_last;
  }
  // The map ordered the page by std::string (bytes), as the database did.
  return live;
}

Status CatalogStore::NoteGone(std::string_view location, int64_t run,
                              std::span<const std::string> keys, int64_t seen_ms) {
  if (keys.empty()) return Status::Ok();
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    for (const std::string& key : keys) {
      FERRY_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO catalog_gone (location, run, object_key, seen_at)"
                  " VALUES ($1, $2, $3, $4) ON CONFLICT (location, run, object_key) DO NOTHING",
                  {location, run, std::string_view(key), seen_ms})
              .status());
    }
    return Status::Ok();
  });
}

Result<std::vector<int64_t>> CatalogStore::RunsWithGone(std::string_view location) {
  std::vector<int64_t> runs;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    runs.clear();
    FERRY_ASSIGN_OR_RETURN(auto rows, tx.Exec("SELECT DISTINCT run FROM catalog_gone"
                                              " WHERE location = $1 ORDER BY run",
                                              {location}));
    for (const SqlRow& r : rows.rows) runs.push_back(state::CellInt(r[0]));
    return Status::Ok();
  }));
  return runs;
}

Result<uint64_t> CatalogStore::CommitGone(std::string_view location, int64_t run) {
  uint64_t recorded = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    recorded = 0;
    FERRY_ASSIGN_OR_RETURN(
        auto gone, tx.Exec("SELECT g.object_key, g.seen_at,"
                           " (SELECT MAX(e.backed_up) FROM catalog_entries e"
                           "  WHERE e.location = g.location AND e.object_key = g.object_key),"
                           " (SELECT MAX(t.deleted_at) FROM catalog_tombstones t"
                           "  WHERE t.location = g.location AND t.object_key = g.object_key)"
                           " FROM catalog_gone g WHERE g.location = $1 AND g.run = $2",
                           {location, run}));
    for (const SqlRow& r : gone.rows) {
      const int64_t entry = state::CellInt(r[2]);
      const int64_t tombstone = state::CellInt(r[3]);
      if (tombstone > 0 && tombstone >= entry) continue;  // already deleted
      const std::string key = state::CellText(r[0]);
      FERRY_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO catalog_tombstones (location, object_key, deleted_at, run)"
                  " VALUES ($1, $2, $3, $4) ON CONFLICT (location, object_key, deleted_at)"
                  " DO NOTHING",
                  {location, std::string_view(key), std::max(state::CellInt(r[1]), entry + 1),
                   run})
              .status());
      ++recorded;
    }
    return tx.Exec("DELETE FROM catalog_gone WHERE location = $1 AND run = $2", {location, run})
        .status();
  }));
  return recorded;
}

Status CatalogStore::DiscardGone(std::string_view location, int64_t run) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return tx.Exec("DELETE FROM catalog_gone WHERE location = $1 AND run = $2", {location, run})
        .status();
  });
}

Result<std::string> CatalogStore::ClaimSource(std::string_view location,
                                              std::string_view source) {
  std::string owner;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_RETURN_IF_ERROR(tx.Exec("INSERT INTO catalog_sources (location, source) VALUES ($1, $2)"
                                  " ON CONFLICT (location) DO NOTHING",
                                  {location, source})
                              .status());
    FERRY_ASSIGN_OR_RETURN(
        auto rows, tx.Exec("SELECT source FROM catalog_sources WHERE location = $1", {location}));
    owner = rows.rows.empty() ? std::string(source) : state::CellText(rows.rows[0][0]);
    return Status::Ok();
  }));
  return owner;
}

Status CatalogStore::RecordTombstones(std::span<const Tombstone> tombstones) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    for (const Tombstone& t : tombstones) {
      FERRY_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO catalog_tombstones (location, object_key, deleted_at, run)"
                  " VALUES ($1, $2, $3, $4) ON CONFLICT (location, object_key, deleted_at)"
                  " DO UPDATE SET run = excluded.run",
                  {t.location, t.key, t.deleted_ms, t.run})
              .status());
    }
    return Status::Ok();
  });
}

Result<std::vector<Tombstone>> CatalogStore::Tombstones(std::string_view location,
                                                        std::string_view prefix) {
  std::vector<Tombstone> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(auto rows,
                           tx.Exec("SELECT object_key, deleted_at, run FROM catalog_tombstones"
                                   " WHERE location = $1",
                                   {location}));
    for (const SqlRow& r : rows.rows) {
      Tombstone t{.location = std::string(location),
                  .key = state::CellText(r[0]),
                  .deleted_ms = state::CellInt(r[1]),
                  .run = state::CellInt(r[2])};
      if (t.key.starts_with(prefix)) out.push_back(std::move(t));
    }
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(), [](const Tombstone& a, const Tombstone& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.deleted_ms > b.deleted_ms;
  });
  return out;
}

Result<std::vector<CatalogArchive>> CatalogStore::ForgetRows(
    std::span<const CatalogEntry> entries, std::span<const Tombstone> tombstones,
    std::span<const CatalogArchive> doomed) {
  std::vector<CatalogArchive> listed;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    listed.clear();
    for (const CatalogEntry& e : entries) {
      // The row as read (its key and time too): an archive recorded again since has new rows.
      FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM catalog_entries WHERE location = $1"
                                    " AND archive = $2 AND entry = $3 AND object_key = $4"
                                    " AND backed_up = $5",
                                    {e.location, e.archive, AsInt64(e.entry), e.key, e.backed_up_ms})
                                .status());
    }
    for (const Tombstone& t : tombstones) {
      FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM catalog_tombstones WHERE location = $1"
                                    " AND object_key = $2 AND deleted_at = $3",
                                    {t.location, t.key, t.deleted_ms})
                                .status());
    }
    for (const CatalogArchive& a : doomed) {
      // Entries the plan did not drop: the archive was recorded (again) since the plan read
      // the catalog, by a backup running beside the prune. It holds that backup: it stays.
      FERRY_ASSIGN_OR_RETURN(
          auto left, tx.Exec("SELECT COUNT(*) FROM catalog_entries WHERE location = $1"
                             " AND archive = $2",
                             {a.location, a.archive}));
      if (!left.rows.empty() && state::CellInt(left.rows[0][0]) > 0) continue;
      FERRY_RETURN_IF_ERROR(
          tx.Exec("DELETE FROM catalog_archives WHERE location = $1 AND archive = $2",
                  {a.location, a.archive})
              .status());
      FERRY_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO catalog_doomed (location, archive, entries, archive_bytes,"
                  " backed_up) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (location, archive)"
                  " DO NOTHING",
                  {a.location, a.archive, AsInt64(a.entries), AsInt64(a.archive_bytes), a.backed_up_ms})
              .status());
      listed.push_back(a);
    }
    return Status::Ok();
  }));
  return listed;
}

Result<std::vector<CatalogArchive>> CatalogStore::Doomed(std::string_view location) {
  std::vector<CatalogArchive> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        auto rows, tx.Exec("SELECT archive, entries, archive_bytes, backed_up FROM catalog_doomed"
                           " WHERE location = $1",
                           {location}));
    for (const SqlRow& r : rows.rows) {
      out.push_back(CatalogArchive{.location = std::string(location),
                                   .archive = state::CellText(r[0]),
                                   .entries = static_cast<uint64_t>(state::CellInt(r[1])),
                                   .archive_bytes = static_cast<uint64_t>(state::CellInt(r[2])),
                                   .backed_up_ms = state::CellInt(r[3])});
    }
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(),
            [](const CatalogArchive& a, const CatalogArchive& b) { return a.archive < b.archive; });
  return out;
}

Status CatalogStore::ForgetDoomed(std::string_view location, std::string_view archive) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return tx.Exec("DELETE FROM catalog_doomed WHERE location = $1 AND archive = $2",
                   {location, archive})
        .status();
  });
}

}  // namespace ferry::backup
