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
//   4. the certificate (SnsCertCache): kept, or fetched    else 403 sns_cert; 503 sns_cert
//                                                  (retry) when it could not be fetched for now
//   5. the signature (events::VerifySnsSignature, at the Clock's Now)   else 403 sns_signature
//                                                  (sns_cert for a certificate not valid now);
//                                                  a fetched certificate is kept only now, once
//                                                  a signature verified with it
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
// The network (a certificate fetch, a SubscribeURL visit) and the caller's thread: with
// `background` set (ferry serve: a task of the process's executor), Check and Verify never wait
// on the network, since their caller is the HTTP server's one thread (http/server.h: while it
// waited, /healthz, /metrics and /events would all freeze). What needs the network is started
// as a background task and the envelope answered 503 sns_cert or sns_confirm with Retry-After
// at once; the task fetches the certificate, verifies this envelope's signature with it (kept
// if it verifies) and, for a SubscriptionConfirmation, visits its SubscribeURL. SNS delivers
// the envelope again after a 5xx: the certificate is kept by then, and the confirmation's
// outcome is answered (200, or the 502/503 above, once; a later replay visits again). At most
// `max_background` tasks at once, one per certificate URL or SubscribeURL (past it: 503 with
// nothing started); StopBackground (and the destructor) cancels them (their stop token) and
// waits for them. Without `background`, both are done on the caller's thread (tests, tools).
//
// Replays: a replayed envelope verifies again. For a Notification that is harmless (events are
// hints: its key is looked at again); a replayed SubscriptionConfirmation visits its
// SubscribeURL again, which AWS answers with the same subscription.
//
// Thread-safety: Check, Verify and StopBackground may be called from any thread (the cache and
// the transport are thread-safe).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "events/sns.h"
#include "http/transport.h"
#include "serve/sns_certs.h"

namespace ferry::serve {

// Runs `work` off the caller's thread, soon (ferry serve: a task of the process's executor). It
// must queue `work` and return without running it (it is called under the gate's lock), and
// every work queued must run: StopBackground waits for them.
using SnsBackground = std::function<void(std::function<void()> work)>;

struct SnsGateOptions {
  std::vector<std::string> topics;  // TopicArns accepted, exactly as SNS sends them
  int confirm_timeout_ms = 5000;    // the GET of a SubscribeURL
  size_t confirm_max_bytes = 64 * 1024;
  SnsBackground background;   // null: the network is waited for on the caller's thread
  size_t max_background = 4;  // background tasks at once
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
  ~SnsGate();  // StopBackground
  SnsGate(const SnsGate&) = delete;
  SnsGate& operator=(const SnsGate&) = delete;

  // Steps 1-5 and, by Type, the confirmation. See above.
  SnsVerdict Check(const events::SnsEnvelope& envelope, std::stop_token stop = {});
  // Steps 1-5 only: whether the envelope is authentic (and of an accepted topic).
  SnsVerdict Verify(const events::SnsEnvelope& envelope, std::stop_token stop = {});

  bool Accepts(const std::string& topic_arn) const;

  // Background tasks: none started from now on (answered 503), those running cancelled and
  // waited for. Call before whatever runs them (the executor) goes.
  void StopBackground();

 private:
  SnsVerdict Judge(const events::SnsEnvelope& e, bool confirm, std::stop_token stop);
  // Steps 1-3: what needs no certificate.
  SnsVerdict Precheck(const events::SnsEnvelope& e) const;
  // Steps 4-5 with a fetched certificate, kept when the signature verifies.
  SnsVerdict FetchAndVerify(const events::SnsEnvelope& e, std::stop_token stop);
  // By Type, once verified.
  SnsVerdict AfterVerified(const events::SnsEnvelope& e, std::stop_token stop);
  // The SubscribeURL's rule, its GET and its verdict.
  SnsVerdict Confirm(const events::SnsEnvelope& e, std::stop_token stop);
  // The background's verdict of a SubscriptionConfirmation: its outcome once known (taken),
  // else a task started (or running) and 503.
  SnsVerdict ConfirmInBackground(const events::SnsEnvelope& e);
  // Starts `work` as a background task named `key` unless one of that name runs or
  // max_background do; answers false when not started.
  bool Launch(const std::string& key, std::function<void(std::stop_token)> work);

  http::HttpTransport& transport_;
  SnsCertCache& certs_;
  Clock& clock_;
  const SnsGateOptions options_;

  std::mutex mu_;
  std::condition_variable idle_;          // a background task ended
  std::set<std::string> running_;         // GUARDED_BY(mu_): the keys of the tasks running
  std::map<std::string, SnsVerdict> confirmed_;  // GUARDED_BY(mu_): by SubscribeURL
  bool stopped_ = false;                  // GUARDED_BY(mu_)
  std::stop_source stop_;                 // the background tasks' stop
};

}  // namespace ferry::serve
