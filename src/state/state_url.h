// State URLs: which JobStore a `--state` text names, and how to print it without its password.
//
// Pure functions over text, called by OpenJobStore (job_store.cc) before any database is
// touched, and by the drivers to word their errors. The accepted forms are:
//   sqlite:///abs/path.db      SQLite, absolute path
//   sqlite://rel/path.db       SQLite, path relative to the working directory
//   /any/path, rel/path.db     SQLite (a text without "://")
//   postgres://... postgresql://...   PostgreSQL (a libpq connection URI, checked by libpq)
// Anything else ("mysql://x", "", "sqlite://", "postgres:x") is kInvalidArgument with one line
// that starts "malformed state URL".
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::state {

enum class StoreType { kSqlite, kPostgres };

struct StateUrl {
  StoreType type = StoreType::kSqlite;
  // kSqlite: the file path. kPostgres: the URL as given (libpq parses it).
  std::string target;
};

Result<StateUrl> ParseStateUrl(std::string_view url);

// `url` with any password removed: the ":secret" of "scheme://user:secret@host" and every
// "password=..." query parameter. Text that is not a URL comes back unchanged.
std::string RedactUrl(std::string_view url);

// `message` (a database library's error text) with `url` replaced by RedactUrl(url) and any
// password written in `url` (as written and percent-decoded) replaced by "***".
std::string ScrubMessage(std::string_view message, std::string_view url);

// "malformed state URL <redacted url>: <why>" as kInvalidArgument.
Status MalformedStateUrl(std::string_view url, std::string_view why);

}  // namespace ferry::state
