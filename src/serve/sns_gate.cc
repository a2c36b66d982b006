// SnsGate (sns_gate.h): topic allow-list, certificate, signature, subscription handshake.
#include "serve/sns_gate.h"

#include <algorithm>
#include <utility>

#include "checksum/checksum.h"
#include "events/errors.h"
#include "obs/log.h"

namespace ferry::serve {
namespace {

SnsVerdict Accept(std::string message) {
  return {.code = 200, .reason = "", .message = std::move(message), .retry_later = false};
}

SnsVerdict Refusal(int code, std::string reason, std::string message, bool retry_later = false) {
  return {.code = code,
          .reason = std::move(reason),
          .message = std::move(message),
          .retry_later = retry_later};
}

// The refusal for a failed signature check: a certificate problem is sns_cert, a field missing
// 400, anything else sns_signature.
SnsVerdict SignatureRefusal(const Status& s) {
  const std::string_view why = events::ReasonOf(s);
  if (why == "bad_certificate" || why == "bad_cert_url") {
    return Refusal(403, "sns_cert", s.message());
  }
  if (why == "missing_field") return Refusal(400, "sns_signature", s.message());
  return Refusal(403, "sns_signature", s.message());
}

// The <SubscriptionArn> of ConfirmSubscription's XML answer, or "".
std::string SubscriptionArnOf(const std::string& xml) {
  constexpr std::string_view kOpen = "<SubscriptionArn>", kClose = "</SubscriptionArn>";
  const size_t start = xml.find(kOpen);
  if (start == std::string::npos) return "";
  const size_t end = xml.find(kClose, start);
  if (end == std::string::npos || end - start > 2048) return "";
  return xml.substr(start + kOpen.size(), end - start - kOpen.size());
}

}  // namespace

SnsGate::SnsGate(http::HttpTransport& transport, SnsCertCache& certs, Clock& clock,
                 SnsGateOptions options)
    : transport_(transport), certs_(certs), clock_(clock), options_(std::move(options)) {}

SnsGate::~SnsGate() { StopBackground(); }

bool SnsGate::Accepts(const std::string& topic_arn) const {
  return std::find(options_.topics.begin(), options_.topics.end(), topic_arn) !=
         options_.topics.end();
}

void SnsGate::StopBackground() {
  std::unique_lock lock(mu_);
  stopped_ = true;
  stop_.request_stop();
  idle_.wait(lock, [&] { return running_.empty(); });
}

bool SnsGate::Launch(const std::string& key, std::function<void(std::stop_token)> work) {
  // Queued under the lock: StopBackground, once it holds it, sees every task started.
  std::lock_guard lock(mu_);
  if (stopped_ || running_.count(key) > 0 || running_.size() >= options_.max_background) {
    return false;
  }
  running_.insert(key);
  options_.background([this, key, work = std::move(work)] {
    work(stop_.get_token());
    std::lock_guard lock(mu_);
    running_.erase(key);
    idle_.notify_all();
  });
  return true;
}

SnsVerdict SnsGate::Precheck(const events::SnsEnvelope& e) const {
  if (!Accepts(e.topic_arn)) {
    return Refusal(403, "sns_topic", "SNS topic " + e.topic_arn + " is not in [serve] sns_topics");
  }
  if (Status s = events::CheckSigningCertUrl(e.signing_cert_url); !s.ok()) {
    return Refusal(403, "sns_cert", s.message());
  }
  // What needs no certificate first: nothing is fetched for an envelope that cannot verify.
  if (e.signature_version != "1" && e.signature_version != "2") {
    return Refusal(403, "sns_signature",
                   "unsupported_signature_version: SignatureVersion is neither 1 nor 2");
  }
  if (Result<std::string> text = events::SnsStringToSign(e); !text.ok()) {
    return SignatureRefusal(text.status());
  }
  const std::optional<std::string> signature = checksum::Base64Decode(e.signature);
  if (!signature || signature->empty()) {
    return Refusal(403, "sns_signature", "bad_signature: Signature is not base64");
  }
  return Accept("verified");
}

SnsVerdict SnsGate::FetchAndVerify(const events::SnsEnvelope& e, std::stop_token stop) {
  Result<std::string> pem = certs_.Fetch(e.signing_cert_url, stop);
  if (!pem.ok()) {
    const bool later = pem.status().code() == ErrorCode::kUnavailable ||
                       pem.status().code() == ErrorCode::kCancelled;
    return Refusal(later ? 503 : 403, "sns_cert", pem.status().message(), later);
  }
  if (Status s = events::VerifySnsSignature(e, *pem, clock_.Now()); !s.ok()) {
    return SignatureRefusal(s);
  }
  certs_.Keep(e.signing_cert_url, *pem);  // only now: a signature verified with it
  return Accept("verified");
}

SnsVerdict SnsGate::Judge(const events::SnsEnvelope& e, bool confirm, std::stop_token stop) {
  SnsVerdict v = Precheck(e);
  if (v.accepted()) {
    if (std::optional<std::string> pem = certs_.Cached(e.signing_cert_url)) {
      if (Status s = events::VerifySnsSignature(e, *pem, clock_.Now()); !s.ok()) {
        v = SignatureRefusal(s);
      }
    } else if (!options_.background) {
      v = FetchAndVerify(e, stop);
    } else {
      // The fetch (and, for a subscription, the visit) in the background; SNS delivers again.
      const bool started = Launch(
          "cert " + e.signing_cert_url, [this, e, confirm](std::stop_token background_stop) {
            const SnsVerdict fetched = FetchAndVerify(e, background_stop);
            if (!fetched.accepted()) {
              obs::Log(obs::Level::kDebug, "SNS envelope refused: " + fetched.message,
                       {{"topic", e.topic_arn}, {"reason", fetched.reason}});
            } else if (confirm && e.type == events::SnsType::kSubscriptionConfirmation) {
              SnsVerdict outcome = Confirm(e, background_stop);
              std::lock_guard lock(mu_);
              if (confirmed_.size() >= 64) confirmed_.erase(confirmed_.begin());
              confirmed_[e.subscribe_url] = std::move(outcome);
            }
          });
      v = Refusal(503, "sns_cert",
                  started ? "fetching the signing certificate " + e.signing_cert_url
                          : "the signing certificate " + e.signing_cert_url + " is not at hand",
                  /*retry_later=*/true);
    }
  }
  if (!v.accepted()) {
    obs::Log(obs::Level::kDebug, "SNS envelope refused: " + v.message,
             {{"topic", e.topic_arn}, {"type", events::SnsTypeName(e.type)}, {"reason", v.reason}});
    return v;
  }
  return confirm ? AfterVerified(e, stop) : v;
}

SnsVerdict SnsGate::Verify(const events::SnsEnvelope& e, std::stop_token stop) {
  return Judge(e, /*confirm=*/false, stop);
}

SnsVerdict SnsGate::Check(const events::SnsEnvelope& e, std::stop_token stop) {
  return Judge(e, /*confirm=*/true, stop);
}

SnsVerdict SnsGate::AfterVerified(const events::SnsEnvelope& e, std::stop_token stop) {
  switch (e.type) {
    case events::SnsType::kNotification:
      return Accept("verified");
    case events::SnsType::kSubscriptionConfirmation:
      return options_.background ? ConfirmInBackground(e) : Confirm(e, stop);
    case events::SnsType::kUnsubscribeConfirmation:
      obs::Log(obs::Level::kInfo, "SNS unsubscribe confirmation received (nothing done)",
               {{"topic", e.topic_arn}});
      return Accept("unsubscribe confirmation noted");
  }
  return Refusal(400, "sns_signature", "unknown SNS type");
}

SnsVerdict SnsGate::ConfirmInBackground(const events::SnsEnvelope& e) {
  if (Status s = events::CheckSubscribeUrl(e.subscribe_url); !s.ok()) {
    obs::Log(obs::Level::kWarn, "SNS subscription not confirmed: " + s.message(),
             {{"topic", e.topic_arn}});
    return Refusal(403, "sns_confirm", s.message());
  }
  {
    std::lock_guard lock(mu_);
    if (auto done = confirmed_.find(e.subscribe_url); done != confirmed_.end()) {
      SnsVerdict outcome = std::move(done->second);
      confirmed_.erase(done);  // answered once; a later replay visits again
      return outcome;
    }
  }
  Launch("confirm " + e.subscribe_url, [this, e](std::stop_token background_stop) {
    SnsVerdict outcome = Confirm(e, background_stop);
    std::lock_guard lock(mu_);
    if (confirmed_.size() >= 64) confirmed_.erase(confirmed_.begin());
    confirmed_[e.subscribe_url] = std::move(outcome);
  });
  return Refusal(503, "sns_confirm", "confirming the subscription", /*retry_later=*/true);
}

SnsVerdict SnsGate::Confirm(const events::SnsEnvelope& e, std::stop_token stop) {
  if (Status s = events::CheckSubscribeUrl(e.subscribe_url); !s.ok()) {
    obs::Log(obs::Level::kWarn, "SNS subscription not confirmed: " + s.message(),
             {{"topic", e.topic_arn}});
    return Refusal(403, "sns_confirm", s.message());
  }
  http::HttpRequest request;
  request.method = "GET";
  request.url = e.subscribe_url;
  request.timeout_ms = options_.confirm_timeout_ms;
  http::StringSink sink(options_.confirm_max_bytes);
  Result<http::HttpResponse> response = transport_.Send(request, sink, stop);
  if (!response.ok() || response->status_code != 200) {
    const std::string what =
        response.ok() ? "SubscribeURL answered " + std::to_string(response->status_code)
                      : "cannot visit SubscribeURL: " + response.status().message();
    obs::Log(obs::Level::kWarn, "SNS subscription not confirmed: " + what,
             {{"topic", e.topic_arn}});
    return response.ok() ? Refusal(502, "sns_confirm", what)
                         : Refusal(503, "sns_confirm", what, /*retry_later=*/true);
  }
  obs::Log(obs::Level::kInfo, "SNS subscription confirmed",
           {{"topic", e.topic_arn}, {"subscription", SubscriptionArnOf(sink.body())}});
  return Accept("subscription confirmed");
}

}  // namespace ferry::serve
