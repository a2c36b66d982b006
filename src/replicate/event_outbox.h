// EventOutbox: the durable outbox of S3-style `Replication:` event records (a version whose
// replication failed, one pending past its threshold, one replicated after it), table
// `replication_events` of component "replication" (migration 4 of status_store.cc, SQLite or
// PostgreSQL). A row is written in the same transaction as the status change that causes it
// (StatusStore::Record, StatusStore::MarkMissedThreshold), so a record is never lost once its
// change is committed; `ferry serve` delivers the rows to a webhook (serve/replication_events.h)
// and deletes each only after the webhook acknowledged it: at least once.
//
// Which events the status stores of this process write is process-wide
// (SetRecordedReplicationEvents; none by default): `ferry serve` and `ferry worker` turn them
// on from their config's [serve.replication_events] (app::RecordedEvents).
//
// Claiming: several processes may deliver from one store; Claim leases rows to one owner until
// a time (SQLite: the write transaction excludes other writers; PostgreSQL: FOR UPDATE SKIP
// LOCKED), so no row is delivered by two owners at once unless its lease ran out first.
//
// Errors: the session's. Thread-safety: thread-safe (the session is).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replicate/status_store.h"
#include "state/sql_session.h"

namespace ferry::replicate {

enum class ReplicationEvent { kFailed, kMissedThreshold, kAfterThreshold };

// S3's event name without the "Replication:" prefix: "OperationFailedReplication",
// "OperationMissedThreshold", "OperationReplicatedAfterThreshold".
std::string_view ReplicationEventName(ReplicationEvent e);
// The config's name: "failed", "missed-threshold", "after-threshold"; nullopt for another text.
std::string_view ReplicationEventConfigName(ReplicationEvent e);
std::optional<ReplicationEvent> ParseReplicationEventConfigName(std::string_view name);

struct ReplicationEventSet {
  bool failed = false;
  bool missed_threshold = false;
  bool after_threshold = false;
  bool Has(ReplicationEvent e) const;
  bool any() const { return failed || missed_threshold || after_threshold; }
};

// The events the StatusStores of this process write to the outbox from now on.
void SetRecordedReplicationEvents(ReplicationEventSet events);
ReplicationEventSet RecordedReplicationEvents();

// One row of the outbox: the status row's fields when the event happened.
struct OutboxEvent {
  int64_t id = 0;  // ascending in the order rows were written
  ReplicationEvent event = ReplicationEvent::kFailed;
  std::string source;
  std::string rule;
  std::string destination;
  std::string key;
  std::string source_version;  // "null" for an unversioned source
  std::string source_etag;
  int64_t size = 0;
  bool delete_marker = false;
  std::string error_code;  // kFailed: ferry's error code name ("kPermissionDenied")
  int http_status = 0;
  std::string message;
  int64_t event_ns = 0;          // when it happened (unix ns)
  int64_t pending_since_ns = 0;  // the version's write time at the source
  int64_t threshold_ns = 0;
  int64_t attempts = 0;  // deliveries that failed so far
};

namespace internal {
// Appends `row`'s event to the outbox inside `tx` (status_store.cc).
Status AppendEvent(state::SqlTx& tx, const VersionStatus& row, ReplicationEvent event,
                   int64_t event_ns);
}  // namespace internal

class EventOutbox {
 public:
  // The table exists once StatusStore::Open migrated `session`, which must outlive this object.
  explicit EventOutbox(state::SqlSession& session) : session_(session) {}

  // Leases to `owner` until `lease_until_ns` at most `max` rows whose lease ended by `now_ns`
  // (never leased rows have ended at 0), oldest first; returns them by ascending id.
  Result<std::vector<OutboxEvent>> Claim(std::string_view owner, int max, int64_t now_ns,
                                         int64_t lease_until_ns);
  // Deletes the rows of `ids` `owner` still holds (delivered). Returns how many.
  Result<int64_t> Delete(std::string_view owner, std::span<const int64_t> ids);
  // Gives back the rows of `ids` `owner` holds, due again at `retry_at_ns`, one more attempt
  // counted (their delivery failed).
  Status Release(std::string_view owner, std::span<const int64_t> ids, int64_t retry_at_ns);
  // Deletes the oldest rows past the newest `max_rows` (ids; never more than the rows there
  // are). Returns how many were deleted.
  Result<int64_t> Trim(int64_t max_rows);
  // Rows waiting (leased or not).
  Result<int64_t> Pending();

 private:
  state::SqlSession& session_;
};

}  // namespace ferry::replicate
