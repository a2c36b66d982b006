// The "replicate-scan" kind: one chunk (WorkerOptions::scan_chunk keys) of a key range of a
// replication pass's source. Lists the versions of its keys (ListRangeVersions) and
// finishes with, in one transaction, a replicate-keys job per batch of keys (at most the pass's
// batch_versions versions each, a key never split) and the rest of its range: one scan, or two
// split at a probed key (FindSplit) when the run is short of work, so that a large source is
// listed by many workers at once. Ranges never overlap, so every key goes to one keys job.
#include <algorithm>

#include "jobs/payload.h"
#include "replicate/kinds/kinds.h"
#include "replicate/kinds/replicate_run.h"
#include "replicate/listing.h"

namespace ferry::replicate {
namespace {

using jobs::JobContext;
using jobs::JobResult;
using jobs::JobSpec;
using jobs::OutcomeOf;

JobSpec ScanOf(const jobs::Job& job, const jobs::KeyRange& range) {
  JobSpec s;
  s.run = job.spec.run;
  s.kind = kReplicateScanKind;
  s.payload = jobs::EncodeScan(range);
  s.max_attempts = job.spec.max_attempts;
  return s;
}

class ReplicateScanHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kReplicateScanKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    JobResult result;
    Status s = Scan(ctx, result.more);
    if (!s.ok()) {
      result.more.clear();
      result.outcome = OutcomeOf(s.WithContext("replicate-scan"), j.attempts);
    }
    return result;
  }

 private:
  static Status Scan(JobContext& ctx, std::vector<JobSpec>& more) {
    const jobs::Job& j = ctx.claimed.job;
    FERRY_ASSIGN_OR_RETURN(jobs::KeyRange range, jobs::DecodeScan(j.spec.payload));
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const ReplicationRun> r,
                           ReplicationOfJob(ctx));
    auto emit = [&](std::vector<KeyVersions> keys) -> Status {
      JobSpec k;
      k.run = j.spec.run;
      k.kind = kReplicateKeysKind;
      for (const KeyVersions& kv : keys) {
        k.objects += kv.versions.size();
        for (const storage::ObjectInfo& v : kv.versions) k.bytes += v.size;
      }
      k.payload = EncodeKeyBatch(keys);
      k.max_attempts = j.spec.max_attempts;
      more.push_back(std::move(k));
      return Status::Ok();
    };
    FERRY_ASSIGN_OR_RETURN(
        RangeChunk chunk,
        ListRangeVersions(*r->source,
                                     {.start_after = range.start_after,
                                      .last = range.last,
                                      .max_keys = ctx.options.scan_chunk,
                                      .batch_versions = r->pass.batch_versions},
                                     emit, ctx.cancel));
    if (!chunk.resume_after) return Status::Ok();
    const jobs::KeyRange rest{.start_after = *chunk.resume_after, .last = range.last};
    // Short of listing work: hand on two ranges, so that another worker lists the high one.
    if (r->source->features().start_after && ctx.control.WantsSplit()) {
      FERRY_ASSIGN_OR_RETURN(std::optional<std::string> split,
                             jobs::FindSplit(*r->source, rest, chunk.next_key));
      if (split) {
        more.push_back(
            ScanOf(j, jobs::KeyRange{.start_after = rest.start_after, .last = *split}));
        more.push_back(ScanOf(j, jobs::KeyRange{.start_after = *split, .last = range.last}));
        return Status::Ok();
      }
    }
    more.push_back(ScanOf(j, rest));
    return Status::Ok();
  }
};

}  // namespace

std::shared_ptr<const jobs::JobHandler> MakeReplicateScanHandler() {
  return std::make_shared<ReplicateScanHandler>();
}

}  // namespace ferry::replicate
