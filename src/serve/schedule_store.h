// ScheduleStore: the occurrences of `ferry serve`'s schedules, in the state store's database
// (component "schedules", state/migrate.h), shared by every serve of the store
// (docs/design/serve.md, "Schedules"). One row per (schedule, due time): the serve whose INSERT
// of it wins starts that occurrence, the others find the row and do nothing, so an occurrence
// starts once across every process and across reloads. Times are unix milliseconds, given by the
// caller (its Clock), never the database's.
// Thread-safe (the session is); every method is one transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::serve {

// Outcome of an occurrence, stored as text: never rename one.
inline constexpr std::string_view kStarted = "started";      // its run was queued (or is being)
inline constexpr std::string_view kSucceeded = "succeeded";  // its run ended done
inline constexpr std::string_view kFailed = "failed";        // its run failed, or could not start
inline constexpr std::string_view kMissed = "missed";        // found later than its grace

struct Occurrence {
  std::string schedule{};
  int64_t due_ms = 0;
  std::string owner{};     // the process that claimed it
  int64_t claimed_ms = 0;
  std::string outcome{};   // one of the above
  int64_t run = 0;         // the durable run it queued (0: none yet, or none)
  int64_t finished_ms = 0;
  std::string error{};
};

struct ClaimRequest {
  std::string_view schedule{};
  int64_t due_ms = 0;
  std::string_view owner{};
  int64_t now_ms = 0;
  std::string_view outcome = kStarted;  // kStarted, or kMissed to record a missed one
};

class ScheduleStore {
 public:
  // Migrates component "schedules"; `session` must outlive the store.
  static Result<std::unique_ptr<ScheduleStore>> Open(state::SqlSession& session);

  // Since when `schedule` has been served with this `at` (unix ms): `now_ms` recorded the first
  // time, and again whenever `at` changed. Occurrences before it are never started.
  Result<int64_t> Since(std::string_view schedule, std::string_view at, int64_t now_ms);
  // Inserts the occurrence's row unless one exists: true when this call inserted it (the caller
  // owns the occurrence), false when another claim was first.
  Result<bool> Claim(const ClaimRequest& claim);
  // Records the run the occurrence queued.
  Status SetRun(std::string_view schedule, int64_t due_ms, int64_t run);
  // Ends a started occurrence with `outcome` (kSucceeded or kFailed): true when this call
  // ended it, false when it had ended already (another serve saw its run end first).
  Result<bool> Finish(std::string_view schedule, int64_t due_ms, std::string_view outcome,
                      int64_t now_ms, std::string_view error);
  // Every occurrence still kStarted, of any schedule.
  Result<std::vector<Occurrence>> Started();
  // The occurrences of `schedule`, latest first, at most `limit`.
  Result<std::vector<Occurrence>> Recent(std::string_view schedule, int limit);
  // Per schedule, when its latest kSucceeded occurrence ended (unix ms).
  Result<std::vector<std::pair<std::string, int64_t>>> LastSuccesses();

 private:
  explicit ScheduleStore(state::SqlSession& session) : session_(session) {}
  state::SqlSession& session_;
};

}  // namespace ferry::serve
