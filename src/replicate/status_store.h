// StatusStore: the replica status of every source version a replication pass has seen, kept in
// the state database (component "replication", SQLite or PostgreSQL through state::SqlSession).
//
// One row per (source, rule, destination, key, source version): PENDING (a write was started
// and not yet confirmed), COMPLETED (the destination holds it: dest_version is the version it
// made), FAILED (with the error), REPLICA (the source version is itself a replica, never
// replicated back). Source and destination are location names as the command line gives them
// ("remote:bucket/prefix"). A second table remembers when a rule was first seen, which is what
// existing_objects = off compares version times with.
//
// Errors: the session's (kUnavailable when the database cannot be reached, kFailedPrecondition
// for a database written by a newer ferry). Thread-safety: thread-safe (the session is).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::replicate {

enum class VersionState { kPending, kCompleted, kFailed, kReplica };
std::string_view VersionStateName(VersionState s);  // "PENDING", "COMPLETED", ...

struct VersionStatus {
  std::string source;
  std::string rule;
  std::string destination;
  std::string key;
  std::string source_version;  // "null" for an unversioned source
  VersionState state = VersionState::kPending;
  std::string source_etag;   // tells an unversioned source's rewrites apart
  bool delete_marker = false;
  std::string dest_version;  // COMPLETED: the version the destination made
  std::string error_code;    // FAILED: ferry's error code name, e.g. "PermissionDenied"
  int http_status = 0;       // FAILED: the HTTP status the error code stands for
  std::string message;       // FAILED: the error line
  int64_t updated_ns = 0;    // unix ns of the last change
  // COMPLETED: TagsDigest (replica.h) of the tags the source version and its replica had when
  // they last agreed ("" = unknown: rows of older ferry). replica_modifications compares it.
  std::string tags_digest;
  // SLA (sla.h; 0 in rows of older ferry): the version's size (0 for a delete marker), and
  // when it became pending, unix ns: its write time at the source, as S3 marks a version
  // PENDING when it is written. Record keeps a stored pending_since_ns while the row stays
  // PENDING or FAILED (PENDING -> FAILED -> PENDING keeps the first).
  int64_t size = 0;
  int64_t pending_since_ns = 0;
  // The replication time threshold the row is held to, ns (0 = none: its rule has none, or the
  // version was written before the rule was first seen).
  int64_t threshold_ns = 0;
  // The version missed its threshold: it was pending past it (MarkMissedThreshold) or completed
  // after it. Record keeps a stored flag while the row was PENDING or FAILED.
  bool missed_threshold = false;
};

struct StatusCount {
  std::string source;
  std::string rule;
  std::string destination;
  VersionState state = VersionState::kPending;
  int64_t count = 0;
};

// The SLA figures of one (source, rule, destination) (SlaTotals). Pending = PENDING or FAILED.
struct SlaTotals {
  std::string source;
  std::string rule;
  std::string destination;
  int64_t pending = 0;                // versions pending
  int64_t pending_bytes = 0;          // their sizes
  int64_t oldest_pending_since_ns = 0;  // the earliest pending_since_ns of them (0: none known)
  int64_t threshold_ns = 0;           // the largest threshold of the rows read (0: none)
  int64_t missed_threshold = 0;       // rows that missed their threshold
  // Not read with pending_only: COMPLETED rows held to a threshold, and those within it.
  int64_t completed_under_threshold = 0;
  int64_t completed_within_threshold = 0;
};

// Rows per (source, rule, destination) and one more label: the FAILED rows by error code
// (FailureCounts), the rows MarkMissedThreshold flagged (label empty).
struct LabelCount {
  std::string source;
  std::string rule;
  std::string destination;
  std::string label;
  int64_t count = 0;
};

class StatusStore {
 public:
  // Migrates component "replication" of `session`'s database; `session` must outlive the store.
  static Result<std::unique_ptr<StatusStore>> Open(state::SqlSession& session);

  // Inserts or replaces the row of (source, rule, destination, key, source_version).
  Status Record(const VersionStatus& status);
  // Every row of `source` for the given keys (any rule and destination).
  Result<std::vector<VersionStatus>> ForKeys(std::string_view source,
                                             std::span<const std::string> keys);
  // Every COMPLETED row written to `destination` for the given keys: the versions a pass wrote
  // there (to tell a replica delete marker, which has no metadata, from an original one).
  Result<std::vector<VersionStatus>> WrittenTo(std::string_view destination,
                                               std::span<const std::string> keys);
  // Rows of `source` ("" = every source) in `state` (nullopt = any), by key then version.
  Result<std::vector<VersionStatus>> Rows(std::string_view source,
                                          std::optional<VersionState> state);
  // One page of the rows of `source` (any rule, destination and state): at most `limit` (> 0)
  // rows in primary-key order (key, rule, destination, source version, text compared as the
  // database compares it), those after `after` in that order (nullptr: from the first row).
  // Reading page after page, each after the last row of the page before, until a page is
  // shorter than `limit`, reads every row exactly once in memory bounded by `limit`, however
  // many rows the source has (keyset paging: each page one read transaction through the
  // primary key). A row written between pages is read if it sorts after the cursor.
  // kInvalidArgument when `limit` <= 0.
  Result<std::vector<VersionStatus>> RowsPage(std::string_view source, const VersionStatus* after,
                                              int64_t limit);
  // Calls `fn` on every row of `source`, in RowsPage's order, reading `page` rows at a time
  // (memory bounded by `page`); stops at the first error of the store or of `fn`.
  Status ForEachRow(std::string_view source, int64_t page,
                    const std::function<Status(const VersionStatus&)>& fn);
  // The PENDING rows of `source` whose message is `message` (QueuedMessage, transport.h: the
  // versions waiting for a pack job), the longest unchanged first, at most `limit`.
  Result<std::vector<VersionStatus>> PendingWithMessage(std::string_view source,
                                                        std::string_view message, int64_t limit);
  // Deletes `row` (its source, rule, destination, key and version) if it is still PENDING with
  // `message` and unchanged since it was read (its updated_ns): a waiting version the source no
  // longer has. Returns whether it was deleted; a row written again meanwhile stays.
  Result<bool> ForgetPendingWithMessage(const VersionStatus& row, std::string_view message);
  // How many of those rows there are, at most `limit` of them, and the sum of their sizes.
  Result<std::pair<int64_t, int64_t>> CountPendingWithMessage(std::string_view source,
                                                              std::string_view message,
                                                              int64_t limit);
  // Counts per (source, rule, destination, state); `source` "" = every source.
  Result<std::vector<StatusCount>> Counts(std::string_view source);
  // How many rows of `source` are in `state` and were last changed at or after `since_ns`
  // (unix ns): e.g. the versions a durable pass that started then left FAILED.
  Result<int64_t> CountSince(std::string_view source, VersionState state, int64_t since_ns);
  // SLA figures per (source, rule, destination) of `source` ("" = every source), in one query
  // (GROUP BY), in that order. `pending_only`: only PENDING and FAILED rows are read (through
  // their own index: what a periodic refresh reads, however many rows are COMPLETED); the
  // completed_* fields are then 0 and groups without pending rows are left out.
  Result<std::vector<SlaTotals>> SlaTotalsOf(std::string_view source, bool pending_only);
  // FAILED rows per (source, rule, destination, error_code) of `source` ("" = every source).
  Result<std::vector<LabelCount>> FailureCounts(std::string_view source);
  // Flags, in one UPDATE, the PENDING and FAILED rows of `source` ("" = every source) held to a
  // threshold that they have been pending past at `now_ns` (pending_since_ns + threshold_ns <
  // now_ns) and that were not flagged yet: each version is flagged once. Returns how many were
  // flagged per (source, rule, destination), in no particular order.
  Result<std::vector<LabelCount>> MarkMissedThreshold(std::string_view source, int64_t now_ns);
  // When `rule` of `source` was first seen (unix ns): `now_ns` recorded the first time.
  Result<int64_t> RuleFirstSeen(std::string_view source, std::string_view rule, int64_t now_ns);
  // True when some pass has run from `location` as its source (one of its rules was first
  // seen): replication may write originals there, so a pass to it orders its writes (two-way).
  Result<bool> KnownSource(std::string_view location);

 private:
  explicit StatusStore(state::SqlSession& session) : session_(session) {}
  Result<std::vector<VersionStatus>> Select(std::string_view where, std::string_view location,
                                            std::span<const std::string> keys);
  state::SqlSession& session_;
};

}  // namespace ferry::replicate
