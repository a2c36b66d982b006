// SnsGate: whether an Amazon SNS envelope posted to `ferry serve`'s /events is trusted, and the
// subscription handshake. S3 → SNS → HTTPS subscription sends no Authorization header: for an
// SNS envelope, an allow-listed TopicArn and a signature that verifies with the certificate
// fetched from an SNS host ARE the authentication (EventIntake, intake.h).
//
// Check(envelope), in order, each step refusing before anything costlier is done:
//   1. TopicArn is one of `topics`                 else 403 sns_topic (nothing fetched)
//   2. SigningCertURL passes CheckSigningCertUrl   else 403 sns_cert
//   3. SignatureVersion 1|2, a signature, the signed fields    else 403 (400: a field missing)
//                                                  sns_signature
//   4. the certificate (SnsCertCache)              else 403 sns_cert; 503 sns_cert (retry) when
//                                                  it could not be fetched for now
//   5. the signature (events::VerifySnsSignature, at the Clock's Now)   else 403 sns_signature
//                                                  (sns_cert for a certificate not valid now)
//   then by Type:
//   - Notification: accepted (200); the caller records its Message.
//   - SubscriptionConfirmation: its SubscribeURL must pass events::CheckSubscribeUrl (the same
//     SNS host rule as the certificate's; else 403 sns_confirm) and is visited with a GET
//     (timeout, capped answer, no redirect): 200 once it answers 200 (logged with the topic);
//     502 sns_confirm when it answers another status, 503 sns_confirm when it cannot be reached
//     (SNS retries 5xx answers; a 4xx one it drops).
//   - UnsubscribeConfirmation: logged, accepted (200); nothing is visited.
// A 503 answer has Retry-After. Refusals of steps 1-5 are logged at debug (the caller counts
// them: whoever can reach /events can post them), those of the confirmation at warn.
//
// Replays: a replayed envelope verifies again. For a Notification that is harmless (events are
// hints: its key is looked at again); a replayed SubscriptionConfirmation visits its
// SubscribeURL again, which AWS answers with the same subscription.
//
// Thread-safety: Check may be called from any thread (the cache and the transport are).
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "events/sns.h"
#include "http/transport.h"
#include "serve/sns_certs.h"

namespace ferry::serve {

struct SnsGateOptions {
  std::vector<std::string> topics;  // TopicArns accepted, exactly as SNS sends them
  int confirm_timeout_ms = 5000;    // the GET of a SubscribeURL
  size_t confirm_max_bytes = 64 * 1024;
};

struct SnsVerdict {
  int code = 200;          // 200: accepted
  std::string reason;      // a refusal's ferry_events_refused_total reason (sns_*)
  std::string message;     // for the answer's body and the log
  bool retry_later = false;  // a 5xx worth a retry: answer with Retry-After
  bool accepted() const { return code == 200; }
};

class SnsGate {
 public:
  // `transport` and `certs` outlive the gate. `certs` should use the same transport.
  SnsGate(http::HttpTransport& transport, SnsCertCache& certs, Clock& clock,
          SnsGateOptions options);

  // Steps 1-5 and, by Type, the confirmation. See above.
  SnsVerdict Check(const events::SnsEnvelope& envelope, std::stop_token stop = {});
  // Steps 1-5 only: whether the envelope is authentic (and of an accepted topic).
  SnsVerdict Verify(const events::SnsEnvelope& envelope, std::stop_token stop = {});

  bool Accepts(const std::string& topic_arn) const;

 private:
  SnsVerdict Confirm(const events::SnsEnvelope& envelope, std::stop_token stop);

  http::HttpTransport& transport_;
  SnsCertCache& certs_;
  Clock& clock_;
  const SnsGateOptions options_;
};

}  // namespace ferry::serve
