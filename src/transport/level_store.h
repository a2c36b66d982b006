// LevelStore: the adaptive level's history (level.h), kept in the state database (component
// "levels", SQLite or PostgreSQL through state::SqlSession) so that every worker of every run
// sharing the database learns from every pack.
//
// One row per (content class, level): trials and the sums of bytes in, bytes out and
// reference CPU time (level_cpu.h; stored in microseconds), plus a version. Record is an
// optimistic update: it reads the row and its version, then writes the new sums only where
// the version is still the one it read (or inserts the row only where none exists); when
// another worker wrote in between, nothing is written and it reads again (a conflict). So
// concurrent workers never lose each other's trials, and no lock is held across the read.
//
// Errors: the session's (kUnavailable when the database cannot be reached, kFailedPrecondition
// for a database written by a newer ferry); kUnavailable after kMaxRecordAttempts conflicts in
// a row. Thread-safety: thread-safe (the session is).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "state/sql_session.h"
#include "transport/level.h"

namespace ferry::transport {

// What one pack measured.
struct LevelTrial {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double cpu_seconds = 0;  // reference CPU-seconds
};

class LevelStore {
 public:
  static constexpr int kMaxRecordAttempts = 100;

  // Migrates component "levels" of `session`'s database; `session` must outlive the store.
  static Result<std::unique_ptr<LevelStore>> Open(state::SqlSession& session);

  // The rows of class `content_class`, by level (levels never tried are absent).
  Result<std::vector<LevelStats>> History(std::string_view content_class);

  // Adds one trial of `level` to the history of `content_class` (optimistic, see above).
  Status Record(std::string_view content_class, int level, const LevelTrial& trial);

  // Writes that found the row changed since it was read (each was read again and retried).
  uint64_t conflicts() const { return conflicts_.load(); }

  // Called between Record's read and its write (tests make another writer win there).
  void SetBeforeWriteForTest(std::function<void()> hook) { before_write_ = std::move(hook); }

 private:
  explicit LevelStore(state::SqlSession& session) : session_(session) {}
  state::SqlSession& session_;
  std::atomic<uint64_t> conflicts_{0};
  std::function<void()> before_write_;
};

}  // namespace ferry::transport
