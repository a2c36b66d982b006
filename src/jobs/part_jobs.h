// Part jobs: one large object of a durable run spread over the run's workers
// (docs/design/part-jobs.md). The object's transfer job stays its *owner*: it opens (or
// resumes) the multipart upload, recorded in its own checkpoint as a single-job copy does, and
// hands out its parts as "part" jobs, each a range of parts, in one transaction with its new
// payload (JobStore::HandOff). Any worker claims a part job; it writes the missing parts of its
// range into the owner's upload and checkpoints each in the owner's checkpoint
// (JobStore::SaveSharedPart, fenced by the part job's own lease), so a killed worker loses only
// the parts it had in flight. The owner waits (Outcome::kWait: its attempt not counted) and is
// claimed again every kOwnerPoll; once every part is checkpointed, or no part job of the run is
// left to run, it completes the object as a single-job copy does: the engine resumes the
// upload, sends whatever part is still missing, checks the object's checksum and commits. Only
// the owner commits, under its lease, so the completion happens once; a failed completion is
// retried from the checkpoints, never uploaded again.
//
// Nothing changes for runs without a state store, nor for runs whose `part_jobs_min_parts` is
// 0 (the default of runs stored before it existed).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job_store.h"
#include "jobs/journal.h"
#include "jobs/kinds/handler.h"
#include "jobs/run_context.h"
#include "transfer/engine.h"

namespace ferry::jobs {

// The kind of a part job; its handler is kinds/part_kind.cc.
inline constexpr char kPartKind[] = "part";
// Parts per part job: a worker's claim takes a few ranges at once, and the jobs' transactions
// stay a small share of the bytes (16 MiB parts: one job per 64 MiB).
inline constexpr int kPartsPerJob = 4;
// How often the owner looks whether its parts are all checkpointed.
inline constexpr std::chrono::milliseconds kOwnerPoll{1000};

// Whether `object`, alone in a transfer job of `run`, is spread over part jobs: the run asks
// for it (RunOptions::part_jobs_min_parts > 0), the object has at least that many parts of the
// run's part size, and its parts go through the network (not a server-side copy) into a
// destination that writes in parts.
bool SpreadsParts(const RunContext& run, const transfer::CopyRequest& object);

// Copies the job's objects here, as a transfer job does (transfer_kind.cc), from `payload` (a
// transfer payload).
using CopyHere = std::function<JobResult(const std::string& payload)>;

// The transfer job in ctx as the owner of its object's part jobs: nullopt when it is not one
// (a plain transfer payload whose object is not spread: the caller copies it as always), else
// its result: the part jobs handed out, a wait for them, or the completion through
// `copy_here` (whose failed payload is kept in the owner's form).
std::optional<JobResult> RunPartOwner(JobContext& ctx, const CopyHere& copy_here);

// A part job's payload: the owner job, its part range [first, last] and the object.
struct PartJobPayload {
  JobId owner = 0;
  int first = 1;
  int last = 0;
  std::string transfer;  // the object, as a transfer payload of one object
};
std::string EncodePartJob(const PartJobPayload& p);
Result<PartJobPayload> DecodePartJob(const std::string& json);

// The part jobs of an object of `size` bytes in parts of `part_size`, owned by `owner` (its
// run, region and attempts); `transfer` is the object as a transfer payload.
std::vector<JobSpec> PartJobsFor(const Job& owner, const std::string& transfer, uint64_t size,
                                 uint64_t part_size);

// The checkpoints of a part job: the owner's upload, read as it is, and the part job's parts
// added to it under the part job's lease (JobStore::SaveSharedPart). It never starts, replaces
// or clears an upload. A lost lease is kCancelled and `on_lost` is called (as StoreJournal);
// an owner whose upload is gone (completed, replaced) is kCancelled too, and gone() says so.
class SharedPartJournal : public transfer::UploadJournal {
 public:
  SharedPartJournal(JobStore& store, Lease lease, JobId owner, UploadRef ref,
                    std::function<void(const Status&)> on_lost = {})
      : store_(store),
        lease_(std::move(lease)),
        owner_(owner),
        ref_(std::move(ref)),
        on_lost_(std::move(on_lost)) {}
  Result<std::optional<Upload>> Load() override;
  Status Creating(const std::string& source) override;
  Status Begin(const std::string& upload_id, uint64_t part_size,
               const std::string& source) override;
  Status PartDone(const Part& part) override;
  Status Clear() override { return Status::Ok(); }
  bool gone() const { return gone_.load(); }

 private:
  JobStore& store_;
  const Lease lease_;
  const JobId owner_;
  const UploadRef ref_;
  const std::function<void(const Status&)> on_lost_;
  std::string upload_id_;  // set by Load, before any PartDone
  std::atomic<bool> gone_{false};
};

// After a part job sent its range: wakes the owner (JobStore::Wake) when its checkpoint of
// `ref` now holds every part of an object of `size` bytes, so the object completes at once
// instead of at the owner's next poll. Whichever part job checkpoints the last part sees them
// all (each looks after its own parts committed); two that see them together both wake it,
// which is harmless. Best effort: a failed look or wake only costs the poll.
void WakeOwnerWhenComplete(JobStore& store, JobId owner, const UploadRef& ref, uint64_t size);

// Queues `request` on ctx's run engine (cancelled with the job) and waits for its outcome.
Status CopyAndWait(JobContext& ctx, transfer::CopyRequest request);

}  // namespace ferry::jobs
