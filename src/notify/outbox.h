// The durable outbox of run-end notifications (docs/design/notify.md), component "notify" of
// the state database (SQLite or PostgreSQL, beside the job store's tables):
//
//   notify_runs   (run, targets)   a durable run's targets (targets_json.h), set in the
//                                  transaction that creates the run (WriteRunTargets) or
//                                  by the command that resumes it (SetRunTargets)
//   notify_outbox (id, run, target, document, attempts, lease_owner, lease_until, last_error,
//                  created)        one row per target to tell of one run's end
//
// The rows are appended by internal::AppendRunEnd inside the transaction that ends the run
// (jobs/run_end_hook.h): once a run has ended, its notifications exist, whoever ended it and
// whatever happens to that process next. Any process of the store delivers them
// (deliver_pending.h): Claim leases due rows to one owner until a time (SQLite: the write
// transaction excludes other writers; PostgreSQL: FOR UPDATE SKIP LOCKED), so two processes do
// not send one row at once unless its lease ran out first; a row is deleted once sent (Sent)
// or given back with a later due time (Release). At least once: a process killed between a
// send and its Sent sends again after the lease.
//
// Times are integer ms since the epoch, given by the caller (its Clock). Errors: the session's.
// Thread-safe (the session is).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "notify/document.h"
#include "notify/target.h"
#include "state/sql_session.h"

namespace ferry::notify {

struct OutboxRow {
  int64_t id = 0;
  int64_t run = 0;
  Target target;
  std::string document;  // DocumentJson's text
  int64_t attempts = 0;  // deliveries that failed so far
  std::string last_error;
};

class Outbox {
 public:
  // Creates or migrates component "notify" on `session`, which must outlive the outbox.
  static Result<std::unique_ptr<Outbox>> Open(state::SqlSession& session);

  // Sets (replaces) the targets told of `run`'s end; none: the run's row is removed.
  Status SetRunTargets(int64_t run, const std::vector<Target>& targets);
  // Leases up to `max` rows due at `now_ms` (of `run` only when run > 0), oldest first.
  Result<std::vector<OutboxRow>> Claim(std::string_view owner, int max, int64_t now_ms,
                                       int64_t lease_until_ms, int64_t run = 0);
  // Deletes a row `owner` holds (delivered). false: the lease was lost (another took it).
  Result<bool> Sent(std::string_view owner, int64_t id);
  // Gives a held row back, due at `retry_at_ms`, its attempts counted and its error kept.
  Status Release(std::string_view owner, int64_t id, int64_t retry_at_ms,
                 std::string_view error);
  // Rows not delivered yet (of `run` only when run > 0).
  Result<int64_t> Pending(int64_t run = 0);

 private:
  explicit Outbox(state::SqlSession& session) : session_(session) {}
  state::SqlSession& session_;
};

namespace internal {
// SetRunTargets inside `tx` (a run's creation: jobs::NewRunStep). The component must exist:
// Outbox::Open on the store's session first.
Status WriteRunTargets(state::SqlTx& tx, int64_t run, const std::vector<Target>& targets);
// Inside the transaction ending run `run` in `state`: one row per target of the run whose `on`
// has the state, holding `build()`'s document (called only when there is such a target).
// Nothing when the database has no component "notify" (no process of the store ever asked
// for notifications) or the run has no targets.
Status AppendRunEnd(state::SqlTx& tx, int64_t run, EndState state,
                    const std::function<Result<RunEnd>()>& build, int64_t now_ms);
}  // namespace internal

}  // namespace ferry::notify
