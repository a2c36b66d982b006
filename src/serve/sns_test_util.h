// Test helpers for the SNS half of the intake: a throwaway PKI made with OpenSSL (a CA, a
// signing certificate it issued, their keys), envelopes signed as SNS signs them, and a fake
// HTTPS transport that answers fixed bodies by URL and records what was asked. Tests only.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "events/sns.h"
#include "http/transport.h"

namespace ferry::serve::snstest {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey NewRsaKey();

// A PEM certificate of `key` for `cn`, valid from `from` to `to`, issued by `issuer_key` as
// `issuer_cn` (self-signed when they are `key` and `cn`); `ca`: with basicConstraints CA:TRUE.
struct CertSpec {
  EVP_PKEY* key = nullptr;
  std::string cn;
  EVP_PKEY* issuer_key = nullptr;
  std::string issuer_cn;
  std::chrono::system_clock::time_point from;
  std::chrono::system_clock::time_point to;
  bool ca = false;
};
std::string Certificate(const CertSpec& spec);

// `e` signed with `key` (SignatureVersion "2": SHA256withRSA; "1": SHA1withRSA).
events::SnsEnvelope Signed(events::SnsEnvelope e, EVP_PKEY* key, std::string_view version = "2");
// The envelope as SNS posts it: a JSON object of its fields (those that are set).
std::string EnvelopeJson(const events::SnsEnvelope& e);

constexpr std::string_view kCertUrl =
    "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem";
constexpr std::string_view kTopic = "arn:aws:sns:eu-west-3:111122223333:ferry-events";

// An unsigned Notification of kTopic carrying `message`, its cert at kCertUrl.
events::SnsEnvelope Notification(std::string message);
// An unsigned SubscriptionConfirmation (or UnsubscribeConfirmation) of `topic`.
events::SnsEnvelope Confirmation(events::SnsType type, std::string topic = std::string(kTopic));

// Answers GETs from a table of URL -> (status, body); an unknown URL fails like an unreachable
// host (kUnavailable). Records every URL asked.
class FakeHttps : public http::HttpTransport {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    bool unreachable = false;
  };
  void Set(const std::string& url, Reply reply);
  Result<http::HttpResponse> Send(const http::HttpRequest& request, http::BodySink& sink,
                                  std::stop_token stop) override;
  std::vector<std::string> asked() const;
  size_t count(const std::string& url) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Reply> replies_;
  std::vector<std::string> asked_;
};

}  // namespace ferry::serve::snstest
