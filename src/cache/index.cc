// CacheIndex: the entries and failures of one cache, in portable SQL over a SqlSession.
#include "cache/index.h"

#include "cache/schema.h"
#include "state/migrate.h"

namespace ferry::cache {
namespace {

using state::CellInt;
using state::CellText;
using state::SqlRows;
using state::SqlTx;
using state::TxMode;

constexpr char kColumns[] =
    "key, source_etag, source_version, source_mtime_ns, size, expires, generation, state,"
    " mark_expires, copied, copied_by";

Entry ToEntry(const state::SqlRow& r) {
  Entry e;
  e.key = CellText(r[0]);
  e.source_etag = CellText(r[1]);
  e.source_version = CellText(r[2]);
  e.source_mtime_ns = CellInt(r[3]);
  e.size = static_cast<uint64_t>(CellInt(r[4]));
  e.expires_ms = CellInt(r[5]);
  e.generation = CellInt(r[6]);
  e.expiring = CellText(r[7]) == "expiring";
  e.mark_expires_ms = CellInt(r[8]);
  e.copied_ms = CellInt(r[9]);
  e.copied_by = CellText(r[10]);
  return e;
}

int64_t Ms(std::chrono::milliseconds d) { return d.count(); }

}  // namespace

std::string PrefixUpperBound(std::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return upper;
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return upper;
}

Result<std::unique_ptr<CacheIndex>> CacheIndex::Open(state::SqlSession& session, Clock& clock,
                                                     std::string cache) {
  if (cache.empty()) return Status::InvalidArgument("cache index: empty cache name");
  FERRY_RETURN_IF_ERROR(state::Migrate(session, internal::CacheComponent()));
  return std::unique_ptr<CacheIndex>(new CacheIndex(session, clock, std::move(cache)));
}

int64_t CacheIndex::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

Result<std::vector<Entry>> CacheIndex::EntriesUnder(std::string_view prefix) const {
  std::vector<Entry> out;
  const std::string upper = PrefixUpperBound(prefix);
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    std::string sql =
        std::string("SELECT ") + kColumns + " FROM cache_entries WHERE cache = $1 AND key >= $2";
    Result<SqlRows> rows = upper.empty() ? tx.Exec(sql + " ORDER BY key", {cache_, prefix})
                                         : tx.Exec(sql + " AND key < $3 ORDER BY key",
                                                   {cache_, prefix, std::string_view(upper)});
    if (!rows.ok()) return rows.status();
    out.reserve(rows->rows.size());
    for (const auto& r : rows->rows) out.push_back(ToEntry(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<Entry>> CacheIndex::Get(std::string_view key) const {
  std::optional<Entry> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.reset();
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec(std::string("SELECT ") + kColumns +
                                       " FROM cache_entries WHERE cache = $1 AND key = $2",
                                   {cache_, key}));
    if (!rows.rows.empty()) out = ToEntry(rows.rows[0]);
    return Status::Ok();
  }));
  return out;
}

Result<CacheTotals> CacheIndex::Totals() const {
  CacheTotals out;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both databases return integers.
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec("SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT)"
                                   " FROM cache_entries WHERE cache = $1",
                                   {cache_}));
    out = CacheTotals{};
    if (!rows.rows.empty()) {
      out.objects = static_cast<uint64_t>(CellInt(rows.rows[0][0]));
      out.bytes = static_cast<uint64_t>(CellInt(rows.rows[0][1]));
    }
    return Status::Ok();
  }));
  return out;
}

Status CheckTtl(std::chrono::seconds ttl) {
  if (ttl.count() < 0) return Status::InvalidArgument("cache index: negative TTL");
  if (ttl > kMaxTtl) {
    return Status::InvalidArgument("cache index: a TTL of " + std::to_string(ttl.count()) +
                                   " s is above the longest, 100 years");
  }
  return Status::Ok();
}

Status CacheIndex::Record(const Copied& c, std::chrono::seconds ttl, std::string_view request) {
  FERRY_RETURN_IF_ERROR(CheckTtl(ttl));
  return session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    return tx
        .Exec(
            "INSERT INTO cache_entries (cache, key, source_etag, source_version,"
            " source_mtime_ns, size, expires, generation, state, mark_expires, copied,"
            " copied_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'live', 0, $8, $9)"
            " ON CONFLICT (cache, key) DO UPDATE SET source_etag = excluded.source_etag,"
            " source_version = excluded.source_version,"
            " source_mtime_ns = excluded.source_mtime_ns, size = excluded.size,"
            " expires = excluded.expires, generation = cache_entries.generation + 1,"
            " state = 'live', mark_expires = 0, copied = excluded.copied,"
            " copied_by = excluded.copied_by",
            {cache_, c.key, c.source_etag, c.source_version, c.source_mtime_ns,
             static_cast<int64_t>(c.size), now + Ms(ttl), now, request})
        .status();
  });
}

Result<std::vector<std::string>> CacheIndex::Renew(std::span<const RenewItem> items,
                                                   std::chrono::seconds ttl) {
  FERRY_RETURN_IF_ERROR(CheckTtl(ttl));
  std::vector<std::string> missed;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    missed.clear();
    const int64_t until = NowMs() + Ms(ttl);
    for (const RenewItem& item : items) {
      FERRY_ASSIGN_OR_RETURN(
          SqlRows rows,
          tx.Exec("UPDATE cache_entries SET expires = CASE WHEN expires > $4 THEN expires"
                  " ELSE $4 END, generation = generation + 1"
                  " WHERE cache = $1 AND key = $2 AND source_etag = $3 AND state = 'live'",
                  {cache_, item.key, item.source_etag, until}));
      if (rows.changes == 0) missed.push_back(item.key);
    }
    return Status::Ok();
  }));
  return missed;
}

Result<std::vector<Entry>> CacheIndex::Expired(int limit) const {
  std::vector<Entry> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string("SELECT ") + kColumns +
                    " FROM cache_entries WHERE cache = $1 AND ((state = 'live' AND expires <= $2)"
                    " OR (state = 'expiring' AND mark_expires <= $2)) ORDER BY expires LIMIT $3",
                {cache_, now, int64_t{limit}}));
    for (const auto& r : rows.rows) out.push_back(ToEntry(r));
    return Status::Ok();
  }));
  return out;
}

Result<uint64_t> CacheIndex::CountExpired() const {
  uint64_t n = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT COUNT(*) FROM cache_entries WHERE cache = $1 AND ((state = 'live' AND"
                " expires <= $2) OR (state = 'expiring' AND mark_expires <= $2))",
                {cache_, NowMs()}));
    n = rows.rows.empty() ? 0 : static_cast<uint64_t>(state::CellInt(rows.rows[0][0]));
    return Status::Ok();
  }));
  return n;
}

Result<bool> CacheIndex::MarkExpiring(Entry& read, std::chrono::milliseconds lease) {
  if (lease.count() <= 0) return Status::InvalidArgument("cache index: lease must be positive");
  bool marked = false;
  int64_t until = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    until = now + Ms(lease);
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE cache_entries SET state = 'expiring', mark_expires = $4,"
                " generation = generation + 1 WHERE cache = $1 AND key = $2 AND generation = $3"
                " AND ((state = 'live' AND expires <= $5)"
                " OR (state = 'expiring' AND mark_expires <= $5))"
                // A key a live hold claimed is being copied: its copy may land before this
                // pass deletes the object, and be recorded once the row is gone.
                " AND NOT EXISTS (SELECT 1 FROM cache_claims c, cache_locks l"
                " WHERE c.cache = $1 AND c.key = $2 AND l.cache = $1 AND l.hold = c.hold"
                " AND l.expires > $5)",
                {cache_, read.key, read.generation, until, now}));
    marked = rows.changes == 1;
    return Status::Ok();
  }));
  if (marked) {
    read.generation += 1;
    read.expiring = true;
    read.mark_expires_ms = until;
  }
  return marked;
}

Result<bool> CacheIndex::HoldMark(Entry& marked, std::chrono::milliseconds lease) {
  bool held = false;
  int64_t until = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    until = now + Ms(lease);
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE cache_entries SET mark_expires = $4 WHERE cache = $1 AND key = $2"
                " AND generation = $3 AND state = 'expiring' AND mark_expires > $5",
                {cache_, marked.key, marked.generation, until, now}));
    held = rows.changes == 1;
    return Status::Ok();
  }));
  if (held) marked.mark_expires_ms = until;
  return held;
}

Result<bool> CacheIndex::DeleteMarked(const Entry& marked) {
  bool deleted = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec("DELETE FROM cache_entries WHERE cache = $1 AND key = $2"
                                   " AND generation = $3 AND state = 'expiring'",
                                   {cache_, marked.key, marked.generation}));
    deleted = rows.changes == 1;
    return Status::Ok();
  }));
  return deleted;
}

Result<bool> CacheIndex::DropStaleMark(const Entry& marked) {
  bool dropped = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("DELETE FROM cache_entries WHERE cache = $1 AND key = $2 AND generation = $3"
                " AND state = 'expiring' AND mark_expires <= $4",
                {cache_, marked.key, marked.generation, NowMs()}));
    dropped = rows.changes == 1;
    return Status::Ok();
  }));
  return dropped;
}

Result<bool> CacheIndex::Known() const {
  bool known = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT 1 FROM cache_lock_guard WHERE cache = $1 UNION ALL"
                " SELECT 1 FROM cache_entries WHERE cache = $1 LIMIT 1",
                {cache_}));
    known = !rows.rows.empty();
    return Status::Ok();
  }));
  return known;
}

Result<std::vector<std::string>> CacheIndex::NestedCaches() const {
  std::vector<std::string> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec("SELECT cache FROM cache_lock_guard", {}));
    for (const auto& r : rows.rows) {
      const std::string name = CellText(r[0]);
      if (name.size() > cache_.size() && name.compare(0, cache_.size(), cache_) == 0) {
        out.push_back(name);
      }
    }
    return Status::Ok();
  }));
  return out;
}

Result<bool> CacheIndex::DropEntry(const Entry& read) {
  bool dropped = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec("DELETE FROM cache_entries WHERE cache = $1 AND key = $2"
                                   " AND generation = $3",
                                   {cache_, read.key, read.generation}));
    dropped = rows.changes == 1;
    return Status::Ok();
  }));
  return dropped;
}

Status CacheIndex::RecordFailure(std::string_view key, std::string_view error,
                                 std::string_view request) {
  return session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    return tx
        .Exec(
            "INSERT INTO cache_failures (cache, key, error, request, at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cache, key) DO UPDATE SET"
            " error = excluded.error, request = excluded.request, at = excluded.at",
            {cache_, key, error, request, NowMs()})
        .status();
  });
}

Status CacheIndex::ClearFailure(std::string_view key) {
  return session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    return tx.Exec("DELETE FROM cache_failures WHERE cache = $1 AND key = $2", {cache_, key})
        .status();
  });
}

Status CacheIndex::ClearFailuresUnder(std::span<const std::string> prefixes) {
  return session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    for (const std::string& prefix : prefixes) {
      const std::string upper = PrefixUpperBound(prefix);
      const std::string sql = "DELETE FROM cache_failures WHERE cache = $1 AND key >= $2";
      Result<SqlRows> rows =
          upper.empty() ? tx.Exec(sql, {cache_, prefix})
                        : tx.Exec(sql + " AND key < $3", {cache_, prefix, std::string_view(upper)});
      FERRY_RETURN_IF_ERROR(rows.status());
    }
    return Status::Ok();
  });
}

Result<std::vector<KeyFailure>> CacheIndex::FailuresUnder(std::string_view prefix) const {
  std::vector<KeyFailure> out;
  const std::string upper = PrefixUpperBound(prefix);
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    const std::string sql =
        "SELECT key, error, request, at FROM cache_failures WHERE cache = $1 AND key >= $2";
    Result<SqlRows> rows = upper.empty() ? tx.Exec(sql + " ORDER BY key", {cache_, prefix})
                                         : tx.Exec(sql + " AND key < $3 ORDER BY key",
                                                   {cache_, prefix, std::string_view(upper)});
    if (!rows.ok()) return rows.status();
    for (const auto& r : rows->rows) {
      out.push_back(KeyFailure{.key = CellText(r[0]),
                               .error = CellText(r[1]),
                               .request = CellText(r[2]),
                               .at_ms = CellInt(r[3])});
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace ferry::cache
