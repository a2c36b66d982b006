// libpq, loaded on first use (see base/shared_library.h for why it is not linked).
//
// pg_library.cc defines every libpq function ferry calls as a forwarder to the same function
// in libpq.so.5, so src/state uses libpq's API as documented. LoadLibpq() must have succeeded
// before the first of those calls: ParsePgUrl and PgSession::NewConnection check it, so only a
// postgres:// state store needs libpq, and a machine without it gets one clear error there.
//
// Thread-safety: LoadLibpq may be called from any thread; the library is loaded once.
#pragma once

#include "base/status.h"

namespace ferry::state {

// Loads libpq.so.5, once per process. NotSupported (final) when it or a function is missing.
Status LoadLibpq();

}  // namespace ferry::state
