// LeaseFence: a job's writes start only while it surely holds its lease.
//
// A worker renews its jobs' leases from a thread of its own; a worker cut off from the state
// database (a partition, a stalled machine) cannot renew, and another worker claims the job
// once the lease ran out on the database's clock. Without a fence the first one keeps writing
// what the second writes too: an older version after a newer one, an archive deleted under the
// other's unpack. Check() is called right before each write that makes something visible: it
// passes while this fence renewed the lease less than half a lease time ago (on the worker's
// clock), else renews it now. A write so starts at least half a lease time before another
// worker could claim the job. A lease found lost (or the job cancelled) is kCancelled and tells
// the worker (JobContext::lease_lost), which stops the job; a database that cannot be reached
// is that error: no write starts.
//
// Thread-safety: Check() may be called from any number of threads at once.
#pragma once

#include <mutex>
#include <optional>

#include "base/clock.h"
#include "jobs/kinds/handler.h"

namespace ferry::jobs {

class LeaseFence {
 public:
  explicit LeaseFence(JobContext& ctx);
  Status Check();

 private:
  JobContext& ctx_;
  Clock& clock_;  // the worker's
  std::mutex mu_;
  std::optional<Clock::MonoTime> renewed_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::jobs
