// The replication pass of a durable run, as one worker holds it (the replicate-scan and
// replicate-keys kinds): the pass's options decoded from the run (replicate/payload.h), the
// source and every destination opened through the worker's opener and checked (with their
// versioning learnt), the status store in the JobStore's database, and the pass's scope
// (replicate::PreparePass) read once. Made by the run's first replication job on this worker
// and kept in the run's kind state "replicate" (jobs/run_context.h) until the worker drops the
// run.
// Thread-safety: ReplicationOf may be called from many jobs at once; the result is read-only
// (its backends and store are thread-safe).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "jobs/kinds/handler.h"
#include "jobs/run_context.h"
#include "replicate/pass.h"
#include "replicate/payload.h"
#include "replicate/status_store.h"
#include "transport/level_store.h"
#include "transport/store.h"

namespace ferry::replicate {

struct ReplicationRun {
  DurablePass pass;
  std::unique_ptr<storage::Backend> source;
  std::vector<std::unique_ptr<storage::Backend>> destinations;
  std::unique_ptr<StatusStore> status;
  PassOptions options;  // points into the members above
  PassScope scope;
  // Compressed transport (some destination has one): the staging locations by name, opened and
  // checked, the archive progress store and (a level 0 somewhere) the level history, both in
  // the JobStore's database.
  std::map<std::string, std::unique_ptr<storage::Backend>> staging;
  std::unique_ptr<transport::TransportStore> archives;
  std::unique_ptr<transport::LevelStore> levels;
};

// The run's kind state (jobs/run_context.h) that holds its ReplicationRun.
inline constexpr char kReplicationRunState[] = "replicate";

// The run's pass on this worker, opened on first use. Errors: the run is not a replication
// pass or its options cannot be read (kInvalidArgument), a location cannot be opened or checked,
// the JobStore has no SQL database (kNotSupported), the status store's errors. A failure is not
// kept: the next job tries again. A location this worker cannot open (its remote is not in
// this worker's config, its credentials are missing: a failure that is not transient) is
// kInvalidArgument naming it, with `*cannot_open` set (when given): the job should be given back
// for a worker that can (JobControl::CannotServe), not failed.
Result<std::shared_ptr<const ReplicationRun>> ReplicationOf(jobs::RunContext& run,
                                                            jobs::JobStore& store,
                                                            bool* cannot_open = nullptr);

// ReplicationOf for a job: on a location this worker cannot open, tells the worker to give the
// job back (ctx.control.CannotServe) and returns the error.
Result<std::shared_ptr<const ReplicationRun>> ReplicationOfJob(jobs::JobContext& ctx);

}  // namespace ferry::replicate
