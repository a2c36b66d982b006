// The outbox of replication event records (contract in event_outbox.h).
#include "replicate/event_outbox.h"

#include <algorithm>
#include <atomic>

namespace ferry::replicate {
namespace {

using state::SqlRow;
using state::SqlTx;
using state::SqlValue;

constexpr const char* kOutboxColumns =
    "id, event, source, rule, destination, object_key, source_version, source_etag, size,"
    " delete_marker, error_code, http_status, message, event_ns, pending_since_ns, threshold_ns,"
    " attempts";

std::atomic<unsigned> recorded_events{0};

constexpr unsigned Bit(ReplicationEvent e) { return 1u << static_cast<unsigned>(e); }

OutboxEvent OutboxEventFromRow(const SqlRow& r) {
  OutboxEvent e;
  e.id = state::CellInt(r[0]);
  e.event = ParseReplicationEventConfigName(state::CellText(r[1])).value_or(
      ReplicationEvent::kFailed);
  e.source = state::CellText(r[2]);
  e.rule = state::CellText(r[3]);
  e.destination = state::CellText(r[4]);
  e.key = state::CellText(r[5]);
  e.source_version = state::CellText(r[6]);
  e.source_etag = state::CellText(r[7]);
  e.size = state::CellInt(r[8]);
  e.delete_marker = state::CellInt(r[9]) != 0;
  e.error_code = state::CellText(r[10]);
  e.http_status = static_cast<int>(state::CellInt(r[11]));
  e.message = state::CellText(r[12]);
  e.event_ns = state::CellInt(r[13]);
  e.pending_since_ns = state::CellInt(r[14]);
  e.threshold_ns = state::CellInt(r[15]);
  e.attempts = state::CellInt(r[16]);
  return e;
}

// " AND id IN ($first, $first+1, ...)" over `ids`, appended to `params`.
std::string IdList(std::span<const int64_t> ids, std::vector<SqlValue>& params) {
  std::string sql = " AND id IN (";
  for (size_t i = 0; i < ids.size(); ++i) {
    params.emplace_back(ids[i]);
    sql += (i == 0 ? "$" : ", $") + std::to_string(params.size());
  }
  return sql + ")";
}

}  // namespace

std::string_view ReplicationEventName(ReplicationEvent e) {
  switch (e) {
    case ReplicationEvent::kFailed:
      return "OperationFailedReplication";
    case ReplicationEvent::kMissedThreshold:
      return "OperationMissedThreshold";
    case ReplicationEvent::kAfterThreshold:
      return "OperationReplicatedAfterThreshold";
  }
  return "OperationFailedReplication";
}

std::string_view ReplicationEventConfigName(ReplicationEvent e) {
  switch (e) {
    case ReplicationEvent::kFailed:
      return "failed";
    case ReplicationEvent::kMissedThreshold:
      return "missed-threshold";
    case ReplicationEvent::kAfterThreshold:
      return "after-threshold";
  }
  return "failed";
}

std::optional<ReplicationEvent> ParseReplicationEventConfigName(std::string_view name) {
  for (ReplicationEvent e : {ReplicationEvent::kFailed, ReplicationEvent::kMissedThreshold,
                             ReplicationEvent::kAfterThreshold}) {
    if (ReplicationEventConfigName(e) == name) return e;
  }
  return std::nullopt;
}

bool ReplicationEventSet::Has(ReplicationEvent e) const {
  switch (e) {
    case ReplicationEvent::kFailed:
      return failed;
    case ReplicationEvent::kMissedThreshold:
      return missed_threshold;
    case ReplicationEvent::kAfterThreshold:
      return after_threshold;
  }
  return false;
}

void SetRecordedReplicationEvents(ReplicationEventSet events) {
  unsigned bits = 0;
  for (ReplicationEvent e : {ReplicationEvent::kFailed, ReplicationEvent::kMissedThreshold,
                             ReplicationEvent::kAfterThreshold}) {
    if (events.Has(e)) bits |= Bit(e);
  }
  recorded_events.store(bits);
}

ReplicationEventSet RecordedReplicationEvents() {
  const unsigned bits = recorded_events.load();
  return {.failed = (bits & Bit(ReplicationEvent::kFailed)) != 0,
          .missed_threshold = (bits & Bit(ReplicationEvent::kMissedThreshold)) != 0,
          .after_threshold = (bits & Bit(ReplicationEvent::kAfterThreshold)) != 0};
}

namespace internal {

Status AppendEvent(SqlTx& tx, const VersionStatus& s, ReplicationEvent event, int64_t event_ns) {
  return tx
      .Exec("INSERT INTO replication_events (event, source, rule, destination, object_key,"
            " source_version, source_etag, size, delete_marker, error_code, http_status, message,"
            " event_ns, pending_since_ns, threshold_ns, attempts, lease_owner, lease_until)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, '', 0)",
            {ReplicationEventConfigName(event), s.source, s.rule, s.destination, s.key,
             s.source_version, s.source_etag, s.size, int64_t{s.delete_marker ? 1 : 0},
             s.error_code, int64_t{s.http_status}, s.message, event_ns, s.pending_since_ns,
             s.threshold_ns})
      .status();
}

}  // namespace internal

Result<std::vector<OutboxEvent>> EventOutbox::Claim(std::string_view owner, int max,
                                                    int64_t now_ns, int64_t lease_until_ns) {
  std::vector<OutboxEvent> out;
  // The outer `lease_until <= $3` is checked again on a row another claimer changed meanwhile
  // (PostgreSQL's READ COMMITTED re-reads it), so a row is never leased twice.
  const std::string sql =
      std::string("UPDATE replication_events SET lease_owner = $1, lease_until = $2"
                  " WHERE lease_until <= $3 AND id IN (SELECT id FROM replication_events"
                  " WHERE lease_until <= $3 ORDER BY id LIMIT $4") +
      std::string(session_.dialect().lock_picked_rows) + ") RETURNING " + kOutboxColumns;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows,
                           tx.Exec(sql, {owner, lease_until_ns, now_ns, int64_t{max}}));
    for (const SqlRow& r : rows.rows) out.push_back(OutboxEventFromRow(r));
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(),
            [](const OutboxEvent& a, const OutboxEvent& b) { return a.id < b.id; });
  return out;
}

Result<int64_t> EventOutbox::Delete(std::string_view owner, std::span<const int64_t> ids) {
  if (ids.empty()) return int64_t{0};
  std::vector<SqlValue> params{SqlValue(owner)};
  const std::string sql =
      "DELETE FROM replication_events WHERE lease_owner = $1" + IdList(ids, params);
  int64_t deleted = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows, tx.ExecSpan(sql, params));
    deleted = rows.changes;
    return Status::Ok();
  }));
  return deleted;
}

Status EventOutbox::Release(std::string_view owner, std::span<const int64_t> ids,
                            int64_t retry_at_ns) {
  if (ids.empty()) return Status::Ok();
  std::vector<SqlValue> params{SqlValue(owner), SqlValue(retry_at_ns)};
  const std::string sql =
      "UPDATE replication_events SET lease_owner = '', lease_until = $2,"
      " attempts = attempts + 1 WHERE lease_owner = $1" +
      IdList(ids, params);
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return tx.ExecSpan(sql, params).status();
  });
}

Result<int64_t> EventOutbox::Trim(int64_t max_rows) {
  int64_t deleted = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("DELETE FROM replication_events"
                " WHERE id <= (SELECT MAX(id) FROM replication_events) - $1",
                {max_rows}));
    deleted = rows.changes;
    return Status::Ok();
  }));
  return deleted;
}

Result<int64_t> EventOutbox::Pending() {
  int64_t n = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows,
                           tx.Exec("SELECT COUNT(*) FROM replication_events"));
    n = rows.rows.empty() ? 0 : state::CellInt(rows.rows[0][0]);
    return Status::Ok();
  }));
  return n;
}

}  // namespace ferry::replicate
