// CacheIndex: what `ferry cache` knows is in one cache location, kept in the state database
// (component "cache", docs/design/cache.md). One row per cached key: the source object it was
// copied from (ETag, version id, mtime, size), when it expires, and a generation that every
// change of the row bumps, so that an expiry pass can delete a row only if nobody touched it
// since the pass read it (compare-and-delete). Failures of warm requests are kept per key too
// (the last one of each key), until a --force request on their prefixes clears them, so that
// later requests on the same prefixes learn that the data they need had a problem.
//
// A row is `live` (the object is in the cache) or `expiring` (an expiry pass marked it and is
// deleting the object: a warm treats it as not cached and waits for the mark to go, or takes
// it over once the mark's lease ran out). The expiry protocol (expire.h) is:
//   read expired rows -> MarkExpiring (CAS on the generation) -> HoldMark (the mark is still
//   ours) -> delete the object -> DeleteMarked (CAS on the marked generation).
// Renew and Record bump the generation, so a renew after the read makes MarkExpiring fail.
//
// Time comes from the injected Clock (integer ms since the Unix epoch), never from SQL.
// Each method is one transaction. Errors: those of the session (kUnavailable when the database
// is unreachable); kInvalidArgument for a negative TTL or lease.
// Thread-safety: thread-safe (as the session is).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::cache {

struct Entry {
  std::string key;  // relative to the cache location's root (= the source key)
  std::string source_etag;
  std::string source_version;
  int64_t source_mtime_ns = 0;
  uint64_t size = 0;
  int64_t expires_ms = 0;
  int64_t generation = 0;
  bool expiring = false;        // marked by an expiry pass
  int64_t mark_expires_ms = 0;  // when an expiring mark may be taken over
  int64_t copied_ms = 0;        // when the object was last copied into the cache
  std::string copied_by;        // the request (owner) that copied it
};

// What Record stores for one copied object.
struct Copied {
  std::string key;
  std::string source_etag;
  std::string source_version;
  int64_t source_mtime_ns = 0;
  uint64_t size = 0;
};

// A failure a warm request reported for one key.
struct KeyFailure {
  std::string key;
  std::string error;
  std::string request;  // owner of the request that reported it
  int64_t at_ms = 0;
};

// A key a warm request wants to copy (CacheIndex::Claim): the source object as listed.
struct ClaimItem {
  std::string key;
  std::string source_etag;
  int64_t source_mtime_ns = 0;
  uint64_t size = 0;
  // The owner whose claim on the key this request waited for ("" when none): if that request
  // failed the key since `since_ms`, the claim reports its failure instead of copying again.
  std::string waited_on;
};

enum class ClaimState {
  kClaimed,    // this request copies the key (and settles the claim afterwards)
  kCached,     // the index holds the object unchanged: renewed, nothing to copy
  kJoined,     // as kCached, copied by another request since this one started (`owner`)
  kHeld,       // another live request is copying it (`owner`): ask again later
  kExpiring,   // an expiry pass is deleting it: ask again later
  kFailedByHolder,  // the request waited for (`owner`) failed it (`error`)
};

struct ClaimOutcome {
  ClaimState state = ClaimState::kClaimed;
  std::string owner;
  std::string error;
  // kClaimed: the key was claimed by a request whose lease ran out (`owner`): taken over.
  bool taken_over = false;
};

struct ClaimOptions {
  int64_t since_ms = 0;  // when the claiming request started (index time)
  bool force = false;    // an unchanged entry not copied after since_ms is copied again
  std::chrono::seconds ttl{0};  // what a kCached / kJoined entry is renewed to (now + ttl)
};

// What a cache holds by its index (CacheIndex::Totals).
struct CacheTotals {
  uint64_t objects = 0;
  uint64_t bytes = 0;  // the sum of the entries' sizes (their source objects' sizes)
};

// The first key after every key starting with `prefix` ("" when there is none: `prefix` is
// empty or only 0xff bytes), for range scans [prefix, upper).
std::string PrefixUpperBound(std::string_view prefix);

// The longest TTL an entry may get (100 years): an expiry stays far inside the index's
// milliseconds, so no TTL can wrap into the past and make the next expire delete what was
// just warmed.
inline constexpr std::chrono::seconds kMaxTtl{100LL * 365 * 24 * 3600};

// kInvalidArgument unless 0 <= ttl <= kMaxTtl (every index write that sets an expiry checks).
Status CheckTtl(std::chrono::seconds ttl);

class CacheIndex {
 public:
  // Migrates component "cache" of the session's database, then returns the index of the cache
  // named `cache` (a location text; several caches may share a database). `session` and
  // `clock` must outlive the index.
  static Result<std::unique_ptr<CacheIndex>> Open(state::SqlSession& session, Clock& clock,
                                                  std::string cache);

  const std::string& cache() const { return cache_; }
  Clock& clock() const { return clock_; }
  state::SqlSession& session() const { return session_; }
  int64_t NowMs() const;

  // Every entry whose key starts with `prefix`, in key order.
  Result<std::vector<Entry>> EntriesUnder(std::string_view prefix) const;
  Result<std::optional<Entry>> Get(std::string_view key) const;
  // The objects and bytes of every entry of the cache, live or expiring (an expiring row's
  // object is still stored until its pass deletes it): one grouped read of the index, the
  // bucket is never listed. Objects in the cache that the index does not know (verify's
  // "unknown") are not counted.
  Result<CacheTotals> Totals() const;

  // Records a copy: the row becomes live with the given source details, expires now + ttl and
  // is copied now by `request` (inserted or replaced, whatever its state was).
  Status Record(const Copied& copied, std::chrono::seconds ttl, std::string_view request);
  // Extends the expiry of live rows whose source ETag is still `etag` to at least now + ttl.
  // Returns the keys NOT renewed (row gone, marked expiring or changed since it was read): the
  // caller must copy them.
  struct RenewItem {
    std::string key;
    std::string source_etag;
  };
  Result<std::vector<std::string>> Renew(std::span<const RenewItem> items,
                                         std::chrono::seconds ttl);

  // --- expiry (see the header comment) ---
  // Live rows past their expiry and expiring rows whose mark ran out, at most `limit`.
  Result<std::vector<Entry>> Expired(int limit) const;
  // How many rows Expired would return without a limit (one COUNT).
  Result<uint64_t> CountExpired() const;
  // Marks `read` expiring for `lease` if its generation is unchanged and it is still expired
  // (or still an expiring row whose mark ran out). On success `read` is updated to the marked
  // row (generation, mark) and true is returned; false when the row changed or is gone.
  Result<bool> MarkExpiring(Entry& read, std::chrono::milliseconds lease);
  // True (and the mark is extended by `lease`) while `marked` is still this pass's mark and
  // its lease has not run out: the last check before the object is deleted.
  Result<bool> HoldMark(Entry& marked, std::chrono::milliseconds lease);
  // Deletes the row of `marked` if it still carries that mark. False when it did not.
  Result<bool> DeleteMarked(const Entry& marked);
  // A warm taking over an expiring row whose mark ran out (its expirer died): deletes the row
  // if it is still that mark. False when it changed.
  Result<bool> DropStaleMark(const Entry& marked);

  // Whether this state store knows the cache: a warm request ran on it here (its lock guard) or
  // an entry is recorded. A store that does not is no authority on which objects are the
  // cache's (verify deletes nothing then).
  Result<bool> Known() const;
  // The caches of this state store inside this one's location (their names start with its
  // name and go on): their objects are theirs, never unknown objects of this cache.
  Result<std::vector<std::string>> NestedCaches() const;

  // Drops the row `read` if it is unchanged since read (same generation): verify found its
  // object gone. False when the row changed (a warm recorded a new copy) or is gone.
  Result<bool> DropEntry(const Entry& read);

  // --- claims: which request copies a key (claims.cc) ---
  // One transaction for a batch of keys (taken in key order): claims each key for hold
  // `hold` of `owner` unless another live hold has it (kHeld), then looks at its entry: live
  // and unchanged (and, with `force`, copied since the request started): renewed and the
  // claim dropped (kCached / kJoined); being expired by a live mark (kExpiring, claim
  // dropped); a mark that ran out is dropped (its expirer died) and the key kClaimed. A claim
  // of a hold whose lease ran out is taken over, and that hold's lock rows are deleted (its
  // holder, if it still runs, finds its hold lost). Claiming first and reading the entry
  // after makes a copy recorded (Settle) by another request just before visible: a key is
  // never claimed once its copy was recorded.
  Result<std::vector<ClaimOutcome>> Claim(int64_t hold, std::string_view owner,
                                          std::span<const ClaimItem> items,
                                          const ClaimOptions& options);
  // One transaction for a batch of outcomes of claimed keys: records the copies (as Record
  // does, but never over a row an expiry pass marked meanwhile), the failures (as
  // RecordFailure does), and drops this hold's claims of them and of `released` (copies
  // cancelled, which tell nothing of the data). Copies are recorded even if the claim was
  // taken over meanwhile: the object is there, so the heir need not copy it. Returns the
  // copied keys not recorded because an expiry pass had marked their rows (the pass may
  // delete the object after the copy landed: not cached).
  Result<std::vector<std::string>> Settle(int64_t hold, std::span<const Copied> copied,
                                          std::span<const KeyFailure> failed,
                                          std::span<const std::string> released,
                                          std::chrono::seconds ttl, std::string_view request);
  // Whether a live hold claims `key` (a copy may be in flight: verify leaves it alone).
  Result<bool> ClaimedLive(std::string_view key) const;

  // --- failures ---
  Status RecordFailure(std::string_view key, std::string_view error, std::string_view request);
  Status ClearFailure(std::string_view key);
  // Removes the failures under every prefix (a --force request starts afresh).
  Status ClearFailuresUnder(std::span<const std::string> prefixes);
  Result<std::vector<KeyFailure>> FailuresUnder(std::string_view prefix) const;

 private:
  CacheIndex(state::SqlSession& session, Clock& clock, std::string cache)
      : session_(session), clock_(clock), cache_(std::move(cache)) {}

  state::SqlSession& session_;
  Clock& clock_;
  std::string cache_;
};

}  // namespace ferry::cache
