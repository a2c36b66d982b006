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

// The first key after every key starting with `prefix` ("" when there is none: `prefix` is
// empty or only 0xff bytes), for range scans [prefix, upper).
std::string PrefixUpperBound(std::string_view prefix);

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

  // Drops the row `read` if it is unchanged since read (same generation): verify found its
  // object gone. False when the row changed (a warm recorded a new copy) or is gone.
  Result<bool> DropEntry(const Entry& read);

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
