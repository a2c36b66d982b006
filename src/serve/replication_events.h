// ReplicationEventSender: delivers the outbox of replication event records
// (replicate/event_outbox.h) to a webhook, as S3 delivers its `Replication:` event
// notifications: batches of records, `{"Records": [...]}`, one POST each
// (replicate/event_record.h), `Authorization: Bearer <token>` when a token is set.
//
// At least once: a batch is claimed (leased to this sender's owner for `lease`, so another
// serve of the store does not send it meanwhile), POSTed, and its rows deleted only after a 2xx
// answer. Any other answer (a 5xx, a 4xx, a transport failure) gives the rows back, due again
// after a backoff of retry::BackoffDelay over `backoff` and the rows' attempts (never given up);
// a sender killed between the POST and the delete sends that batch again once the lease ran
// out. The outbox is bounded: before each claim the oldest rows past `max_pending` are deleted,
// counted in ferry_replication_events_dropped_total and logged.
//
// The POSTs go out on the process's shared transport (its request limits) as a task of the
// process's transfer::Executor (when given), never on a thread of their own; time is the
// Clock's. Run `DeliverOnce` periodically (Start: every `interval` on an obs::PeriodicRefresh
// timer, as the SLA gauges are refreshed).
//
// Metrics (registry given): ferry_replication_events_sent_total{event},
// ferry_replication_events_failed_total{event} (records in batches whose delivery failed),
// ferry_replication_events_pending (outbox rows), ferry_replication_events_dropped_total.
//
// Thread-safety: DeliverOnce calls run one at a time (internally serialized).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "obs/metrics.h"
#include "obs/periodic_refresh.h"
#include "replicate/event_outbox.h"
#include "replicate/event_record.h"
#include "retry/policy.h"
#include "transfer/executor.h"

namespace ferry::serve {

struct ReplicationEventsOptions {
  std::string url;
  std::string token;      // "": no Authorization header
  std::string ca_bundle;  // "": the transport's
  std::string owner;      // this process's lease owner (jobs::DefaultOwner())
  int batch = 100;
  int64_t max_pending = 100000;
  std::chrono::milliseconds lease{std::chrono::seconds(60)};
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // one POST
  retry::Policy backoff{.max_attempts = 0,
                        .initial_delay = std::chrono::seconds(1),
                        .max_delay = std::chrono::minutes(5),
                        .multiplier = 2.0};
  replicate::EventRecordContext context;
};

// What one DeliverOnce did.
struct DeliveryRound {
  int64_t sent = 0;     // records acknowledged (2xx) and deleted
  int64_t failed = 0;   // records given back for a later try
  int64_t dropped = 0;  // rows trimmed past max_pending
  bool full = false;    // a whole batch was claimed (more may be waiting)
};

// `url` as logs show it: without user info and query (a token may be there):
// "https://hooks.example/ferry?k=..." -> "https://hooks.example/ferry?...".
std::string WebhookUrlForLog(std::string_view url);

class ReplicationEventSender {
 public:
  // `outbox`, `transport`, `clock`, `registry` and `executor` (may be null: the POST is sent
  // on the calling thread) must outlive the sender.
  ReplicationEventSender(replicate::EventOutbox& outbox, http::HttpTransport& transport,
                         Clock& clock, obs::Registry& registry, transfer::Executor* executor,
                         ReplicationEventsOptions options);
  ~ReplicationEventSender();
  ReplicationEventSender(const ReplicationEventSender&) = delete;
  ReplicationEventSender& operator=(const ReplicationEventSender&) = delete;

  // Trims, claims one batch, POSTs it, deletes or gives it back. Errors: the store's (the
  // webhook's failures are counted in the round, not returned).
  Result<DeliveryRound> DeliverOnce(std::stop_token stop);
  // Delivers every `interval` (up to 20 batches a tick while batches come full) until Stop.
  void Start(std::chrono::milliseconds interval);
  // Ends the timer (a POST in flight is cancelled; its rows come back after their lease).
  void Stop();

 private:
  Status Post(const std::string& body, std::stop_token stop, int& status_code);
  void Tick();
  // `message` with the url as WebhookUrlForLog shows it.
  std::string Redacted(std::string message) const;
  replicate::EventOutbox& outbox_;
  http::HttpTransport& transport_;
  Clock& clock_;
  transfer::Executor* executor_;
  const ReplicationEventsOptions options_;
  http::TlsSettings tls_;
  obs::FamilyRef<obs::Counter> sent_;
  obs::FamilyRef<obs::Counter> failed_;
  obs::FamilyRef<obs::Counter> dropped_;
  obs::FamilyRef<obs::Gauge> pending_;
  std::mutex mu_;  // one DeliverOnce at a time
  uint64_t random_state_;
  std::stop_source stop_;
  std::unique_ptr<obs::PeriodicRefresh> timer_;  // last: it calls Tick
};

}  // namespace ferry::serve
