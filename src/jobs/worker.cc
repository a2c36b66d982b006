// Worker: the claim loop, job dispatch, lease renewal and the completion of transfer jobs.
#include "jobs/worker.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <set>

#include <cstdio>
#include <random>

#include "jobs/worker_internal.h"
#include "retry/policy.h"

namespace ferry::jobs {

std::string DefaultOwner() {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

Result<uint64_t> Worker::ReleaseLeasesOfDeadLocalOwners(JobStore& store, RunId run) {
  FERRY_ASSIGN_OR_RETURN(auto leased, store.ListJobs(run, JobState::kLeased, 100000));
  const std::string me = DefaultOwner();
  const std::string host = me.substr(0, me.rfind(':') + 1);
  std::set<std::string> dead;
  for (const Job& j : leased) {
    const std::string& owner = j.lease_owner;
    if (owner.rfind(host, 0) != 0 || owner == me) continue;
    const long pid = std::strtol(owner.c_str() + host.size(), nullptr, 10);
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
  size_t objects = 0;  // counted in objects_in_flight_
  std::atomic<int> remaining{0};
  std::mutex mu;
  std::vector<transfer::CopyRequest> failed;  // GUARDED_BY(mu)
  Status permanent;                            // GUARDED_BY(mu): first permanent failure
  Status transient;                            // GUARDED_BY(mu): first transient failure
};

class Worker::Impl {
 public:
  Impl(JobStore& store, BackendOpener opener, WorkerOptions options, transfer::Stats& stats)
      : store_(store), opener_(std::move(opener)), options_(std::move(options)), stats_(stats) {}

  ~Impl() {
    renewer_.request_stop();
    if (renewer_.joinable()) renewer_.join();
    std::unique_lock lock(mu_);  // scans and deletes finish their attempt
    cv_.wait(lock, [&] { return side_running_ == 0; });
    lock.unlock();
    runs_.clear();  // engines drain and join
  }

  Status Run(std::stop_token stop, RunProgress* final);

 private:
  Status Drain(std::stop_token stop);
  Result<RunContext*> Context(RunId run);
  void Dispatch(ClaimedJob job, std::stop_token stop);
  void StartTransfer(std::shared_ptr<ActiveJob> job);
  void ObjectDone(const std::shared_ptr<ActiveJob>& job, const transfer::CopyRequest& r,
                  const Status& s);
  void FinishJob(const std::shared_ptr<ActiveJob>& job, const Outcome& outcome,
                 const std::vector<JobSpec>& more = {});
  Outcome OutcomeOf(const Status& s, int attempt) const;
  bool WantsSplit(RunId run);
  // ScanControl of one scan job: asks the store, hands work on under the job's lease.
  class JobScanControl : public ScanControl {
   public:
    JobScanControl(Impl& impl, ActiveJob& job) : impl_(impl), job_(job) {}
    bool WantsSplit() override { return impl_.WantsSplit(job_.claimed.job.spec.run); }
    Status HandOff(const KeyRange& kept, const KeyRange& rest) override {
      FERRY_RETURN_IF_ERROR(impl_.store_.HandOff(job_.claimed.lease, EncodeScan(kept),
                                                 {ScanJob(*job_.ctx, rest)}));
      std::lock_guard lock(impl_.mu_);
      ++impl_.wakeups_;  // the claim loop may have room for it
      impl_.cv_.notify_all();
      return Status::Ok();
    }

   private:
    Impl& impl_;
    ActiveJob& job_;
  };
  void RenewLoop(std::stop_token stop);

  JobStore& store_;
  BackendOpener opener_;
  const WorkerOptions options_;
  transfer::Stats& stats_;

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<RunId, std::unique_ptr<RunContext>> runs_;      // GUARDED_BY(mu_)
  std::map<JobId, std::shared_ptr<ActiveJob>> active_;     // GUARDED_BY(mu_)
  size_t objects_in_flight_ = 0;                           // GUARDED_BY(mu_)
  uint64_t finished_ = 0;       // GUARDED_BY(mu_): jobs ended so far
  uint64_t finished_seen_ = 0;  // GUARDED_BY(mu_): as of the last look of the claim loop
  uint64_t wakeups_ = 0;        // GUARDED_BY(mu_): jobs ended or handed on (claim loop wakes)
  // GUARDED_BY(mu_): per run, until when WantsSplit answers "no" without asking the store.
  std::map<RunId, std::chrono::steady_clock::time_point> no_split_until_;
  int side_running_ = 0;                                   // GUARDED_BY(mu_): scans+deletes
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
  auto last_advance = std::chrono::steady_clock::time_point{};
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
    if (finished_since ||
        std::chrono::steady_clock::now() - last_advance > std::chrono::milliseconds(300)) {
      last_advance = std::chrono::steady_clock::now();
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
        auto progress = Worker::AdvanceRun(store_, run);
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
      }
    }
    bool room;
    {
      std::lock_guard lock(mu_);
      room = objects_in_flight_ < max_objects && side_running_ < options_.list_concurrency;
    }
    std::vector<ClaimedJob> claimed;
    if (room) {
      auto r = store_.Claim(options_.owner, options_.lease_ttl, 4, options_.only_run);
      if (!r.ok()) {
        if (!r.status().transient() || ++store_failures > 100) return r.status();
        std::fprintf(stderr, "ferry: state store: %s (retrying)\n", r.status().message().c_str());
      } else {
        store_failures = 0;
        claimed = std::move(r).value();
      }
    }
    for (auto& job : claimed) Dispatch(std::move(job), stop);
    if (claimed.empty()) {
      std::unique_lock lock(mu_);
      // Woken early when a job ends or hands work on (new jobs may have been enqueued, or the
      // run moved on), also when that happened since the top of this round.
      cv_.wait_for(lock, stop, options_.idle_poll, [&] { return wakeups_ != wakeups_seen; });
    }
  }
  return Drain(stop);
}

// Stop requested or done: lets the jobs in hand finish (their engines stop on Cancel).
Status Worker::Impl::Drain(std::stop_token stop) {
  if (stop.stop_requested()) {
    std::lock_guard lock(mu_);
    for (auto& [id, ctx] : runs_) ctx->engine->Cancel();
  }
  for (;;) {
    std::unique_lock lock(mu_);
    if (active_.empty()) break;
    cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return active_.empty(); });
  }
  return Status::Ok();
}

Result<RunContext*> Worker::Impl::Context(RunId run) {
  {
    std::lock_guard lock(mu_);
    if (auto it = runs_.find(run); it != runs_.end()) return it->second.get();
  }
  FERRY_ASSIGN_OR_RETURN(auto ctx, OpenRunContext(store_, run, opener_, options_, stats_));
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
  }
  auto ctx = Context(job->claimed.job.spec.run);
  if (!ctx.ok()) {
    // A run this worker cannot open (bad credentials, unknown remote here): give it back.
    return FinishJob(job, OutcomeOf(ctx.status(), job->claimed.job.attempts));
  }
  job->ctx = *ctx;
  const Job& j = job->claimed.job;
  if (options_.verbose) {
    std::fprintf(stderr, "job %lld: %s (run %lld, attempt %d)\n", static_cast<long long>(j.id),
                 std::string(JobKindName(j.spec.kind)).c_str(),
                 static_cast<long long>(j.spec.run), j.attempts);
  }
  if (j.spec.kind == JobKind::kTransfer) return StartTransfer(job);
  {
    std::lock_guard lock(mu_);
    ++side_running_;
  }
  std::thread([this, job, stop] {
    const Job& j = job->claimed.job;
    std::vector<JobSpec> more;
    Status s;
    if (j.spec.kind == JobKind::kScan) {
      auto range = DecodeScan(j.spec.payload);
      JobScanControl control(*this, *job);
      s = range.ok() ? ScanChunk(*job->ctx, *range, options_, control, stats_, more)
                     : range.status();
      s = s.WithContext("scan");
    } else {
      auto keys = DecodeDelete(j.spec.payload);
      s = keys.ok() ? job->ctx->dst->DeleteMany(*keys, stop) : keys.status();
      if (s.ok()) stats_.objects_deleted += keys->size();
      s = s.WithContext("delete");
    }
    FinishJob(job, OutcomeOf(s, j.attempts), s.ok() ? more : std::vector<JobSpec>{});
    std::lock_guard lock(mu_);
    --side_running_;
    cv_.notify_all();
  }).detach();  // ~Impl waits for side_running_ to reach 0
}

void Worker::Impl::StartTransfer(std::shared_ptr<ActiveJob> job) {
  auto objects = DecodeTransfer(job->claimed.job.spec.payload);
  if (!objects.ok()) return FinishJob(job, OutcomeOf(objects.status(), 1 << 20));
  if (objects->empty()) return FinishJob(job, Outcome{});
  job->remaining = static_cast<int>(objects->size());
  job->objects = objects->size();
  {
    std::lock_guard lock(mu_);
    objects_in_flight_ += job->objects;
  }
  const bool single_large = objects->size() == 1 &&
                            (*objects)[0].src.size >= job->ctx->options.multipart_threshold;
  for (auto& r : *objects) {
    stats_.objects_planned += 1;
    stats_.bytes_planned += r.src.size;
    if (single_large) {
      r.journal = std::make_shared<StoreJournal>(store_, job->claimed.job.id, r.src.key);
    }
    transfer::CopyRequest copy = r;
    copy.done = [this, job, r](const Status& s) { ObjectDone(job, r, s); };
    job->ctx->engine->Copy(std::move(copy));
  }
}

void Worker::Impl::ObjectDone(const std::shared_ptr<ActiveJob>& job,
                              const transfer::CopyRequest& r, const Status& s) {
  if (!s.ok()) {
    std::lock_guard lock(job->mu);
    transfer::CopyRequest failed = r;
    failed.journal.reset();
    job->failed.push_back(std::move(failed));
    Status& slot = IsTransient(s) ? job->transient : job->permanent;
    if (slot.ok()) slot = s.WithContext(r.src.key);
  }
  if (job->remaining.fetch_sub(1) != 1) return;
  Outcome outcome;
  {
    std::lock_guard lock(job->mu);
    if (!job->failed.empty()) {
      outcome = OutcomeOf(job->permanent.ok() ? job->transient : job->permanent,
                          job->claimed.job.attempts);
      outcome.payload = EncodeTransfer(job->failed);
    }
  }
  FinishJob(job, outcome);
}

// A scan splits its range when one more range to list can only help: nothing of its run waits
// to be claimed (every worker that could list or copy is busy, or idle for lack of work), and
// someone has room to take it: this worker has a free lister slot, or other workers are
// listing this run too (they free slots as their ranges end). Otherwise the range goes on
// whole: a split that nobody takes yet only makes ranges smaller than they need to be.
bool Worker::Impl::WantsSplit(RunId run) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = no_split_until_.find(run); it != no_split_until_.end() && now < it->second) {
      return false;  // the last count said no, recently
    }
  }
  auto counts = store_.CountJobs(run);
  if (!counts.ok()) return false;
  auto count = [&](JobKind k, JobState s) {
    return counts->by_kind[static_cast<size_t>(k)][static_cast<size_t>(s)];
  };
  std::lock_guard lock(mu_);
  bool wants = count(JobKind::kScan, JobState::kQueued) +
                   count(JobKind::kTransfer, JobState::kQueued) ==
               0;
  if (wants && side_running_ >= options_.list_concurrency) {
    uint64_t mine = 0;
    for (const auto& [id, job] : active_) {
      mine += job->claimed.job.spec.run == run && job->claimed.job.spec.kind == JobKind::kScan;
    }
    wants = count(JobKind::kScan, JobState::kLeased) > mine;
  }
  if (wants) {
    no_split_until_.erase(run);
  } else {
    no_split_until_[run] = now + options_.split_recheck;
  }
  return wants;
}

Outcome Worker::Impl::OutcomeOf(const Status& s, int attempt) const {
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
  // The store may be restarting: keep trying for a while, the work is done.
  for (int attempt = 0; attempt < 60; ++attempt) {
    s = store_.Finish(job->claimed.lease, outcome, more);
    if (s.ok() || !s.transient()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!s.ok()) {
    std::fprintf(stderr, "ferry: job %lld: %s\n", static_cast<long long>(job->claimed.job.id),
                 s.message().c_str());
  } else if (outcome.kind != Outcome::Kind::kDone && options_.verbose) {
    std::fprintf(stderr, "job %lld %s: %s\n", static_cast<long long>(job->claimed.job.id),
                 outcome.kind == Outcome::Kind::kRetry ? "will retry" : "failed",
                 outcome.error.c_str());
  }
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
      if (cv.wait_for(lock, stop, period, [] { return false; }) || stop.stop_requested()) return;
    }
    std::vector<Lease> leases;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, job] : active_) leases.push_back(job->claimed.lease);
    }
    for (const Lease& lease : leases) {
      Status s = store_.Renew(lease, options_.lease_ttl);
      if (!s.ok() && options_.verbose) {
        std::fprintf(stderr, "ferry: renew lease of job %lld: %s\n",
                     static_cast<long long>(lease.job), s.message().c_str());
      }
    }
  }
}

}  // namespace ferry::jobs
