// EventRecorder (record.h): events to replicate-event jobs, enqueued in one transaction.
#include "serve/record.h"

#include <chrono>
#include <utility>

#include "replicate/payload.h"

namespace ferry::serve {
namespace {

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

EventRecorder::EventRecorder(jobs::JobStore& store, obs::Registry& registry)
    : store_(store),
      received_(registry.AddCounter("ferry_events_received_total",
                                    "Bucket notification events accepted, by store and kind",
                                    {"store", "kind"})),
      recorded_(registry.AddCounter("ferry_events_recorded_total",
                                    "replicate-event jobs enqueued for accepted events")),
      ignored_(registry.AddCounter("ferry_events_ignored_total",
                                   "Accepted events that need no replication, by reason",
                                   {"reason"})) {}

void EventRecorder::SetSources(std::vector<IntakeSource> sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

Result<size_t> EventRecorder::Record(const std::vector<events::Event>& events) {
  FERRY_ASSIGN_OR_RETURN(std::vector<size_t> jobs,
                         RecordAll(std::span<const std::vector<events::Event>>(&events, 1)));
  return jobs.front();
}

Result<std::vector<size_t>> EventRecorder::RecordAll(
    std::span<const std::vector<events::Event>> bodies) {
  std::vector<jobs::JobSpec> specs;
  std::vector<size_t> per_body(bodies.size(), 0);
  std::vector<std::string> ignored;  // reasons, counted once the call succeeded
  {
    std::lock_guard lock(mu_);
    for (size_t b = 0; b < bodies.size(); ++b) {
      for (const events::Event& e : bodies[b]) {
        if (!Replicable(e.kind)) {
          ignored.push_back("kind_" + std::string(events::EventKindName(e.kind)));
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
          ++per_body[b];
        }
        if (!served) ignored.push_back("no_source");
      }
    }
  }
  if (!specs.empty()) {
    FERRY_RETURN_IF_ERROR(store_.Enqueue(specs).status());
    recorded_.Get().Add(specs.size());
  }
  for (const std::string& reason : ignored) ignored_.WithLabels({reason}).Add();
  for (const std::vector<events::Event>& body : bodies) {
    for (const events::Event& e : body) {
      received_.WithLabels({events::SourceKindName(e.source), events::EventKindName(e.kind)}).Add();
    }
  }
  return per_body;
}

}  // namespace ferry::serve
