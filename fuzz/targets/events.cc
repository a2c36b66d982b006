// Event bodies of every source (RGW, MinIO, AWS; direct, in SNS envelopes, SQS messages): each
// input comes back as events or a refusal with one of the module's reasons, and the events keep
// the invariants below.
#include <string_view>

#include "events/events.h"
#include "fuzz/fuzz_target.h"

namespace {

using namespace ferry::events;

void Require(bool ok) { ferry::fuzz::Require(ok, "an event's invariant"); }

void CheckEvents(const ParsedBody& body) {
  for (const Event& e : body.events) {
    Require(!e.bucket.empty() && !e.key.empty() && e.key.size() <= 1024);
    Require(e.key.find('\0') == std::string::npos);
    Require(!e.name.empty());
    (void)EventKindName(e.kind);
    (void)DedupKeyOf(e).ToString();
    (void)DedupKeyHash()(DedupKeyOf(e));
    if (body.events.size() > 1) (void)SequencerLess(e.sequencer, body.events[0].sequencer);
  }
}

}  // namespace

FERRY_FUZZ_TARGET(events) {
  const std::string_view input = ferry::fuzz::AsText(data, size);
  ParseOptions options;
  options.max_body_bytes = 64 * 1024;
  for (const auto& parsed : {ParseBody(input, options), ParseS3Message(input, options)}) {
    if (parsed.ok()) {
      CheckEvents(*parsed);
      if (parsed->sns) (void)SnsStringToSign(*parsed->sns);
    } else {
      Require(ReasonOf(parsed.status()) != "other" && ReasonOf(parsed.status()) != "");
    }
  }
  if (const auto env = ParseSnsEnvelope(input, options); env.ok()) {
    (void)SnsStringToSign(*env);
    (void)CheckSigningCertUrl(env->signing_cert_url);
  }
  (void)CheckSigningCertUrl(input);
  (void)CompareSequencers(input.substr(0, size / 2), input.substr(size / 2));
  return 0;
}
