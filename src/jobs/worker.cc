// Worker: the claim loop, job dispatch, lease renewal and the completion of transfer jobs.
#include "jobs/worker.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <set>

#include "jobs/kinds/registry.h"
#include "jobs/worker_internal.h"
#include "retry/policy.h"
#include "obs/log.h"

namespace ferry::jobs {

namespace {

bool IsHex(std::string_view s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The first 8 hex digits of this boot's id, or "-" when the kernel does not say.
std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  id = id.substr(0, 8);
  return IsHex(id, 8) ? id : "-";
}

// The parts of an owner written by DefaultOwner; nullopt for any other owner text.
struct OwnerId {
  std::string host;
  long pid = 0;
  std::string boot;
};
std::optional<OwnerId> ParseOwner(std::string_view owner) {
  std::string_view fields[3];  // pid, boot, nonce: taken from the right (a host has no ':')
  for (int i = 2; i >= 0; --i) {
    const size_t colon = owner.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    fields[i] = owner.substr(colon + 1);
    owner = owner.substr(0, colon);
  }
  OwnerId id;
  id.host = std::string(owner);
  if (id.host.empty() || fields[0].empty() || !IsHex(fields[2], 8)) return std::nullopt;
  if (fields[0].find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  id.pid = std::strtol(std::string(fields[0]).c_str(), nullptr, 10);
  id.boot = std::string(fields[1]);
  return id;
}

}  // namespace

std::string DefaultOwner() {
  static const std::string nonce = [] {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(std::random_device{}()));
    return std::string(hex);
  }();
  static const std::string boot = BootId();
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + boot + ":" + nonce;
}

Result<uint64_t> Worker::ReleaseLeasesOfDeadLocalOwners(JobStore& store, RunId run) {
  FERRY_ASSIGN_OR_RETURN(auto leased, store.ListJobs(run, JobState::kLeased, 100000));
  const std::string me = DefaultOwner();
  const std::optional<OwnerId> self = ParseOwner(me);
  if (!self || !IsHex(self->boot, 8)) return uint64_t{0};  // cannot tell this boot from another
  std::set<std::string> dead;
  for (const Job& j : leased) {
    const std::string& owner = j.lease_owner;
    if (owner == me) continue;
    // Only a process of this very machine and boot can be known dead: a host name alone is
    // shared by containers and clones, and pids start over at a reboot.
    const std::optional<OwnerId> other = ParseOwner(owner);
    if (!other || other->host != self->host || other->boot != self->boot) continue;
    const long pid = other->pid;
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) dead.insert(owner);
  }
  uint64_t n = 0;
  for (const std::string& owner : dead) {
    FERRY_ASSIGN_OR_RETURN(uint64_t released, store.ExpireLeases(owner));
    n += released;
  }
  return n;
}

// One job this worker holds a lease on.
struct Worker::ActiveJob {
  ClaimedJob claimed;
  RunContext* ctx = nullptr;
  const JobHandler* handler = nullptr;
  // Requested when the lease is lost: the job's requests stop (CopyRequest::cancel, the scan's
  // listing, a delete batch) and it ends without Finish.
  std::stop_source cancel;
  std::atomic<bool> lost{false};
  size_t objects = 0;    // counted in objects_in_flight_
  bool lister = false;   // counted in listers_
  Status cannot_serve;   // set by JobControl::CannotServe (from the job's own thread)
};

class Worker::Impl {
 public:
  Impl(JobStore& store, BackendOpener opener, WorkerOptions options, transfer::Stats& stats)
      : store_(store),
        opener_(std::move(opener)),
        own_executor_(options.executor != nullptr
                          ? nullptr
                          : std::make_unique<transfer::Executor>(transfer::ExecutorOptions{
                                .concurrency = options.concurrency,
                                .memory_budget = options.memory_budget,
                                .adaptive = options.adaptive_concurrency})),
        options_(WithExecutor(std::move(options), own_executor_.get())),
        kinds_(options_.registry != nullptr ? *options_.registry : KindRegistry::Builtin()),
        clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Default()),
        stats_(stats),
        jobs_started_(MetricsOf(options_).AddCounter(
            "ferry_jobs_started_total", "Job attempts this process started, by kind", {"kind"})),
        jobs_finished_(MetricsOf(options_).AddCounter(
            "ferry_jobs_finished_total",
            "Job attempts this process ended, by kind and outcome (done, retry, wait, dead)",
            {"kind", "outcome"})) {
    // Only kinds this worker has a handler for are claimed: a job of a kind that a newer
    // ferry added waits for a worker that knows it.
    claim_filter_.kinds = options_.kinds.empty() ? kinds_.Names() : options_.kinds;
    claim_filter_.region = options_.region;
  }

  ~Impl() {
    renewer_.request_stop();
    if (renewer_.joinable()) renewer_.join();
    std::unique_lock lock(mu_);  // every job's thread finishes its attempt
    cv_.wait(lock, [&] { return threads_ == 0; });
    lock.unlock();
    runs_.clear();  // engines drain and join
  }

  Status Run(std::stop_token stop, RunProgress* final);

 private:
  Status Drain(std::stop_token stop);
  // Whether `run` has no queued or leased job of the kinds this worker serves.
  bool OwnKindsDrained(RunId run);
  // The run's context; `*config_error` tells whether a failure says this worker cannot open
  // the run's locations at all (a location it cannot parse, an unknown remote, missing
  // credentials) rather than that something is down for now.
  Result<RunContext*> Context(RunId run, bool* config_error);
  void Dispatch(ClaimedJob job, std::stop_token stop);
  // Gives a claimed job back unworked (JobStore::Release: the attempt does not count).
  void GiveBack(const ClaimedJob& job);
  // The lease of `job` is lost: cancels its work, once.
  void LoseLease(ActiveJob& job, const Status& why);
  void FinishJob(const std::shared_ptr<ActiveJob>& job, const Outcome& outcome,
                 const std::vector<JobSpec>& more = {});
  bool WantsSplit(const ActiveJob& job);
  // JobControl of one job: asks the store, hands work on under the job's lease.
  class Control : public JobControl {
   public:
    Control(Impl& impl, ActiveJob& job) : impl_(impl), job_(job) {}
    bool WantsSplit() override { return impl_.WantsSplit(job_); }
    Status HandOff(std::string_view kept, const std::vector<JobSpec>& more) override {
      Status s = impl_.store_.HandOff(job_.claimed.lease, kept, more);
      if (s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kNotFound) {
        impl_.LoseLease(job_, s);
      }
      FERRY_RETURN_IF_ERROR(s);
      std::lock_guard lock(impl_.mu_);
      ++impl_.wakeups_;  // the claim loop may have room for it
      impl_.cv_.notify_all();
      return Status::Ok();
    }
    void CannotServe(const Status& why) override {
      job_.cannot_serve = why.ok() ? Status::InvalidArgument("cannot serve the job") : why;
    }

   private:
    Impl& impl_;
    ActiveJob& job_;
  };
  void RenewLoop(std::stop_token stop);

  static obs::Registry& MetricsOf(const WorkerOptions& o) {
    return o.metrics != nullptr ? *o.metrics : obs::DefaultRegistry();
  }
  static WorkerOptions WithExecutor(WorkerOptions o, transfer::Executor* own) {
    if (o.executor == nullptr) o.executor = own;
    return o;
  }

  JobStore& store_;
  BackendOpener opener_;
  // The executor of every run served here when none was given; outlives runs_ (their engines).
  std::unique_ptr<transfer::Executor> own_executor_;
  const WorkerOptions options_;
  const KindRegistry& kinds_;
  Clock& clock_;
  ClaimFilter claim_filter_;
  transfer::Stats& stats_;
  // Jobs by kind (and outcome), for /metrics (WorkerOptions::metrics).
  obs::FamilyRef<obs::Counter> jobs_started_;
  obs::FamilyRef<obs::Counter> jobs_finished_;
  void CountJob(const std::string& kind, Outcome::Kind outcome) {
    jobs_finished_
        .WithLabels({kind, outcome == Outcome::Kind::kDone    ? "done"
                           : outcome == Outcome::Kind::kRetry ? "retry"
                           : outcome == Outcome::Kind::kWait  ? "wait"
                                                              : "dead"})
        .Add();
  }

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<RunId, std::unique_ptr<RunContext>> runs_;      // GUARDED_BY(mu_)
  std::map<JobId, std::shared_ptr<ActiveJob>> active_;     // GUARDED_BY(mu_)
  // GUARDED_BY(mu_): jobs claimed but not dispatched yet (dispatching a batch may wait for room
  // in the engine's queue): their leases are renewed too, or they expire while we hold them.
  std::map<JobId, Lease> waiting_;
  size_t objects_in_flight_ = 0;                           // GUARDED_BY(mu_)
  uint64_t finished_ = 0;       // GUARDED_BY(mu_): jobs ended so far
  uint64_t finished_seen_ = 0;  // GUARDED_BY(mu_): as of the last look of the claim loop
  uint64_t wakeups_ = 0;        // GUARDED_BY(mu_): jobs ended or handed on (claim loop wakes)
  // GUARDED_BY(mu_): per run, until when WantsSplit answers "no" without asking the store.
  std::map<RunId, Clock::MonoTime> no_split_until_;
  int listers_ = 0;   // GUARDED_BY(mu_): jobs running that take a lister slot
  int threads_ = 0;   // GUARDED_BY(mu_): job threads running
  // GUARDED_BY(mu_): why this worker cannot go on (a run it cannot open): Run stops claiming,
  // lets the jobs in hand end and returns it.
  Status fatal_;
  std::jthread renewer_;
};

Worker::Worker(JobStore& store, BackendOpener opener, WorkerOptions options,
               transfer::Stats& stats)
    : impl_(std::make_unique<Impl>(store, std::move(opener), std::move(options), stats)) {}
Worker::~Worker() = default;

Status Worker::Run(std::stop_token stop, RunProgress* final) { return impl_->Run(stop, final); }

Status Worker::Impl::Run(std::stop_token stop, RunProgress* final) {
  renewer_ = std::jthread([this](std::stop_token st) { RenewLoop(st); });
  const size_t max_objects = static_cast<size_t>(options_.concurrency) * 2;
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
        if (options_.exit_when_done && idle && *progress != RunProgress::kWorking) return Drain(stop);
        if (options_.exit_when_done && options_.exit_when_kinds_drained && idle &&
            !options_.kinds.empty() && OwnKindsDrained(run)) {
          return Drain(stop);
        }
      }
    }
    bool room;
    {
      std::lock_guard lock(mu_);
      room = objects_in_flight_ < max_objects && listers_ < options_.list_concurrency;
    }
    std::vector<ClaimedJob> claimed;
    if (room) {
      auto r = store_.Claim(options_.owner, options_.lease_ttl, 4, options_.only_run,
                            claim_filter_);
      if (!r.ok()) {
        if (!r.status().transient() || ++store_failures > 100) return r.status();
        obs::Log(obs::Level::kWarn, "state store unreachable (retrying)",
                 {{"error", r.status().message()}});
      } else {
        store_failures = 0;
        claimed = std::move(r).value();
        std::lock_guard lock(mu_);
        for (const ClaimedJob& c : claimed) waiting_[c.job.id] = c.lease;
      }
    }
    for (auto& job : claimed) {
      bool fatal;
      {
        std::lock_guard lock(mu_);
        fatal = !fatal_.ok();
      }
      if (fatal) {
        {
          std::lock_guard lock(mu_);
          waiting_.erase(job.job.id);
        }
        GiveBack(job);  // claimed in the same batch as the job that could not be opened
      } else {
        Dispatch(std::move(job), stop);
      }
    }
    Status fatal;
    {
      std::lock_guard lock(mu_);
      fatal = fatal_;
    }
    if (!fatal.ok()) {
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

// Stop requested or done: lets the jobs in hand finish (their engines stop on Cancel).
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
  return Status::Ok();
}

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
  job->claimed = std::move(claimed);
  {
    std::lock_guard lock(mu_);
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
    active_.erase(job->claimed.job.id);
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
    active_.erase(j.id);
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
  std::thread([this, job, stop] {
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
      active_.erase(job->claimed.job.id);
      ++wakeups_;
      cv_.notify_all();
      return;
    }
    FinishJob(job, result.outcome,
              result.outcome.kind == Outcome::Kind::kDone ? result.more : std::vector<JobSpec>{});
    std::lock_guard lock(mu_);
    listers_ -= job->lister ? 1 : 0;
    --threads_;
    cv_.notify_all();
  }).detach();  // ~Impl waits for threads_ to reach 0
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
  active_.erase(job->claimed.job.id);
  cv_.notify_all();
}

void Worker::Impl::RenewLoop(std::stop_token stop) {
  const auto period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(100),
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease_ttl) / 3);
  std::mutex mu;
  std::condition_variable_any cv;
  for (;;) {
    {
      std::unique_lock lock(mu);
      clock_.WaitUntil(cv, lock, stop, clock_.MonoNow() + period, [] { return false; });
      if (stop.stop_requested()) return;
    }
    std::vector<std::shared_ptr<ActiveJob>> jobs;
    std::vector<Lease> waiting;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, job] : active_) {
        if (!job->lost) jobs.push_back(job);
      }
      for (const auto& [id, lease] : waiting_) waiting.push_back(lease);
    }
    for (const Lease& lease : waiting) {  // claimed, not dispatched yet: keep them ours
      Status s = store_.Renew(lease, options_.lease_ttl);
      if (!s.ok()) {
        obs::Log(obs::Level::kWarn, "lease renewal failed",
                 {{"job", lease.job}, {"error", s.message()}});
      }
    }
    for (const auto& job : jobs) {
      Status s = store_.Renew(job->claimed.lease, options_.lease_ttl);
      if (s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kNotFound) {
        LoseLease(*job, s);  // another worker took the job over (or it is gone)
      } else if (!s.ok()) {
        obs::Log(obs::Level::kWarn, "lease renewal failed",
                 {{"job", job->claimed.lease.job}, {"error", s.message()}});
      }
    }
  }
}

void Worker::Impl::LoseLease(ActiveJob& job, const Status& why) {
  if (job.lost.exchange(true)) return;
  obs::Log(obs::Level::kWarn, "lease lost, stopping its work",
           {{"job", job.claimed.job.id}, {"error", why.message()}});
  job.cancel.request_stop();
}

void Worker::Impl::GiveBack(const ClaimedJob& job) {
  Status s;
  for (int attempt = 0; attempt < 20; ++attempt) {
    s = store_.Release(job.lease);
    if (s.ok() || !s.transient()) break;
    clock_.SleepFor(std::chrono::milliseconds(500), {});
  }
  if (!s.ok()) {
    // The lease then expires as usual, and the attempt counts.
    obs::Log(obs::Level::kWarn, "giving a job back failed",
             {{"job", job.job.id}, {"error", s.message()}});
  }
}

}  // namespace ferry::jobs
