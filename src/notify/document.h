// The document ferry sends when a run ends (docs/design/notify.md has the fields and an
// example; their names are stable: add fields, never rename or remove one).
//
// Pure: RunEnd -> JSON text (DocumentJson) and back (ParseDocument, for the outbox's rows and
// tests), and the e-mail's subject line. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "notify/target.h"

namespace ferry::notify {

// At most this many errors are carried (the first ones), each cut to 500 bytes.
inline constexpr size_t kMaxErrors = 5;

struct ObjectCounts {
  uint64_t copied = 0;
  // nullopt where the run does not know it (a durable run: its scans count no skips): null.
  std::optional<uint64_t> skipped;
  uint64_t failed = 0;
  uint64_t deleted = 0;
};

struct RunEnd {
  std::string run_id;       // an in-memory run's "20261128T061500Z-1234", a durable run's "17"
  std::string command;      // cp, sync, move, replicate, backup, restore, cache-warm, ...
  std::string source;
  std::string destination;
  EndState state = EndState::kDone;
  bool durable = false;     // a run of a state store
  ObjectCounts objects;
  uint64_t bytes = 0;       // bytes copied
  std::vector<std::string> errors;  // the first few, one line each
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point ended;
  std::string report;       // --report's location, "" when none
};

// `run.errors` past kMaxErrors dropped, each cut to 500 bytes; compact JSON, one line.
std::string DocumentJson(const RunEnd& run);
// The RunEnd a DocumentJson holds (times to the millisecond). kInvalidArgument when malformed.
Result<RunEnd> ParseDocument(const std::string& json);
// "ferry sync done: 12 copied, 0 failed (run 17)".
std::string Subject(const RunEnd& run);
// RFC 3339 UTC with milliseconds: "2026-11-28T06:15:00.123Z".
std::string TimeText(std::chrono::system_clock::time_point t);

}  // namespace ferry::notify
