// Delivery of the replication event outbox to a webhook (contract in replication_events.h).
#include "serve/replication_events.h"

#include <algorithm>
#include <random>
#include <vector>

#include "obs/log.h"

namespace ferry::serve {
namespace {

int64_t NowNs(Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch())
      .count();
}

int64_t Ns(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string WebhookUrlForLog(std::string_view url) {
  std::string out;
  const size_t scheme = url.find("://");
  const size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t path = url.find_first_of("/?", host);
  const std::string_view authority = url.substr(host, path - host);
  const size_t at = authority.rfind('@');
  out = std::string(url.substr(0, host)) +
        std::string(at == std::string_view::npos ? authority : authority.substr(at + 1));
  if (path == std::string_view::npos) return out;
  const std::string_view rest = url.substr(path);
  const size_t query = rest.find('?');
  return out + std::string(rest.substr(0, query)) + (query == std::string_view::npos ? "" : "?...");
}

ReplicationEventSender::ReplicationEventSender(replicate::EventOutbox& outbox,
                                               http::HttpTransport& transport, Clock& clock,
                                               obs::Registry& registry,
                                               transfer::Executor* executor,
                                               ReplicationEventsOptions options)
    : outbox_(outbox),
      transport_(transport),
      clock_(clock),
      executor_(executor),
      options_(std::move(options)),
      sent_(registry.AddCounter("ferry_replication_events_sent_total",
                                "Replication event records delivered to the webhook (2xx)",
                                {"event"})),
      failed_(registry.AddCounter(
          "ferry_replication_events_failed_total",
          "Replication event records in deliveries that failed (kept for a later try)",
          {"event"})),
      dropped_(registry.AddCounter(
          "ferry_replication_events_dropped_total",
          "Replication event records dropped undelivered: the outbox held max_pending")),
      pending_(registry.AddGauge("ferry_replication_events_pending",
                                 "Replication event records waiting in the outbox")),
      random_state_(std::random_device{}()) {
  tls_.ca_bundle = options_.ca_bundle;
  tls_.untrusted_hint = "set [serve.replication_events] ca_bundle";
  dropped_.Get();
  for (auto e : {replicate::ReplicationEvent::kFailed, replicate::ReplicationEvent::kMissedThreshold,
                 replicate::ReplicationEvent::kAfterThreshold}) {
    const std::string name(replicate::ReplicationEventConfigName(e));
    sent_.WithLabels({name});
    failed_.WithLabels({name});
  }
}

ReplicationEventSender::~ReplicationEventSender() { Stop(); }

Status ReplicationEventSender::Post(const std::string& body, std::stop_token stop,
                                    int& status_code) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = options_.url;
  request.headers.Set("Content-Type", "application/json");
  if (!options_.token.empty()) request.headers.Set("Authorization", "Bearer " + options_.token);
  request.body = std::as_bytes(std::span(body.data(), body.size()));
  request.timeout_ms = static_cast<int>(options_.timeout.count());
  if (!options_.ca_bundle.empty()) request.tls = &tls_;
  http::StringSink sink(64 * 1024);
  Result<http::HttpResponse> response = transport_.Send(request, sink, stop);
  if (!response.ok()) return response.status();
  status_code = response->status_code;
  return Status::Ok();
}

Result<DeliveryRound> ReplicationEventSender::DeliverOnce(std::stop_token stop) {
  std::lock_guard lock(mu_);
  DeliveryRound round;
  FERRY_ASSIGN_OR_RETURN(round.dropped, outbox_.Trim(options_.max_pending));
  if (round.dropped > 0) {
    dropped_.Get().Add(static_cast<uint64_t>(round.dropped));
    obs::Log(obs::Level::kWarn,
             "replication events: the outbox held more than max_pending = " +
                 std::to_string(options_.max_pending) + " records; dropped the " +
                 std::to_string(round.dropped) + " oldest undelivered");
  }
  const int64_t now = NowNs(clock_);
  FERRY_ASSIGN_OR_RETURN(
      std::vector<replicate::OutboxEvent> batch,
      outbox_.Claim(options_.owner, options_.batch, now, now + Ns(options_.lease)));
  round.full = static_cast<int>(batch.size()) == options_.batch;
  if (!batch.empty() && !stop.stop_requested()) {
    const std::string body = replicate::EventRecordsBody(batch, options_.context);
    int status_code = 0;
    Status posted;
    // On a worker of the process's executor (its budget of requests in flight), with the
    // caller's stop token.
    auto send = [&] { posted = Post(body, stop, status_code); };
    if (executor_ != nullptr) {
      transfer::RunAll(*executor_, 1, [&](size_t) { send(); });
    } else {
      send();
    }
    std::vector<int64_t> ids;
    for (const replicate::OutboxEvent& e : batch) ids.push_back(e.id);
    if (posted.ok() && status_code >= 200 && status_code < 300) {
      FERRY_RETURN_IF_ERROR(outbox_.Delete(options_.owner, ids).status());
      round.sent = static_cast<int64_t>(batch.size());
      for (const replicate::OutboxEvent& e : batch) {
        sent_.WithLabels({std::string(replicate::ReplicationEventConfigName(e.event))}).Add();
      }
    } else {
      int64_t attempts = 0;
      for (const replicate::OutboxEvent& e : batch) attempts = std::max(attempts, e.attempts);
      const auto delay = retry::BackoffDelay(options_.backoff,
                                             static_cast<int>(std::min<int64_t>(attempts + 1, 30)),
                                             SplitMix(random_state_));
      // Half of the backoff at least: a jitter of 0 would hammer a webhook that is down.
      const auto floor = std::min(options_.backoff.initial_delay, options_.backoff.max_delay) / 2;
      const int64_t retry_at = NowNs(clock_) + Ns(std::max(delay, floor));
      FERRY_RETURN_IF_ERROR(outbox_.Release(options_.owner, ids, retry_at));
      round.failed = static_cast<int64_t>(batch.size());
      for (const replicate::OutboxEvent& e : batch) {
        failed_.WithLabels({std::string(replicate::ReplicationEventConfigName(e.event))}).Add();
      }
      obs::Log(obs::Level::kWarn,
               "replication events: POST " + WebhookUrlForLog(options_.url) + " of " +
                   std::to_string(batch.size()) + " records failed (" +
                   (posted.ok() ? "HTTP " + std::to_string(status_code) : Redacted(posted.message())) +
                   "); next try in " + std::to_string(std::max(delay, floor).count()) + " ms");
    }
  }
  FERRY_ASSIGN_OR_RETURN(int64_t pending, outbox_.Pending());
  pending_.Get().Set(static_cast<double>(pending));
  return round;
}

std::string ReplicationEventSender::Redacted(std::string message) const {
  const std::string shown = WebhookUrlForLog(options_.url);
  for (size_t at = message.find(options_.url); at != std::string::npos;
       at = message.find(options_.url, at + shown.size())) {
    message.replace(at, options_.url.size(), shown);
  }
  return message;
}

void ReplicationEventSender::Tick() {
  for (int i = 0; i < 20 && !stop_.stop_requested(); ++i) {
    Result<DeliveryRound> round = DeliverOnce(stop_.get_token());
    if (!round.ok()) {
      obs::Log(obs::Level::kWarn,
               "replication events: the outbox cannot be read: " + round.status().message());
      return;
    }
    if (!round->full || round->failed > 0) return;
  }
}

void ReplicationEventSender::Start(std::chrono::milliseconds interval) {
  timer_ = std::make_unique<obs::PeriodicRefresh>([this] { Tick(); }, clock_, interval);
}

void ReplicationEventSender::Stop() {
  stop_.request_stop();
  timer_.reset();
}

}  // namespace ferry::serve
