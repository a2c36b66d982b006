// Worker: the leases (contract in worker_impl.h and worker.h): renewals of the jobs in hand
// and of those claimed but not dispatched yet, a lost lease stopping its job, a job given back
// unworked; and owners (DefaultOwner), from which the leases of this machine's dead processes
// are told and ended.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <set>

#include "jobs/worker_impl.h"
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
