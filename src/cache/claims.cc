// CacheIndex claims: which warm request copies a key, and the batched record of what it did
// (see index.h and docs/design/cache.md "Claims").
#include <algorithm>
#include <numeric>

#include "cache/index.h"

namespace ferry::cache {
namespace {

using state::CellInt;
using state::CellText;
using state::SqlRows;
using state::SqlTx;
using state::TxMode;

// Whether a live hold of this cache has the lease `hold` (any of its prefix rows not run out).
Result<bool> HoldLive(SqlTx& tx, const std::string& cache, int64_t hold, int64_t now) {
  FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                         tx.Exec("SELECT COUNT(*) FROM cache_locks WHERE cache = $1 AND hold = $2"
                                 " AND expires > $3",
                                 {cache, hold, now}));
  return !rows.rows.empty() && CellInt(rows.rows[0][0]) > 0;
}

Status DropClaim(SqlTx& tx, const std::string& cache, std::string_view key, int64_t hold) {
  return tx
      .Exec("DELETE FROM cache_claims WHERE cache = $1 AND key = $2 AND hold = $3",
            {cache, key, hold})
      .status();
}

// One transaction of CacheIndex::Claim: its cache, the claiming request, and the time.
struct ClaimTx {
  SqlTx& tx;
  const std::string& cache;
  int64_t hold;            // the hold that claims (a request's hold on its prefixes, locks.h)
  std::string_view owner;  // its owner
  int64_t now;             // the index's time (ms)
};

// Takes the claim of `key` for `ctx.hold`. Returns the outcome when it is not ours to copy
// (kHeld), or nullopt once we hold it (`taken_from` set when it was taken over).
Result<std::optional<ClaimOutcome>> TakeClaim(const ClaimTx& ctx, std::string_view key,
                                              std::string& taken_from) {
  // Twice at most: a claim found by the insert may be gone (settled) by the time it is read.
  for (int attempt = 0; attempt < 2; ++attempt) {
    FERRY_ASSIGN_OR_RETURN(
        SqlRows ins, ctx.tx.Exec("INSERT INTO cache_claims (cache, key, hold, owner, claimed)"
                                 " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cache, key) DO NOTHING",
                                 {ctx.cache, key, ctx.hold, ctx.owner, ctx.now}));
    if (ins.changes == 1) return std::optional<ClaimOutcome>();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows cur,
        ctx.tx.Exec("SELECT hold, owner FROM cache_claims WHERE cache = $1 AND key = $2",
                    {ctx.cache, key}));
    if (cur.rows.empty()) continue;
    const int64_t other = CellInt(cur.rows[0][0]);
    std::string other_owner = CellText(cur.rows[0][1]);
    if (other == ctx.hold) return std::optional<ClaimOutcome>();
    FERRY_ASSIGN_OR_RETURN(bool live, HoldLive(ctx.tx, ctx.cache, other, ctx.now));
    if (live) {
      return std::optional<ClaimOutcome>(
          ClaimOutcome{.state = ClaimState::kHeld, .owner = std::move(other_owner), .error = "",
                       .taken_over = false});
    }
    // Its holder's lease ran out: take the claim over and fence the holder out.
    FERRY_ASSIGN_OR_RETURN(SqlRows upd,
                           ctx.tx.Exec("UPDATE cache_claims SET hold = $3, owner = $4, claimed = $5"
                                       " WHERE cache = $1 AND key = $2 AND hold = $6",
                                       {ctx.cache, key, ctx.hold, ctx.owner, ctx.now, other}));
    if (upd.changes != 1) continue;
    FERRY_RETURN_IF_ERROR(
        ctx.tx.Exec("DELETE FROM cache_locks WHERE cache = $1 AND hold = $2", {ctx.cache, other})
            .status());
    taken_from = std::move(other_owner);
    return std::optional<ClaimOutcome>();
  }
  return std::optional<ClaimOutcome>(
      ClaimOutcome{.state = ClaimState::kHeld, .owner = "", .error = "", .taken_over = false});
}

bool SameSource(std::string_view etag, uint64_t size, int64_t mtime_ns, const ClaimItem& item) {
  if (size != item.size) return false;
  if (!etag.empty() || !item.source_etag.empty()) return etag == item.source_etag;
  return mtime_ns == item.source_mtime_ns;
}

// With the claim held: what the entry of `item` says.
Result<ClaimOutcome> Decide(const ClaimTx& ctx, const ClaimItem& item,
                            const ClaimOptions& options) {
  const ClaimOutcome claimed{
      .state = ClaimState::kClaimed, .owner = "", .error = "", .taken_over = false};
  FERRY_ASSIGN_OR_RETURN(
      SqlRows rows, ctx.tx.Exec("SELECT source_etag, size, source_mtime_ns, state, mark_expires,"
                                " copied, copied_by, generation FROM cache_entries"
                                " WHERE cache = $1 AND key = $2",
                                {ctx.cache, item.key}));
  if (!rows.rows.empty()) {
    const auto& r = rows.rows[0];
    const bool expiring = CellText(r[3]) == "expiring";
    if (expiring && CellInt(r[4]) > ctx.now) {
      FERRY_RETURN_IF_ERROR(DropClaim(ctx.tx, ctx.cache, item.key, ctx.hold));
      return ClaimOutcome{
          .state = ClaimState::kExpiring, .owner = "", .error = "", .taken_over = false};
    }
    if (expiring) {
      // Its expirer died: the row goes (compare-and-delete), the key is copied again.
      FERRY_RETURN_IF_ERROR(ctx.tx.Exec("DELETE FROM cache_entries WHERE cache = $1 AND key = $2"
                                        " AND generation = $3 AND state = 'expiring'",
                                        {ctx.cache, item.key, CellInt(r[7])})
                                .status());
      return claimed;
    }
    const int64_t copied = CellInt(r[5]);
    std::string copied_by = CellText(r[6]);
    if (SameSource(CellText(r[0]), static_cast<uint64_t>(CellInt(r[1])), CellInt(r[2]), item) &&
        (!options.force || copied > options.since_ms)) {
      const int64_t until = ctx.now + options.ttl.count() * 1000;
      // Only the row read, still live: an expiry pass may have marked it since the read.
      FERRY_ASSIGN_OR_RETURN(
          SqlRows renewed,
          ctx.tx.Exec("UPDATE cache_entries SET expires = CASE WHEN expires > $3 THEN expires"
                      " ELSE $3 END, generation = generation + 1 WHERE cache = $1 AND key = $2"
                      " AND generation = $4 AND state = 'live'",
                      {ctx.cache, item.key, until, CellInt(r[7])}));
      FERRY_RETURN_IF_ERROR(DropClaim(ctx.tx, ctx.cache, item.key, ctx.hold));
      if (renewed.changes != 1) {
        return ClaimOutcome{
            .state = ClaimState::kExpiring, .owner = "", .error = "", .taken_over = false};
      }
      const bool joined = copied >= options.since_ms && copied_by != ctx.owner;
      return ClaimOutcome{.state = joined ? ClaimState::kJoined : ClaimState::kCached,
                          .owner = joined ? std::move(copied_by) : std::string(),
                          .error = "",
                          .taken_over = false};
    }
  }
  if (!item.waited_on.empty()) {
    FERRY_ASSIGN_OR_RETURN(SqlRows f, ctx.tx.Exec("SELECT error, request, at FROM cache_failures"
                                                  " WHERE cache = $1 AND key = $2",
                                                  {ctx.cache, item.key}));
    if (!f.rows.empty() && CellText(f.rows[0][1]) == item.waited_on &&
        CellInt(f.rows[0][2]) >= options.since_ms) {
      FERRY_RETURN_IF_ERROR(DropClaim(ctx.tx, ctx.cache, item.key, ctx.hold));
      return ClaimOutcome{.state = ClaimState::kFailedByHolder,
                          .owner = item.waited_on,
                          .error = CellText(f.rows[0][0]),
                          .taken_over = false};
    }
  }
  return claimed;
}

}  // namespace

Result<std::vector<ClaimOutcome>> CacheIndex::Claim(int64_t hold, std::string_view owner,
                                                    std::span<const ClaimItem> items,
                                                    const ClaimOptions& options) {
  FERRY_RETURN_IF_ERROR(CheckTtl(options.ttl));
  if (owner.empty()) return Status::InvalidArgument("cache index: claim without owner");
  // Key order: two requests claiming overlapping batches lock the rows in the same order.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return items[a].key < items[b].key; });
  std::vector<ClaimOutcome> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    out.assign(items.size(), ClaimOutcome{});
    const ClaimTx ctx{.tx = tx, .cache = cache_, .hold = hold, .owner = owner, .now = NowMs()};
    for (size_t i : order) {
      const ClaimItem& item = items[i];
      std::string taken_from;
      FERRY_ASSIGN_OR_RETURN(std::optional<ClaimOutcome> not_ours,
                             TakeClaim(ctx, item.key, taken_from));
      if (not_ours) {
        out[i] = std::move(*not_ours);
        continue;
      }
      FERRY_ASSIGN_OR_RETURN(out[i], Decide(ctx, item, options));
      if (out[i].state == ClaimState::kClaimed && !taken_from.empty()) {
        out[i].taken_over = true;
        out[i].owner = std::move(taken_from);
      }
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::string>> CacheIndex::Settle(int64_t hold, std::span<const Copied> copied,
                                                    std::span<const KeyFailure> failed,
                                                    std::span<const std::string> released,
                                                    std::chrono::seconds ttl,
                                                    std::string_view request) {
  FERRY_RETURN_IF_ERROR(CheckTtl(ttl));
  std::vector<std::string> marked;
  if (copied.empty() && failed.empty() && released.empty()) return marked;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    marked.clear();
    const int64_t now = NowMs();
    for (const Copied& c : copied) {
      // A row an expiry pass marked while the object was copied (a forced or changed copy over
      // a live row) is the pass's: its object may be deleted after this copy landed.
      FERRY_ASSIGN_OR_RETURN(
          SqlRows up,
          tx.Exec("INSERT INTO cache_entries (cache, key, source_etag, source_version,"
                  " source_mtime_ns, size, expires, generation, state, mark_expires, copied,"
                  " copied_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'live', 0, $8, $9)"
                  " ON CONFLICT (cache, key) DO UPDATE SET source_etag = excluded.source_etag,"
                  " source_version = excluded.source_version,"
                  " source_mtime_ns = excluded.source_mtime_ns, size = excluded.size,"
                  " expires = excluded.expires, generation = cache_entries.generation + 1,"
                  " state = 'live', mark_expires = 0, copied = excluded.copied,"
                  " copied_by = excluded.copied_by WHERE cache_entries.state = 'live'",
                  {cache_, c.key, c.source_etag, c.source_version, c.source_mtime_ns,
                   static_cast<int64_t>(c.size), now + ttl.count() * 1000, now, request}));
      if (up.changes != 1) marked.push_back(c.key);
      FERRY_RETURN_IF_ERROR(DropClaim(tx, cache_, c.key, hold));
    }
    for (const KeyFailure& f : failed) {
      FERRY_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO cache_failures (cache, key, error, request, at)"
                  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cache, key) DO UPDATE SET"
                  " error = excluded.error, request = excluded.request, at = excluded.at",
                  {cache_, f.key, f.error, request, now})
              .status());
      FERRY_RETURN_IF_ERROR(DropClaim(tx, cache_, f.key, hold));
    }
    for (const std::string& key : released) {
      FERRY_RETURN_IF_ERROR(DropClaim(tx, cache_, key, hold));
    }
    return Status::Ok();
  }));
  return marked;
}

Result<bool> CacheIndex::ClaimedLive(std::string_view key) const {
  bool live = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    live = false;
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT hold FROM cache_claims WHERE cache = $1 AND key = $2", {cache_, key}));
    if (rows.rows.empty()) return Status::Ok();
    FERRY_ASSIGN_OR_RETURN(live, HoldLive(tx, cache_, CellInt(rows.rows[0][0]), NowMs()));
    return Status::Ok();
  }));
  return live;
}

}  // namespace ferry::cache
