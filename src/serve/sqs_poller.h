// SqsPoller: `ferry serve`'s SQS intake, one per [[serve.sqs]] queue, on a thread of its own.
// A bucket notifies an SQS queue (S3's QueueConfigurations, or an SNS topic the queue is
// subscribed to); the poller long-polls it and records what the messages say as the HTTP
// intake does (record.h), and only then deletes them: a message is acknowledged once it is
// durable, so a crash anywhere before the delete delivers it again (after the queue's
// visibility timeout), and a second delivery only looks at a key again (events are hints).
//
// One poll (PollOnce): ReceiveMessage (up to 10 messages, WaitTimeSeconds = wait_seconds,
// AttributeNames = ApproximateReceiveCount); each body read by events::ParseBody:
//   - S3 records, raw or inside an SNS envelope. The envelope's signature is NOT checked and
//     need not be: what reaches the queue was sent by a principal the queue's policy allows
//     (the bucket, or the SNS topic subscribed to it), each call authenticated by SQS itself,
//     and the poller reads the queue with its own credentials. (The HTTP intake, whose
//     senders nobody authenticated, refuses unverified envelopes.) All the batch's records
//     are recorded in one transaction; then the messages are deleted (one
//     DeleteMessageBatch). Outcome `recorded`, or `ignored` when none of its events was for
//     a served source or of a kind worth replicating.
//   - S3's test event (s3:TestEvent): deleted, outcome `ignored`
//     (ferry_events_ignored_total{reason="test_event"}).
//   - An SNS subscription or unsubscribe confirmation: deleted, outcome `ignored`
//     (reason "sns_subscription"), logged with its topic: never confirmed by ferry.
//   - Refused by the normalizer (malformed_json, unknown_body, ...): counted
//     (ferry_events_refused_total{reason}) and NOT deleted. Where it goes once it was received
//     too often:
//       * with dead_letter_queue_url: at its max_receives-th delivery (ApproximateReceiveCount)
//         the poller sends its body to that queue (SendMessage, with the String attributes
//         ferry-refused: the reason, and ferry-source-queue: the queue URL) and then deletes
//         it: outcome `dead_lettered`. A send that fails leaves it in the queue (`refused`);
//         a delete that fails after a send may leave a second copy in the dead-letter queue;
//       * without: the queue's RedrivePolicy moves it once its receive count passes
//         maxReceiveCount (SQS, and moto, do that on the next receive). Its delivery number
//         maxReceiveCount, its last, is counted `dead_lettered`, the others `refused`.
//     Check (at start) refuses a queue with neither, and a max_receives that the queue's own
//     maxReceiveCount would pre-empt.
//   - When the state store cannot record: nothing of the batch is deleted (the records come
//     back after the visibility timeout; test events and refusals are handled as above),
//     ferry_events_refused_total{reason="store_unavailable"}, and PollOnce fails.
//
// Run (the thread): PollOnce again and again; after a failure (a receive error, the store, a
// delete) it waits a backoff on the Clock seam (1 s doubling to 60 s, jittered) before the
// next; after a receive that brought nothing in under a second (wait_seconds 0, or a server
// that does not hold long polls) it waits out that second. RequestStop (or the destructor) ends it within a fraction of a second: a long poll in
// flight is abandoned (its messages, if any, come back after the visibility timeout).
//
// Metrics: ferry_sqs_messages_total{queue,outcome} (recorded, ignored, refused,
// dead_lettered), ferry_sqs_receive_errors_total{queue} (failed ReceiveMessage calls); queue is
// the queue's name (the last segment of its URL).
//
// Thread-safety: Check and PollOnce from one thread at a time (tests call them directly); Start
// once; RequestStop from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "events/parse.h"
#include "http/transport.h"
#include "obs/metrics.h"
#include "retry/policy.h"
#include "serve/record.h"
#include "sqs/client.h"

namespace ferry::serve {

struct SqsPollerOptions {
  std::string queue_url;
  std::string dead_letter_queue_url;  // "" = the queue's RedrivePolicy
  int wait_seconds = 20;              // 0..20
  int max_receives = 5;               // with dead_letter_queue_url
  size_t max_body = 1 << 20;          // SQS's largest message
  // Waits between failed polls (max_attempts unused: it never gives up).
  retry::Policy backoff{.max_attempts = 0,
                        .initial_delay = std::chrono::milliseconds(1000),
                        .max_delay = std::chrono::milliseconds(60000),
                        .multiplier = 2.0};
  Clock* clock = nullptr;             // null: the system clock (ClockOr)
  obs::Registry* registry = nullptr;  // null: obs::DefaultRegistry()
};

class SqsPoller {
 public:
  // `http` and `recorder` must outlive the poller.
  SqsPoller(sqs::SqsEndpoint endpoint, http::HttpTransport& http, EventRecorder& recorder,
            SqsPollerOptions options);
  ~SqsPoller();  // RequestStop, then waits for the thread
  SqsPoller(const SqsPoller&) = delete;
  SqsPoller& operator=(const SqsPoller&) = delete;

  const std::string& queue_name() const { return queue_; }

  // Before Start: the queue answers these credentials (GetQueueAttributes RedrivePolicy), and
  // so does the dead-letter queue when one is configured. kInvalidArgument when a refused
  // message would have nowhere to go (no RedrivePolicy and no dead_letter_queue_url) or when
  // max_receives >= the queue's maxReceiveCount (SQS would move it first); else the call's
  // error (kNotFound: no such queue; kPermissionDenied: the credentials).
  Status Check(std::stop_token stop);

  // One receive and the handling of its messages (above): how many messages came.
  Result<size_t> PollOnce(std::stop_token stop);

  // Polls on a thread of its own until RequestStop.
  void Start();
  void RequestStop();

 private:
  struct Batch;
  void Run(std::stop_token stop);
  void Refused(const sqs::Message& m, const Status& why, Batch& batch, std::stop_token stop);
  Status Delete(const std::vector<sqs::DeleteEntry>& entries, std::stop_token stop);
  void Count(const char* outcome);

  sqs::SqsClient client_;
  EventRecorder& recorder_;
  const SqsPollerOptions options_;
  const std::string queue_;  // its name, the metric label
  Clock& clock_;
  int redrive_max_receives_ = 0;  // the queue's RedrivePolicy maxReceiveCount; 0: none known
  obs::FamilyRef<obs::Counter> messages_;
  obs::FamilyRef<obs::Counter> receive_errors_;
  obs::FamilyRef<obs::Counter> refused_;
  obs::FamilyRef<obs::Counter> ignored_;
  std::jthread thread_;
};

}  // namespace ferry::serve
