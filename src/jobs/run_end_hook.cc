// The run-end hook (run_end_hook.h): the facts of a run read inside the transaction ending it.
#include "jobs/run_end_hook.h"

#include <mutex>

namespace ferry::jobs {
namespace {

std::mutex& RunEndHookMutex() {
  static std::mutex mu;
  return mu;
}
RunEndHook& InstalledRunEndHook() {
  static RunEndHook hook;
  return hook;
}
TimePoint FromRunEndMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

}  // namespace

void SetRunEndHook(RunEndHook hook) {
  std::lock_guard lock(RunEndHookMutex());
  InstalledRunEndHook() = std::move(hook);
}

namespace internal {

Status CallRunEndHook(state::SqlTx& tx, RunId run, RunState state, int64_t now_ms) {
  RunEndHook hook;
  {
    std::lock_guard lock(RunEndHookMutex());
    hook = InstalledRunEndHook();
  }
  if (!hook) return Status::Ok();
  RunEndFacts facts;
  facts.run = run;
  facts.state = state;
  facts.ended = FromRunEndMs(now_ms);
  FERRY_ASSIGN_OR_RETURN(
      state::SqlRows r,
      tx.Exec("SELECT source, destination, options, created FROM runs WHERE id = $1", {run}));
  if (r.rows.empty()) return Status::NotFound("run " + std::to_string(run) + " not found");
  facts.source = state::CellText(r.rows[0][0]);
  facts.destination = state::CellText(r.rows[0][1]);
  facts.options = state::CellText(r.rows[0][2]);
  facts.created = FromRunEndMs(state::CellInt(r.rows[0][3]));
  FERRY_ASSIGN_OR_RETURN(
      state::SqlRows counts,
      tx.Exec("SELECT kind, state, COUNT(*), COALESCE(SUM(objects), 0), COALESCE(SUM(bytes), 0),"
              " COALESCE(SUM(tally_objects), 0), COALESCE(SUM(tally_bytes), 0)"
              " FROM jobs WHERE run = $1 AND state IN ('done', 'dead') GROUP BY kind, state",
              {run}));
  for (const state::SqlRow& row : counts.rows) {
    RunEndKindCounts& k = facts.kinds[state::CellText(row[0])];
    const auto objects = static_cast<uint64_t>(state::CellInt(row[3]));
    const auto bytes = static_cast<uint64_t>(state::CellInt(row[4]));
    k.tally.objects += static_cast<uint64_t>(state::CellInt(row[5]));
    k.tally.bytes += static_cast<uint64_t>(state::CellInt(row[6]));
    if (state::CellText(row[1]) == "done") {
      k.done_objects += objects;
      k.done_bytes += bytes;
    } else {
      k.dead_jobs += static_cast<uint64_t>(state::CellInt(row[2]));
      k.dead_objects += objects;
      k.dead_bytes += bytes;
    }
  }
  FERRY_ASSIGN_OR_RETURN(
      state::SqlRows errors,
      tx.Exec("SELECT last_error FROM jobs WHERE run = $1 AND state = 'dead' ORDER BY id LIMIT 5",
              {run}));
  for (const state::SqlRow& row : errors.rows) facts.errors.push_back(state::CellText(row[0]));
  return hook(tx, facts);
}

}  // namespace internal
}  // namespace ferry::jobs
