// PrefixLocks: hierarchical holds on key prefixes of one cache, shared by every process and
// machine that uses the same state database (PostgreSQL for several machines). A warm request
// takes one *hold* for all its prefixes when it starts and keeps it for its whole life. Holds
// never wait for one another: two requests whose prefixes overlap (one starts with the other;
// "" overlaps every prefix) both hold, and each learns of the other's live holds in the way
// (`overlapping`). Who copies a key inside the overlap is decided per key by claims
// (CacheIndex::Claim, claims.cc): a claim names its hold, and lives as long as the hold's
// lease. A hold is a lease: its holder renews it (every third of its TTL); once it ran out,
// the next request whose prefixes overlap takes it over (deletes it and its claims) and does
// what is left of its work. Until then a lease that ran out is still held (Renew succeeds).
//
// Every Acquire bumps a per-cache guard row first: on PostgreSQL that row lock serializes the
// check-then-insert of concurrent requests (write transactions are READ COMMITTED, so the
// second one sees the first one's holds once the row is released); SQLite writers are
// serialized anyway. The guard's counter is the hold's fencing token (Hold::id): it grows
// with every acquisition, so a hold id is never reused.
//
// Errors: those of the session; kInvalidArgument for no prefixes, an empty owner or a ttl
// <= 0; Renew: kFailedPrecondition when the hold was lost (its lease ran out and another
// request took it over).
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::cache {

// Whether two prefixes overlap (one starts with the other).
bool PrefixesOverlap(std::string_view a, std::string_view b);
// The prefixes without duplicates and without those that another one of the list covers
// (["a/", "a/b/", "c/"] -> ["a/", "c/"]), sorted.
std::vector<std::string> NormalizePrefixes(std::vector<std::string> prefixes);

struct Hold {
  int64_t id = 0;  // fencing token
  std::string owner;
  std::vector<std::string> prefixes;
};

// A live hold of another request that overlaps the prefixes asked for.
struct Overlap {
  std::string owner;
  std::string prefix;
  int64_t expires_ms = 0;
};

struct AcquireResult {
  Hold hold;
  std::vector<Overlap> overlapping;  // live holds of other requests on overlapping prefixes
  // Holds whose lease ran out that this acquisition took over (their owners).
  std::vector<std::string> taken_over;
};

class PrefixLocks {
 public:
  // `session` and `clock` must outlive the locks. The tables are component "cache"
  // (CacheIndex::Open migrates them).
  PrefixLocks(state::SqlSession& session, Clock& clock, std::string cache)
      : session_(session), clock_(clock), cache_(std::move(cache)) {}

  // One transaction: holds every prefix for `owner` for `ttl` and says which live holds of
  // other requests overlap them. Expired overlapping holds are deleted with their claims
  // (taken over) on the way.
  Result<AcquireResult> Acquire(std::string_view owner, std::span<const std::string> prefixes,
                                std::chrono::milliseconds ttl);
  // Extends the hold's lease to now + ttl. kFailedPrecondition when it is no longer held.
  Status Renew(const Hold& hold, std::chrono::milliseconds ttl);
  // Releases the hold and the claims it still has (a hold already lost is not an error).
  Status Release(const Hold& hold);

 private:
  int64_t NowMs() const;

  state::SqlSession& session_;
  Clock& clock_;
  std::string cache_;
};

}  // namespace ferry::cache
