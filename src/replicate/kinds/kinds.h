// Replication passes as durable runs (`ferry replicate --state`, docs/design/replication.md,
// "Durable passes"): the "replicate-scan", "replicate-keys", "replicate-event", "replicate-pack"
// and "replicate-deletes" job kinds, and how a pass's
// "unpack" jobs run (its compressed transport), registered by the composition root
// (src/app/kinds.cc). Replication depends on jobs and transport; neither names it.
//
// Thread-safety: handlers are shared by every job of their kind (jobs/kinds/handler.h).
#pragma once

#include <memory>

#include "jobs/kinds/handler.h"

namespace ferry::replicate {

struct PassStats;

inline constexpr char kReplicateScanKind[] = "replicate-scan";  // versions of a key range
inline constexpr char kReplicateKeysKind[] = "replicate-keys";  // a batch of keys' versions

// replicate_scan_kind.cc, replicate_keys_kind.cc. `totals`, when given, also receives the
// counts of every replicate-keys job this handler runs (ferry replicate's summary).
std::shared_ptr<const jobs::JobHandler> MakeReplicateScanHandler();
std::shared_ptr<const jobs::JobHandler> MakeReplicateKeysHandler(PassStats* totals = nullptr);
// "replicate-event" (replicate/payload.h kReplicateEventKind): one key of a continuous
// replication run, listed when the job runs (`ferry serve`'s event intake enqueues them).
std::shared_ptr<const jobs::JobHandler> MakeReplicateEventHandler(PassStats* totals = nullptr);
// "replicate-pack" (replicate/payload.h kReplicatePackKind): a continuous run's versions that
// its event jobs left waiting for compressed transport (Transport::max_delay), packed together.
std::shared_ptr<const jobs::JobHandler> MakeReplicatePackHandler(PassStats* totals = nullptr);

// "replicate-deletes" (jobs/job_store.h kReplicateDeletesKind): with --max-delete, the keys a
// replicate-keys job found would be deleted at a destination that keeps no versions (their
// delete markers replicated there), parked for the run's delete phase (1): each key listed
// again when the job runs and replicated, all its versions, as a keys job's. The phase runs only
// when the run's deletes are within its limit (jobs/delete_guard.h).
std::shared_ptr<const jobs::JobHandler> MakeReplicateDeletesHandler(PassStats* totals = nullptr);

// An "unpack" job of a replication pass (replicate_unpack.cc): one archive for one of the
// pass's transported destinations (transport.h): its versions are written in order and
// recorded COMPLETED in the status store; the archive goes once every destination's unpack is
// done. The composition root makes it the unpack kind's Run for runs of command "replicate"
// (jobs::ByCommand over transport's unpack handler).
jobs::JobResult RunTransportedUnpack(jobs::JobContext& ctx);

}  // namespace ferry::replicate
