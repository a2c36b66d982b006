// Internals of jobs::Worker shared by worker.cc, scan.cc, delete_job.cc and the handlers of
// jobs' own kinds (kinds/). What other modules' handlers use is public: run_context.h (the
// run), scan.h (a scan chunk), kinds/handler.h, kinds/lease_fence.h, kinds/run_hook.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "jobs/payload.h"
#include "jobs/run_context.h"
#include "jobs/scan.h"
#include "jobs/worker.h"
#include "transfer/engine.h"
#include "transfer/journal.h"

namespace ferry::jobs {

// Checkpoints of one upload of a job (UploadRef: a transfer job's large object, a replicate-keys
// job's large version on one destination), kept in the JobStore under the job's lease.
// When the store says the lease is lost, the write fails with kCancelled (so the engine keeps
// the upload for the job's new holder instead of aborting it) and `on_lost` is called with the
// store's answer (the worker cancels the job's work).
class StoreJournal : public transfer::UploadJournal {
 public:
  StoreJournal(JobStore& store, Lease lease, UploadRef ref,
               std::function<void(const Status&)> on_lost = {})
      : store_(store),
        lease_(std::move(lease)),
        ref_(std::move(ref)),
        on_lost_(std::move(on_lost)) {}
  Result<std::optional<Upload>> Load() override;
  Status Creating(const std::string& source) override;
  Status Begin(const std::string& upload_id, uint64_t part_size,
               const std::string& source) override;
  Status PartDone(const Part& part) override;
  Status Clear() override;

 private:
  Status Fenced(Status s);

  JobStore& store_;
  const Lease lease_;
  const UploadRef ref_;
  const std::function<void(const Status&)> on_lost_;
};


// A delete job of ctx's run (delete_job.cc): deletes those of `keys` that the source lacks
// now. Each key is checked against the source right before (one listing of the keys' range,
// or a Stat per key when there are few): a key the source has now, whatever the run's filter
// says of it, is kept and counted in stats.deletes_kept; the others count as deleted.
Status RunDeleteJob(RunContext& ctx, std::vector<std::string> keys, transfer::Stats& stats,
                    std::stop_token stop);

// How an attempt ends given the statuses of its objects.
bool IsTransient(const Status& s);

}  // namespace ferry::jobs
