// EventIntake (intake.h): authenticate, normalize, record, answer.
#include "serve/intake.h"

#include <chrono>
#include <map>

#include "events/errors.h"
#include "events/parse.h"
#include "obs/log.h"
#include "replicate/payload.h"

namespace ferry::serve {
namespace {

// Compares without an early exit, so that the time taken says nothing of the token.
bool SameSecret(const std::string& given, const std::string& want) {
  if (given.size() != want.size() || want.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ want[i]);
  }
  return diff == 0;
}

// Events that may change what a destination must hold: bytes, versions, delete markers, tags.
bool Replicable(events::EventKind kind) {
  switch (kind) {
    case events::EventKind::kCreated:
    case events::EventKind::kRemoved:
    case events::EventKind::kDeleteMarkerCreated:
    case events::EventKind::kTagging:
    case events::EventKind::kLifecycleExpiration:
      return true;
    default:
      return false;
  }
}

int64_t Ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

EventIntake::EventIntake(jobs::JobStore& store, IntakeOptions options, obs::Registry& registry)
    : store_(store),
      options_(std::move(options)),
      received_(registry.AddCounter("ferry_events_received_total",
                                    "Bucket notification events accepted, by store and kind",
                                    {"store", "kind"})),
      recorded_(registry.AddCounter("ferry_events_recorded_total",
                                    "replicate-event jobs enqueued for accepted events")),
      ignored_(registry.AddCounter("ferry_events_ignored_total",
                                   "Accepted events that need no replication, by reason",
                                   {"reason"})),
      refused_(registry.AddCounter("ferry_events_refused_total",
                                   "Notification requests refused, by reason", {"reason"})) {}

void EventIntake::SetSources(std::vector<IntakeSource> sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

bool EventIntake::Authorized(const http::ServerRequest& request) const {
  const std::string header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0 &&
         SameSecret(header.substr(kBearer.size()), options_.token);
}

void EventIntake::UseSns(SnsGate* gate) { sns_ = gate; }

bool EventIntake::VerifiedSnsNotification(const std::string& body,
                                          const events::ParseOptions& parse) {
  if (sns_ == nullptr) return false;
  Result<events::SnsEnvelope> envelope = events::ParseSnsEnvelope(body, parse);
  return envelope.ok() && envelope->type == events::SnsType::kNotification &&
         sns_->Verify(*envelope).accepted();
}

http::ServerResponse EventIntake::Refuse(int code, const std::string& reason,
                                         const std::string& message) {
  refused_.WithLabels({reason}).Add();
  return http::ServerResponse::Text(code, message + "\n");
}

http::ServerResponse EventIntake::Handle(const http::ServerRequest& request) {
  if (request.method != "POST") return Refuse(405, "method", "POST notifications here");
  const bool bearer = Authorized(request);
  events::ParseOptions parse;
  parse.max_body_bytes = options_.max_body;
  Result<events::ParsedBody> parsed = events::ParseBody(request.body, parse);
  if (!parsed.ok()) {
    // Without the token (or a verified SNS envelope) nothing is said about the body.
    if (!bearer && !VerifiedSnsNotification(request.body, parse)) {
      return Refuse(401, "unauthenticated", "a token is required");
    }
    return Refuse(400, std::string(events::ReasonOf(parsed.status())), parsed.status().message());
  }
  if (parsed->sns) {
    // SNS sends no token: an accepted topic and a verified signature authenticate the envelope
    // (with or without the bearer token).
    if (sns_ == nullptr) {
      return Refuse(403, "sns_topic", "SNS envelopes are not accepted: no [serve] sns_topics");
    }
    const SnsVerdict verdict = sns_->Check(*parsed->sns);
    if (!verdict.accepted()) {
      http::ServerResponse refused = Refuse(verdict.code, verdict.reason, verdict.message);
      if (verdict.retry_later) refused.headers.emplace_back("Retry-After", "5");
      return refused;
    }
    if (parsed->kind == events::BodyKind::kSubscription) {
      const bool subscribed = parsed->sns->type == events::SnsType::kSubscriptionConfirmation;
      ignored_.WithLabels({subscribed ? "sns_subscribed" : "sns_unsubscribed"}).Add();
      return http::ServerResponse::Text(200, verdict.message + "\n");
    }
    // A verified Notification: the events of its Message go on as any body's.
  } else if (!bearer) {
    // RGW cannot send headers: its topic's opaqueData comes in every record instead.
    bool all = parsed->kind == events::BodyKind::kRecords && !parsed->events.empty();
    for (const events::Event& e : parsed->events) {
      all = all && SameSecret(e.opaque_data, options_.token);
    }
    if (!all) return Refuse(401, "unauthenticated", "a token is required");
  }
  if (parsed->kind == events::BodyKind::kTestEvent) {
    ignored_.WithLabels({"test_event"}).Add();
    return http::ServerResponse::Text(200, "test event\n");
  }
  std::vector<jobs::JobSpec> specs;
  std::vector<std::pair<std::string, std::string>> counted;  // (store, kind) per event
  {
    std::lock_guard lock(mu_);
    for (const events::Event& e : parsed->events) {
      counted.emplace_back(std::string(events::SourceKindName(e.source)),
                           std::string(events::EventKindName(e.kind)));
      if (!Replicable(e.kind)) {
        ignored_.WithLabels({"kind_" + std::string(events::EventKindName(e.kind))}).Add();
        continue;
      }
      bool served = false;
      for (const IntakeSource& s : sources_) {
        if (s.bucket != e.bucket || e.key.compare(0, s.prefix.size(), s.prefix) != 0) continue;
        served = true;
        jobs::JobSpec spec;
        spec.run = s.run;
        spec.kind = replicate::kReplicateEventKind;
        spec.payload = replicate::EncodeEventWork(
            {.key = e.key, .first_event_ns = e.time ? Ns(*e.time) : 0, .events = 1});
        spec.objects = 1;
        spec.max_attempts = 1000;  // a key busy in another job waits its turn, many times
        spec.coalesce_key = e.key;
        specs.push_back(std::move(spec));
      }
      if (!served) ignored_.WithLabels({"no_source"}).Add();
    }
  }
  if (!specs.empty()) {
    Result<std::vector<jobs::JobId>> ids = store_.Enqueue(specs);
    if (!ids.ok()) {
      obs::Log(obs::Level::kWarn, "events not recorded: " + ids.status().message());
      http::ServerResponse busy =
          Refuse(503, "store_unavailable", "the state store cannot record events now");
      busy.headers.emplace_back("Retry-After", "5");
      return busy;
    }
    recorded_.Get().Add(specs.size());
  }
  for (const auto& [store, kind] : counted) received_.WithLabels({store, kind}).Add();
  return http::ServerResponse::Text(200, "recorded " + std::to_string(specs.size()) + "\n");
}

}  // namespace ferry::serve
