// One attempt by kind, the retries around attempts, the metric (deliver.h).
#include "notify/deliver.h"

#include <algorithm>

namespace ferry::notify {

Status DeliverOnce(const Target& target, const RunEnd& run, const std::string& document,
                   const DeliveryContext& context, std::stop_token stop) {
  switch (target.kind) {
    case Kind::kWebhook: return DeliverWebhook(target, document, context, stop);
    case Kind::kSns:
    case Kind::kSqs: return DeliverSnsSqs(target, run, document, context, stop);
    case Kind::kSmtp: return DeliverSmtp(target, run, document, context, stop);
  }
  return Status::Internal("unknown notification kind");
}

bool RetryableDelivery(const Status& status) {
  return status.code() == ErrorCode::kUnavailable;
}

RetryResult RetryDelivery(const std::function<Status()>& attempt, const retry::Policy& policy,
                          Clock& clock, uint64_t random_bits, std::stop_token stop) {
  RetryResult result;
  const int max_attempts = std::max(1, policy.max_attempts);
  for (;;) {
    result.status = attempt();
    ++result.attempts;
    if (result.status.ok() || !RetryableDelivery(result.status) ||
        result.attempts >= max_attempts || stop.stop_requested()) {
      return result;
    }
    random_bits = random_bits * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto delay = retry::BackoffDelay(policy, result.attempts, random_bits);
    // Half of the backoff at least: a jitter of 0 would hammer a receiver that is down.
    const auto floor = std::min(policy.initial_delay * (1 << std::min(result.attempts - 1, 20)),
                                policy.max_delay) / 2;
    clock.SleepFor(std::max(delay, floor), stop);
  }
}

void CountNotification(obs::Registry* registry, Kind kind, std::string_view result) {
  obs::Registry& r = registry != nullptr ? *registry : obs::DefaultRegistry();
  r.AddCounter("ferry_notifications_total",
               "run-end notifications by kind and result (sent, failed: given up, deferred: "
               "left in the outbox for a later try)",
               {"kind", "result"})
      .WithLabels({KindName(kind), result})
      .Add();
}

}  // namespace ferry::notify
