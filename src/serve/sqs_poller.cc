// SqsPoller (sqs_poller.h): receive, record, then delete.
#include "serve/sqs_poller.h"

#include <algorithm>
#include <charconv>
#include <random>
#include <utility>

#include "events/errors.h"
#include "obs/log.h"

namespace ferry::serve {
namespace {

obs::Registry& RegistryOf(const SqsPollerOptions& o) {
  return o.registry != nullptr ? *o.registry : obs::DefaultRegistry();
}

uint64_t RandomBits() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

// What one poll decided for its messages.
struct SqsPoller::Batch {
  std::vector<sqs::DeleteEntry> deletes;        // handled: deleted after recording
  std::vector<std::vector<events::Event>> bodies;  // records to record, one per message ...
  std::vector<const sqs::Message*> of_bodies;   // ... and its message
};

SqsPoller::SqsPoller(sqs::SqsEndpoint endpoint, http::HttpTransport& http, EventRecorder& recorder,
                     SqsPollerOptions options)
    : client_(std::move(endpoint), http, ClockOr(options.clock)),
      recorder_(recorder),
      options_(std::move(options)),
      queue_(sqs::QueueName(options_.queue_url)),
      clock_(ClockOr(options_.clock)),
      messages_(RegistryOf(options_).AddCounter(
          "ferry_sqs_messages_total", "SQS messages received, by queue and what became of them",
          {"queue", "outcome"})),
      receive_errors_(RegistryOf(options_).AddCounter(
          "ferry_sqs_receive_errors_total", "Failed SQS ReceiveMessage calls, by queue",
          {"queue"})),
      refused_(RegistryOf(options_).AddCounter("ferry_events_refused_total",
                                               "Notification requests refused, by reason",
                                               {"reason"})),
      ignored_(RegistryOf(options_).AddCounter(
          "ferry_events_ignored_total", "Accepted events that need no replication, by reason",
          {"reason"})) {}

SqsPoller::~SqsPoller() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void SqsPoller::Count(const char* outcome) { messages_.WithLabels({queue_, outcome}).Add(); }

Status SqsPoller::Check(std::stop_token stop) {
  auto attrs = client_.GetAttributes(options_.queue_url, {"RedrivePolicy"}, stop);
  if (!attrs.ok()) return attrs.status();
  redrive_max_receives_ = 0;
  for (const auto& [name, value] : *attrs) {
    if (name != "RedrivePolicy" || value.empty()) continue;
    auto policy = sqs::ParseRedrivePolicy(value);
    if (!policy.ok()) return policy.status().WithContext("SQS queue " + options_.queue_url);
    redrive_max_receives_ = policy->max_receive_count;
  }
  if (options_.dead_letter_queue_url.empty()) {
    if (redrive_max_receives_ == 0) {
      return Status::InvalidArgument(
          "SQS queue " + options_.queue_url +
          " has no RedrivePolicy: a message ferry refuses would come back until it expires; "
          "give the queue a dead-letter queue, or set dead_letter_queue_url");
    }
    return Status::Ok();
  }
  if (redrive_max_receives_ > 0 && options_.max_receives >= redrive_max_receives_) {
    return Status::InvalidArgument(
        "SQS queue " + options_.queue_url + ": max_receives " +
        std::to_string(options_.max_receives) + " is not below its RedrivePolicy's "
        "maxReceiveCount " + std::to_string(redrive_max_receives_) +
        " (SQS would move refused messages first): lower it, or drop dead_letter_queue_url");
  }
  auto dlq = client_.GetAttributes(options_.dead_letter_queue_url, {"QueueArn"}, stop);
  if (!dlq.ok()) return dlq.status().WithContext("dead_letter_queue_url");
  return Status::Ok();
}

void SqsPoller::Refused(const sqs::Message& m, const Status& why, Batch& batch,
                        std::stop_token stop) {
  const std::string reason(events::ReasonOf(why));
  refused_.WithLabels({reason}).Add();
  auto warn = [&](const std::string& text) {
    obs::Log(obs::Level::kWarn, text,
             {{"queue", queue_}, {"message_id", m.message_id}, {"receive_count", m.receive_count}});
  };
  if (!options_.dead_letter_queue_url.empty()) {
    if (m.receive_count < options_.max_receives) {
      warn("SQS message refused: " + why.message());
      Count("refused");
      return;
    }
    Status sent = client_.Send(options_.dead_letter_queue_url, m.body,
                               {{"ferry-refused", why.message().substr(0, 1024)},
                                {"ferry-source-queue", options_.queue_url}},
                               stop);
    if (!sent.ok()) {
      warn("SQS message refused, not moved to the dead-letter queue: " + sent.message());
      Count("refused");
      return;
    }
    warn("SQS message refused, moved to the dead-letter queue: " + why.message());
    batch.deletes.push_back({.id = m.message_id, .receipt_handle = m.receipt_handle});
    Count("dead_lettered");
    return;
  }
  if (redrive_max_receives_ > 0 && m.receive_count >= redrive_max_receives_) {
    warn("SQS message refused, for the last time: the queue's RedrivePolicy moves it to its "
         "dead-letter queue: " + why.message());
    Count("dead_lettered");
    return;
  }
  warn("SQS message refused: " + why.message());
  Count("refused");
}

Status SqsPoller::Delete(const std::vector<sqs::DeleteEntry>& entries, std::stop_token stop) {
  for (size_t begin = 0; begin < entries.size(); begin += sqs::kMaxBatch) {
    // Batch entry ids are the entries' positions (SQS wants them unique, at most 80 characters
    // of [A-Za-z0-9_-]: a message id need not be); `entries` carries the message ids.
    std::vector<sqs::DeleteEntry> part;
    for (size_t i = begin; i < std::min(entries.size(), begin + sqs::kMaxBatch); ++i) {
      part.push_back({.id = std::to_string(i), .receipt_handle = entries[i].receipt_handle});
    }
    for (int attempt = 1;; ++attempt) {
      auto failed = client_.DeleteBatch(options_.queue_url, part, stop);
      if (failed.ok()) {
        for (const sqs::DeleteFailure& f : *failed) {
          // e.g. ReceiptHandleIsInvalid: its visibility timeout ran out and it was received
          // again; that delivery will be recorded (again) and deleted.
          size_t index = entries.size();
          std::from_chars(f.id.data(), f.id.data() + f.id.size(), index);
          obs::Log(obs::Level::kWarn, "SQS message not deleted: " + f.code + ": " + f.message,
                   {{"queue", queue_},
                    {"message_id", index < entries.size() ? entries[index].id : f.id}});
        }
        break;
      }
      if (!failed.status().transient() || attempt >= 3 || stop.stop_requested()) {
        obs::Log(obs::Level::kWarn,
                 "SQS messages recorded but not deleted (they will be received again): " +
                     failed.status().message(),
                 {{"queue", queue_}});
        return failed.status();
      }
      clock_.SleepFor(retry::BackoffDelay(options_.backoff, attempt, RandomBits()), stop);
    }
  }
  return Status::Ok();
}

Result<size_t> SqsPoller::PollOnce(std::stop_token stop) {
  auto received = client_.Receive({.queue_url = options_.queue_url,
                                   .max_messages = static_cast<int>(sqs::kMaxBatch),
                                   .wait_seconds = options_.wait_seconds},
                                  stop);
  if (!received.ok()) {
    if (received.status().code() == ErrorCode::kCancelled) return received.status();
    receive_errors_.WithLabels({queue_}).Add();
    obs::Log(obs::Level::kWarn, "SQS receive failed: " + received.status().message(),
             {{"queue", queue_}});
    return received.status();
  }
  Batch batch;
  events::ParseOptions parse;
  parse.max_body_bytes = options_.max_body;
  for (const sqs::Message& m : *received) {
    Result<events::ParsedBody> parsed = events::ParseBody(m.body, parse);
    if (!parsed.ok()) {
      Refused(m, parsed.status(), batch, stop);
      continue;
    }
    switch (parsed->kind) {
      case events::BodyKind::kTestEvent:
        ignored_.WithLabels({"test_event"}).Add();
        Count("ignored");
        batch.deletes.push_back({.id = m.message_id, .receipt_handle = m.receipt_handle});
        break;
      case events::BodyKind::kSubscription:
        // Never confirmed by ferry: whoever subscribes the queue confirms it.
        obs::Log(obs::Level::kWarn, "SQS message is an SNS subscription message: ignored",
                 {{"queue", queue_}, {"topic", parsed->sns ? parsed->sns->topic_arn : ""}});
        ignored_.WithLabels({"sns_subscription"}).Add();
        Count("ignored");
        batch.deletes.push_back({.id = m.message_id, .receipt_handle = m.receipt_handle});
        break;
      case events::BodyKind::kRecords:
        batch.bodies.push_back(std::move(parsed->events));
        batch.of_bodies.push_back(&m);
        break;
    }
  }
  Status store = Status::Ok();
  if (!batch.bodies.empty()) {
    Result<std::vector<size_t>> jobs = recorder_.RecordAll(batch.bodies);
    if (jobs.ok()) {
      for (size_t i = 0; i < batch.of_bodies.size(); ++i) {
        Count((*jobs)[i] > 0 ? "recorded" : "ignored");
        batch.deletes.push_back({.id = batch.of_bodies[i]->message_id,
                                 .receipt_handle = batch.of_bodies[i]->receipt_handle});
      }
    } else {
      refused_.WithLabels({"store_unavailable"}).Add();
      obs::Log(obs::Level::kWarn,
               "SQS messages not recorded (they will be received again): " +
                   jobs.status().message(),
               {{"queue", queue_}});
      store = jobs.status();
    }
  }
  if (!batch.deletes.empty()) FERRY_RETURN_IF_ERROR(Delete(batch.deletes, stop));
  FERRY_RETURN_IF_ERROR(store);
  return received->size();
}

void SqsPoller::Run(std::stop_token stop) {
  int failures = 0;
  while (!stop.stop_requested()) {
    const Clock::MonoTime started = clock_.MonoNow();
    Result<size_t> polled = PollOnce(stop);
    if (stop.stop_requested()) break;
    if (polled.ok()) {
      failures = 0;
      const auto took = clock_.MonoNow() - started;
      if (*polled == 0 && took < std::chrono::seconds(1)) {
        clock_.SleepFor(std::chrono::ceil<std::chrono::milliseconds>(std::chrono::seconds(1) - took),
                        stop);
      }
      continue;
    }
    ++failures;
    // Half the backoff for sure, half jittered: a failing queue is never polled in a loop.
    const retry::Policy& b = options_.backoff;
    double cap = static_cast<double>(b.initial_delay.count());
    for (int i = 1; i < failures && cap < static_cast<double>(b.max_delay.count()); ++i) {
      cap *= std::max(1.0, b.multiplier);
    }
    const auto half = std::chrono::milliseconds(
        static_cast<int64_t>(std::min(cap, static_cast<double>(b.max_delay.count())) / 2));
    const auto delay = half + retry::BackoffDelay(b, failures, RandomBits()) / 2;
    clock_.SleepFor(delay, stop);
  }
}

void SqsPoller::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void SqsPoller::RequestStop() { thread_.request_stop(); }

}  // namespace ferry::serve
