// StatusStore over the portable SQL of state/sql_session.h (contract in status_store.h).
#include "replicate/status_store.h"

#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "replicate/event_outbox.h"
#include "state/migrate.h"

namespace ferry::replicate {
namespace {

using state::SqlRow;
using state::SqlTx;
using state::SqlValue;

// Version 1: version statuses and the time each rule was first seen.
Status CreateTables(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  const char* statements[] = {
      "CREATE TABLE replication_status (source TEXT NOT NULL, rule TEXT NOT NULL,"
      " destination TEXT NOT NULL, object_key TEXT NOT NULL, source_version TEXT NOT NULL,"
      " state TEXT NOT NULL, source_etag TEXT NOT NULL, delete_marker BIGINT NOT NULL,"
      " dest_version TEXT NOT NULL, error_code TEXT NOT NULL, http_status BIGINT NOT NULL,"
      " message TEXT NOT NULL, updated BIGINT NOT NULL,"
      " PRIMARY KEY (source, object_key, rule, destination, source_version))",
      // WrittenTo: what a pass wrote to a location, by key.
      "CREATE INDEX replication_by_destination ON replication_status (destination, object_key)",
      // (a statement in two literals is parenthesised, else clang takes it for a missing comma)
      ("CREATE TABLE replication_rules (source TEXT NOT NULL, rule TEXT NOT NULL,"
       " first_seen BIGINT NOT NULL, PRIMARY KEY (source, rule))"),
  };
  for (const char* sql : statements) FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  return Status::Ok();
}

// Version 2: the digest of the tags both sides of a COMPLETED version had when they last agreed
// (replica_modifications).
Status AddTagsDigest(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  return tx
      .Exec("ALTER TABLE replication_status ADD COLUMN tags_digest TEXT NOT NULL DEFAULT ''")
      .status();
}

// The rows still to replicate: what the SLA figures read. The same text as the WHERE of index
// replication_pending (migration 3), which SQLite uses only for a query that says it so.
#define FERRY_PENDING_STATES "state IN ('PENDING', 'FAILED')"

// Version 3: the SLA figures (sla.h): each version's size, when it became pending, the
// threshold it is held to and whether it missed it; the pending rows indexed on their own, so
// that a periodic refresh reads them without the COMPLETED ones.
Status AddSlaColumns(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  const char* statements[] = {
      "ALTER TABLE replication_status ADD COLUMN size BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE replication_status ADD COLUMN pending_since_ns BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE replication_status ADD COLUMN threshold_ns BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE replication_status ADD COLUMN missed_threshold BIGINT NOT NULL DEFAULT 0",
      ("CREATE INDEX replication_pending ON replication_status (source, rule, destination)"
       " WHERE state IN ('PENDING', 'FAILED')"),
  };
  for (const char* sql : statements) FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  return Status::Ok();
}

// Version 4: the outbox of replication event records (event_outbox.h), written in the
// transaction of the status change that causes each; `lease_until` orders the claims.
Status AddEventOutbox(SqlTx& tx, const state::Dialect& d) {
  const std::string statements[] = {
      "CREATE TABLE replication_events (id " + std::string(d.id_column) +
          ", event TEXT NOT NULL, source TEXT NOT NULL, rule TEXT NOT NULL,"
          " destination TEXT NOT NULL, object_key TEXT NOT NULL, source_version TEXT NOT NULL,"
          " source_etag TEXT NOT NULL, size BIGINT NOT NULL, delete_marker BIGINT NOT NULL,"
          " error_code TEXT NOT NULL, http_status BIGINT NOT NULL, message TEXT NOT NULL,"
          " event_ns BIGINT NOT NULL, pending_since_ns BIGINT NOT NULL,"
          " threshold_ns BIGINT NOT NULL, attempts BIGINT NOT NULL, lease_owner TEXT NOT NULL,"
          " lease_until BIGINT NOT NULL)",
      "CREATE INDEX replication_events_due ON replication_events (lease_until, id)",
  };
  for (const std::string& sql : statements) FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  return Status::Ok();
}

constexpr state::Migration kMigrations[] = {&CreateTables, &AddTagsDigest, &AddSlaColumns,
                                            &AddEventOutbox};
constexpr state::Component kComponent{"replication", kMigrations};

constexpr const char* kColumns =
    "source, rule, destination, object_key, source_version, state, source_etag, delete_marker,"
    " dest_version, error_code, http_status, message, updated, tags_digest, size,"
    " pending_since_ns, threshold_ns, missed_threshold";

std::optional<VersionState> ParseState(std::string_view s) {
  for (VersionState v : {VersionState::kPending, VersionState::kCompleted, VersionState::kFailed,
                         VersionState::kReplica}) {
    if (VersionStateName(v) == s) return v;
  }
  return std::nullopt;
}

VersionStatus FromRow(const SqlRow& r) {
  VersionStatus s;
  s.source = state::CellText(r[0]);
  s.rule = state::CellText(r[1]);
  s.destination = state::CellText(r[2]);
  s.key = state::CellText(r[3]);
  s.source_version = state::CellText(r[4]);
  s.state = ParseState(state::CellText(r[5])).value_or(VersionState::kPending);
  s.source_etag = state::CellText(r[6]);
  s.delete_marker = state::CellInt(r[7]) != 0;
  s.dest_version = state::CellText(r[8]);
  s.error_code = state::CellText(r[9]);
  s.http_status = static_cast<int>(state::CellInt(r[10]));
  s.message = state::CellText(r[11]);
  s.updated_ns = state::CellInt(r[12]);
  s.tags_digest = state::CellText(r[13]);
  s.size = state::CellInt(r[14]);
  s.pending_since_ns = state::CellInt(r[15]);
  s.threshold_ns = state::CellInt(r[16]);
  s.missed_threshold = state::CellInt(r[17]) != 0;
  return s;
}

// SlaTotalsOf's aggregates, in SlaTotals' order after the group's three columns.
constexpr const char* kSlaAggregates =
    "SUM(CASE WHEN " FERRY_PENDING_STATES " THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN " FERRY_PENDING_STATES " THEN size ELSE 0 END),"
    " MIN(CASE WHEN " FERRY_PENDING_STATES " AND pending_since_ns > 0"
    " THEN pending_since_ns END),"
    " MAX(threshold_ns), SUM(missed_threshold),"
    " SUM(CASE WHEN state = 'COMPLETED' AND threshold_ns > 0 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN state = 'COMPLETED' AND threshold_ns > 0 AND missed_threshold = 0"
    " THEN 1 ELSE 0 END)";

}  // namespace

std::string_view VersionStateName(VersionState s) {
  switch (s) {
    case VersionState::kPending:
      return "PENDING";
    case VersionState::kCompleted:
      return "COMPLETED";
    case VersionState::kFailed:
      return "FAILED";
    case VersionState::kReplica:
      return "REPLICA";
  }
  return "PENDING";
}

Result<std::unique_ptr<StatusStore>> StatusStore::Open(state::SqlSession& session) {
  FERRY_RETURN_IF_ERROR(state::Migrate(session, kComponent));
  return std::unique_ptr<StatusStore>(new StatusStore(session));
}

namespace {

// The event a row recorded in state `s.state` causes when its stored state was `before`
// ("" = no row), if the process records it (event_outbox.h): a row going FAILED; a completion
// later than its threshold.
std::optional<ReplicationEvent> EventOf(const VersionStatus& s, std::string_view before) {
  const ReplicationEventSet recorded = RecordedReplicationEvents();
  if (s.state == VersionState::kFailed && before != "FAILED" && recorded.failed) {
    return ReplicationEvent::kFailed;
  }
  if (s.state == VersionState::kCompleted && before != "COMPLETED" && recorded.after_threshold &&
      s.threshold_ns > 0 && s.pending_since_ns > 0 &&
      s.updated_ns - s.pending_since_ns > s.threshold_ns) {
    return ReplicationEvent::kAfterThreshold;
  }
  return std::nullopt;
}

}  // namespace

Status StatusStore::Record(const VersionStatus& s) {
  const std::string state(VersionStateName(s.state));
  const ReplicationEventSet recorded = RecordedReplicationEvents();
  // Only then is the stored state read (one more statement, in the same transaction).
  const bool may_cause_event = (s.state == VersionState::kFailed && recorded.failed) ||
                               (s.state == VersionState::kCompleted &&
                                EventOf(s, "").has_value());
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    std::string before;
    if (may_cause_event) {
      FERRY_ASSIGN_OR_RETURN(
          state::SqlRows rows,
          tx.Exec("SELECT state FROM replication_status WHERE source = $1 AND object_key = $2"
                  " AND rule = $3 AND destination = $4 AND source_version = $5",
                  {s.source, s.key, s.rule, s.destination, s.source_version}));
      if (!rows.rows.empty()) before = state::CellText(rows.rows[0][0]);
    }
    if (may_cause_event) {
      if (std::optional<ReplicationEvent> e = EventOf(s, before)) {
        FERRY_RETURN_IF_ERROR(internal::AppendEvent(tx, s, *e, s.updated_ns));
      }
    }
    return tx
        .Exec(std::string("INSERT INTO replication_status (") + kColumns +
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                  " $16, $17, $18)"
                  " ON CONFLICT (source, object_key, rule, destination, source_version) DO UPDATE"
                  " SET state = $6, source_etag = $7, delete_marker = $8, dest_version = $9,"
                  " error_code = $10, http_status = $11, message = $12, updated = $13,"
                  " tags_digest = $14, size = $15,"
                  // Still pending: since the first time; the flag once set stays (the SET
                  // expressions read the row as it was).
                  " pending_since_ns = CASE WHEN replication_status." FERRY_PENDING_STATES
                  " AND replication_status.pending_since_ns > 0 AND $6 IN ('PENDING', 'FAILED')"
                  " THEN replication_status.pending_since_ns ELSE $16 END,"
                  " threshold_ns = $17,"
                  " missed_threshold = CASE WHEN replication_status." FERRY_PENDING_STATES
                  " AND replication_status.missed_threshold <> 0 THEN 1 ELSE $18 END",
              {s.source, s.rule, s.destination, s.key, s.source_version, state, s.source_etag,
               int64_t{s.delete_marker ? 1 : 0}, s.dest_version, s.error_code,
               int64_t{s.http_status}, s.message, s.updated_ns, s.tags_digest, s.size,
               s.pending_since_ns, s.threshold_ns, int64_t{s.missed_threshold ? 1 : 0}})
        .status();
  });
}

Result<std::vector<VersionStatus>> StatusStore::Select(std::string_view where,
                                                       std::string_view location,
                                                       std::span<const std::string> keys) {
  std::vector<VersionStatus> out;
  constexpr size_t kBatch = 500;  // parameters per statement stay far below both limits
  for (size_t first = 0; first < keys.size(); first += kBatch) {
    const size_t n = std::min(kBatch, keys.size() - first);
    std::string sql = std::string("SELECT ") + kColumns + " FROM replication_status WHERE " +
                      std::string(where) + " AND object_key IN (";
    std::vector<SqlValue> params;
    params.reserve(n + 1);
    params.emplace_back(location);
    for (size_t i = 0; i < n; ++i) {
      sql += (i == 0 ? "$" : ", $") + std::to_string(i + 2);
      params.emplace_back(std::string_view(keys[first + i]));
    }
    sql += ")";
    std::vector<VersionStatus> batch;
    FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
      batch.clear();
      FERRY_ASSIGN_OR_RETURN(state::SqlRows rows, tx.ExecSpan(sql, params));
      for (const SqlRow& r : rows.rows) batch.push_back(FromRow(r));
      return Status::Ok();
    }));
    for (VersionStatus& s : batch) out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<VersionStatus>> StatusStore::ForKeys(std::string_view source,
                                                        std::span<const std::string> keys) {
  return Select("source = $1", source, keys);
}

Result<std::vector<VersionStatus>> StatusStore::WrittenTo(std::string_view destination,
                                                          std::span<const std::string> keys) {
  return Select("destination = $1 AND state = 'COMPLETED'", destination, keys);
}

Result<std::vector<VersionStatus>> StatusStore::Rows(std::string_view source,
                                                     std::optional<VersionState> state) {
  const std::string state_name(state ? VersionStateName(*state) : "");
  std::vector<VersionStatus> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec(std::string("SELECT ") + kColumns +
                    " FROM replication_status WHERE ($1 = '' OR source = $1)"
                    " AND ($2 = '' OR state = $2)"
                    " ORDER BY source, rule, destination, object_key, updated, source_version",
                {source, std::string_view(state_name)}));
    for (const SqlRow& r : rows.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<VersionStatus>> StatusStore::RowsPage(std::string_view source,
                                                         const VersionStatus* after,
                                                         int64_t limit) {
  if (limit <= 0) return Status::InvalidArgument("status rows page: limit must be above 0");
  // The row value comparison follows the primary key's columns, so that both databases read
  // the page as a range of the key's index (no OR: PostgreSQL would then scan from the start).
  std::string sql =
      std::string("SELECT ") + kColumns + " FROM replication_status WHERE source = $1";
  std::vector<SqlValue> params{source, limit};
  if (after != nullptr) {
    sql += " AND (object_key, rule, destination, source_version) > ($3, $4, $5, $6)";
    params.insert(params.end(),
                  {std::string_view(after->key), std::string_view(after->rule),
                   std::string_view(after->destination), std::string_view(after->source_version)});
  }
  sql += " ORDER BY object_key, rule, destination, source_version LIMIT $2";
  std::vector<VersionStatus> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows, tx.ExecSpan(sql, params));
    out.reserve(rows.rows.size());
    for (const SqlRow& r : rows.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Status StatusStore::ForEachRow(std::string_view source, int64_t page,
                               const std::function<Status(const VersionStatus&)>& fn) {
  std::optional<VersionStatus> last;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(std::vector<VersionStatus> rows,
                           RowsPage(source, last ? &*last : nullptr, page));
    for (const VersionStatus& row : rows) FERRY_RETURN_IF_ERROR(fn(row));
    if (rows.size() < static_cast<size_t>(page)) return Status::Ok();
    last = std::move(rows.back());
  }
}

Result<std::vector<VersionStatus>> StatusStore::PendingWithMessage(std::string_view source,
                                                                   std::string_view message,
                                                                   int64_t limit) {
  std::vector<VersionStatus> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    // Through index replication_pending (its WHERE said again): the pending rows only.
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec(std::string("SELECT ") + kColumns +
                    " FROM replication_status WHERE source = $1 AND " FERRY_PENDING_STATES
                    " AND state = 'PENDING' AND message = $2"
                    " ORDER BY updated, object_key, source_version LIMIT $3",
                {source, message, limit}));
    for (const SqlRow& r : rows.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<bool> StatusStore::ForgetPendingWithMessage(const VersionStatus& row,
                                                   std::string_view message) {
  bool deleted = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("DELETE FROM replication_status WHERE source = $1 AND object_key = $2"
                " AND rule = $3 AND destination = $4 AND source_version = $5"
                " AND state = 'PENDING' AND message = $6 AND updated = $7",
                {std::string_view(row.source), std::string_view(row.key),
                 std::string_view(row.rule), std::string_view(row.destination),
                 std::string_view(row.source_version), message, row.updated_ns}));
    deleted = rows.changes > 0;
    return Status::Ok();
  }));
  return deleted;
}

Result<std::pair<int64_t, int64_t>> StatusStore::CountPendingWithMessage(
    std::string_view source, std::string_view message, int64_t limit) {
  std::pair<int64_t, int64_t> out{0, 0};
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM (SELECT size FROM"
                " replication_status WHERE source = $1 AND " FERRY_PENDING_STATES
                " AND state = 'PENDING' AND message = $2 LIMIT $3) AS waiting",
                {source, message, limit}));
    if (!rows.rows.empty()) {
      out = {state::CellInt(rows.rows[0][0]), state::CellInt(rows.rows[0][1])};
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<StatusCount>> StatusStore::Counts(std::string_view source) {
  std::vector<StatusCount> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("SELECT source, rule, destination, state, COUNT(*) FROM replication_status"
                " WHERE ($1 = '' OR source = $1) GROUP BY source, rule, destination, state"
                " ORDER BY source, rule, destination, state",
                {source}));
    for (const SqlRow& r : rows.rows) {
      out.push_back(StatusCount{
          .source = state::CellText(r[0]),
          .rule = state::CellText(r[1]),
          .destination = state::CellText(r[2]),
          .state = ParseState(state::CellText(r[3])).value_or(VersionState::kPending),
          .count = state::CellInt(r[4]),
      });
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<SlaTotals>> StatusStore::SlaTotalsOf(std::string_view source,
                                                        bool pending_only) {
  std::vector<SlaTotals> out;
  const std::string sql = std::string("SELECT source, rule, destination, ") + kSlaAggregates +
                          " FROM replication_status WHERE ($1 = '' OR source = $1)" +
                          (pending_only ? " AND " FERRY_PENDING_STATES : "") +
                          " GROUP BY source, rule, destination ORDER BY source, rule, destination";
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows, tx.Exec(sql, {source}));
    for (const SqlRow& r : rows.rows) {
      out.push_back(SlaTotals{
          .source = state::CellText(r[0]),
          .rule = state::CellText(r[1]),
          .destination = state::CellText(r[2]),
          .pending = state::CellInt(r[3]),
          .pending_bytes = state::CellInt(r[4]),
          .oldest_pending_since_ns = state::CellInt(r[5]),
          .threshold_ns = state::CellInt(r[6]),
          .missed_threshold = state::CellInt(r[7]),
          .completed_under_threshold = pending_only ? 0 : state::CellInt(r[8]),
          .completed_within_threshold = pending_only ? 0 : state::CellInt(r[9]),
      });
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<LabelCount>> StatusStore::FailureCounts(std::string_view source) {
  std::vector<LabelCount> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("SELECT source, rule, destination, error_code, COUNT(*) FROM replication_status"
                " WHERE ($1 = '' OR source = $1) AND state = 'FAILED'"
                " GROUP BY source, rule, destination, error_code"
                " ORDER BY source, rule, destination, error_code",
                {source}));
    for (const SqlRow& r : rows.rows) {
      out.push_back(LabelCount{.source = state::CellText(r[0]),
                               .rule = state::CellText(r[1]),
                               .destination = state::CellText(r[2]),
                               .label = state::CellText(r[3]),
                               .count = state::CellInt(r[4])});
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<LabelCount>> StatusStore::MarkMissedThreshold(std::string_view source,
                                                                int64_t now_ns) {
  std::vector<LabelCount> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    out.clear();
    // RETURNING: exactly the rows this statement flagged, also when another process flags
    // others at the same time (a count read before would count theirs twice).
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec(std::string("UPDATE replication_status SET missed_threshold = 1"
                " WHERE " FERRY_PENDING_STATES " AND ($1 = '' OR source = $1)"
                " AND missed_threshold = 0 AND threshold_ns > 0 AND pending_since_ns > 0"
                " AND pending_since_ns < $2 - threshold_ns"
                " RETURNING ") + kColumns,
                {source, now_ns}));
    const bool record = RecordedReplicationEvents().missed_threshold;
    std::map<std::tuple<std::string, std::string, std::string>, int64_t> flagged;
    for (const SqlRow& r : rows.rows) {
      const VersionStatus row = FromRow(r);
      ++flagged[{row.source, row.rule, row.destination}];
      if (record) {
        FERRY_RETURN_IF_ERROR(
            internal::AppendEvent(tx, row, ReplicationEvent::kMissedThreshold, now_ns));
      }
    }
    for (const auto& [group, n] : flagged) {
      const auto& [src, rule, destination] = group;
      out.push_back(LabelCount{
          .source = src, .rule = rule, .destination = destination, .label = "", .count = n});
    }
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> StatusStore::CountSince(std::string_view source, VersionState state,
                                        int64_t since_ns) {
  int64_t n = 0;
  const std::string name(VersionStateName(state));
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("SELECT COUNT(*) FROM replication_status"
                " WHERE source = $1 AND state = $2 AND updated >= $3",
                {source, name, since_ns}));
    n = rows.rows.empty() ? 0 : state::CellInt(rows.rows[0][0]);
    return Status::Ok();
  }));
  return n;
}

Result<int64_t> StatusStore::RuleFirstSeen(std::string_view source, std::string_view rule,
                                           int64_t now_ns) {
  int64_t first = now_ns;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    FERRY_RETURN_IF_ERROR(tx.Exec("INSERT INTO replication_rules (source, rule, first_seen)"
                                  " VALUES ($1, $2, $3) ON CONFLICT (source, rule) DO NOTHING",
                                  {source, rule, now_ns})
                              .status());
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows,
                           tx.Exec("SELECT first_seen FROM replication_rules"
                                   " WHERE source = $1 AND rule = $2",
                                   {source, rule}));
    if (!rows.rows.empty()) first = state::CellInt(rows.rows[0][0]);
    return Status::Ok();
  }));
  return first;
}

Result<bool> StatusStore::KnownSource(std::string_view location) {
  bool known = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows,
                           tx.Exec("SELECT rule FROM replication_rules WHERE source = $1 LIMIT 1",
                                   {location}));
    known = !rows.rows.empty();
    return Status::Ok();
  }));
  return known;
}

}  // namespace ferry::replicate
