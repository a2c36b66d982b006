// SetUpBucketEvents / DescribeBucketEvents / RemoveBucketEvents against a fake store behind
// FakeTransport that keeps one bucket's notification document and topics, with either PUT
// semantics: AWS's (the document replaces the configuration) or RGW 16's (configurations are
// added or replaced by Id, an empty document is MalformedXML, DELETE ?notification=Id removes).
#include "events/setup/setup.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "s3/notification.h"
#include "s3/uri.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::events::setup {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

constexpr const char* kOther =
    "<TopicConfiguration><Id>other</Id><Topic>arn:aws:sns:zg::other</Topic>"
    "<Event>s3:ObjectCreated:*</Event></TopicConfiguration>";

// The form field `name` of a topic request body ("" when absent).
std::string FormField(const std::string& body, const std::string& name) {
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

class FakeStore {
 public:
  explicit FakeStore(bool additive) : additive_(additive) {}

  FakeReply Handle(const http::HttpRequest& r) {
    const std::string body(reinterpret_cast<const char*>(r.body.data()), r.body.size());
    const std::string base = "http://s3.test/";
    const std::string path = r.url.substr(base.size());
    if (path.empty()) return Topic(body);
    const std::string bucket = path.substr(0, path.find('?'));
    if (bucket != "b") return FakeReply::S3Error(404, "NoSuchBucket");
    if (r.method == "GET") return FakeReply::Ok(Document());
    if (r.method == "PUT") return Put(body);
    if (r.method == "DELETE" && additive_) {
      const std::string id = s3::UriDecode(path.substr(path.find('=') + 1), true);
      configs_.erase(id);
      return FakeReply::Ok();
    }
    return FakeReply::S3Error(405, "MethodNotAllowed");
  }

  std::string Document() const {
    std::string out = "<NotificationConfiguration>";
    for (const auto& [id, element] : configs_) out += element;
    return out + "</NotificationConfiguration>";
  }

  std::map<std::string, std::string> configs_;                 // Id -> element
  std::map<std::string, std::map<std::string, std::string>> topics_;  // name -> attributes
  int puts = 0;

 private:
  FakeReply Put(const std::string& body) {
    ++puts;
    auto parsed = s3::ParseNotificationConfiguration(body);
    if (!parsed.ok()) return FakeReply::S3Error(400, "MalformedXML");
    if (parsed->empty() && additive_) return FakeReply::S3Error(400, "MalformedXML");
    if (!additive_) configs_.clear();
    for (const s3::NotificationConfig& c : *parsed) {
      configs_[c.id] = s3::BuildTopicConfiguration(s3::TopicConfigSpec{
          .id = c.id, .topic_arn = c.target, .events = c.events,
          .prefix = c.filter.empty() ? "" : c.filter[0].value});
    }
    return FakeReply::Ok();
  }

  FakeReply Topic(const std::string& body) {
    const std::string action = FormField(body, "Action");
    if (action == "CreateTopic") {
      const std::string name = FormField(body, "Name");
      auto& attrs = topics_[name];
      attrs.clear();
      for (int n = 1;; ++n) {
        const std::string key = FormField(body, "Attributes.entry." + std::to_string(n) + ".key");
        if (key.empty()) break;
        attrs[key] = FormField(body, "Attributes.entry." + std::to_string(n) + ".value");
      }
      return FakeReply::Ok("<CreateTopicResponse><CreateTopicResult><TopicArn>arn:aws:sns:zg::" +
                           name + "</TopicArn></CreateTopicResult></CreateTopicResponse>");
    }
    const std::string name = s3::TopicNameOfArn(FormField(body, "TopicArn"));
    if (action == "DeleteTopic") {
      topics_.erase(name);
      return FakeReply::Ok("<DeleteTopicResponse/>");
    }
    auto it = topics_.find(name);
    if (it == topics_.end()) return FakeReply::S3Error(404, "NoSuchEntity");
    auto& a = it->second;
    return FakeReply::Ok(
        "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes>"
        "<entry><key>Name</key><value>" + name + "</value></entry>"
        "<entry><key>TopicArn</key><value>arn:aws:sns:zg::" + name + "</value></entry>"
        "<entry><key>OpaqueData</key><value>" + a["OpaqueData"] + "</value></entry>"
        "<entry><key>EndPoint</key><value>{&quot;EndpointAddress&quot;:&quot;" +
        a["push-endpoint"] + "&quot;,&quot;Persistent&quot;:&quot;" + a["persistent"] +
        "&quot;}</value></entry></Attributes></GetTopicAttributesResult>"
        "</GetTopicAttributesResponse>");
  }

  bool additive_;
};

class SetupTest : public ::testing::TestWithParam<bool> {
 protected:
  SetupTest()
      : store_(GetParam()),
        creds_(s3::Credentials{"AKIATEST", "SECRET", ""}),
        client_(Options(), transport_, creds_, clock_) {
    transport_.SetHandler([this](const http::HttpRequest& r) { return store_.Handle(r); });
    store_.configs_["other"] = kOther;
  }
  s3::S3Options Options() {
    s3::S3Options o;
    o.endpoint = "http://s3.test";
    o.region = "zg";
    o.retry.max_attempts = 1;
    o.metrics = &metrics_;
    return o;
  }
  static SetupRequest Request() {
    SetupRequest r;
    r.bucket = "b";
    r.topic = "ferry-b";
    r.endpoint_url = "http://127.0.0.1:9380/events";
    r.token = "token-0123456789";
    r.persistent = false;
    return r;
  }

  FakeStore store_;
  FakeTransport transport_;
  FakeClock clock_;
  s3::StaticCredentials creds_;
  obs::Registry metrics_;
  s3::S3Client client_;
};

TEST_P(SetupTest, AddsOursKeepsTheOtherAndIsIdempotent) {
  auto r = SetUpBucketEvents(client_, Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->topic_arn, "arn:aws:sns:zg::ferry-b");
  EXPECT_EQ(r->configuration_id, "ferry-b");
  EXPECT_EQ(r->events, DefaultEvents());
  EXPECT_FALSE(r->replaced);
  EXPECT_EQ(r->configurations, 2u);
  EXPECT_EQ(store_.configs_.at("other"), kOther);
  ASSERT_EQ(store_.topics_.count("ferry-b"), 1u);
  EXPECT_EQ(store_.topics_["ferry-b"]["push-endpoint"], "http://127.0.0.1:9380/events");
  EXPECT_EQ(store_.topics_["ferry-b"]["persistent"], "false");
  EXPECT_EQ(store_.topics_["ferry-b"]["OpaqueData"], "token-0123456789");
  const std::string after_first = store_.Document();

  auto again = SetUpBucketEvents(client_, Request());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replaced);
  EXPECT_EQ(again->configurations, 2u);
  EXPECT_EQ(store_.Document(), after_first);
  // GET, CreateTopic, PUT, GET per run
  EXPECT_EQ(transport_.request_count(), 8u);
}

TEST_P(SetupTest, ANewTokenOrEventsReplaceOursOnly) {
  ASSERT_TRUE(SetUpBucketEvents(client_, Request()).ok());
  SetupRequest changed = Request();
  changed.token = "another-token-456";
  changed.persistent = true;
  changed.events = {"s3:ObjectCreated:Put"};
  changed.prefix = "logs/";
  ASSERT_TRUE(SetUpBucketEvents(client_, changed).ok());
  EXPECT_EQ(store_.topics_["ferry-b"]["OpaqueData"], "another-token-456");
  EXPECT_EQ(store_.topics_["ferry-b"]["persistent"], "true");
  auto configs = s3::ParseNotificationConfiguration(store_.Document());
  ASSERT_TRUE(configs.ok());
  ASSERT_EQ(configs->size(), 2u);
  for (const s3::NotificationConfig& c : *configs) {
    if (c.id != "ferry-b") continue;
    EXPECT_EQ(c.events, std::vector<std::string>{"s3:ObjectCreated:Put"});
    ASSERT_EQ(c.filter.size(), 1u);
    EXPECT_EQ(c.filter[0].value, "logs/");
  }
}

TEST_P(SetupTest, AMissingBucketLeavesNoTopic) {
  SetupRequest r = Request();
  r.bucket = "missing";
  auto result = SetUpBucketEvents(client_, r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(result.status().message().find("bucket not found"), std::string::npos);
  EXPECT_TRUE(store_.topics_.empty());
}

TEST_P(SetupTest, BadInputIsRefusedBeforeAnyRequest) {
  SetupRequest no_token = Request();
  no_token.token.clear();
  SetupRequest bad_url = Request();
  bad_url.endpoint_url = "ftp://x/events";
  SetupRequest bad_topic = Request();
  bad_topic.topic = "a/b";
  for (const SetupRequest& r : {no_token, bad_url, bad_topic}) {
    EXPECT_EQ(SetUpBucketEvents(client_, r).status().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_P(SetupTest, ReportsAnotherConfigurationOfTheSameTopic) {
  store_.configs_["by-hand"] =
      "<TopicConfiguration><Id>by-hand</Id><Topic>arn:aws:sns:zg::ferry-b</Topic>"
      "<Event>s3:ObjectCreated:*</Event></TopicConfiguration>";
  auto r = SetUpBucketEvents(client_, Request());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->also_notifying, std::vector<std::string>{"by-hand"});
}

TEST_P(SetupTest, ShowsConfigurationsAndTopics) {
  ASSERT_TRUE(SetUpBucketEvents(client_, Request()).ok());
  auto ev = DescribeBucketEvents(client_, "b");
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  ASSERT_EQ(ev->configurations.size(), 2u);
  ASSERT_EQ(ev->topics.size(), 2u);
  for (const TopicView& t : ev->topics) {
    if (t.arn == "arn:aws:sns:zg::other") {
      EXPECT_EQ(t.attributes.status().code(), ErrorCode::kNotFound);  // never created here
      continue;
    }
    ASSERT_TRUE(t.attributes.ok());
    EXPECT_EQ(t.attributes->push_endpoint, "http://127.0.0.1:9380/events");
    EXPECT_EQ(t.attributes->persistent, false);
    EXPECT_EQ(t.attributes->opaque_data, "token-0123456789");
  }
  EXPECT_EQ(DescribeBucketEvents(client_, "missing").status().code(),
            ErrorCode::kNotFound);
}

TEST_P(SetupTest, RemoveTakesOutOursOnly) {
  ASSERT_TRUE(SetUpBucketEvents(client_, Request()).ok());
  auto r = RemoveBucketEvents(client_, RemoveRequest{.bucket = "b", .topic = "ferry-b",
                                                     .delete_topic = true});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->removed);
  EXPECT_TRUE(r->topic_deleted);
  EXPECT_EQ(r->configurations, 1u);
  EXPECT_EQ(store_.configs_.size(), 1u);
  EXPECT_EQ(store_.configs_.at("other"), kOther);
  EXPECT_TRUE(store_.topics_.empty());
  auto again = RemoveBucketEvents(client_, RemoveRequest{.bucket = "b", .topic = "ferry-b",
                                                         .delete_topic = true});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->removed);
  EXPECT_FALSE(again->topic_deleted);
}

TEST_P(SetupTest, RemoveTheLastConfiguration) {
  store_.configs_.clear();
  ASSERT_TRUE(SetUpBucketEvents(client_, Request()).ok());
  auto r = RemoveBucketEvents(client_, RemoveRequest{.bucket = "b", .topic = "ferry-b",
                                                     .delete_topic = false});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->removed);
  EXPECT_EQ(r->configurations, 0u);
  EXPECT_TRUE(store_.configs_.empty());
  EXPECT_EQ(store_.topics_.count("ferry-b"), 1u);  // kept unless asked
}

INSTANTIATE_TEST_SUITE_P(PutSemantics, SetupTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("RgwAdds") : std::string("AwsReplaces");
                         });

}  // namespace
}  // namespace ferry::events::setup
