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
                                   "Notification requests refused, by reason", {"reason"})) {}

void EventIntake::SetSources(std::vector<IntakeSource> sources) {
  recorder_.SetSources(std::move(sources));
}

bool EventIntake::Authorized(const http::ServerRequest& request) const {
  const std::string header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0 &&
         SameSecret(header.substr(kBearer.size()), options_.token);
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
    // Without the token nothing is said about the body.
    if (!bearer) return Refuse(401, "unauthenticated", "a token is required");
    return Refuse(400, std::string(events::ReasonOf(parsed.status())), parsed.status().message());
  }
  if (!bearer) {
    // RGW cannot send headers: its topic's opaqueData comes in every record instead.
    bool all = parsed->kind == events::BodyKind::kRecords && !parsed->events.empty();
    for (const events::Event& e : parsed->events) {
      all = all && SameSecret(e.opaque_data, options_.token);
    }
    if (!all) return Refuse(401, "unauthenticated", "a token is required");
  }
  if (parsed->sns) {
    return Refuse(400, "sns_unverified",
                  "SNS envelopes are not accepted: their signatures are not verified yet");
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
