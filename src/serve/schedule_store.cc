// ScheduleStore over the portable SQL of state/sql_session.h (contract in schedule_store.h).
#include "serve/schedule_store.h"

#include "state/migrate.h"

namespace ferry::serve {
namespace {

using state::CellInt;
using state::CellText;
using state::SqlRow;
using state::SqlTx;

// Version 1: the occurrences, and since when each schedule has had its `at`.
Status CreateTables(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  const char* statements[] = {
      "CREATE TABLE schedule_runs (schedule TEXT NOT NULL, due BIGINT NOT NULL,"
      " owner TEXT NOT NULL, claimed BIGINT NOT NULL, outcome TEXT NOT NULL,"
      " run BIGINT NOT NULL DEFAULT 0, finished BIGINT NOT NULL DEFAULT 0,"
      " error TEXT NOT NULL DEFAULT '', PRIMARY KEY (schedule, due))",
      // Started: what every serve looks at every few seconds.
      "CREATE INDEX schedule_runs_started ON schedule_runs (schedule) WHERE outcome = 'started'",
      // (a statement in two literals is parenthesised, else clang takes it for a missing comma)
      ("CREATE TABLE schedules (name TEXT NOT NULL PRIMARY KEY, at TEXT NOT NULL,"
       " since BIGINT NOT NULL)"),
  };
  for (const char* sql : statements) FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  return Status::Ok();
}

constexpr state::Migration kMigrations[] = {&CreateTables};
constexpr state::Component kComponent{"schedules", kMigrations};

constexpr const char* kColumns =
    "schedule, due, owner, claimed, outcome, run, finished, error";

Occurrence FromRow(const SqlRow& r) {
  return Occurrence{.schedule = CellText(r[0]),
                    .due_ms = CellInt(r[1]),
                    .owner = CellText(r[2]),
                    .claimed_ms = CellInt(r[3]),
                    .outcome = CellText(r[4]),
                    .run = CellInt(r[5]),
                    .finished_ms = CellInt(r[6]),
                    .error = CellText(r[7])};
}

}  // namespace

Result<std::unique_ptr<ScheduleStore>> ScheduleStore::Open(state::SqlSession& session) {
  FERRY_RETURN_IF_ERROR(state::Migrate(session, kComponent));
  return std::unique_ptr<ScheduleStore>(new ScheduleStore(session));
}

Result<int64_t> ScheduleStore::Since(std::string_view schedule, std::string_view at,
                                     int64_t now_ms) {
  int64_t since = 0;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO schedules (name, at, since) VALUES ($1, $2, $3)"
                " ON CONFLICT (name) DO UPDATE SET at = excluded.at, since = excluded.since"
                " WHERE schedules.at <> excluded.at",
                {schedule, at, now_ms})
            .status());
    FERRY_ASSIGN_OR_RETURN(state::SqlRows rows,
                           tx.Exec("SELECT since FROM schedules WHERE name = $1", {schedule}));
    since = rows.rows.empty() ? now_ms : CellInt(rows.rows[0][0]);
    return Status::Ok();
  }));
  return since;
}

Result<bool> ScheduleStore::Claim(const ClaimRequest& c) {
  if (c.outcome != kStarted && c.outcome != kMissed) {
    return Status::InvalidArgument("ScheduleStore::Claim: outcome must be started or missed");
  }
  bool won = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows r,
        tx.Exec("INSERT INTO schedule_runs (schedule, due, owner, claimed, outcome, finished)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (schedule, due) DO NOTHING",
                {c.schedule, c.due_ms, c.owner, c.now_ms, c.outcome,
                 c.outcome == kMissed ? c.now_ms : int64_t{0}}));
    won = r.changes == 1;
    return Status::Ok();
  }));
  return won;
}

Status ScheduleStore::SetRun(std::string_view schedule, int64_t due_ms, int64_t run) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows r,
        tx.Exec("UPDATE schedule_runs SET run = $3 WHERE schedule = $1 AND due = $2",
                {schedule, due_ms, run}));
    if (r.changes != 1) return Status::NotFound("no occurrence " + std::string(schedule));
    return Status::Ok();
  });
}

Result<bool> ScheduleStore::Finish(std::string_view schedule, int64_t due_ms,
                                   std::string_view outcome, int64_t now_ms,
                                   std::string_view error) {
  if (outcome != kSucceeded && outcome != kFailed) {
    return Status::InvalidArgument("ScheduleStore::Finish: outcome must be succeeded or failed");
  }
  bool ended = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows r,
        tx.Exec("UPDATE schedule_runs SET outcome = $3, finished = $4, error = $5"
                " WHERE schedule = $1 AND due = $2 AND outcome = 'started'",
                {schedule, due_ms, outcome, now_ms, error}));
    ended = r.changes == 1;
    return Status::Ok();
  }));
  return ended;
}

Result<std::vector<Occurrence>> ScheduleStore::Started() {
  std::vector<Occurrence> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec(std::string("SELECT ") + kColumns +
                " FROM schedule_runs WHERE outcome = 'started' ORDER BY schedule, due"));
    for (const SqlRow& r : rows.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Occurrence>> ScheduleStore::Recent(std::string_view schedule, int limit) {
  std::vector<Occurrence> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec(std::string("SELECT ") + kColumns +
                    " FROM schedule_runs WHERE schedule = $1 ORDER BY due DESC LIMIT $2",
                {schedule, int64_t{limit}}));
    for (const SqlRow& r : rows.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> ScheduleStore::LastSuccesses() {
  std::vector<std::pair<std::string, int64_t>> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        state::SqlRows rows,
        tx.Exec("SELECT schedule, MAX(finished) FROM schedule_runs WHERE outcome = 'succeeded'"
                " GROUP BY schedule"));
    for (const SqlRow& r : rows.rows) out.emplace_back(CellText(r[0]), CellInt(r[1]));
    return Status::Ok();
  }));
  return out;
}

}  // namespace ferry::serve
