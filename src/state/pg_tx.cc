#include "state/pg_tx.h"

#include <charconv>
#include <cstring>
#include <vector>

#include "state/state_url.h"

namespace ferry::state {
namespace {

constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;

// SQLSTATEs after which the connection is gone or the server is (re)starting.
bool IsConnectionLoss(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// SQLSTATEs after which rerunning the whole transaction is the cure.
bool IsConflict(std::string_view sqlstate) { return sqlstate == "40001" || sqlstate == "40P01"; }

Status MapSqlstate(std::string_view sqlstate, std::string message) {
  if (sqlstate == "23503") return Status::NotFound(std::move(message));
  if (sqlstate == "23505") return Status::AlreadyExists(std::move(message));
  if (sqlstate.starts_with("53") || sqlstate == "57014" || sqlstate == "55P03" ||
      IsConflict(sqlstate) || IsConnectionLoss(sqlstate)) {
    return Status::Unavailable(std::move(message));
  }
  if (sqlstate.starts_with("28")) return Status::Unauthenticated(std::move(message));
  if (sqlstate == "42501") return Status::PermissionDenied(std::move(message));
  if (sqlstate == "XX001" || sqlstate == "XX002") return Status::DataLoss(std::move(message));
  return Status::Internal(std::move(message));
}

SqlRows ReadRows(PGresult* r) {
  SqlRows out;
  const int rows = PQntuples(r);
  const int columns = PQnfields(r);
  out.rows.reserve(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    SqlRow row(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r, i, c)) continue;
      const char* v = PQgetvalue(r, i, c);
      const auto n = static_cast<size_t>(PQgetlength(r, i, c));
      const Oid type = PQftype(r, c);
      if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid || type == kOidOid) {
        int64_t x = 0;
        std::from_chars(v, v + n, x);
        row[c] = x;
      } else {
        row[c] = std::string(v, n);
      }
    }
    out.rows.push_back(std::move(row));
  }
  const char* tuples = PQcmdTuples(r);
  if (tuples != nullptr && *tuples != '\0') {
    std::from_chars(tuples, tuples + std::strlen(tuples), out.changes);
  }
  return out;
}

}  // namespace

std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

Result<SqlRows> PgTx::ExecSpan(std::string_view sql, std::span<const SqlValue> params) {
  std::vector<std::string> storage(params.size());
  std::vector<const char*> values(params.size());
  std::vector<Oid> types(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (const int64_t* v = std::get_if<int64_t>(&params[i])) {
      storage[i] = std::to_string(*v);
      types[i] = kInt8Oid;
    } else {
      storage[i] = std::string(std::get<std::string_view>(params[i]));
      types[i] = kTextOid;
    }
    values[i] = storage[i].c_str();
  }
  const std::string text(sql);
  return Handle(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), types.data(),
                             values.data(), nullptr, nullptr, 0));
}

Result<SqlRows> PgTx::Simple(const char* sql) { return Handle(PQexec(conn_, sql)); }

Result<SqlRows> PgTx::Handle(PGresult* r) {
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    SqlRows out = ReadRows(r);
    PQclear(r);
    return out;
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  const char* error = r ? PQresultErrorMessage(r) : "";
  std::string message = OneLine(*error != '\0' ? error : PQerrorMessage(conn_));
  PQclear(r);
  failed_ = true;
  message = "state store " + target_.display + ": " + ScrubMessage(message, target_.url);
  if (PQstatus(conn_) == CONNECTION_BAD || IsConnectionLoss(sqlstate)) {
    broken_ = true;
    return Status::Unavailable(std::move(message));
  }
  conflict_ = IsConflict(sqlstate);
  return MapSqlstate(sqlstate, std::move(message));
}

}  // namespace ferry::state
