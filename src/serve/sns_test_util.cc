// Test helpers for the SNS tests (sns_test_util.h).
#include "serve/sns_test_util.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>

#include "checksum/checksum.h"

namespace ferry::serve::snstest {

// 1024 bits: several keys per test, each test its own process; the checks do not depend on size.
Pkey NewRsaKey() { return Pkey(EVP_RSA_gen(1024)); }

std::string Certificate(const CertSpec& spec) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), std::chrono::system_clock::to_time_t(spec.from));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), std::chrono::system_clock::to_time_t(spec.to));
  X509_set_pubkey(cert.get(), spec.key);
  auto add_cn = [](X509_NAME* name, const std::string& cn) {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  };
  add_cn(X509_get_subject_name(cert.get()), spec.cn);
  add_cn(X509_get_issuer_name(cert.get()), spec.issuer_cn);
  if (spec.ca) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(cert.get(), spec.issuer_key, EVP_sha256()), 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

events::SnsEnvelope Signed(events::SnsEnvelope e, EVP_PKEY* key, std::string_view version) {
  e.signature_version = std::string(version);
  const Result<std::string> text = events::SnsStringToSign(e);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  const EVP_MD* md = version == "1" ? EVP_sha1() : EVP_sha256();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key), 1);
  const auto* in = reinterpret_cast<const unsigned char*>(text->data());
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, text->size()), 1);
  std::vector<uint8_t> sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, in, text->size()), 1);
  sig.resize(len);
  e.signature = checksum::Base64(sig);
  return e;
}

std::string EnvelopeJson(const events::SnsEnvelope& e) {
  nlohmann::json j = {
      {"Type", std::string(events::SnsTypeName(e.type))},
      {"MessageId", e.message_id},
      {"TopicArn", e.topic_arn},
      {"Message", e.message},
      {"Timestamp", e.timestamp},
      {"SignatureVersion", e.signature_version},
      {"Signature", e.signature},
      {"SigningCertURL", e.signing_cert_url},
  };
  if (e.subject) j["Subject"] = *e.subject;
  if (!e.subscribe_url.empty()) j["SubscribeURL"] = e.subscribe_url;
  if (!e.token.empty()) j["Token"] = e.token;
  if (!e.unsubscribe_url.empty()) j["UnsubscribeURL"] = e.unsubscribe_url;
  return j.dump();
}

events::SnsEnvelope Notification(std::string message) {
  events::SnsEnvelope e;
  e.type = events::SnsType::kNotification;
  e.message_id = "5b0e4f3a-2c1d-4e6f-8a9b-0c1d2e3f4a5b";
  e.topic_arn = std::string(kTopic);
  e.subject = "Amazon S3 Notification";
  e.message = std::move(message);
  e.timestamp = "2026-01-01T00:00:00.000Z";
  e.signing_cert_url = std::string(kCertUrl);
  e.unsubscribe_url =
      "https://sns.eu-west-3.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" +
      std::string(kTopic) + ":1";
  return e;
}

events::SnsEnvelope Confirmation(events::SnsType type, std::string topic) {
  events::SnsEnvelope e;
  e.type = type;
  e.message_id = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b";
  e.topic_arn = topic;
  e.message = "You have chosen to subscribe to the topic " + topic + ".";
  e.token = "2336412f37fb687f5d51e6e2425f004a";
  e.subscribe_url = "https://sns.eu-west-3.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" +
                    topic + "&Token=" + e.token;
  e.timestamp = "2026-01-01T00:00:00.000Z";
  e.signing_cert_url = std::string(kCertUrl);
  return e;
}

void FakeHttps::Set(const std::string& url, Reply reply) {
  std::lock_guard lock(mu_);
  replies_[url] = std::move(reply);
}

Result<http::HttpResponse> FakeHttps::Send(const http::HttpRequest& request,
                                           http::BodySink& sink, std::stop_token) {
  Reply reply;
  {
    std::lock_guard lock(mu_);
    asked_.push_back(request.url);
    auto it = replies_.find(request.url);
    if (it == replies_.end() || it->second.unreachable) {
      return Status::Unavailable("GET " + request.url + ": could not connect");
    }
    reply = it->second;
  }
  FERRY_RETURN_IF_ERROR(sink.Begin(reply.status, {}));
  FERRY_RETURN_IF_ERROR(sink.Write(std::as_bytes(std::span(reply.body.data(), reply.body.size()))));
  http::HttpResponse response;
  response.status_code = reply.status;
  response.body_bytes = reply.body.size();
  return response;
}

std::vector<std::string> FakeHttps::asked() const {
  std::lock_guard lock(mu_);
  return asked_;
}

size_t FakeHttps::count(const std::string& url) const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count(asked_.begin(), asked_.end(), url));
}

}  // namespace ferry::serve::snstest
