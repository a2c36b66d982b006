// Synchronous delivery of an in-memory run's end (send_now.h).
#include "notify/send_now.h"

#include "obs/log.h"

namespace ferry::notify {

int SendNow(const std::vector<Target>& targets, const RunEnd& run, const DeliveryContext& context,
            const retry::Policy& policy, std::stop_token stop) {
  const std::string document = DocumentJson(run);
  Clock& clock = ClockOr(context.clock);
  int failed = 0;
  uint64_t seed = static_cast<uint64_t>(clock.Now().time_since_epoch().count());
  for (const Target& target : targets) {
    if (!target.on.Has(run.state)) continue;
    const RetryResult r = RetryDelivery(
        [&] { return DeliverOnce(target, run, document, context, stop); }, policy, clock,
        seed++, stop);
    if (r.status.ok()) {
      CountNotification(context.registry, target.kind, "sent");
      continue;
    }
    ++failed;
    CountNotification(context.registry, target.kind, "failed");
    obs::Log(obs::Level::kWarn, "notification: not delivered after " +
                                    std::to_string(r.attempts) + " attempts: " +
                                    r.status.message());
  }
  return failed;
}

}  // namespace ferry::notify
