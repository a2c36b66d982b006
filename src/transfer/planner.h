// Planner: the per-key half of a run. Fed by plan::MergeListings, it applies the filter to
// source objects, asks plan::Decide, counts, and hands copies and deletes to a PlanSink: the
// engine directly (RunSync), or batches of durable jobs (jobs/scan.cc).
//
// Thread-safety: one merge at a time; the sink is called from the merging thread.
#pragma once

#include <string>

#include "plan/decide.h"
#include "plan/filter.h"
#include "plan/merge.h"
#include "transfer/engine.h"
#include "transfer/stats.h"

namespace ferry::transfer {

class PlanSink {
 public:
  virtual ~PlanSink() = default;
  virtual Status Copy(CopyRequest request) = 0;
  // A destination-only key to delete (only with delete_extra, and only if it passes the filter).
  virtual Status Delete(const storage::ObjectInfo& dst) = 0;
};

class Planner : public plan::ListingVisitor {
 public:
  Planner(const plan::Filter& filter, const plan::DecideOptions& decide, bool delete_extra,
          Stats& stats, PlanSink& sink)
      : filter_(filter), decide_(decide), delete_extra_(delete_extra), stats_(stats), sink_(sink) {}

  Status SourceOnly(const storage::ObjectInfo& src) override { return Handle(&src, nullptr); }
  Status DestinationOnly(const storage::ObjectInfo& dst) override;
  Status Both(const storage::ObjectInfo& src, const storage::ObjectInfo& dst) override {
    return Handle(&src, &dst);
  }

 private:
  Status Handle(const storage::ObjectInfo* src, const storage::ObjectInfo* dst);

  const plan::Filter& filter_;
  const plan::DecideOptions& decide_;
  const bool delete_extra_;
  Stats& stats_;
  PlanSink& sink_;
};

}  // namespace ferry::transfer
