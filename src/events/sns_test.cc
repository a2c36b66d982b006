// SNS signatures: the string to sign, the certificate URL rule, and RSA verification against a
// throwaway key and self-signed certificate made here with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "checksum/checksum.h"
#include "events/events.h"

namespace ferry::events {
namespace {

using std::chrono::sys_days;
using std::chrono::system_clock;
using namespace std::chrono_literals;

const system_clock::time_point kNow = sys_days{2024y / 6 / 1} + 12h;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A PEM certificate for `key`, self-signed, valid from `from` to `to`.
std::string SelfSigned(EVP_PKEY* key, system_clock::time_point from, system_clock::time_point to) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), system_clock::to_time_t(from));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), system_clock::to_time_t(to));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("sns.test.invalid"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  EXPECT_GT(X509_sign(cert.get(), key, EVP_sha256()), 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// base64(sign(text)) with `key` and `md`.
std::string Sign(EVP_PKEY* key, const EVP_MD* md, std::string_view text) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key), 1);
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, text.size()), 1);
  std::vector<uint8_t> sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, in, text.size()), 1);
  sig.resize(len);
  return checksum::Base64(sig);
}

SnsEnvelope Notification() {
  SnsEnvelope e;
  e.type = SnsType::kNotification;
  e.message_id = "5b0e4f3a-2c1d-4e6f-8a9b-0c1d2e3f4a5b";
  e.topic_arn = "arn:aws:sns:eu-west-3:111122223333:ledger-events";
  e.subject = "Amazon S3 Notification";
  e.message = R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3"}]})";
  e.timestamp = "2024-06-01T11:59:58.123Z";
  e.signing_cert_url =
      "https://sns.eu-west-3.amazonaws.com/"
      "SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem";
  return e;
}

SnsEnvelope Confirmation(SnsType type) {
  SnsEnvelope e;
  e.type = type;
  e.message_id = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b";
  e.topic_arn = "arn:aws:sns:us-west-2:111122223333:ledger-events";
  e.message = "You have chosen to subscribe to the topic.\nVisit the SubscribeURL to confirm.";
  e.subscribe_url =
      "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:"
      "us-west-2:111122223333:ledger-events&Token=2336412f37";
  e.token = "2336412f37";
  e.timestamp = "2024-06-01T11:00:00.000Z";
  e.signing_cert_url = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-a1.pem";
  return e;
}

class SnsSignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = EVP_RSA_gen(2048);
    other_key_ = EVP_RSA_gen(2048);
    const auto from = sys_days{2024y / 1 / 1}, to = sys_days{2025y / 1 / 1};
    cert_ = SelfSigned(key_, from, to);
    other_cert_ = SelfSigned(other_key_, from, to);
    expired_cert_ = SelfSigned(key_, sys_days{2022y / 1 / 1}, sys_days{2023y / 1 / 1});
    future_cert_ = SelfSigned(key_, sys_days{2024y / 7 / 1}, sys_days{2025y / 7 / 1});
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(key_);
    EVP_PKEY_free(other_key_);
  }

  // `e` signed with the main key: SHA1withRSA for "1", SHA256withRSA otherwise.
  static SnsEnvelope Signed(SnsEnvelope e, std::string_view version) {
    e.signature_version = std::string(version);
    const auto text = SnsStringToSign(e);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    e.signature = Sign(key_, version == "1" ? EVP_sha1() : EVP_sha256(), *text);
    return e;
  }
  static std::string ReasonOfVerify(const SnsEnvelope& e, const std::string& pem = cert_) {
    return std::string(ReasonOf(VerifySnsSignature(e, pem, kNow)));
  }

  static inline EVP_PKEY* key_ = nullptr;
  static inline EVP_PKEY* other_key_ = nullptr;
  static inline std::string cert_, other_cert_, expired_cert_, future_cert_;
};

TEST(SnsStringToSignTest, NotificationFieldsInOrderWithSubject) {
  SnsEnvelope e = Notification();
  const auto text = SnsStringToSign(e);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "Message\n" + e.message +
                "\nMessageId\n5b0e4f3a-2c1d-4e6f-8a9b-0c1d2e3f4a5b\n"
                "Subject\nAmazon S3 Notification\nTimestamp\n2024-06-01T11:59:58.123Z\n"
                "TopicArn\narn:aws:sns:eu-west-3:111122223333:ledger-events\nType\nNotification\n");
  e.subject.reset();
  EXPECT_EQ(SnsStringToSign(e)->find("Subject"), std::string::npos);
  e.subject = "";  // present but empty: still signed
  EXPECT_NE(SnsStringToSign(e)->find("Subject\n\nTimestamp"), std::string::npos);
}

TEST(SnsStringToSignTest, ConfirmationFieldsInOrder) {
  const SnsEnvelope e = Confirmation(SnsType::kUnsubscribeConfirmation);
  const auto text = SnsStringToSign(e);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "Message\n" + e.message + "\nMessageId\n" + e.message_id + "\nSubscribeURL\n" +
                       e.subscribe_url + "\nTimestamp\n" + e.timestamp + "\nToken\n" + e.token +
                       "\nTopicArn\n" + e.topic_arn + "\nType\nUnsubscribeConfirmation\n");
}

TEST(SnsStringToSignTest, MissingSignedFields) {
  SnsEnvelope e = Notification();
  e.timestamp.clear();
  EXPECT_EQ(ReasonOf(SnsStringToSign(e).status()), "missing_field");
  SnsEnvelope c = Confirmation(SnsType::kSubscriptionConfirmation);
  c.token.clear();
  EXPECT_EQ(ReasonOf(SnsStringToSign(c).status()), "missing_field");
  SnsEnvelope n = Notification();
  n.token.clear();  // not signed in a notification
  EXPECT_TRUE(SnsStringToSign(n).ok());
}

TEST(SigningCertUrlTest, AcceptsSnsCertificateUrls) {
  for (std::string_view url : {
           "https://sns.us-east-1.amazonaws.com/"
           "SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
           "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-a.pem",
           "https://sns.us-gov-west-1.amazonaws.com/x/SimpleNotificationService-b.pem",
           "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-c.pem",
       }) {
    EXPECT_TRUE(CheckSigningCertUrl(url).ok()) << url;
  }
}

TEST(SigningCertUrlTest, RefusesEverythingElse) {
  for (std::string_view url : {
           "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
           "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-a.pem",
           "https://evil.example/sns.us-east-1.amazonaws.com/a.pem",
           "https://sns.us-east-1.amazonaws.com@evil.example/a.pem",
           "https://evil.example@sns.us-east-1.amazonaws.com/a.pem",
           "https://sns.us-east-1.amazonaws.com:8443/a.pem",
           "https://sqs.us-east-1.amazonaws.com/a.pem",
           "https://sns.amazonaws.com/a.pem",
           "https://sns..amazonaws.com/a.pem",
           "https://sns.US-EAST-1.amazonaws.com/a.pem",
           "https://sns.us-east-1.evilamazonaws.com/a.pem",
           "https://sns.us-east-1.amazonaws.com/a.pem?x=1",
           "https://sns.us-east-1.amazonaws.com/a.txt",
           "https://sns.us-east-1.amazonaws.com/.pem",
           "https://sns.us-east-1.amazonaws.com/../a.pem",
           "https://sns.us-east-1.amazonaws.com/a%2F.pem",
           "https://sns.us-east-1.amazonaws.com",
           "https://sns.us-east-1.amazonaws.com/a.pem#f",
           "",
       }) {
    const Status s = CheckSigningCertUrl(url);
    EXPECT_EQ(ReasonOf(s), "bad_cert_url") << url;
    EXPECT_EQ(s.code(), ErrorCode::kUnauthenticated) << url;
  }
}

TEST(SubscribeUrlTest, AcceptsConfirmSubscriptionUrlsOfSnsHosts) {
  for (std::string_view url : {
           "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:"
           "us-west-2:123456789012:MyTopic&Token=2336412f37fb687f5d51e6e2425f004a",
           "https://sns.cn-north-1.amazonaws.com.cn/?TopicArn=arn%3Aaws-cn%3Asns%3Acn-north-1%3A1"
           "%3At&Action=ConfirmSubscription&Token=a.b-c_d~e",
       }) {
    EXPECT_TRUE(CheckSubscribeUrl(url).ok()) << url;
  }
}

TEST(SubscribeUrlTest, RefusesOtherHostsPathsAndActions) {
  for (std::string_view url : {
           "http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=t",
           "https://evil.example/?Action=ConfirmSubscription&Token=t",
           "https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription",
           "https://sns.us-west-2.amazonaws.com@evil.example/?Action=ConfirmSubscription",
           "https://sns.us-west-2.amazonaws.com:444/?Action=ConfirmSubscription",
           "https://sns.us-west-2.amazonaws.com/x?Action=ConfirmSubscription",
           "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=a",
           "https://sns.us-west-2.amazonaws.com/?XAction=ConfirmSubscription",
           "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription#f",
           "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=a b",
           "https://sns.us-west-2.amazonaws.com/",
           "",
       }) {
    const Status s = CheckSubscribeUrl(url);
    EXPECT_EQ(ReasonOf(s), "bad_subscribe_url") << url;
    EXPECT_EQ(s.code(), ErrorCode::kUnauthenticated) << url;
  }
}

TEST_F(SnsSignatureTest, CertificateNotAfterOfACertificateValidNow) {
  const auto until = SnsCertificateNotAfter(cert_, kNow);
  ASSERT_TRUE(until.ok()) << until.status().ToString();
  EXPECT_EQ(*until, system_clock::time_point(sys_days{2025y / 1 / 1}));
  EXPECT_EQ(ReasonOf(SnsCertificateNotAfter(expired_cert_, kNow).status()), "bad_certificate");
  EXPECT_EQ(ReasonOf(SnsCertificateNotAfter(future_cert_, kNow).status()), "bad_certificate");
  EXPECT_EQ(ReasonOf(SnsCertificateNotAfter("not a certificate", kNow).status()),
            "bad_certificate");
}

TEST_F(SnsSignatureTest, GoodSignaturesVerify) {
  EXPECT_TRUE(VerifySnsSignature(Signed(Notification(), "1"), cert_, kNow).ok());
  EXPECT_TRUE(VerifySnsSignature(Signed(Notification(), "2"), cert_, kNow).ok());
  SnsEnvelope no_subject = Notification();
  no_subject.subject.reset();
  EXPECT_TRUE(VerifySnsSignature(Signed(no_subject, "2"), cert_, kNow).ok());
  for (SnsType type : {SnsType::kSubscriptionConfirmation, SnsType::kUnsubscribeConfirmation}) {
    EXPECT_TRUE(VerifySnsSignature(Signed(Confirmation(type), "1"), cert_, kNow).ok());
    EXPECT_TRUE(VerifySnsSignature(Signed(Confirmation(type), "2"), cert_, kNow).ok());
  }
}

TEST_F(SnsSignatureTest, TamperedFieldsFail) {
  const SnsEnvelope good = Signed(Notification(), "2");
  auto tampered = [&](auto change) {
    SnsEnvelope e = good;
    change(e);
    return ReasonOfVerify(e);
  };
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.message += " "; }), "bad_signature");
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.message_id[0] = '6'; }), "bad_signature");
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.topic_arn += "-2"; }), "bad_signature");
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.timestamp = "2024-06-01T11:59:59.123Z"; }),
            "bad_signature");
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.subject.reset(); }), "bad_signature");
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.subject = "Amazon S3 Notification!"; }),
            "bad_signature");
  EXPECT_EQ(tampered([](SnsEnvelope& e) {
              e.type = SnsType::kSubscriptionConfirmation;
              e.subscribe_url = "https://x";
              e.token = "t";
            }),
            "bad_signature");
  // Fields outside the signed text may change (UnsubscribeURL is not signed).
  EXPECT_EQ(tampered([](SnsEnvelope& e) { e.unsubscribe_url = "https://elsewhere"; }), "");

  const SnsEnvelope confirmation = Signed(Confirmation(SnsType::kSubscriptionConfirmation), "1");
  SnsEnvelope redirected = confirmation;
  redirected.subscribe_url = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&x";
  EXPECT_EQ(ReasonOfVerify(redirected), "bad_signature");
  SnsEnvelope token = confirmation;
  token.token += "0";
  EXPECT_EQ(ReasonOfVerify(token), "bad_signature");
}

TEST_F(SnsSignatureTest, WrongOrUnknownVersion) {
  SnsEnvelope e = Signed(Notification(), "2");
  e.signature_version = "1";  // signed with SHA-256, claimed SHA-1
  EXPECT_EQ(ReasonOfVerify(e), "bad_signature");
  SnsEnvelope v1 = Signed(Notification(), "1");
  v1.signature_version = "2";
  EXPECT_EQ(ReasonOfVerify(v1), "bad_signature");
  for (std::string_view version : {"3", "", "01", "2 "}) {
    e.signature_version = std::string(version);
    EXPECT_EQ(ReasonOfVerify(e), "unsupported_signature_version") << version;
  }
}

TEST_F(SnsSignatureTest, WrongKeyOrGarbledSignature) {
  const SnsEnvelope e = Signed(Notification(), "2");
  EXPECT_EQ(ReasonOfVerify(e, other_cert_), "bad_signature");
  SnsEnvelope garbled = e;
  garbled.signature = "not base64!";
  EXPECT_EQ(ReasonOfVerify(garbled), "bad_signature");
  garbled.signature = "";
  EXPECT_EQ(ReasonOfVerify(garbled), "bad_signature");
  garbled.signature = "AAAA";
  EXPECT_EQ(ReasonOfVerify(garbled), "bad_signature");
}

TEST_F(SnsSignatureTest, CertificateChecks) {
  const SnsEnvelope e = Signed(Notification(), "2");
  EXPECT_EQ(ReasonOfVerify(e, expired_cert_), "bad_certificate");
  EXPECT_EQ(ReasonOfVerify(e, future_cert_), "bad_certificate");
  EXPECT_EQ(ReasonOfVerify(e, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "bad_certificate");
  EXPECT_EQ(ReasonOfVerify(e, ""), "bad_certificate");
  Pkey ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  EXPECT_EQ(
      ReasonOfVerify(e, SelfSigned(ec.get(), sys_days{2024y / 1 / 1}, sys_days{2025y / 1 / 1})),
      "bad_certificate");
  // The same certificate is good at a time inside its validity.
  EXPECT_TRUE(VerifySnsSignature(e, expired_cert_, sys_days{2022y / 6 / 1}).ok());
}

TEST_F(SnsSignatureTest, BadCertUrlIsCheckedFirst) {
  SnsEnvelope e = Signed(Notification(), "2");
  e.signing_cert_url = "https://sns.eu-west-3.amazonaws.com.evil.example/cert.pem";
  const Status s = VerifySnsSignature(e, cert_, kNow);
  EXPECT_EQ(ReasonOf(s), "bad_cert_url");
  EXPECT_EQ(s.code(), ErrorCode::kUnauthenticated);
}

TEST_F(SnsSignatureTest, ParsedEnvelopeVerifiesByteForByte) {
  // Through JSON: the Message holds quotes and a newline, escaped on the wire, signed unescaped.
  SnsEnvelope e = Signed(Notification(), "2");
  const nlohmann::json j = {
      {"Type", "Notification"},
      {"MessageId", e.message_id},
      {"TopicArn", e.topic_arn},
      {"Subject", *e.subject},
      {"Message", e.message},
      {"Timestamp", e.timestamp},
      {"SignatureVersion", "2"},
      {"Signature", e.signature},
      {"SigningCertURL", e.signing_cert_url},
  };
  const auto parsed = ParseSnsEnvelope(j.dump(2));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(VerifySnsSignature(*parsed, cert_, kNow).ok());

  SnsEnvelope c = Signed(Confirmation(SnsType::kSubscriptionConfirmation), "1");
  const nlohmann::json cj = {
      {"Type", "SubscriptionConfirmation"},
      {"MessageId", c.message_id},
      {"Token", c.token},
      {"TopicArn", c.topic_arn},
      {"Message", c.message},
      {"SubscribeURL", c.subscribe_url},
      {"Timestamp", c.timestamp},
      {"SignatureVersion", "1"},
      {"Signature", c.signature},
      {"SigningCertURL", c.signing_cert_url},
  };
  const auto body = ParseBody(cj.dump());
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  ASSERT_EQ(body->kind, BodyKind::kSubscription);
  EXPECT_TRUE(VerifySnsSignature(*body->sns, cert_, kNow).ok());
}

}  // namespace
}  // namespace ferry::events
