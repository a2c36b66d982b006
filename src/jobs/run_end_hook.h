// What a process adds to the transaction that ends a run (docs/design/notify.md): the run-end
// notifications' outbox rows are written there, so that a run never ends without them and a
// crash right after loses nothing.
//
// SqlJobStore::SetRunState calls the hook when it moves a run into kDone or kFailed from another
// state, inside that transaction, with the facts below read in it; the hook's error rolls the
// change back. Process-wide (as a process's job kinds are): app installs it (app/notify_run.h),
// every store of the process calls it; none installed: nothing is called.
//
// Thread-safety: SetRunEndHook before the stores are used; the hook is called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "state/sql_session.h"

namespace ferry::jobs {

// One kind's jobs of the run, by state.
struct RunEndKindCounts {
  uint64_t done_objects = 0, done_bytes = 0;
  uint64_t dead_jobs = 0, dead_objects = 0, dead_bytes = 0;
  Tally tally;  // what its jobs' attempts did (Outcome::tally), done and dead jobs alike
};

struct RunEndFacts {
  RunId run = 0;
  RunState state = RunState::kDone;  // the state being entered
  std::string source, destination, options;  // as stored (options: EncodeRunOptions's text)
  TimePoint created, ended;
  std::map<std::string, RunEndKindCounts> kinds;  // by job kind
  std::vector<std::string> errors;                // the first dead jobs' last errors (up to 5)
};

using RunEndHook = std::function<Status(state::SqlTx& tx, const RunEndFacts& facts)>;
void SetRunEndHook(RunEndHook hook);

namespace internal {
// Reads the facts of `run` in `tx` and calls the hook; nothing without a hook.
Status CallRunEndHook(state::SqlTx& tx, RunId run, RunState state, int64_t now_ms);
}  // namespace internal

}  // namespace ferry::jobs
