// EventIntake: `ferry serve`'s POST /events. A bucket notification (RGW or MinIO webhook, AWS
// S3 JSON) is authenticated, normalized (events/parse.h) and recorded durably as a
// replicate-event job per key of a served source before it is acknowledged; nothing is done
// with it here. Events are hints: each job lists its key's versions at the source when it runs
// and replicates what the rules say, so a duplicated, reordered or stale event changes nothing,
// and a queued job of a key covers every later event of that key (JobSpec::coalesce_key).
//
// Answers: 200 once every event of the body is recorded (serve/record.h: EventRecorder, shared
// with the SQS intake; or counted as ignored: a bucket no source serves, an event kind that
// changes no bytes, tags or versions); 401 without the token
// (Authorization: Bearer T, or RGW's opaqueData T on every record); 400 for a body the
// normalizer refuses, and for SNS envelopes (their signatures are not checked yet: refused, not
// trusted); 405 for another method; 503 with Retry-After when the state store cannot record
// them (the sender retries; nothing was acknowledged). Every answer is counted in the registry:
//   ferry_events_received_total{store,kind}   events in bodies that were recorded or ignored
//   ferry_events_recorded_total               replicate-event jobs enqueued (coalesced ones too)
//   ferry_events_ignored_total{reason}        no_source | kind_<kind> | test_event
//   ferry_events_refused_total{reason}        unauthenticated | method | store_unavailable |
//                                             sns_unverified | the normalizer's reason words
//
// Thread-safety: Handle may be called from any thread; SetSources swaps the served sources.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "serve/record.h"

namespace ferry::serve {

struct IntakeOptions {
  std::string token;          // required: an intake without a token is not started
  size_t max_body = 1 << 20;  // the server refuses larger bodies (413) before they get here
};

class EventIntake {
 public:
  EventIntake(jobs::JobStore& store, IntakeOptions options,
              obs::Registry& registry = obs::DefaultRegistry());

  void SetSources(std::vector<IntakeSource> sources);
  http::ServerResponse Handle(const http::ServerRequest& request);

 private:
  bool Authorized(const http::ServerRequest& request) const;
  http::ServerResponse Refuse(int code, const std::string& reason, const std::string& message);

  const IntakeOptions options_;
  EventRecorder recorder_;
  obs::FamilyRef<obs::Counter> ignored_;
  obs::FamilyRef<obs::Counter> refused_;
};

}  // namespace ferry::serve
