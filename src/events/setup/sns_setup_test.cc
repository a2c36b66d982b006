// SetUpBucketSns / RemoveBucketSns / DescribeSnsTopic against a fake AWS behind FakeTransport:
// S3 keeps one bucket's notification document (a PUT replaces it), SNS keeps topics with their
// Policy and subscriptions (query protocol; a new https subscription is pending, as on AWS,
// until the test confirms it).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "events/setup/setup.h"
#include "events/setup/sns.h"
#include "s3/notification.h"
#include "s3/notification_set.h"
#include "s3/uri.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::events::setup {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;
using nlohmann::json;

constexpr const char* kSubscriptionUrl = "https://ferry.example/events";
constexpr const char* kLambda =
    "<CloudFunctionConfiguration><Id>thumbs</Id>"
    "<CloudFunction>arn:aws:lambda:us-east-1:123456789012:function:thumbs</CloudFunction>"
    "<Event>s3:ObjectRestore:Completed</Event></CloudFunctionConfiguration>";

std::string SnsField(const std::string& body, const std::string& name) {
  size_t pos = 0;
  while (pos <= body.size()) {
    const size_t amp = std::min(body.find('&', pos), body.size());
    const std::string pair = body.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return s3::UriDecode(pair.substr(eq + 1), true);
    pos = amp + 1;
  }
  return {};
}

std::string XmlEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"') out += "&quot;";
    else if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else out += c;
  }
  return out;
}

struct FakeSub {
  std::string arn;
  std::string protocol;
  std::string endpoint;
  bool confirmed = false;
};

class FakeAwsSns {
 public:
  FakeReply Handle(const http::HttpRequest& r) {
    const std::string body(reinterpret_cast<const char*>(r.body.data()), r.body.size());
    if (r.url == "http://sns.test/") return Sns(body);
    const std::string path = r.url.substr(std::string("http://s3.test/").size());
    if (path.substr(0, path.find('?')) != "b") return FakeReply::S3Error(404, "NoSuchBucket");
    if (r.method == "GET") {
      std::string out = "<NotificationConfiguration>";
      for (const std::string& e : elements_) out += e;
      return FakeReply::Ok(out + "</NotificationConfiguration>");
    }
    if (r.method == "PUT") {
      ++puts;
      auto parsed = s3::ParseNotificationConfiguration(body);
      if (!parsed.ok()) return FakeReply::S3Error(400, "MalformedXML");
      std::vector<std::string> next;
      for (const s3::NotificationConfig& c : *parsed) {
        if (c.id == "thumbs") {
          next.push_back(kLambda);
          continue;
        }
        next.push_back(*s3::BuildNotificationConfiguration(
            {.kind = c.kind, .id = c.id, .target_arn = c.target, .events = c.events,
             .prefix = c.filter.empty() ? "" : c.filter[0].value}));
      }
      elements_ = std::move(next);
      return FakeReply::Ok();
    }
    return FakeReply::S3Error(405, "MethodNotAllowed");
  }

  std::vector<s3::NotificationConfig> Configs() const {
    std::string out = "<NotificationConfiguration>";
    for (const std::string& e : elements_) out += e;
    return s3::ParseNotificationConfiguration(out + "</NotificationConfiguration>").value();
  }
  static std::string Arn(const std::string& name) {
    return "arn:aws:sns:us-east-1:123456789012:" + name;
  }

  std::vector<std::string> elements_ = {kLambda};
  std::map<std::string, std::string> policies_;  // topic ARN -> Policy
  std::vector<FakeSub> subs_;
  int puts = 0;
  int subscribes = 0;
  int policy_sets = 0;

 private:
  static FakeReply NotFound() {
    return FakeReply{.status = 404,
                     .headers = {},
                     .body = "<ErrorResponse><Error><Code>NotFound</Code><Message>Topic does "
                             "not exist</Message></Error></ErrorResponse>",
                     .error = Status::Ok()};
  }

  FakeReply Sns(const std::string& body) {
    const std::string action = SnsField(body, "Action");
    if (action == "CreateTopic") {
      const std::string arn = Arn(SnsField(body, "Name"));
      if (!policies_.contains(arn)) policies_[arn] = R"({"Version":"2008-10-17","Statement":[]})";
      return FakeReply::Ok("<CreateTopicResponse><CreateTopicResult><TopicArn>" + arn +
                           "</TopicArn></CreateTopicResult></CreateTopicResponse>");
    }
    if (action == "Unsubscribe") {
      const std::string sub = SnsField(body, "SubscriptionArn");
      std::erase_if(subs_, [&](const FakeSub& s) { return s.arn == sub; });
      return FakeReply::Ok("<UnsubscribeResponse/>");
    }
    const std::string arn = SnsField(body, "TopicArn");
    if (!policies_.contains(arn)) return NotFound();
    if (action == "GetTopicAttributes") {
      return FakeReply::Ok(
          "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>Policy"
          "</key><value>" + XmlEscaped(policies_[arn]) + "</value></entry></Attributes>"
          "</GetTopicAttributesResult></GetTopicAttributesResponse>");
    }
    if (action == "SetTopicAttributes") {
      ++policy_sets;
      policies_[arn] = SnsField(body, "AttributeValue");
      return FakeReply::Ok("<SetTopicAttributesResponse/>");
    }
    if (action == "Subscribe") {
      ++subscribes;
      const std::string endpoint = SnsField(body, "Endpoint");
      for (const FakeSub& s : subs_) {
        if (s.endpoint == endpoint) return SubscribeReply(s.arn);
      }
      subs_.push_back({.arn = arn + ":sub-" + std::to_string(subs_.size()),
                       .protocol = SnsField(body, "Protocol"), .endpoint = endpoint});
      return SubscribeReply(subs_.back().arn);
    }
    if (action == "ListSubscriptionsByTopic") {
      std::string members;
      for (const FakeSub& s : subs_) {
        members += "<member><SubscriptionArn>" +
                   (s.confirmed ? s.arn : std::string("PendingConfirmation")) +
                   "</SubscriptionArn><Protocol>" + s.protocol + "</Protocol><Endpoint>" +
                   XmlEscaped(s.endpoint) + "</Endpoint></member>";
      }
      return FakeReply::Ok(
          "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions>" +
          members + "</Subscriptions></ListSubscriptionsByTopicResult>"
                    "</ListSubscriptionsByTopicResponse>");
    }
    if (action == "DeleteTopic") {
      policies_.erase(arn);
      subs_.clear();
      return FakeReply::Ok("<DeleteTopicResponse/>");
    }
    return FakeReply::S3Error(400, "InvalidAction");
  }

  static FakeReply SubscribeReply(const std::string& arn) {
    return FakeReply::Ok("<SubscribeResponse><SubscribeResult><SubscriptionArn>" + arn +
                         "</SubscriptionArn></SubscribeResult></SubscribeResponse>");
  }
};

class SnsSetupTest : public ::testing::Test {
 protected:
  SnsSetupTest()
      : creds_(std::make_shared<s3::StaticCredentials>(s3::Credentials{"AKIATEST", "SECRET", ""})),
        client_(Options(), transport_, *creds_, clock_),
        sns_({.url = "http://sns.test", .region = "us-east-1", .credentials = creds_, .tls = {}}, transport_,
             clock_) {
    transport_.SetHandler([this](const http::HttpRequest& r) { return aws_.Handle(r); });
  }
  s3::S3Options Options() {
    s3::S3Options o;
    o.endpoint = "http://s3.test";
    o.region = "us-east-1";
    o.retry.max_attempts = 1;
    o.metrics = &metrics_;
    return o;
  }
  static SnsSetupRequest Request() {
    SnsSetupRequest r;
    r.bucket = "b";
    r.topic = "ferry-b";
    r.endpoint_url = kSubscriptionUrl;
    return r;
  }
  static SnsRemoveRequest Removal(bool delete_topic, const std::string& url) {
    SnsRemoveRequest r;
    r.bucket = "b";
    r.topic = "ferry-b";
    r.endpoint_url = url;
    r.delete_topic = delete_topic;
    return r;
  }

  FakeAwsSns aws_;
  FakeTransport transport_;
  FakeClock clock_;
  std::shared_ptr<s3::StaticCredentials> creds_;
  obs::Registry metrics_;
  s3::S3Client client_;
  sns::SnsClient sns_;
};

TEST_F(SnsSetupTest, TopicPolicySubscriptionAndConfigurationAndARerun) {
  auto r = SetUpBucketSns(client_, sns_, Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string arn = FakeAwsSns::Arn("ferry-b");
  EXPECT_EQ(r->topic_arn, arn);
  EXPECT_TRUE(r->policy_changed);
  EXPECT_TRUE(r->subscribed);
  EXPECT_FALSE(r->confirmed);
  EXPECT_EQ(r->subscription_arn, "PendingConfirmation");
  EXPECT_EQ(r->configuration_id, "ferry-b");
  EXPECT_EQ(r->configurations, 2u);
  EXPECT_TRUE(PolicyAllowsBucket(aws_.policies_[arn], "b", "SNS:Publish"));
  ASSERT_EQ(aws_.subs_.size(), 1u);
  EXPECT_EQ(aws_.subs_[0].protocol, "https");
  EXPECT_EQ(aws_.subs_[0].endpoint, kSubscriptionUrl);
  const auto configs = aws_.Configs();
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0].id, "thumbs");
  EXPECT_EQ(configs[1].kind, "topic");
  EXPECT_EQ(configs[1].target, arn);

  // a rerun while pending: SNS is asked to send the confirmation again, nothing else changes
  auto pending = SetUpBucketSns(client_, sns_, Request());
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->subscribed);
  EXPECT_FALSE(pending->policy_changed);
  EXPECT_EQ(aws_.subs_.size(), 1u);
  // confirmed (ferry serve did): a rerun sends nothing to SNS but reads
  aws_.subs_[0].confirmed = true;
  const int subscribes = aws_.subscribes;
  auto again = SetUpBucketSns(client_, sns_, Request());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->subscribed);
  EXPECT_TRUE(again->confirmed);
  EXPECT_TRUE(again->replaced);
  EXPECT_EQ(aws_.subscribes, subscribes);
  EXPECT_EQ(aws_.policy_sets, 1);
  EXPECT_EQ(aws_.Configs(), configs);
}

TEST_F(SnsSetupTest, BadInputAndAMissingBucketMakeNothing) {
  SnsSetupRequest req = Request();
  req.topic = "a b";
  EXPECT_EQ(SetUpBucketSns(client_, sns_, req).status().code(), ErrorCode::kInvalidArgument);
  req = Request();
  req.topic = "arn:aws:sns:zonegroup::t";  // RGW's: not an AWS topic ARN
  EXPECT_EQ(SetUpBucketSns(client_, sns_, req).status().code(), ErrorCode::kInvalidArgument);
  req = Request();
  req.endpoint_url = "ftp://x/events";
  EXPECT_EQ(SetUpBucketSns(client_, sns_, req).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 0u);
  req = Request();
  req.bucket = "missing";
  EXPECT_EQ(SetUpBucketSns(client_, sns_, req).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(aws_.policies_.empty());
  // an ARN names a topic that must exist
  req = Request();
  req.topic = FakeAwsSns::Arn("nope");
  EXPECT_EQ(SetUpBucketSns(client_, sns_, req).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(aws_.policies_.empty());
}

TEST_F(SnsSetupTest, AFailureAfterThePolicyWasSetSaysSo) {
  transport_.SetHandler([this](const http::HttpRequest& r) {
    if (r.method == "PUT") return FakeReply::S3Error(403, "AccessDenied");
    return aws_.Handle(r);
  });
  auto r = SetUpBucketSns(client_, sns_, Request());
  ASSERT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("its Policy set and the endpoint subscribed, then"),
            std::string::npos)
      << r.status().message();
}

TEST_F(SnsSetupTest, ShowAndRemove) {
  ASSERT_TRUE(SetUpBucketSns(client_, sns_, Request()).ok());
  aws_.subs_[0].confirmed = true;
  auto ev = DescribeBucketEvents(client_, "b", {.sqs = {}, .sns = [this] { return &sns_; }});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  ASSERT_EQ(ev->sns_topics.size(), 1u);
  EXPECT_TRUE(ev->topics.empty());
  EXPECT_TRUE(ev->sns_topics[0].allows_bucket);
  ASSERT_TRUE(ev->sns_topics[0].subscriptions.ok());
  EXPECT_EQ(ev->sns_topics[0].subscriptions->at(0).endpoint, kSubscriptionUrl);

  auto r = RemoveBucketSns(client_, sns_, Removal(false, kSubscriptionUrl));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->removed);
  EXPECT_TRUE(r->policy_changed);
  EXPECT_EQ(r->unsubscribed, 1);
  EXPECT_EQ(aws_.Configs().size(), 1u);
  EXPECT_FALSE(PolicyAllowsBucket(aws_.policies_[FakeAwsSns::Arn("ferry-b")], "b", "SNS:Publish"));
  // setup again, then remove with the topic
  ASSERT_TRUE(SetUpBucketSns(client_, sns_, Request()).ok());
  auto d = RemoveBucketSns(client_, sns_, Removal(true, ""));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->topic_deleted);
  EXPECT_TRUE(aws_.policies_.empty());
}

TEST(SnsInputTest, TopicNamesAndArns) {
  EXPECT_EQ(SnsTopicNameOfArn("arn:aws:sns:us-east-1:123456789012:photos"), "photos");
  EXPECT_EQ(SnsTopicNameOfArn("arn:aws:sns:zonegroup::photos"), "");  // RGW's
  EXPECT_EQ(SnsTopicNameOfArn("arn:aws:sqs:us-east-1:1:q"), "");
  EXPECT_EQ(*SnsTopicNameOf("photos"), "photos");
  EXPECT_EQ(*SnsTopicNameOf("arn:aws-cn:sns:cn-north-1:123456789012:p_1"), "p_1");
  EXPECT_EQ(SnsTopicNameOf("a.b").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(SnsTopicNameOf("arn:aws:sns:r::t").status().message().find("--sns-topic"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::events::setup
