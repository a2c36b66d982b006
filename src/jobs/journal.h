// StoreJournal: a job's upload checkpoints in the JobStore (journal.cc), the UploadJournal of
// every kind that writes objects in parts (a transfer job's large object, a replicate-keys
// job's large version).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "jobs/job_store.h"
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

}  // namespace ferry::jobs
