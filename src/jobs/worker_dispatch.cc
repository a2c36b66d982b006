// Worker: one claimed job (contract in worker_impl.h): its run opened (once per run and
// worker), the job run on a thread of its own through its kind's handler, its outcome written
// to the store and counted; and the answer to a scan that asks whether to split its range.
#include <algorithm>
#include <random>
#include <thread>

#include "jobs/worker_impl.h"
#include "obs/log.h"
#include "retry/policy.h"

namespace ferry::jobs {

Result<RunContext*> Worker::Impl::Context(RunId run, bool* config_error) {
  *config_error = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = runs_.find(run); it != runs_.end()) return it->second.get();
  }
  // A location that cannot be opened (parsed, its remote found, its credentials loaded) is this
  // worker's problem, not the job's. Only a transient failure says otherwise.
  const BackendOpener opener = [&](const std::string& location, bool destination)
      -> Result<std::unique_ptr<storage::Backend>> {
    auto backend = opener_(location, destination);
    if (!backend.ok() && !backend.status().transient()) {
      *config_error = true;
      return Status::InvalidArgument(
          "cannot open the " + std::string(destination ? "destination" : "source") + " of run " +
          std::to_string(run) + ": " + backend.status().message());
    }
    return backend;
  };
  FERRY_ASSIGN_OR_RETURN(auto ctx, OpenRunContext(store_, run, opener, options_, kinds_, stats_));
  ctx->opener = opener_;  // `opener` above refers to this call's locals
  std::lock_guard lock(mu_);
  auto& slot = runs_[run];
  if (!slot) slot = std::move(ctx);
  return slot.get();
}

void Worker::Impl::Dispatch(ClaimedJob claimed, std::stop_token stop) {
  auto job = std::make_shared<ActiveJob>();
  {
    std::lock_guard lock(mu_);
    if (DeferWhileItsEarlierAttemptRunsLocked(claimed)) return;
    job->claimed = std::move(claimed);
    active_[job->claimed.job.id] = job;
    waiting_.erase(job->claimed.job.id);
  }
  bool config_error = false;
  auto ctx = Context(job->claimed.job.spec.run, &config_error);
  if (!ctx.ok() && config_error) {
    // A run this worker cannot open (unknown remote here, missing credentials): the job is
    // fine, this worker is not. Give it back uncounted and stop, with one line saying why.
    GiveBack(job->claimed);
    std::lock_guard lock(mu_);
    if (fatal_.ok()) fatal_ = ctx.status();
    EndActiveLocked(job);
    ++wakeups_;
    cv_.notify_all();
    return;
  }
  if (!ctx.ok()) {
    // Transient (the store or a server is down): retried after a backoff.
    return FinishJob(job, OutcomeOf(ctx.status(), job->claimed.job.attempts));
  }
  job->ctx = *ctx;
  const Job& j = job->claimed.job;
  job->handler = kinds_.Find(j.spec.kind);
  if (job->handler == nullptr) {
    // Not claimable (the claim names the kinds this worker has handlers for): give it back.
    GiveBack(job->claimed);
    std::lock_guard lock(mu_);
    EndActiveLocked(job);
    ++wakeups_;
    cv_.notify_all();
    return;
  }
  jobs_started_.WithLabels({j.spec.kind}).Add();
  obs::Log(options_.verbose ? obs::Level::kInfo : obs::Level::kDebug, "job started",
           {{"job", j.id}, {"kind", j.spec.kind}, {"run", j.spec.run}, {"attempt", j.attempts}});
  job->objects = job->handler->ObjectsInFlight(j, *job->ctx, options_);
  job->lister = job->handler->uses_lister_slot();
  {
    std::lock_guard lock(mu_);
    objects_in_flight_ += job->objects;
    listers_ += job->lister ? 1 : 0;
    ++threads_;
  }
  std::thread([this, job, stop] { RunJob(job, stop); }).detach();  // ~Impl waits for threads_
}

void Worker::Impl::RunJob(const std::shared_ptr<ActiveJob>& job, std::stop_token stop) {
  Control control(*this, *job);
  std::weak_ptr<ActiveJob> weak = job;
  JobContext ctx{.store = store_,
                 .run = *job->ctx,
                 .claimed = job->claimed,
                 .options = options_,
                 .stats = stats_,
                 .cancel = job->cancel.get_token(),
                 .worker_stop = stop,
                 .control = control,
                 .lease_lost = [this, weak](const Status& why) {
                   if (auto j = weak.lock()) LoseLease(*j, why);
                 }};
  JobResult result = job->handler->Run(ctx);
  if (!job->cannot_serve.ok()) {
    // As for a run this worker cannot open (Dispatch): stop, and give the job back uncounted
    // (the claim loop claims nothing more once fatal_ is set).
    {
      std::lock_guard lock(mu_);
      if (fatal_.ok()) fatal_ = job->cannot_serve;
    }
    GiveBack(job->claimed);
    std::lock_guard lock(mu_);
    objects_in_flight_ -= job->objects;
    listers_ -= job->lister ? 1 : 0;
    --threads_;
    EndActiveLocked(job);
    ++wakeups_;
    cv_.notify_all();
    return;
  }
  std::vector<JobSpec> more =
      result.outcome.kind == Outcome::Kind::kDone ? std::move(result.more) : std::vector<JobSpec>{};
  more.insert(more.end(), std::make_move_iterator(result.records.begin()),
              std::make_move_iterator(result.records.end()));
  FinishJob(job, result.outcome, more);
  std::lock_guard lock(mu_);
  listers_ -= job->lister ? 1 : 0;
  --threads_;
  cv_.notify_all();
}

// A scan splits its range when one more range to list can only help: nothing of its run waits
// to be claimed (every worker that could list or copy is busy, or idle for lack of work), and
// someone has room to take it: this worker has a free lister slot, or other workers are
// listing this run too (they free slots as their ranges end). Otherwise the range goes on
// whole: a split that nobody takes yet only makes ranges smaller than they need to be.
bool Worker::Impl::WantsSplit(const ActiveJob& job) {
  const RunId run = job.claimed.job.spec.run;
  const std::string& kind = job.claimed.job.spec.kind;
  const auto now = clock_.MonoNow();
  {
    std::lock_guard lock(mu_);
    if (auto it = no_split_until_.find(run); it != no_split_until_.end() && now < it->second) {
      return false;  // the last count said no, recently
    }
  }
  auto counts = store_.CountJobs(run);
  if (!counts.ok()) return false;
  // Waiting to be claimed: the queued jobs of the job's phase (those of later phases are
  // parked).
  const int phase = kinds_.PhaseOf(kind);
  uint64_t queued = 0;
  for (const auto& [name, c] : counts->by_kind) {
    if (kinds_.PhaseOf(name) == phase) queued += c.of(JobState::kQueued);
  }
  std::lock_guard lock(mu_);
  bool wants = queued == 0;
  if (wants && listers_ >= options_.list_concurrency) {
    uint64_t mine = 0;
    for (const auto& [id, other] : active_) {
      mine += other->claimed.job.spec.run == run && other->claimed.job.spec.kind == kind;
    }
    wants = counts->of(kind).of(JobState::kLeased) > mine;
  }
  if (wants) {
    no_split_until_.erase(run);
  } else {
    no_split_until_[run] = now + options_.split_recheck;
  }
  return wants;
}

Outcome OutcomeOf(const Status& s, int attempt) {
  Outcome o;
  if (s.ok()) return o;
  o.error = s.message();
  if (!IsTransient(s)) {
    o.kind = Outcome::Kind::kFail;
    return o;
  }
  o.kind = Outcome::Kind::kRetry;
  retry::Policy policy;
  policy.initial_delay = std::chrono::milliseconds(1000);
  policy.max_delay = std::chrono::milliseconds(60000);
  o.retry_after = retry::BackoffDelay(policy, std::max(1, attempt),
                                      static_cast<uint64_t>(std::random_device{}()) << 32 |
                                          std::random_device{}());
  // Full jitter draws 0 once in about a thousand first retries: the job was then due again at
  // once, claimed before its failure's cause (a throttled or restarting store) had a moment. A
  // retry waits a tenth of the first delay at least.
  o.retry_after = std::max(o.retry_after, policy.initial_delay / 10);
  return o;
}

void Worker::Impl::FinishJob(const std::shared_ptr<ActiveJob>& job, const Outcome& outcome,
                             const std::vector<JobSpec>& more) {
  Status s;
  // The store may be restarting: keep trying for a while, the work is done. A job whose lease
  // was lost belongs to another worker now: its outcome is not ours to write.
  for (int attempt = 0; attempt < 60 && !job->lost; ++attempt) {
    s = store_.Finish(job->claimed.lease, outcome, more);
    if (s.ok() || !s.transient()) break;
    clock_.SleepFor(std::chrono::milliseconds(500), {});
  }
  if (job->lost) {
    obs::Log(options_.verbose ? obs::Level::kInfo : obs::Level::kDebug,
             "job stopped: its lease was lost", {{"job", job->claimed.job.id}});
  } else if (!s.ok()) {
    obs::Log(obs::Level::kError, "job outcome not recorded",
             {{"job", job->claimed.job.id}, {"error", s.message()}});
  } else if (outcome.kind == Outcome::Kind::kRetry) {
    stats_.job_retries += 1;
  }
  if (!job->lost && s.ok() && outcome.kind != Outcome::Kind::kDone) {
    obs::Log(options_.verbose ? obs::Level::kInfo : obs::Level::kDebug,
             outcome.kind == Outcome::Kind::kRetry  ? "job will retry"
             : outcome.kind == Outcome::Kind::kWait ? "job waits"
                                                    : "job failed",
             {{"job", job->claimed.job.id}, {"kind", job->claimed.job.spec.kind},
              {"error", outcome.error}});
  }
  if (!job->lost && s.ok()) CountJob(job->claimed.job.spec.kind, outcome.kind);
  std::lock_guard lock(mu_);
  objects_in_flight_ -= job->objects;
  ++finished_;
  ++wakeups_;
  EndActiveLocked(job);
  cv_.notify_all();
}

bool Worker::Impl::DeferWhileItsEarlierAttemptRunsLocked(ClaimedJob& job) {
  auto it = active_.find(job.job.id);
  if (it == active_.end()) return false;
  LoseLease(*it->second, Status::FailedPrecondition(
                             "the lease ran out while the job ran here, and this worker claimed "
                             "it again: the new attempt starts once this one ended"));
  deferred_[job.job.id] = std::move(job);
  return true;
}

void Worker::Impl::EndActiveLocked(const std::shared_ptr<ActiveJob>& job) {
  const JobId id = job->claimed.job.id;
  auto it = active_.find(id);
  if (it == active_.end() || it->second != job) return;
  active_.erase(it);
  if (auto d = deferred_.find(id); d != deferred_.end()) {
    undeferred_.push_back(std::move(d->second));
    deferred_.erase(d);
    ++wakeups_;
  }
}

void Worker::Impl::CountJob(const std::string& kind, Outcome::Kind outcome) {
  jobs_finished_
      .WithLabels({kind, outcome == Outcome::Kind::kDone    ? "done"
                         : outcome == Outcome::Kind::kRetry ? "retry"
                         : outcome == Outcome::Kind::kWait  ? "wait"
                                                            : "dead"})
      .Add();
}

}  // namespace ferry::jobs
