// LevelStore over the portable SQL of state/sql_session.h (contract in level_store.h).
#include "transport/level_store.h"

#include <cmath>
#include <optional>
#include <string>

#include "state/migrate.h"

namespace ferry::transport {
namespace {

using state::SqlRow;
using state::SqlTx;

// Version 1: one row per content class and level.
Status CreateLevelTables(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  return tx
      .Exec(
          "CREATE TABLE level_history (content_class TEXT NOT NULL, level BIGINT NOT NULL,"
          " trials BIGINT NOT NULL, bytes_in BIGINT NOT NULL, bytes_out BIGINT NOT NULL,"
          " cpu_us BIGINT NOT NULL, version BIGINT NOT NULL,"
          " PRIMARY KEY (content_class, level))")
      .status();
}

constexpr state::Migration kLevelMigrations[] = {&CreateLevelTables};
constexpr state::Component kLevelComponent{"levels", kLevelMigrations};

struct Row {
  int64_t trials = 0, bytes_in = 0, bytes_out = 0, cpu_us = 0, version = 0;
};

int64_t Micros(double seconds) {
  return seconds <= 0 ? 0 : static_cast<int64_t>(std::llround(seconds * 1e6));
}

}  // namespace

Result<std::unique_ptr<LevelStore>> LevelStore::Open(state::SqlSession& session) {
  FERRY_RETURN_IF_ERROR(state::Migrate(session, kLevelComponent));
  return std::unique_ptr<LevelStore>(new LevelStore(session));
}

Result<std::vector<LevelStats>> LevelStore::History(std::string_view content_class) {
  std::vector<LevelStats> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        auto rows, tx.Exec("SELECT level, trials, bytes_in, bytes_out, cpu_us FROM level_history"
                           " WHERE content_class = $1 ORDER BY level",
                           {content_class}));
    for (const SqlRow& r : rows.rows) {
      out.push_back(LevelStats{.level = static_cast<int>(state::CellInt(r[0])),
                               .trials = static_cast<uint64_t>(state::CellInt(r[1])),
                               .bytes_in = static_cast<uint64_t>(state::CellInt(r[2])),
                               .bytes_out = static_cast<uint64_t>(state::CellInt(r[3])),
                               .cpu_seconds = static_cast<double>(state::CellInt(r[4])) / 1e6});
    }
    return Status::Ok();
  }));
  return out;
}

Status LevelStore::Record(std::string_view content_class, int level, const LevelTrial& trial) {
  if (level < kMinLevel || level > kMaxLevel) {
    return Status::InvalidArgument("level " + std::to_string(level) + " is not 1..22");
  }
  const int64_t lv = level;
  for (int attempt = 0; attempt < kMaxRecordAttempts; ++attempt) {
    std::optional<Row> seen;
    FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
      seen.reset();
      FERRY_ASSIGN_OR_RETURN(
          auto rows,
          tx.Exec("SELECT trials, bytes_in, bytes_out, cpu_us, version FROM level_history"
                  " WHERE content_class = $1 AND level = $2",
                  {content_class, lv}));
      if (!rows.rows.empty()) {
        const SqlRow& r = rows.rows.front();
        seen = Row{.trials = state::CellInt(r[0]),
                   .bytes_in = state::CellInt(r[1]),
                   .bytes_out = state::CellInt(r[2]),
                   .cpu_us = state::CellInt(r[3]),
                   .version = state::CellInt(r[4])};
      }
      return Status::Ok();
    }));
    const Row old = seen.value_or(Row{});
    const Row now{.trials = old.trials + 1,
                  .bytes_in = old.bytes_in + static_cast<int64_t>(trial.bytes_in),
                  .bytes_out = old.bytes_out + static_cast<int64_t>(trial.bytes_out),
                  .cpu_us = old.cpu_us + Micros(trial.cpu_seconds),
                  .version = old.version + 1};
    if (before_write_) before_write_();
    int64_t changed = 0;
    FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
      Result<state::SqlRows> r =
          seen.has_value()
              ? tx.Exec("UPDATE level_history SET trials = $3, bytes_in = $4, bytes_out = $5,"
                        " cpu_us = $6, version = $7"
                        " WHERE content_class = $1 AND level = $2 AND version = $8",
                        {content_class, lv, now.trials, now.bytes_in, now.bytes_out, now.cpu_us,
                         now.version, old.version})
              : tx.Exec("INSERT INTO level_history (content_class, level, trials, bytes_in,"
                        " bytes_out, cpu_us, version) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                        " ON CONFLICT (content_class, level) DO NOTHING",
                        {content_class, lv, now.trials, now.bytes_in, now.bytes_out, now.cpu_us,
                         now.version});
      FERRY_RETURN_IF_ERROR(r.status());
      changed = r->changes;
      return Status::Ok();
    }));
    if (changed == 1) return Status::Ok();
    conflicts_.fetch_add(1);
  }
  return Status::Unavailable("level history of " + std::string(content_class) +
                             ": too many concurrent updates");
}

}  // namespace ferry::transport
