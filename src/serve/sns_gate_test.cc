// SnsGate with a throwaway CA and signing key made here with OpenSSL, a fake HTTPS host and a
// fake clock: what is signed for an accepted topic passes, anything else is refused before
// anything is fetched or visited that need not be, and a SubscriptionConfirmation visits its
// SubscribeURL only once it is verified, of an accepted topic, and on an SNS host. A flood of
// forged envelopes naming other certificates neither displaces the genuine certificate nor
// delays genuine deliveries; with a background (ferry serve: the executor), Check never waits on
// the network (a host that never answers), and SNS's next delivery finds the work done.
#include "serve/sns_gate.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>

#include "serve/sns_test_util.h"
#include "testing/fake_clock.h"
#include "transfer/executor.h"

namespace ferry::serve {
namespace {

using namespace std::chrono_literals;
using events::SnsType;
using snstest::FakeHttps;
using snstest::kCertUrl;
using snstest::kTopic;

constexpr std::string_view kOtherTopic = "arn:aws:sns:eu-west-3:111122223333:someone-else";
const std::string kCert(kCertUrl);

class SnsGateTest : public ::testing::Test {
 protected:
  SnsGateTest()
      : ca_key_(snstest::NewRsaKey()),
        key_(snstest::NewRsaKey()),
        other_key_(snstest::NewRsaKey()),
        certs_(https_, clock_),
        gate_(https_, certs_, clock_,
              {.topics = {std::string(kTopic)}, .confirm_timeout_ms = 1000,
               .confirm_max_bytes = 4096, .background = nullptr, .max_background = 4}) {
    https_.Set(kCert, {.status = 200, .body = Cert(key_.get(), 30), .unreachable = false});
  }

  std::string Cert(EVP_PKEY* key, int days) {
    return snstest::Certificate({.key = key,
                                 .cn = "sns.amazonaws.com",
                                 .issuer_key = ca_key_.get(),
                                 .issuer_cn = "Test SNS CA",
                                 .from = clock_.Now() - 24h,
                                 .to = clock_.Now() + days * 24h,
                                 .ca = false});
  }
  events::SnsEnvelope Good() {
    return snstest::Signed(snstest::Notification(R"({"Records":[]})"), key_.get());
  }

  ferry::testing::FakeClock clock_;
  FakeHttps https_;
  snstest::Pkey ca_key_, key_, other_key_;
  SnsCertCache certs_;
  SnsGate gate_;
};

TEST_F(SnsGateTest, ASignedNotificationOfAnAcceptedTopicPassesWithOneFetch) {
  for (std::string_view version : {"1", "2"}) {
    const SnsVerdict v = gate_.Check(
        snstest::Signed(snstest::Notification(R"({"Records":[]})"), key_.get(), version));
    EXPECT_TRUE(v.accepted()) << version << ": " << v.message;
  }
  EXPECT_EQ(https_.asked(), std::vector<std::string>{kCert});
}

TEST_F(SnsGateTest, AnotherTopicIsRefusedWithNothingFetched) {
  events::SnsEnvelope e = snstest::Notification(R"({"Records":[]})");
  e.topic_arn = std::string(kOtherTopic);
  const SnsVerdict v = gate_.Check(snstest::Signed(e, key_.get()));
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "sns_topic");
  EXPECT_TRUE(https_.asked().empty());
  // a topic differing only in case is another topic
  e.topic_arn = "arn:aws:sns:eu-west-3:111122223333:Ferry-events";
  EXPECT_EQ(gate_.Check(snstest::Signed(e, key_.get())).reason, "sns_topic");
}

TEST_F(SnsGateTest, BadSignaturesAreRefused) {
  events::SnsEnvelope tampered = Good();
  tampered.message = R"({"Records":[ ]})";
  SnsVerdict v = gate_.Check(tampered);
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "sns_signature") << v.message;
  v = gate_.Check(snstest::Signed(snstest::Notification("{}"), other_key_.get()));
  EXPECT_EQ(v.reason, "sns_signature") << v.message;
  events::SnsEnvelope garbled = Good();
  garbled.signature = "!!";
  EXPECT_EQ(gate_.Check(garbled).reason, "sns_signature");
  events::SnsEnvelope v3 = Good();
  v3.signature_version = "3";
  EXPECT_EQ(gate_.Check(v3).reason, "sns_signature");
  events::SnsEnvelope no_time = Good();
  no_time.timestamp.clear();
  EXPECT_EQ(gate_.Check(no_time).code, 400);
  // garbled, unknown version and missing field fail before any fetch; the two that were
  // checked each fetched the certificate: it is kept only once a signature verified with it
  EXPECT_EQ(https_.count(kCert), 2u);
  EXPECT_EQ(certs_.size(), 0u);
}

TEST_F(SnsGateTest, CertificateProblemsAreSnsCert) {
  // the URL is not an SNS host: nothing fetched
  events::SnsEnvelope e = snstest::Notification("{}");
  e.signing_cert_url = "https://sns.eu-west-3.amazonaws.com.evil.example/c.pem";
  SnsVerdict v = gate_.Check(snstest::Signed(e, key_.get()));
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "sns_cert");
  EXPECT_TRUE(https_.asked().empty());
  // an expired certificate
  https_.Set(kCert, {.status = 200, .body = Cert(key_.get(), -1), .unreachable = false});
  v = gate_.Check(Good());
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "sns_cert") << v.message;
  EXPECT_FALSE(v.retry_later);
  // the host cannot be reached: a 503 worth a retry
  https_.Set(kCert, {.status = 200, .body = "", .unreachable = true});
  v = gate_.Check(Good());
  EXPECT_EQ(v.code, 503);
  EXPECT_EQ(v.reason, "sns_cert");
  EXPECT_TRUE(v.retry_later);
  // reachable again with a good one
  https_.Set(kCert, {.status = 200, .body = Cert(key_.get(), 30), .unreachable = false});
  EXPECT_TRUE(gate_.Check(Good()).accepted());
}

TEST_F(SnsGateTest, ACertificateIsReusedUntilItExpires) {
  https_.Set(kCert, {.status = 200, .body = Cert(key_.get(), 2), .unreachable = false});
  EXPECT_TRUE(gate_.Check(Good()).accepted());
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(24h));
  EXPECT_TRUE(gate_.Check(Good()).accepted());
  EXPECT_EQ(https_.count(kCert), 1u);
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(48h));
  const SnsVerdict v = gate_.Check(Good());  // expired; the host serves the same one
  EXPECT_EQ(v.reason, "sns_cert") << v.message;
  EXPECT_EQ(https_.count(kCert), 2u);
}

TEST_F(SnsGateTest, ASubscriptionIsConfirmedOnlyWhenVerifiedAndAccepted) {
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  https_.Set(sub.subscribe_url,
             {.status = 200,
              .body = "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>" +
                      std::string(kTopic) + ":42</SubscriptionArn></ConfirmSubscriptionResult>"
                      "</ConfirmSubscriptionResponse>",
              .unreachable = false});
  SnsVerdict v = gate_.Check(sub);
  EXPECT_TRUE(v.accepted()) << v.message;
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);

  // another topic: neither the certificate nor the SubscribeURL is asked
  const events::SnsEnvelope other = snstest::Signed(
      snstest::Confirmation(SnsType::kSubscriptionConfirmation, std::string(kOtherTopic)),
      key_.get());
  https_.Set(other.subscribe_url, {.status = 200, .body = "", .unreachable = false});
  v = gate_.Check(other);
  EXPECT_EQ(v.reason, "sns_topic");
  EXPECT_EQ(https_.count(other.subscribe_url), 0u);

  // a bad signature: not visited
  events::SnsEnvelope forged = sub;
  forged.token = "0000";
  EXPECT_EQ(gate_.Check(forged).reason, "sns_signature");
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);

  // signed, but the SubscribeURL is not an SNS host's: not visited
  events::SnsEnvelope elsewhere = snstest::Confirmation(SnsType::kSubscriptionConfirmation);
  elsewhere.subscribe_url = "https://evil.example/?Action=ConfirmSubscription&Token=1";
  elsewhere = snstest::Signed(elsewhere, key_.get());
  https_.Set(elsewhere.subscribe_url, {.status = 200, .body = "", .unreachable = false});
  v = gate_.Check(elsewhere);
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "sns_confirm");
  EXPECT_EQ(https_.count(elsewhere.subscribe_url), 0u);
}

TEST_F(SnsGateTest, AFailedConfirmationIsA5xx) {
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  https_.Set(sub.subscribe_url, {.status = 403, .body = "expired token", .unreachable = false});
  SnsVerdict v = gate_.Check(sub);
  EXPECT_EQ(v.code, 502);
  EXPECT_EQ(v.reason, "sns_confirm");
  https_.Set(sub.subscribe_url, {.status = 200, .body = "", .unreachable = true});
  v = gate_.Check(sub);
  EXPECT_EQ(v.code, 503);
  EXPECT_TRUE(v.retry_later);
}

TEST_F(SnsGateTest, AnUnsubscribeConfirmationIsAcceptedWithNothingVisited) {
  const events::SnsEnvelope unsub =
      snstest::Signed(snstest::Confirmation(SnsType::kUnsubscribeConfirmation), key_.get());
  https_.Set(unsub.subscribe_url, {.status = 200, .body = "", .unreachable = false});
  EXPECT_TRUE(gate_.Check(unsub).accepted());
  EXPECT_EQ(https_.asked(), std::vector<std::string>{kCert});
}

TEST_F(SnsGateTest, VerifyDoesNotConfirm) {
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  https_.Set(sub.subscribe_url, {.status = 200, .body = "", .unreachable = false});
  EXPECT_TRUE(gate_.Verify(sub).accepted());
  EXPECT_EQ(https_.count(sub.subscribe_url), 0u);
}

// A host that accepts and never answers: Send returns only once its stop token is requested.
class HangingHttps : public http::HttpTransport {
 public:
  Result<http::HttpResponse> Send(const http::HttpRequest& request, http::BodySink&,
                                  std::stop_token stop) override {
    std::unique_lock lock(mu_);
    asked_.push_back(request.url);
    changed_.notify_all();
    changed_.wait(lock, stop, [] { return false; });
    return Status::Cancelled("GET " + request.url + ": cancelled");
  }
  // Waits (bounded) until `n` requests were sent.
  bool WaitAsked(size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return asked_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable_any changed_;
  std::vector<std::string> asked_;
};

// Background work queued and run when the test says (SnsGateOptions::background).
class Deferred {
 public:
  SnsBackground Background() {
    return [this](std::function<void()> work) { queued_.push_back(std::move(work)); };
  }
  size_t RunAll() {
    std::vector<std::function<void()>> now;
    now.swap(queued_);
    for (auto& w : now) w();
    return now.size();
  }

 private:
  std::vector<std::function<void()>> queued_;
};

std::string ForgedCertUrl(int i) {
  return "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-forged" +
         std::to_string(i) + ".pem";
}

// Anyone who knows the TopicArn can post envelopes naming other certificates on SNS hosts (AWS
// serves many real ones) with signatures that do not verify with them: they must neither
// displace the genuine certificate (kept only once a signature verified) nor delay a genuine
// delivery (which needs no fetch then).
TEST_F(SnsGateTest, AFloodOfForgedEnvelopesNeitherDisplacesNorStarvesTheGenuineCertificate) {
  ASSERT_TRUE(gate_.Check(Good()).accepted());
  for (int i = 0; i < 40; ++i) {
    https_.Set(ForgedCertUrl(i),
               {.status = 200, .body = Cert(other_key_.get(), 30), .unreachable = false});
    events::SnsEnvelope forged = snstest::Notification(R"({"Records":[]})");
    forged.signing_cert_url = ForgedCertUrl(i);
    const SnsVerdict v = gate_.Check(snstest::Signed(forged, key_.get()));
    EXPECT_FALSE(v.accepted()) << i;
  }
  EXPECT_EQ(certs_.size(), 1u) << "no forged envelope's certificate is kept";
  for (int i = 0; i < 3; ++i) {
    const SnsVerdict genuine = gate_.Check(Good());
    EXPECT_TRUE(genuine.accepted()) << genuine.code << " " << genuine.message;
  }
  EXPECT_EQ(https_.count(kCert), 1u) << "the genuine certificate stayed kept";
}

// ferry serve calls Check on the HTTP server's one thread: a certificate host or SubscribeURL
// that never answers must not hold it (nor /healthz and /metrics behind it).
TEST_F(SnsGateTest, WithABackgroundCheckNeverWaitsOnTheNetwork) {
  HangingHttps hanging;
  SnsCertCache certs(hanging, clock_);
  transfer::Executor executor({.concurrency = 2});
  std::unique_ptr<transfer::TaskQueue> queue = executor.Open();
  SnsGate gate(hanging, certs, clock_,
               {.topics = {std::string(kTopic)},
                .confirm_timeout_ms = 1000,
                .confirm_max_bytes = 4096,
                .background =
                    [&](std::function<void()> work) {
                      queue->Push([work = std::move(work)](std::stop_token) { work(); }, false);
                    },
                .max_background = 4});
  auto answered = std::async(std::launch::async, [&] { return gate.Check(Good()); });
  ASSERT_EQ(answered.wait_for(5s), std::future_status::ready) << "Check waited on the host";
  const SnsVerdict v = answered.get();
  EXPECT_EQ(v.code, 503);
  EXPECT_EQ(v.reason, "sns_cert");
  EXPECT_TRUE(v.retry_later);
  ASSERT_TRUE(hanging.WaitAsked(1)) << "the fetch runs in the background";
  // the same certificate again while its fetch hangs: answered at once, not fetched twice
  EXPECT_EQ(gate.Check(Good()).code, 503);
  // a subscription whose certificate is kept, its SubscribeURL hanging: answered at once too
  certs.Keep(kCert, Cert(key_.get(), 30));
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  auto confirming = std::async(std::launch::async, [&] { return gate.Check(sub); });
  ASSERT_EQ(confirming.wait_for(5s), std::future_status::ready) << "Check waited on the host";
  EXPECT_EQ(confirming.get().reason, "sns_confirm");
  ASSERT_TRUE(hanging.WaitAsked(2));
  gate.StopBackground();  // cancels both hanging requests and waits for them
  EXPECT_EQ(gate.Check(Good()).code, 200) << "the kept certificate needs no background";
  queue.reset();
}

TEST_F(SnsGateTest, TheBackgroundsWorkIsFoundByTheNextDelivery) {
  Deferred deferred;
  SnsCertCache certs(https_, clock_);
  SnsGate gate(https_, certs, clock_,
               {.topics = {std::string(kTopic)},
                .confirm_timeout_ms = 1000,
                .confirm_max_bytes = 4096,
                .background = deferred.Background(),
                .max_background = 4});
  // a notification whose certificate is not kept: 503, fetched in the background, then 200
  SnsVerdict v = gate.Check(Good());
  EXPECT_EQ(v.code, 503);
  EXPECT_TRUE(https_.asked().empty()) << "nothing fetched on the caller's thread";
  EXPECT_EQ(deferred.RunAll(), 1u);
  EXPECT_EQ(certs.size(), 1u);
  EXPECT_TRUE(gate.Check(Good()).accepted());
  EXPECT_EQ(https_.count(kCert), 1u);

  // a forged one's certificate is fetched in the background but not kept
  https_.Set(ForgedCertUrl(1),
             {.status = 200, .body = Cert(other_key_.get(), 30), .unreachable = false});
  events::SnsEnvelope forged = snstest::Notification(R"({"Records":[]})");
  forged.signing_cert_url = ForgedCertUrl(1);
  forged = snstest::Signed(forged, key_.get());
  EXPECT_EQ(gate.Check(forged).code, 503);
  EXPECT_EQ(deferred.RunAll(), 1u);
  EXPECT_EQ(certs.size(), 1u);
  EXPECT_EQ(gate.Check(forged).code, 503) << "fetched again, refused again, never kept";

  // a subscription: visited in the background, its outcome answered to the next delivery once
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  https_.Set(sub.subscribe_url, {.status = 200, .body = "", .unreachable = false});
  v = gate.Check(sub);
  EXPECT_EQ(v.code, 503);
  EXPECT_EQ(v.reason, "sns_confirm");
  EXPECT_EQ(gate.Check(sub).code, 503) << "still confirming";
  deferred.RunAll();
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);
  EXPECT_TRUE(gate.Check(sub).accepted());
  // one the SubscribeURL refuses: 502 to the next delivery
  https_.Set(sub.subscribe_url, {.status = 403, .body = "expired", .unreachable = false});
  EXPECT_EQ(gate.Check(sub).code, 503);
  deferred.RunAll();
  EXPECT_EQ(gate.Check(sub).code, 502);
  EXPECT_EQ(https_.count(sub.subscribe_url), 2u);
  deferred.RunAll();
}

TEST_F(SnsGateTest, ASubscriptionWhoseCertificateIsNotKeptIsConfirmedByTheSameTask) {
  Deferred deferred;
  SnsCertCache certs(https_, clock_);
  SnsGate gate(https_, certs, clock_,
               {.topics = {std::string(kTopic)},
                .confirm_timeout_ms = 1000,
                .confirm_max_bytes = 4096,
                .background = deferred.Background(),
                .max_background = 4});
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  https_.Set(sub.subscribe_url, {.status = 200, .body = "", .unreachable = false});
  EXPECT_EQ(gate.Check(sub).reason, "sns_cert");
  EXPECT_EQ(deferred.RunAll(), 1u);
  // visited even if SNS never delivered it again
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);
  EXPECT_TRUE(gate.Check(sub).accepted());
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);
}

}  // namespace
}  // namespace ferry::serve
