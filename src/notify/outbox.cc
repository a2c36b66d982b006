// The run-end notifications' outbox (outbox.h).
#include "notify/outbox.h"

#include <algorithm>

#include "notify/targets_json.h"
#include "state/migrate.h"

namespace ferry::notify {
namespace {

using state::CellInt;
using state::CellText;
using state::SqlTx;

Status CreateNotifyTables(SqlTx& tx, const state::Dialect& d) {
  const std::string statements[] = {
      "CREATE TABLE notify_runs (run BIGINT PRIMARY KEY, targets TEXT NOT NULL)",
      "CREATE TABLE notify_outbox (id " + std::string(d.id_column) +
          ", run BIGINT NOT NULL, target TEXT NOT NULL, document TEXT NOT NULL,"
          " attempts BIGINT NOT NULL, lease_owner TEXT NOT NULL, lease_until BIGINT NOT NULL,"
          " last_error TEXT NOT NULL, created BIGINT NOT NULL)",
      "CREATE INDEX notify_outbox_due ON notify_outbox (lease_until, id)",
  };
  for (const std::string& sql : statements) FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  return Status::Ok();
}

constexpr state::Migration kNotifyMigrations[] = {&CreateNotifyTables};
constexpr state::Component kNotifyComponent{"notify", kNotifyMigrations};

constexpr const char* kOutboxColumns = "id, run, target, document, attempts, last_error";

Result<OutboxRow> OutboxRowFrom(const state::SqlRow& r) {
  OutboxRow row;
  row.id = CellInt(r[0]);
  row.run = CellInt(r[1]);
  FERRY_ASSIGN_OR_RETURN(std::vector<Target> targets, ParseTargetsJson(CellText(r[2])));
  if (targets.size() != 1) return Status::InvalidArgument("malformed notification target");
  row.target = std::move(targets[0]);
  row.document = CellText(r[3]);
  row.attempts = CellInt(r[4]);
  row.last_error = CellText(r[5]);
  return row;
}

}  // namespace

Result<std::unique_ptr<Outbox>> Outbox::Open(state::SqlSession& session) {
  FERRY_RETURN_IF_ERROR(state::Migrate(session, kNotifyComponent));
  return std::unique_ptr<Outbox>(new Outbox(session));
}

Status Outbox::SetRunTargets(int64_t run, const std::vector<Target>& targets) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    return internal::WriteRunTargets(tx, run, targets);
  });
}

Status internal::WriteRunTargets(SqlTx& tx, int64_t run, const std::vector<Target>& targets) {
  if (targets.empty()) {
    return tx.Exec("DELETE FROM notify_runs WHERE run = $1", {run}).status();
  }
  const std::string json = TargetsJson(targets);
  return tx.Exec("INSERT INTO notify_runs (run, targets) VALUES ($1, $2)"
                 " ON CONFLICT (run) DO UPDATE SET targets = excluded.targets",
                 {run, std::string_view(json)})
      .status();
}

Result<std::vector<OutboxRow>> Outbox::Claim(std::string_view owner, int max, int64_t now_ms,
                                             int64_t lease_until_ms, int64_t run) {
  std::vector<OutboxRow> out;
  // The outer `lease_until <= $3` is checked again on a row another claimer changed meanwhile
  // (PostgreSQL's READ COMMITTED re-reads it), so a row is never leased twice.
  const std::string sql =
      std::string("UPDATE notify_outbox SET lease_owner = $1, lease_until = $2"
                  " WHERE lease_until <= $3 AND id IN (SELECT id FROM notify_outbox"
                  " WHERE lease_until <= $3 AND ($5 = 0 OR run = $5) ORDER BY id LIMIT $4") +
      std::string(session_.dialect().lock_picked_rows) + ") RETURNING " + kOutboxColumns;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows,
                           tx.Exec(sql, {owner, lease_until_ms, now_ms, int64_t{max}, run}));
    for (const state::SqlRow& r : rows.rows) {
      FERRY_ASSIGN_OR_RETURN(OutboxRow row, OutboxRowFrom(r));
      out.push_back(std::move(row));
    }
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(),
            [](const OutboxRow& a, const OutboxRow& b) { return a.id < b.id; });
  return out;
}

Result<bool> Outbox::Sent(std::string_view owner, int64_t id) {
  bool deleted = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("DELETE FROM notify_outbox WHERE id = $1 AND lease_owner = $2", {id, owner}));
    deleted = rows.changes > 0;
    return Status::Ok();
  }));
  return deleted;
}

Status Outbox::Release(std::string_view owner, int64_t id, int64_t retry_at_ms,
                       std::string_view error) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    return tx.Exec("UPDATE notify_outbox SET lease_owner = '', lease_until = $3,"
                   " attempts = attempts + 1, last_error = $4"
                   " WHERE id = $1 AND lease_owner = $2",
                   {id, owner, retry_at_ms, error})
        .status();
  });
}

Result<int64_t> Outbox::Pending(int64_t run) {
  int64_t n = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("SELECT COUNT(*) FROM notify_outbox WHERE ($1 = 0 OR run = $1)", {run}));
    n = CellInt(rows.rows[0][0]);
    return Status::Ok();
  }));
  return n;
}

namespace internal {

Status AppendRunEnd(SqlTx& tx, int64_t run, EndState state,
                    const std::function<Result<RunEnd>()>& build, int64_t now_ms) {
  FERRY_ASSIGN_OR_RETURN(
      state::SqlRows component,
      tx.Exec("SELECT COUNT(*) FROM schema_version WHERE component = 'notify'"));
  if (component.rows.empty() || CellInt(component.rows[0][0]) == 0) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(state::SqlRows stored,
                         tx.Exec("SELECT targets FROM notify_runs WHERE run = $1", {run}));
  if (stored.rows.empty()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(std::vector<Target> targets,
                         ParseTargetsJson(CellText(stored.rows[0][0])));
  std::string document;
  for (const Target& target : targets) {
    if (!target.on.Has(state)) continue;
    if (document.empty()) {
      FERRY_ASSIGN_OR_RETURN(RunEnd end, build());
      document = DocumentJson(end);
    }
    const std::string one = TargetsJson({target});
    FERRY_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO notify_outbox (run, target, document, attempts, lease_owner,"
                " lease_until, last_error, created) VALUES ($1, $2, $3, 0, '', $4, '', $4)",
                {run, std::string_view(one), std::string_view(document), now_ms})
            .status());
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace ferry::notify
