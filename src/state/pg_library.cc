#include "state/pg_library.h"

#include <libpq-fe.h>

#include "base/shared_library.h"

namespace ferry::state {
namespace {

// Every libpq function ferry calls, typed from libpq's own declarations.
#define FERRY_PQ_FUNCTIONS(X) \
  X(PQconnectdbParams)        \
  X(PQfinish)                 \
  X(PQstatus)                 \
  X(PQtransactionStatus)      \
  X(PQerrorMessage)           \
  X(PQsetNoticeProcessor)     \
  X(PQconninfoParse)          \
  X(PQconninfoFree)           \
  X(PQexec)                   \
  X(PQexecParams)             \
  X(PQconsumeInput)           \
  X(PQresultStatus)           \
  X(PQresultErrorMessage)     \
  X(PQresultErrorField)       \
  X(PQntuples)                \
  X(PQnfields)                \
  X(PQftype)                  \
  X(PQcmdTuples)              \
  X(PQgetvalue)               \
  X(PQgetlength)              \
  X(PQgetisnull)              \
  X(PQclear)                  \
  X(PQfreemem)

struct PqFunctions {
#define FERRY_PQ_SLOT(name) decltype(&::name) name = nullptr;
  FERRY_PQ_FUNCTIONS(FERRY_PQ_SLOT)
#undef FERRY_PQ_SLOT
};

PqFunctions g_pq;

Status LoadOnce() {
  FERRY_ASSIGN_OR_RETURN(
      SharedLibrary lib,
      SharedLibrary::Open("libpq.so.5", "a postgres:// state store", "libpq5"));
#define FERRY_PQ_RESOLVE(name) FERRY_RETURN_IF_ERROR(lib.ResolveInto(#name, g_pq.name));
  FERRY_PQ_FUNCTIONS(FERRY_PQ_RESOLVE)
#undef FERRY_PQ_RESOLVE
  return Status::Ok();
}

OnceLoader g_loader(&LoadOnce);

// The table, for a forwarder.
const PqFunctions& Pq() {
  g_loader.RequireLoaded();
  return g_pq;
}

}  // namespace

Status LoadLibpq() { return g_loader.Get(); }

}  // namespace ferry::state

using ferry::state::Pq;

// The forwarders: libpq's functions, as declared in libpq-fe.h.
extern "C" {

PGconn* PQconnectdbParams(const char* const* keywords, const char* const* values,
                          int expand_dbname) {
  return Pq().PQconnectdbParams(keywords, values, expand_dbname);
}
void PQfinish(PGconn* conn) { Pq().PQfinish(conn); }
ConnStatusType PQstatus(const PGconn* conn) { return Pq().PQstatus(conn); }
PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  return Pq().PQtransactionStatus(conn);
}
char* PQerrorMessage(const PGconn* conn) { return Pq().PQerrorMessage(conn); }
PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  return Pq().PQsetNoticeProcessor(conn, proc, arg);
}
PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  return Pq().PQconninfoParse(conninfo, errmsg);
}
void PQconninfoFree(PQconninfoOption* options) { Pq().PQconninfoFree(options); }
PGresult* PQexec(PGconn* conn, const char* query) { return Pq().PQexec(conn, query); }
PGresult* PQexecParams(PGconn* conn, const char* command, int nParams, const Oid* paramTypes,
                       const char* const* paramValues, const int* paramLengths,
                       const int* paramFormats, int resultFormat) {
  return Pq().PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths,
                           paramFormats, resultFormat);
}
int PQconsumeInput(PGconn* conn) { return Pq().PQconsumeInput(conn); }
ExecStatusType PQresultStatus(const PGresult* res) { return Pq().PQresultStatus(res); }
char* PQresultErrorMessage(const PGresult* res) { return Pq().PQresultErrorMessage(res); }
char* PQresultErrorField(const PGresult* res, int fieldcode) {
  return Pq().PQresultErrorField(res, fieldcode);
}
int PQntuples(const PGresult* res) { return Pq().PQntuples(res); }
int PQnfields(const PGresult* res) { return Pq().PQnfields(res); }
Oid PQftype(const PGresult* res, int field_num) { return Pq().PQftype(res, field_num); }
char* PQcmdTuples(PGresult* res) { return Pq().PQcmdTuples(res); }
char* PQgetvalue(const PGresult* res, int tup_num, int field_num) {
  return Pq().PQgetvalue(res, tup_num, field_num);
}
int PQgetlength(const PGresult* res, int tup_num, int field_num) {
  return Pq().PQgetlength(res, tup_num, field_num);
}
int PQgetisnull(const PGresult* res, int tup_num, int field_num) {
  return Pq().PQgetisnull(res, tup_num, field_num);
}
void PQclear(PGresult* res) { Pq().PQclear(res); }
void PQfreemem(void* ptr) { Pq().PQfreemem(ptr); }

}  // extern "C"
