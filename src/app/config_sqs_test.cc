// [[serve.sqs]]: parsed with its defaults, refused when wrong (one line naming the entry and
// the key), and resolved into where each queue's calls go and what signs them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "app/config.h"
#include "app/sqs.h"
#include "base/clock.h"
#include "sqs/client.h"
#include "testing/fake_transport.h"

namespace ferry::app {
namespace {

constexpr char kRemotes[] = R"(
[remotes.moto]
endpoint = "http://127.0.0.1:5000"
region = "eu-west-3"
access_key_id_env = "SQS_TEST_KEY"
secret_access_key_env = "SQS_TEST_SECRET"
)";

TEST(ConfigSqsTest, ParsesQueuesWithTheirDefaults) {
  auto c = ParseConfig(std::string(kRemotes) + R"(
[serve]
replicate = ["moto:photos"]
[[serve.sqs]]
queue_url = "http://127.0.0.1:5000/123456789012/events"
remote = "moto"
[[serve.sqs]]
queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/other"
region = "eu-west-1"
endpoint = "https://vpce.example"
wait_seconds = 5
dead_letter_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/refused"
max_receives = 3
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->serve.sqs.size(), 2u);
  const SqsQueueConfig& a = c->serve.sqs[0];
  EXPECT_EQ(a.queue_url, "http://127.0.0.1:5000/123456789012/events");
  EXPECT_EQ(a.remote, "moto");
  EXPECT_EQ(a.wait_seconds, 20);
  EXPECT_EQ(a.max_receives, 5);
  EXPECT_EQ(a.dead_letter_queue_url, "");
  const SqsQueueConfig& b = c->serve.sqs[1];
  EXPECT_EQ(b.region, "eu-west-1");
  EXPECT_EQ(b.endpoint, "https://vpce.example");
  EXPECT_EQ(b.wait_seconds, 5);
  EXPECT_EQ(b.max_receives, 3);
  EXPECT_EQ(b.dead_letter_queue_url, "https://sqs.eu-west-1.amazonaws.com/123456789012/refused");
  EXPECT_TRUE(ParseConfig("[serve]\n", "t.toml")->serve.sqs.empty());
}

TEST(ConfigSqsTest, RefusesBadQueuesNamingTheKey) {
  const std::pair<std::string, const char*> bad[] = {
      {"[serve]\nsqs = 1\n", "'sqs' must be [[serve.sqs]] tables"},
      {"[[serve.sqs]]\nremote = \"moto\"\n", "#1: 'queue_url' is missing"},
      {"[[serve.sqs]]\nqueue_url = \"sqs.amazonaws.com/1/q\"\n", "'queue_url' must be an"},
      {"[[serve.sqs]]\nqueue_url = \"https://host\"\n", "'queue_url' must be an"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\nqueue = 1\n", "unknown key 'queue'"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\nremote = \"nope\"\n",
       "unknown remote 'nope'"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\nwait_seconds = 21\n",
       "'wait_seconds' must be a whole number from 0 to 20"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\nwait_seconds = \"20\"\n", "'wait_seconds'"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\nmax_receives = 3\n",
       "'max_receives' needs 'dead_letter_queue_url'"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\ndead_letter_queue_url = \"http://h/1/d\"\n"
       "max_receives = 0\n",
       "'max_receives' must be a whole number from 1 to 1000"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\ndead_letter_queue_url = \"http://h/1/q\"\n",
       "is the queue itself"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\nendpoint = \"h:1\"\n",
       "'endpoint' must start with http"},
      {"[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\n[[serve.sqs]]\nqueue_url = \"http://h/1/q\"\n",
       "#2: queue http://h/1/q is listed twice"},
      {"[[serve.sqs]]\nqueue_url = \"\"\n", "'queue_url' must be a non-empty string"},
      {"[[serve.sqs]]\nqueue_url = \"https://h/1/q\"\nca_bundle = \"\"\n", "'ca_bundle' must be a non-empty string"},
      {"[[serve.sqs]]\nqueue_url = \"https://h/1/q\"\ninsecure_skip_verify = 1\n",
       "'insecure_skip_verify' must be true or false"},
      {"[[serve.sqs]]\nqueue_url = \"https://h/1/q\"\nca_bundle = \"/ca.pem\"\n"
       "insecure_skip_verify = true\n",
       "'ca_bundle' and 'insecure_skip_verify = true' together"},
  };
  for (const auto& [text, want] : bad) {
    auto c = ParseConfig(std::string(kRemotes) + text, "s.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find(want), std::string::npos)
        << text << " -> " << c.status().message();
    EXPECT_NE(c.status().message().find("s.toml"), std::string::npos) << c.status().message();
  }
}

TEST(ConfigSqsTest, ResolvesEndpointRegionAndCredentials) {
  ::setenv("SQS_TEST_KEY", "AKIDTEST", 1);
  ::setenv("SQS_TEST_SECRET", "secret", 1);
  testing::FakeTransport http;  // fixed keys: no call
  auto c = ParseConfig(std::string(kRemotes) + R"(
[[serve.sqs]]
queue_url = "http://127.0.0.1:5000/123456789012/events"
remote = "moto"
wait_seconds = 1
[[serve.sqs]]
queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/other"
remote = "moto"
region = "eu-central-1"
endpoint = "https://vpce.example/"
dead_letter_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/refused"
max_receives = 2
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto queues = ResolveSqsQueues(*c, http);
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  ASSERT_EQ(queues->size(), 2u);
  const SqsQueue& a = (*queues)[0];
  EXPECT_EQ(a.endpoint.url, "http://127.0.0.1:5000") << "the queue URL's origin";
  EXPECT_EQ(a.endpoint.region, "eu-west-3") << "the remote's";
  EXPECT_EQ(a.endpoint.credentials->Get()->access_key_id, "AKIDTEST");
  EXPECT_EQ(a.options.queue_url, "http://127.0.0.1:5000/123456789012/events");
  EXPECT_EQ(a.options.wait_seconds, 1);
  const SqsQueue& b = (*queues)[1];
  EXPECT_EQ(b.endpoint.url, "https://vpce.example");
  EXPECT_EQ(b.endpoint.region, "eu-central-1");
  EXPECT_EQ(b.options.dead_letter_queue_url,
            "https://sqs.eu-west-1.amazonaws.com/123456789012/refused");
  EXPECT_EQ(b.options.max_receives, 2);
  // a remote without a region: the queue URL's
  c->remotes["moto"].region = "";
  c->serve.sqs[1].region = "";
  queues = ResolveSqsQueues(*c, http);
  ASSERT_TRUE(queues.ok());
  EXPECT_EQ((*queues)[1].endpoint.region, "eu-west-1");
  // the remote's variables unset: one line naming them and the queue
  ::unsetenv("SQS_TEST_SECRET");
  queues = ResolveSqsQueues(*c, http);
  ASSERT_FALSE(queues.ok());
  EXPECT_NE(queues.status().message().find("SQS_TEST_SECRET"), std::string::npos)
      << queues.status().message();
  EXPECT_NE(queues.status().message().find("/events"), std::string::npos)
      << queues.status().message();
  ::unsetenv("SQS_TEST_KEY");
}

// TLS of the queue calls: the entry's ca_bundle or insecure_skip_verify, else its remote's
// (ca_bundle, insecure_skip_verify), else the transport's; the settings travel with each call.
TEST(ConfigSqsTest, QueueCallsCarryTheirTlsSettings) {
  ::setenv("SQS_TEST_KEY", "AKIDTEST", 1);
  ::setenv("SQS_TEST_SECRET", "secret", 1);
  char dir[] = "/tmp/ferry-sqs-tls-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string ca = std::string(dir) + "/ca.pem";
  std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  auto c = ParseConfig(R"(
[remotes.tls]
endpoint = "https://127.0.0.1:7443"
region = "eu-west-3"
access_key_id_env = "SQS_TEST_KEY"
secret_access_key_env = "SQS_TEST_SECRET"
ca_bundle = ")" + ca + R"("
[[serve.sqs]]
queue_url = "https://127.0.0.1:7443/1/remote-ca"
remote = "tls"
[[serve.sqs]]
queue_url = "https://127.0.0.1:7443/1/own-ca"
remote = "tls"
ca_bundle = ")" + ca + R"("
[[serve.sqs]]
queue_url = "https://127.0.0.1:7443/1/unchecked"
remote = "tls"
insecure_skip_verify = true
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  testing::FakeTransport http;
  auto queues = ResolveSqsQueues(*c, http);
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  ASSERT_EQ(queues->size(), 3u);
  for (const SqsQueue& q : *queues) {
    ASSERT_TRUE(q.endpoint.tls.has_value()) << q.options.queue_url;
  }
  EXPECT_EQ((*queues)[0].endpoint.tls->ca_bundle, ca);
  EXPECT_NE((*queues)[0].endpoint.tls->untrusted_hint.find("remote 'tls'"), std::string::npos);
  EXPECT_EQ((*queues)[1].endpoint.tls->ca_bundle, ca);
  EXPECT_NE((*queues)[1].endpoint.tls->untrusted_hint.find("[[serve.sqs]]"), std::string::npos);
  EXPECT_FALSE((*queues)[2].endpoint.tls->verify);
  // the settings go with the call
  http.Push(testing::FakeReply::Ok(R"({"Attributes":{}})"));
  sqs::SqsClient client((*queues)[2].endpoint, http, SystemClock::Default());
  ASSERT_TRUE(client.GetAttributes("https://127.0.0.1:7443/1/unchecked", {"All"}, {}).ok());
  ASSERT_EQ(http.requests().size(), 1u);
  ASSERT_TRUE(http.requests()[0].tls.has_value());
  EXPECT_FALSE(http.requests()[0].tls->verify);
  // without a remote nor settings: the transport's own
  c->serve.sqs = {c->serve.sqs[0]};
  c->serve.sqs[0].remote = "";
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  queues = ResolveSqsQueues(*c, http);
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  EXPECT_FALSE((*queues)[0].endpoint.tls.has_value());
  // a ca_bundle that cannot be read: one line naming the queue and the file
  c->serve.sqs[0].ca_bundle = std::string(dir) + "/missing.pem";
  queues = ResolveSqsQueues(*c, http);
  ASSERT_FALSE(queues.ok());
  EXPECT_NE(queues.status().message().find(
                "[[serve.sqs]] https://127.0.0.1:7443/1/remote-ca: ca_bundle "),
            std::string::npos)
      << queues.status().message();
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("SQS_TEST_KEY");
  ::unsetenv("SQS_TEST_SECRET");
  std::filesystem::remove_all(dir);
}

}  // namespace
ServiceEndpointRequest Ask(std::string service, const RemoteConfig* remote,
                           std::string queue_url = "", std::string endpoint = "") {
  ServiceEndpointRequest r;
  r.service = std::move(service);
  r.remote = remote;
  r.queue_url = std::move(queue_url);
  r.endpoint = std::move(endpoint);
  return r;
}

TEST(ConfigSqsTest, ServiceEndpointsOfEventsSetup) {
  ::setenv("SQS_TEST_KEY", "AKIDTEST", 1);
  ::setenv("SQS_TEST_SECRET", "secret", 1);
  testing::FakeTransport http;  // fixed keys: no call
  auto c = ParseConfig(std::string(kRemotes) + R"(
[remotes.aws]
region = "cn-north-1"
access_key_id_env = "SQS_TEST_KEY"
secret_access_key_env = "SQS_TEST_SECRET"
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const RemoteConfig* moto = &c->remotes["moto"];
  const RemoteConfig* aws = &c->remotes["aws"];
  // a remote with an endpoint (moto): SQS and SNS there
  auto sns = ResolveServiceEndpoint(Ask("sns", moto), http);
  ASSERT_TRUE(sns.ok()) << sns.status().ToString();
  EXPECT_EQ(sns->url, "http://127.0.0.1:5000");
  EXPECT_EQ(sns->region, "eu-west-3");
  EXPECT_EQ(sns->credentials->Get()->access_key_id, "AKIDTEST");
  // AWS: the service's regional host (.com.cn in China)
  auto sqs = ResolveServiceEndpoint(Ask("sqs", aws), http);
  ASSERT_TRUE(sqs.ok());
  EXPECT_EQ(sqs->url, "https://sqs.cn-north-1.amazonaws.com.cn");
  c->remotes["aws"].region = "eu-west-1";
  EXPECT_EQ(ResolveServiceEndpoint(Ask("sns", aws), http)->url,
            "https://sns.eu-west-1.amazonaws.com");
  // a queue URL's host and region win over the remote's endpoint; a given endpoint over both
  auto by_url = ResolveServiceEndpoint(
      Ask("sqs", moto, "https://sqs.us-east-2.amazonaws.com/123456789012/q"), http);
  EXPECT_EQ(by_url->url, "https://sqs.us-east-2.amazonaws.com");
  EXPECT_EQ(by_url->region, "eu-west-3") << "the remote's region first, as for [[serve.sqs]]";
  EXPECT_EQ(ResolveServiceEndpoint(Ask("sqs", moto, "", "http://e/"), http)->url, "http://e");
  ::unsetenv("SQS_TEST_KEY");
  ::unsetenv("SQS_TEST_SECRET");
}

}  // namespace ferry::app
