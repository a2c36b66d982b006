#include "transfer/planner.h"

namespace ferry::transfer {

Status Planner::DestinationOnly(const storage::ObjectInfo& dst) {
  if (!delete_extra_ || !filter_.Matches(dst)) return Status::Ok();
  stats_.deletes_planned += 1;
  return sink_.Delete(dst);
}

Status Planner::Handle(const storage::ObjectInfo* src, const storage::ObjectInfo* dst) {
  if (!filter_.Matches(*src)) return Status::Ok();  // the destination is left alone too
  stats_.objects_listed += 1;
  const plan::Decision d = plan::Decide(src, dst, decide_);
  if (d.verdict == plan::Verdict::kSkip || d.verdict == plan::Verdict::kDelete) {
    stats_.objects_skipped += 1;
    return Status::Ok();
  }
  stats_.objects_planned += 1;
  stats_.bytes_planned += src->size;
  CopyRequest r;
  r.src = *src;
  if (dst != nullptr) r.dst = *dst;
  r.need_details = d.verdict == plan::Verdict::kNeedDetails;
  r.reason = d.reason;
  return sink_.Copy(std::move(r));
}

}  // namespace ferry::transfer
