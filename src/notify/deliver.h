// One delivery of a run-end document to one target (target.h), and the retries around it.
//
//   webhook  POST the document (Content-Type: application/json) through the process's
//            HttpTransport, with the target's headers (values read from env or files when
//            sent); a 2xx answer delivers, 5xx/429/408 and transport failures are transient,
//            any other answer final (deliver_webhook.cc)
//   sns      Publish the document to the topic, Subject from Subject() (deliver_sns_sqs.cc)
//   sqs      SendMessage of the document to the queue (deliver_sns_sqs.cc)
//   smtp     an e-mail whose subject is Subject() and body the document (deliver_smtp.cc)
//
// SNS and SQS calls go through src/sns and src/sqs's clients (SigV4 by s3::SendSigned); where
// they go and what signs them is the caller's (DeliveryContext::service_endpoint: app resolves
// it from the config's remotes, app/sqs.h's rules).
//
// Errors: kUnavailable for what may succeed later (retried), anything else final. A secret that
// cannot be read is kInvalidArgument (final). Messages never hold a secret or a URL's query.
// Thread-safe when the context's parts are.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "http/smtp.h"
#include "http/transport.h"
#include "notify/document.h"
#include "notify/target.h"
#include "obs/metrics.h"
#include "retry/policy.h"
#include "s3/service_call.h"

namespace ferry::notify {

struct DeliveryContext {
  http::HttpTransport* http = nullptr;  // webhook, sns, sqs (required for them)
  http::MailSender* mail = nullptr;     // smtp (null: http::CurlMailSender())
  Clock* clock = nullptr;               // null: the system clock (signatures, retries)
  // Where a sns/sqs target's calls go and what signs them; null: such targets fail (final).
  std::function<Result<s3::ServiceEndpoint>(const Target&)> service_endpoint;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // one request
  obs::Registry* registry = nullptr;  // ferry_notifications_total; null: the default registry
};

// One attempt.
Status DeliverOnce(const Target& target, const RunEnd& run, const std::string& document,
                   const DeliveryContext& context, std::stop_token stop);

Status DeliverWebhook(const Target& target, const std::string& document,
                      const DeliveryContext& context, std::stop_token stop);
Status DeliverSnsSqs(const Target& target, const RunEnd& run, const std::string& document,
                     const DeliveryContext& context, std::stop_token stop);
Status DeliverSmtp(const Target& target, const RunEnd& run, const std::string& document,
                   const DeliveryContext& context, std::stop_token stop);

// Whether a failed attempt may succeed if tried again (kUnavailable).
bool RetryableDelivery(const Status& status);

// Tries `attempt` up to policy.max_attempts times, waiting retry::BackoffDelay (at least half
// of it: a jitter of 0 would hammer a receiver that is down) on `clock` between tries, while
// the failure is retryable and `stop` is not requested. `random_bits` seeds the jitter.
// Returns the last attempt's status and how many were made.
struct RetryResult {
  Status status;
  int attempts = 0;
};
RetryResult RetryDelivery(const std::function<Status()>& attempt, const retry::Policy& policy,
                          Clock& clock, uint64_t random_bits, std::stop_token stop);

// Counts one outcome in ferry_notifications_total{kind,result}: result "sent", "failed" (given
// up: an in-memory run's retries spent, or a final error) or "deferred" (a durable outbox row
// left for a later try).
void CountNotification(obs::Registry* registry, Kind kind, std::string_view result);

}  // namespace ferry::notify
