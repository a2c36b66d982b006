// EventIntake: `ferry serve`'s POST /events. A bucket notification (RGW or MinIO webhook, AWS
// S3 JSON, or that JSON in an SNS envelope) is authenticated, normalized (events/parse.h) and recorded durably as a
// replicate-event job per key of a served source before it is acknowledged; nothing is done
// with it here. Events are hints: each job lists its key's versions at the source when it runs
// and replicates what the rules say, so a duplicated, reordered or stale event changes nothing,
// and a queued job of a key covers every later event of that key (JobSpec::coalesce_key).
//
// Authentication: a body of RGW or MinIO (or S3 JSON posted by any tool) needs the token:
// Authorization: Bearer T, or RGW's opaqueData T on every record. An SNS envelope (S3 → SNS →
// HTTPS subscription; SNS cannot send the token) needs no token: its TopicArn must be one of
// [serve] sns_topics and its signature must verify with the certificate fetched from an SNS
// host (SnsGate, sns_gate.h); that IS its authentication, with or without a bearer token. A
// verified Notification's Message (S3's JSON) is then recorded as any body; a verified
// SubscriptionConfirmation is confirmed (a GET of its SubscribeURL) and answered 200; an
// UnsubscribeConfirmation is logged and answered 200. Raw message delivery (the S3 JSON without
// its envelope) cannot be verified: it needs the token like any other body. With `no_auth`
// (`ferry serve --insecure-no-auth`) every body is taken as if it carried the token; SNS
// envelopes are still verified.
//
// Answers: 200 once every event of the body is recorded (serve/record.h: EventRecorder, shared
// with the SQS intake; or counted as ignored: a bucket no source serves, an event kind that changes no bytes, tags or versions, a subscription
// handshake); 401 without the token for a body that is not an SNS envelope, and for a
// malformed body that is not a verified SNS Notification (nothing is said about it); 400 for a
// body the normalizer refuses; 403 for an SNS envelope of a topic not accepted (or when no
// SnsGate is in use), a bad signature or certificate; 502/503 when a subscription could not be
// confirmed or a certificate fetched for now (SnsGate's answers); 405 for another method; 503
// with Retry-After when the state store cannot record them (the sender retries; nothing was
// acknowledged). Every answer is counted in the registry:
//   ferry_events_received_total{store,kind}   events in bodies that were recorded or ignored
//   ferry_events_recorded_total               replicate-event jobs enqueued (coalesced ones too)
//   ferry_events_ignored_total{reason}        no_source | kind_<kind> | test_event |
//                                             sns_subscribed | sns_unsubscribed
//   ferry_events_left_to_scan_total           events past the bound of waiting jobs (record.h)
//   ferry_events_refused_total{reason}        unauthenticated | method | store_unavailable |
//                                             sns_topic | sns_cert | sns_signature |
//                                             sns_confirm | the normalizer's reason words
//
// Thread-safety: Handle may be called from any thread; SetSources swaps the served sources;
// UseSns is called before the first Handle.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "events/parse.h"
#include "http/server.h"
#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "serve/record.h"
#include "serve/sns_gate.h"

namespace ferry::serve {

struct IntakeOptions {
  std::string token;          // "": only verified SNS envelopes are accepted (UseSns)
  size_t max_body = 1 << 20;  // the server refuses larger bodies (413) before they get here
  bool no_auth = false;       // no token needed (token must be ""): for a trusted network only
  // Waiting event jobs per run past which events are left to the scan (EventRecorder); 0: none.
  uint64_t max_waiting_events = kDefaultMaxWaitingEvents;
};

class EventIntake {
 public:
  EventIntake(jobs::JobStore& store, IntakeOptions options,
              obs::Registry& registry = obs::DefaultRegistry());

  void SetSources(std::vector<IntakeSource> sources);
  // SNS envelopes are checked by `gate` (it outlives the intake); without one they are refused.
  void UseSns(SnsGate* gate);
  http::ServerResponse Handle(const http::ServerRequest& request);

 private:
  bool Authorized(const http::ServerRequest& request) const;
  // `body` (which ParseBody refused) is an SNS Notification whose signature verifies.
  bool VerifiedSnsNotification(const std::string& body, const events::ParseOptions& parse);
  http::ServerResponse Refuse(int code, const std::string& reason, const std::string& message);

  const IntakeOptions options_;
  EventRecorder recorder_;
  obs::FamilyRef<obs::Counter> ignored_;
  obs::FamilyRef<obs::Counter> refused_;
  SnsGate* sns_ = nullptr;  // set before serving
};

}  // namespace ferry::serve
