// Delivering the outbox (outbox.h): what every process of a state store does with the rows of
// ended runs (the run's own process at its end, `ferry worker` periodically, `ferry serve`).
//
// A round claims up to `batch` due rows (of `run` only when run > 0), leased for `lease`;
// each is sent with `retry`'s tries (deliver.h), then deleted (Sent) or given back due after a
// backoff (retry::BackoffDelay of `backoff` over the row's attempts, at least half of it) with
// its error; a row that failed `give_up_after` deliveries is deleted and counted failed (a
// receiver gone for good does not fill the outbox). Each failure is one warning line. Counts in
// ferry_notifications_total{kind,result}: sent, deferred, failed.
//
// Errors: the store's (a receiver's failures are counted in the round, not returned).
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>

#include "notify/deliver.h"
#include "notify/outbox.h"
#include "retry/policy.h"

namespace ferry::notify {

struct PendingOptions {
  std::string owner;  // this process's lease owner (jobs::DefaultOwner())
  int64_t run = 0;    // 0: every run's rows
  int batch = 20;
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
  // Tries of one row within one claim.
  retry::Policy retry{1, std::chrono::seconds(1), std::chrono::seconds(4), 2.0};
  // The wait before a row that failed is due again, over its attempts.
  retry::Policy backoff{0, std::chrono::seconds(5), std::chrono::minutes(10), 2.0};
  int64_t give_up_after = 50;
};

struct PendingRound {
  int sent = 0;
  int deferred = 0;  // given back for a later try
  int failed = 0;    // given up
};

Result<PendingRound> DeliverPending(Outbox& outbox, const DeliveryContext& context,
                                    const PendingOptions& options, std::stop_token stop);

}  // namespace ferry::notify
