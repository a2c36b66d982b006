// PrefixLocks: the lock table's transactions (see locks.h for the rules).
#include "cache/locks.h"

#include <algorithm>
#include <map>

namespace ferry::cache {
namespace {

using state::CellInt;
using state::CellText;
using state::SqlRows;
using state::SqlTx;
using state::TxMode;

}  // namespace

bool PrefixesOverlap(std::string_view a, std::string_view b) {
  return a.starts_with(b) || b.starts_with(a);
}

std::vector<std::string> NormalizePrefixes(std::vector<std::string> prefixes) {
  // Sorted, a prefix comes right before the keys it covers, and a covering one before them.
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  std::vector<std::string> out;
  for (std::string& p : prefixes) {
    if (!out.empty() && p.starts_with(out.back())) continue;
    out.push_back(std::move(p));
  }
  return out;
}

int64_t PrefixLocks::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

Result<AcquireResult> PrefixLocks::Acquire(std::string_view owner,
                                           std::span<const std::string> prefixes,
                                           std::chrono::milliseconds ttl) {
  if (owner.empty()) return Status::InvalidArgument("prefix lock: empty owner");
  if (prefixes.empty()) return Status::InvalidArgument("prefix lock: no prefixes");
  if (ttl.count() <= 0) return Status::InvalidArgument("prefix lock: ttl must be positive");
  AcquireResult out;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    out = AcquireResult{};
    const int64_t now = NowMs();
    FERRY_RETURN_IF_ERROR(tx.Exec("INSERT INTO cache_lock_guard (cache, counter) VALUES ($1, 0)"
                                  " ON CONFLICT (cache) DO NOTHING",
                                  {cache_})
                              .status());
    FERRY_ASSIGN_OR_RETURN(SqlRows guard,
                           tx.Exec("UPDATE cache_lock_guard SET counter = counter + 1"
                                   " WHERE cache = $1 RETURNING counter",
                                   {cache_}));
    if (guard.rows.size() != 1) return Status::Internal("prefix lock: guard row missing");
    const int64_t id = CellInt(guard.rows[0][0]);
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT prefix, owner, expires, hold FROM cache_locks WHERE cache = $1", {cache_}));
    std::map<int64_t, std::string> expired;  // overlapping holds whose lease ran out
    for (const auto& r : rows.rows) {
      const std::string prefix = CellText(r[0]);
      bool overlaps = false;
      for (const std::string& p : prefixes) overlaps = overlaps || PrefixesOverlap(p, prefix);
      if (!overlaps) continue;
      if (CellInt(r[2]) > now) {
        out.overlapping.push_back(
            Overlap{.owner = CellText(r[1]), .prefix = prefix, .expires_ms = CellInt(r[2])});
      } else {
        expired.emplace(CellInt(r[3]), CellText(r[1]));
      }
    }
    for (const auto& [hold, who] : expired) {
      for (const char* table : {"cache_locks", "cache_claims"}) {
        FERRY_RETURN_IF_ERROR(tx.Exec(std::string("DELETE FROM ") + table +
                                          " WHERE cache = $1 AND hold = $2",
                                      {cache_, hold})
                                  .status());
      }
      out.taken_over.push_back(who);
    }
    for (const std::string& p : prefixes) {
      FERRY_RETURN_IF_ERROR(tx.Exec("INSERT INTO cache_locks (cache, prefix, hold, owner,"
                                    " expires, acquired) VALUES ($1, $2, $3, $4, $5, $6)",
                                    {cache_, p, id, owner, now + ttl.count(), now})
                                .status());
    }
    out.hold = Hold{.id = id,
                    .owner = std::string(owner),
                    .prefixes = std::vector<std::string>(prefixes.begin(), prefixes.end())};
    return Status::Ok();
  }));
  return out;
}

Status PrefixLocks::Renew(const Hold& hold, std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return Status::InvalidArgument("prefix lock: ttl must be positive");
  return session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    // A lease that ran out is still held until another request takes it over (deletes its
    // rows): until then nobody else acts on its prefixes.
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows, tx.Exec("UPDATE cache_locks SET expires = $4 WHERE cache = $1 AND hold = $2"
                              " AND owner = $3",
                              {cache_, hold.id, hold.owner, now + ttl.count()}));
    if (rows.changes == 0) {
      return Status::FailedPrecondition(
          "prefix lock " + std::to_string(hold.id) + " of " + hold.owner +
          " is no longer held (its lease ran out and another request took it over)");
    }
    return Status::Ok();
  });
}

Status PrefixLocks::Release(const Hold& hold) {
  return session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    for (const char* table : {"cache_locks", "cache_claims"}) {
      FERRY_RETURN_IF_ERROR(tx.Exec(std::string("DELETE FROM ") + table +
                                        " WHERE cache = $1 AND hold = $2 AND owner = $3",
                                    {cache_, hold.id, hold.owner})
                                .status());
    }
    return Status::Ok();
  });
}

}  // namespace ferry::cache
