// Worker: the claim loop (runs moved between phases, jobs claimed while there is room, the
// drain at the end). A job once claimed: worker_dispatch.cc; leases: worker_leases.cc; the
// state they share: worker_impl.h.
#include "jobs/worker.h"

#include <algorithm>

#include "jobs/worker_impl.h"
#include "obs/log.h"

namespace ferry::jobs {

Worker::Impl::Impl(JobStore& store, BackendOpener opener, WorkerOptions options,
                   transfer::Stats& stats)
    : store_(store),
      opener_(std::move(opener)),
      options_(std::move(options)),
      kinds_(options_.registry != nullptr ? *options_.registry : KindRegistry::Builtin()),
      clock_(ClockOr(options_.clock)),
      stats_(stats),
      jobs_started_(MetricsOf(options_).AddCounter(
          "ferry_jobs_started_total", "Job attempts this process started, by kind", {"kind"})),
      jobs_finished_(MetricsOf(options_).AddCounter(
          "ferry_jobs_finished_total",
          "Job attempts this process ended, by kind and outcome (done, retry, wait, dead)",
          {"kind", "outcome"})) {
  FERRY_CHECK(options_.executor != nullptr);  // required (worker.h): the process's executor
  // Only kinds this worker has a handler for are claimed: a job of a kind that a newer
  // ferry added waits for a worker that knows it.
  claim_filter_.kinds =
      options_.kinds.empty() ? kinds_.Names() : kinds_.WithCompanions(options_.kinds);
  claim_filter_.region = options_.region;
}

Worker::Impl::~Impl() {
  renewer_.request_stop();
  if (renewer_.joinable()) renewer_.join();
  std::unique_lock lock(mu_);  // every job's thread finishes its attempt
  cv_.wait(lock, [&] { return threads_ == 0; });
  lock.unlock();
  runs_.clear();  // engines drain and join
}

Worker::Worker(JobStore& store, BackendOpener opener, WorkerOptions options,
               transfer::Stats& stats)
    : impl_(std::make_unique<Impl>(store, std::move(opener), std::move(options), stats)) {}
Worker::~Worker() = default;

Status Worker::Run(std::stop_token stop, RunProgress* final) { return impl_->Run(stop, final); }

Status Worker::Impl::Run(std::stop_token stop, RunProgress* final) {
  renewer_ = std::jthread([this](std::stop_token st) { RenewLoop(st); });
  auto last_advance = Clock::MonoTime{};
  int store_failures = 0;
  while (!stop.stop_requested()) {
    bool finished_since;  // a job ended: the run may have reached its next phase
    uint64_t wakeups_seen;
    {
      std::lock_guard lock(mu_);
      finished_since = finished_ != finished_seen_;
      finished_seen_ = finished_;
      wakeups_seen = wakeups_;
    }
    if (finished_since || clock_.MonoNow() - last_advance > std::chrono::milliseconds(300)) {
      last_advance = clock_.MonoNow();
      if (AdvanceRuns(final)) return Drain(stop);
    }
    // The command's --max-transfer (or soft --max-duration, its deadline looked at here too) cut
    // the run: nothing more is claimed; the jobs in hand end (giving back the copies they could
    // not start) and the worker returns, the run unfinished.
    if (options_.cutoff != nullptr && options_.cutoff->CutNow()) return Drain(stop);
    std::vector<ClaimedJob> undeferred;
    {
      std::lock_guard lock(mu_);
      undeferred.swap(undeferred_);
    }
    DispatchClaimed(undeferred, stop);
    FERRY_ASSIGN_OR_RETURN(std::vector<ClaimedJob> claimed, ClaimSome(store_failures));
    DispatchClaimed(claimed, stop);
    if (Status fatal = Fatal(); !fatal.ok()) {
      FERRY_RETURN_IF_ERROR(Drain(stop));  // the jobs in hand end as usual
      return fatal;
    }
    if (claimed.empty()) {
      std::unique_lock lock(mu_);
      // Woken early when a job ends or hands work on (new jobs may have been enqueued, or the
      // run moved on), also when that happened since the top of this round.
      clock_.WaitUntil(cv_, lock, stop, clock_.MonoNow() + options_.idle_poll,
                       [&] { return wakeups_ != wakeups_seen; });
    }
  }
  return Drain(stop);
}

bool Worker::Impl::AdvanceRuns(RunProgress* final) {
  bool idle;
  std::vector<RunId> runs;
  {
    std::lock_guard lock(mu_);
    idle = active_.empty();
    for (const auto& [id, ctx] : runs_) runs.push_back(id);
  }
  if (options_.only_run != 0) runs = {options_.only_run};
  // Any worker may move a run it works on to its next phase (deletes, done).
  for (RunId run : runs) {
    auto progress = Worker::AdvanceRun(store_, run, &kinds_, clock_);
    // A run that is done, or blocked on dead jobs, is let go while this worker holds none
    // of its jobs: it stops being polled, and a claim of one of its jobs (after a redrive)
    // opens it again.
    if (progress.ok() && *progress != RunProgress::kWorking && run != options_.only_run) {
      std::unique_ptr<RunContext> finished;  // destroyed outside the lock (joins threads)
      std::lock_guard lock(mu_);
      if (auto it = runs_.find(run); it != runs_.end() && idle) {
        finished = std::move(it->second);
        runs_.erase(it);
      }
    }
    if (!progress.ok() || run != options_.only_run) continue;
    if (final != nullptr) *final = *progress;
    if (options_.exit_when_done && idle && *progress != RunProgress::kWorking) return true;
    if (options_.exit_when_done && options_.exit_when_kinds_drained && idle &&
        !options_.kinds.empty() && OwnKindsDrained(run)) {
      return true;
    }
  }
  return false;
}

Result<std::vector<ClaimedJob>> Worker::Impl::ClaimSome(int& store_failures) {
  const size_t max_objects = static_cast<size_t>(options_.concurrency) * 2;
  {
    std::lock_guard lock(mu_);
    if (objects_in_flight_ >= max_objects || listers_ >= options_.list_concurrency) {
      return std::vector<ClaimedJob>{};  // no room
    }
  }
  auto r = store_.Claim(options_.owner, options_.lease_ttl, 4, options_.only_run, claim_filter_);
  if (!r.ok()) {
    if (!r.status().transient() || ++store_failures > 100) return r.status();
    obs::Log(obs::Level::kWarn, "state store unreachable (retrying)",
             {{"error", r.status().message()}});
    return std::vector<ClaimedJob>{};
  }
  store_failures = 0;
  std::lock_guard lock(mu_);
  for (const ClaimedJob& c : *r) waiting_[c.job.id] = c.lease;
  return std::move(r).value();
}

void Worker::Impl::DispatchClaimed(std::vector<ClaimedJob>& claimed, std::stop_token stop) {
  for (auto& job : claimed) {
    if (!Fatal().ok()) {
      {
        std::lock_guard lock(mu_);
        waiting_.erase(job.job.id);
      }
      GiveBack(job);  // claimed in the same batch as the job that could not be opened
    } else {
      Dispatch(std::move(job), stop);
    }
  }
}

Status Worker::Impl::Fatal() {
  std::lock_guard lock(mu_);
  return fatal_;
}

bool Worker::Impl::OwnKindsDrained(RunId run) {
  auto counts = store_.CountJobs(run);
  if (!counts.ok()) return false;
  for (const auto& [kind, k] : counts->by_kind) {
    if (k.active() > 0 &&
        std::find(options_.kinds.begin(), options_.kinds.end(), kind) != options_.kinds.end()) {
      return false;
    }
  }
  return true;
}

Status Worker::Impl::Drain(std::stop_token stop) {
  if (stop.stop_requested()) {
    std::lock_guard lock(mu_);
    for (auto& [id, ctx] : runs_) ctx->engine->Cancel();
  }
  for (;;) {
    std::unique_lock lock(mu_);
    if (active_.empty()) break;
    clock_.WaitUntil(cv_, lock, {}, clock_.MonoNow() + std::chrono::milliseconds(100),
                     [&] { return active_.empty(); });
  }
  // Claims that waited for an earlier attempt of their job (deferred_ is empty once no job
  // runs): given back, not left to run out.
  std::vector<ClaimedJob> undeferred;
  {
    std::lock_guard lock(mu_);
    undeferred.swap(undeferred_);
    for (const ClaimedJob& c : undeferred) waiting_.erase(c.job.id);
  }
  for (const ClaimedJob& c : undeferred) GiveBack(c);
  return Status::Ok();
}

}  // namespace ferry::jobs
