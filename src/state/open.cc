// OpenSession (a state URL to its driver) and the cell accessors every store shares.
#include <charconv>

#include "state/state.h"

namespace ferry::state {

Result<std::unique_ptr<SqlSession>> OpenSession(const std::string& url, Clock& clock) {
  FERRY_ASSIGN_OR_RETURN(StateUrl parsed, ParseStateUrl(url));
  switch (parsed.type) {
    case StoreType::kSqlite:
      return OpenSqliteSession(parsed.target);
    case StoreType::kPostgres:
      return OpenPgSession(parsed.target, clock);
  }
  return Status::Internal("unknown store type");
}

int64_t CellInt(const SqlCell& cell) {
  if (const int64_t* v = std::get_if<int64_t>(&cell)) return *v;
  if (const std::string* s = std::get_if<std::string>(&cell)) {
    int64_t v = 0;
    std::from_chars(s->data(), s->data() + s->size(), v);
    return v;
  }
  return 0;
}

std::string CellText(const SqlCell& cell) {
  if (const std::string* s = std::get_if<std::string>(&cell)) return *s;
  if (const int64_t* v = std::get_if<int64_t>(&cell)) return std::to_string(*v);
  return "";
}

}  // namespace ferry::state
