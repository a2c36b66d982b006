// LeaseFence (contract in lease_fence.h).
#include "jobs/kinds/lease_fence.h"

namespace ferry::jobs {

LeaseFence::LeaseFence(JobContext& ctx)
    : ctx_(ctx),
      clock_(ClockOr(ctx.options.clock)) {}

Status LeaseFence::Check() {
  std::lock_guard lock(mu_);
  const Clock::MonoTime now = clock_.MonoNow();
  if (ctx_.cancel.stop_requested()) return Status::Cancelled("the job's lease was lost");
  if (renewed_ && now - *renewed_ < ctx_.options.lease_ttl / 2) return Status::Ok();
  Status s = ctx_.store.Renew(ctx_.claimed.lease, ctx_.options.lease_ttl);
  if (s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kNotFound) {
    ctx_.lease_lost(s);
    return Status::Cancelled("the job's lease was lost: " + s.message());
  }
  FERRY_RETURN_IF_ERROR(s);
  renewed_ = now;
  return Status::Ok();
}

}  // namespace ferry::jobs
