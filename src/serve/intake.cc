// EventIntake (intake.h): authenticate, normalize, record, answer.
#include "serve/intake.h"

#include <map>

#include "events/errors.h"
#include "events/parse.h"
#include "obs/log.h"

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

}  // namespace

EventIntake::EventIntake(jobs::JobStore& store, IntakeOptions options, obs::Registry& registry)
    : options_(std::move(options)),
      recorder_(store, registry),
      ignored_(registry.AddCounter("ferry_events_ignored_total",
                                   "Accepted events that need no replication, by reason",
                                   {"reason"})),
      refused_(registry.AddCounter("ferry_events_refused_total",
                                   "Notification requests refused, by reason", {"reason"})) {
  recorder_.SetMaxWaiting(options_.max_waiting_events);
}

void EventIntake::SetSources(std::vector<IntakeSource> sources) {
  recorder_.SetSources(std::move(sources));
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
  const bool bearer = options_.no_auth || Authorized(request);
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
  Result<size_t> recorded = recorder_.Record(parsed->events);
  if (!recorded.ok()) {
    obs::Log(obs::Level::kWarn, "events not recorded: " + recorded.status().message());
    http::ServerResponse busy =
        Refuse(503, "store_unavailable", "the state store cannot record events now");
    busy.headers.emplace_back("Retry-After", "5");
    return busy;
  }
  return http::ServerResponse::Text(200, "recorded " + std::to_string(*recorded) + "\n");
}

}  // namespace ferry::serve
