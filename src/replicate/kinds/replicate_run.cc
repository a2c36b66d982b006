// Opening a replication pass on a worker (replicate_run.h).
#include "replicate/kinds/replicate_run.h"

#include "base/clock.h"

namespace ferry::replicate {
namespace {

// Check, then learn whether the side keeps versions (as `ferry replicate` does before a pass).
Status CheckWithVersions(storage::Backend& side, const std::string& what) {
  FERRY_RETURN_IF_ERROR(side.Check({}).WithContext(what));
  return side.LearnVersions({}).WithContext(what);
}

Result<std::shared_ptr<ReplicationRun>> Open(jobs::RunContext& run, jobs::JobStore& store,
                                             bool* cannot_open) {
  auto r = std::make_shared<ReplicationRun>();
  FERRY_ASSIGN_OR_RETURN(r->pass, DecodeDurablePass(run.run.spec.options));
  if (!run.opener) return Status::Internal("replication run without a location opener");
  if (store.session() == nullptr) {
    return Status::NotSupported("replication passes need a SQL state store");
  }
  FERRY_ASSIGN_OR_RETURN(r->status, StatusStore::Open(*store.session()));
  // Opening a location (parsing it, finding its remote, loading its credentials) fails for
  // this worker, not for the job, unless the failure is transient.
  auto open = [&](const std::string& location,
                  bool destination) -> Result<std::unique_ptr<storage::Backend>> {
    auto backend = run.opener(location, destination);
    if (backend.ok() || backend.status().transient()) return backend;
    *cannot_open = true;
    return Status::InvalidArgument("cannot open the " +
                                   std::string(destination ? "destination " : "source ") +
                                   location + " of run " + std::to_string(run.run.id) + ": " +
                                   backend.status().message());
  };
  FERRY_ASSIGN_OR_RETURN(r->source, open(run.run.spec.source, false));
  FERRY_RETURN_IF_ERROR(CheckWithVersions(*r->source, "source"));
  PassOptions& o = r->options;
  for (const std::string& name : DestinationLocations(r->pass.rules)) {
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> dst, open(name, true));
    FERRY_RETURN_IF_ERROR(CheckWithVersions(*dst, "destination " + name));
    o.destinations[name] = dst.get();
    r->destinations.push_back(std::move(dst));
  }
  for (const Rule& rule : r->pass.rules.rules) {
    if (!rule.enabled) continue;
    for (const Destination& d : rule.destinations) {
      const Transport& t = d.transport;
      if (!t.compress || r->staging.count(t.staging)) continue;
      FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> staging, open(t.staging, true));
      FERRY_RETURN_IF_ERROR(staging->Check({}).WithContext("staging " + t.staging));
      r->staging[t.staging] = std::move(staging);
      if (r->archives == nullptr) {
        FERRY_ASSIGN_OR_RETURN(r->archives, transport::TransportStore::Open(*store.session()));
      }
      if (t.level == 0 && r->levels == nullptr) {
        FERRY_ASSIGN_OR_RETURN(r->levels, transport::LevelStore::Open(*store.session()));
      }
    }
  }
  o.source_name = r->pass.source;
  o.source = r->source.get();
  o.rules = &r->pass.rules;
  o.store = r->status.get();
  o.clock = &SystemClock::Default();
  o.concurrency = r->pass.concurrency;
  o.retry_failed_only = r->pass.retry_failed_only;
  o.multipart_threshold = r->pass.multipart_threshold;
  o.part_size = r->pass.part_size;
  o.server_side_copy_limit = r->pass.server_side_copy_limit;
  FERRY_ASSIGN_OR_RETURN(r->scope, PreparePass(o));
  return r;
}

}  // namespace

Result<std::shared_ptr<const ReplicationRun>> ReplicationOf(jobs::RunContext& run,
                                                            jobs::JobStore& store,
                                                            bool* cannot_open) {
  bool ignored = false;
  if (cannot_open == nullptr) cannot_open = &ignored;
  *cannot_open = false;
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<ReplicationRun> r,
      jobs::KindStateOf<ReplicationRun>(
          run, kReplicationRunState, [&]() -> Result<std::shared_ptr<ReplicationRun>> {
            return Open(run, store, cannot_open);
          }));
  return std::shared_ptr<const ReplicationRun>(std::move(r));
}

Result<std::shared_ptr<const ReplicationRun>> ReplicationOfJob(jobs::JobContext& ctx) {
  bool cannot_open = false;
  auto r = ReplicationOf(ctx.run, ctx.store, &cannot_open);
  if (!r.ok() && cannot_open) ctx.control.CannotServe(r.status());
  return r;
}

}  // namespace ferry::replicate
