// OpenPgSession: checks the URL with libpq, names the server for messages and connects once.
#include <libpq-fe.h>

#include <map>

#include "state/pg_library.h"
#include "state/pg_session.h"
#include "state/state.h"
#include "state/state_url.h"

namespace ferry::state {
namespace {

bool IsPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

// Checks `url` with libpq's own parser and builds "scheme://user@host:port/db" from it.
Result<PgTarget> ParsePgUrl(const std::string& url) {
  FERRY_RETURN_IF_ERROR(LoadLibpq());
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string why = error ? error : "libpq cannot parse it";
    PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return MalformedStateUrl(url, ScrubMessage(why, url));
  }
  std::map<std::string, std::string> values;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) values[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  const std::string& ports = values["port"];
  for (size_t start = 0; !ports.empty() && start <= ports.size();) {
    const size_t comma = std::min(ports.find(',', start), ports.size());
    const std::string port = ports.substr(start, comma - start);
    if (!IsPort(port)) return MalformedStateUrl(url, "bad port \"" + port + "\"");
    start = comma + 1;
  }
  std::string host = values["host"].empty() ? values["hostaddr"] : values["host"];
  if (host.find(':') != std::string::npos && host.find(',') == std::string::npos) {
    host = "[" + host + "]";
  }
  std::string display = url.substr(0, url.find("://") + 3);
  if (!values["user"].empty()) display += values["user"] + "@";
  display += host;
  if (!ports.empty()) display += ":" + ports;
  display += "/" + values["dbname"];
  return PgTarget{url, display};
}

}  // namespace

Result<std::unique_ptr<SqlSession>> OpenPgSession(const std::string& url, Clock& clock,
                                                 PgOptions options) {
  if (options.max_connections < 1) {
    return Status::InvalidArgument("PostgreSQL store: max_connections must be at least 1");
  }
  FERRY_ASSIGN_OR_RETURN(PgTarget target, ParsePgUrl(url));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<PgSession> session,
                         PgSession::Connect(std::move(target), clock, options));
  return std::unique_ptr<SqlSession>(std::move(session));
}

}  // namespace ferry::state
