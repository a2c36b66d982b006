// An in-memory run's notifications (no state store): sent synchronously when the run ends, each
// target with its retries (deliver.h's RetryDelivery), before the command exits. What a crash
// loses: everything not sent yet (nothing is written down); docs/design/notify.md.
#pragma once

#include <cstdint>
#include <stop_token>
#include <vector>

#include "notify/deliver.h"
#include "notify/document.h"
#include "notify/target.h"
#include "retry/policy.h"

namespace ferry::notify {

// Default retries of one delivery by the process that ended the run: 4 tries over about 7 s.
inline constexpr retry::Policy kRunEndRetries{.max_attempts = 4,
                                              .initial_delay = std::chrono::seconds(1),
                                              .max_delay = std::chrono::seconds(4),
                                              .multiplier = 2.0};

// Sends `run` to every target whose `on` has its state. A delivery that fails after its
// retries is one warning line ("notification: <target>: not delivered after N attempts: ...")
// and ferry_notifications_total{kind,result="failed"}; never an error of the run. Returns how
// many targets were not told.
int SendNow(const std::vector<Target>& targets, const RunEnd& run, const DeliveryContext& context,
            const retry::Policy& policy, std::stop_token stop);

}  // namespace ferry::notify
