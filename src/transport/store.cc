// TransportStore over the portable SQL of state/sql_session.h (contract in store.h).
#include "transport/store.h"

#include <algorithm>
#include <chrono>

#include "state/migrate.h"

namespace ferry::transport {
namespace {

using state::SqlRow;
using state::SqlTx;

// Version 1: one row per staged archive and destination.
Status CreateTables(SqlTx& tx, const state::Dialect& d) {
  (void)d;
  return tx
      .Exec(
          "CREATE TABLE transport_archives (staging TEXT NOT NULL, archive TEXT NOT NULL,"
          " destination TEXT NOT NULL, state TEXT NOT NULL, entries BIGINT NOT NULL,"
          " written BIGINT NOT NULL, archive_bytes BIGINT NOT NULL, updated BIGINT NOT NULL,"
          " PRIMARY KEY (staging, archive, destination))")
      .status();
}

constexpr state::Migration kMigrations[] = {&CreateTables};
constexpr state::Component kComponent{"transport", kMigrations};

constexpr const char* kColumns =
    "staging, archive, destination, state, entries, written, archive_bytes, updated";

ArchiveState ParseState(std::string_view s) {
  if (s == "done") return ArchiveState::kDone;
  if (s == "unpacking") return ArchiveState::kUnpacking;
  if (s == "unpacked") return ArchiveState::kUnpacked;
  return ArchiveState::kStaged;
}

ArchiveRow FromRow(const SqlRow& r) {
  ArchiveRow row;
  row.staging = state::CellText(r[0]);
  row.archive = state::CellText(r[1]);
  row.destination = state::CellText(r[2]);
  row.state = ParseState(state::CellText(r[3]));
  row.entries = static_cast<uint64_t>(state::CellInt(r[4]));
  row.written = static_cast<uint64_t>(state::CellInt(r[5]));
  row.archive_bytes = static_cast<uint64_t>(state::CellInt(r[6]));
  row.updated_ns = state::CellInt(r[7]);
  return row;
}

}  // namespace

std::string_view ArchiveStateName(ArchiveState s) {
  switch (s) {
    case ArchiveState::kStaged:
      return "staged";
    case ArchiveState::kUnpacking:
      return "unpacking";
    case ArchiveState::kUnpacked:
      return "unpacked";
    case ArchiveState::kDone:
      return "done";
  }
  return "staged";
}

Result<std::unique_ptr<TransportStore>> TransportStore::Open(state::SqlSession& session,
                                                            Clock& clock) {
  FERRY_RETURN_IF_ERROR(state::Migrate(session, kComponent));
  return std::unique_ptr<TransportStore>(new TransportStore(session, clock));
}

int64_t TransportStore::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch())
      .count();
}

Status TransportStore::Staged(const ArchiveRow& row) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return tx
        .Exec(std::string("INSERT INTO transport_archives (") + kColumns +
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                  " ON CONFLICT (staging, archive, destination) DO NOTHING",
              {row.staging, row.archive, row.destination,
               std::string(ArchiveStateName(ArchiveState::kStaged)),
               static_cast<int64_t>(row.entries), int64_t{0},
               static_cast<int64_t>(row.archive_bytes), NowNs()})
        .status();
  });
}

Result<std::optional<ArchiveRow>> TransportStore::Get(std::string_view staging,
                                                      std::string_view archive,
                                                      std::string_view destination) {
  std::optional<ArchiveRow> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    FERRY_ASSIGN_OR_RETURN(
        auto rows, tx.Exec(std::string("SELECT ") + kColumns +
                               " FROM transport_archives WHERE staging = $1 AND archive = $2"
                               " AND destination = $3",
                           {staging, archive, destination}));
    out.reset();
    if (!rows.rows.empty()) out = FromRow(rows.rows.front());
    return Status::Ok();
  }));
  return out;
}

Status TransportStore::Progress(const ArchiveRow& row) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return tx
        .Exec(std::string("INSERT INTO transport_archives (") + kColumns +
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                  " ON CONFLICT (staging, archive, destination) DO UPDATE"
                  " SET state = $4, entries = $5, written = $6, updated = $8",
              {row.staging, row.archive, row.destination, std::string(ArchiveStateName(row.state)),
               static_cast<int64_t>(row.entries), static_cast<int64_t>(row.written),
               static_cast<int64_t>(row.archive_bytes), NowNs()})
        .status();
  });
}

Result<bool> TransportStore::Unpacked(const ArchiveRow& row) {
  bool all = false;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    // PostgreSQL: the archive's rows locked first (in one order), so that of two unpackers
    // finishing at once the second sees the first's row (SQLite's write lock does the same).
    if (session_.dialect().name == "postgres") {
      FERRY_RETURN_IF_ERROR(tx.Exec("SELECT destination FROM transport_archives WHERE staging = $1"
                                    " AND archive = $2 ORDER BY destination FOR UPDATE",
                                    {row.staging, row.archive})
                                .status());
    }
    FERRY_RETURN_IF_ERROR(
        tx.Exec(std::string("INSERT INTO transport_archives (") + kColumns +
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    " ON CONFLICT (staging, archive, destination) DO UPDATE"
                    " SET state = CASE WHEN transport_archives.state = 'done' THEN 'done'"
                    " ELSE $4 END, entries = $5, written = $6, updated = $8",
                {row.staging, row.archive, row.destination,
                 std::string(ArchiveStateName(ArchiveState::kUnpacked)),
                 static_cast<int64_t>(row.entries), static_cast<int64_t>(row.written),
                 static_cast<int64_t>(row.archive_bytes), NowNs()})
            .status());
    FERRY_ASSIGN_OR_RETURN(
        auto left, tx.Exec("SELECT COUNT(*) FROM transport_archives WHERE staging = $1"
                           " AND archive = $2 AND state <> 'unpacked' AND state <> 'done'",
                           {row.staging, row.archive}));
    all = !left.rows.empty() && state::CellInt(left.rows.front()[0]) == 0;
    return Status::Ok();
  }));
  return all;
}

Status TransportStore::ArchiveDeleted(std::string_view staging, std::string_view archive) {
  return session_.Transact(state::TxMode::kWrite, [&](SqlTx& tx) {
    return tx
        .Exec("UPDATE transport_archives SET state = 'done', updated = $3"
              " WHERE staging = $1 AND archive = $2",
              {staging, archive, NowNs()})
        .status();
  });
}

Result<std::vector<ArchiveRow>> TransportStore::Rows(std::string_view staging) {
  std::vector<ArchiveRow> out;
  FERRY_RETURN_IF_ERROR(session_.Transact(state::TxMode::kRead, [&](SqlTx& tx) {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        auto rows, staging.empty()
                       ? tx.Exec(std::string("SELECT ") + kColumns +
                                 " FROM transport_archives ORDER BY archive, destination")
                       : tx.Exec(std::string("SELECT ") + kColumns +
                                     " FROM transport_archives WHERE staging = $1"
                                     " ORDER BY archive, destination",
                                 {staging}));
    for (const SqlRow& r : rows.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

std::vector<std::string> RegionList(std::string_view regions) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= regions.size()) {
    const size_t comma = std::min(regions.find(',', at), regions.size());
    if (comma > at) out.emplace_back(regions.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

std::string RegionDestination(std::string_view destination, std::string_view region,
                              bool several_regions) {
  if (!several_regions || region.empty()) return std::string(destination);
  return std::string(destination) + " @" + std::string(region);
}

}  // namespace ferry::transport
