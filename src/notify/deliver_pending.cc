// One round of the outbox's delivery (deliver_pending.h).
#include "notify/deliver_pending.h"

#include <algorithm>

#include "obs/log.h"

namespace ferry::notify {
namespace {

int64_t PendingNowMs(Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock.Now().time_since_epoch())
      .count();
}

// When a row that failed `attempts` times is due again.
int64_t RetryAtMs(const PendingOptions& options, int64_t attempts, uint64_t bits, int64_t now) {
  const int n = static_cast<int>(std::min<int64_t>(attempts, 30));
  const auto delay = retry::BackoffDelay(options.backoff, n, bits);
  const auto floor = std::min(options.backoff.initial_delay * (int64_t{1} << std::min(n - 1, 20)),
                              options.backoff.max_delay) / 2;
  return now + std::max(delay, floor).count();
}

}  // namespace

Result<PendingRound> DeliverPending(Outbox& outbox, const DeliveryContext& context,
                                    const PendingOptions& options, std::stop_token stop) {
  Clock& clock = ClockOr(context.clock);
  const int64_t now = PendingNowMs(clock);
  FERRY_ASSIGN_OR_RETURN(std::vector<OutboxRow> rows,
                         outbox.Claim(options.owner, options.batch, now,
                                      now + options.lease.count(), options.run));
  PendingRound round;
  uint64_t bits = static_cast<uint64_t>(now);
  for (const OutboxRow& row : rows) {
    if (stop.stop_requested()) break;
    Result<RunEnd> run = ParseDocument(row.document);
    RetryResult r;
    if (run.ok()) {
      r = RetryDelivery([&] { return DeliverOnce(row.target, *run, row.document, context, stop); },
                        options.retry, clock, bits++, stop);
    } else {
      r.status = run.status();
    }
    const std::string what = "notification of run " + std::to_string(row.run);
    if (r.status.ok()) {
      FERRY_RETURN_IF_ERROR(outbox.Sent(options.owner, row.id).status());
      CountNotification(context.registry, row.target.kind, "sent");
      ++round.sent;
      continue;
    }
    const int64_t attempts = row.attempts + std::max(r.attempts, 1);
    if (attempts >= options.give_up_after || !run.ok()) {
      FERRY_RETURN_IF_ERROR(outbox.Sent(options.owner, row.id).status());
      CountNotification(context.registry, row.target.kind, "failed");
      ++round.failed;
      obs::Log(obs::Level::kWarn, what + ": given up after " + std::to_string(attempts) +
                                      " attempts: " + r.status.message());
      continue;
    }
    FERRY_RETURN_IF_ERROR(outbox.Release(options.owner, row.id,
                                         RetryAtMs(options, attempts, bits++, PendingNowMs(clock)),
                                         r.status.message()));
    CountNotification(context.registry, row.target.kind, "deferred");
    ++round.deferred;
    obs::Log(obs::Level::kWarn, what + ": not delivered (attempt " + std::to_string(attempts) +
                                    "), left in the outbox: " + r.status.message());
  }
  return round;
}

}  // namespace ferry::notify
