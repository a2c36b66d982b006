// SetUpBucketQueue / SetUpBucketQueueArn / RemoveBucketQueue / DescribeQueue against a fake AWS
// behind FakeTransport: S3 keeps one bucket's notification document (a PUT replaces it, as
// AWS's does; a queue ARN it does not know is refused, as MinIO does) and SQS keeps queues
// with their attributes (JSON protocol).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "events/setup/queue.h"
#include "events/setup/setup.h"
#include "s3/notification.h"
#include "s3/notification_set.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::events::setup {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;
using nlohmann::json;

constexpr const char* kAccount = "123456789012";
constexpr const char* kAudit =
    "<TopicConfiguration><Id>audit</Id><Topic>arn:aws:sns:us-east-1:123456789012:audit</Topic>"
    "<Event>s3:ObjectRemoved:*</Event></TopicConfiguration>";

class FakeAws {
 public:
  FakeReply Handle(const http::HttpRequest& r) {
    const std::string body(reinterpret_cast<const char*>(r.body.data()), r.body.size());
    const std::string target = r.headers.Get("X-Amz-Target");
    if (!target.empty()) return Sqs(target.substr(target.find('.') + 1), json::parse(body));
    const std::string path = r.url.substr(std::string("http://s3.test/").size());
    const std::string bucket = path.substr(0, path.find('?'));
    if (bucket != "b") return FakeReply::S3Error(404, "NoSuchBucket");
    if (r.method == "GET") return FakeReply::Ok(Document());
    if (r.method == "PUT") return Put(body);
    return FakeReply::S3Error(405, "MethodNotAllowed");
  }

  std::string Document() const {
    std::string out = "<NotificationConfiguration>";
    for (const std::string& element : elements_) out += element;
    return out + "</NotificationConfiguration>";
  }
  std::vector<s3::NotificationConfig> Configs() const {
    return s3::ParseNotificationConfiguration(Document()).value();
  }
  static std::string Url(const std::string& name) {
    return "http://sqs.test/" + std::string(kAccount) + "/" + name;
  }
  static std::string Arn(const std::string& name) {
    return "arn:aws:sqs:us-east-1:" + std::string(kAccount) + ":" + name;
  }

  std::vector<std::string> elements_;
  std::map<std::string, std::map<std::string, std::string>> queues_;  // name -> attributes
  std::set<std::string> known_arns_;  // what a PUT may name besides the queues (MinIO targets)
  int puts = 0;
  int creates = 0;
  int policy_sets = 0;

 private:
  FakeReply Put(const std::string& body) {
    ++puts;
    auto parsed = s3::ParseNotificationConfiguration(body);
    if (!parsed.ok()) return FakeReply::S3Error(400, "MalformedXML");
    std::vector<std::string> next;
    for (const s3::NotificationConfig& c : *parsed) {
      if (c.kind == "queue") {
        const std::string name = c.target.substr(c.target.rfind(':') + 1);
        if (!known_arns_.contains(c.target) && !queues_.contains(name)) {
          return FakeReply::S3Error(400, "InvalidArgument",
                                    "A specified destination ARN does not exist or is not "
                                    "well-formed. Verify the destination ARN.");
        }
      }
      if (c.kind == "topic" && c.id == "audit") {
        next.push_back(kAudit);
        continue;
      }
      next.push_back(*s3::BuildNotificationConfiguration(
          {.kind = c.kind, .id = c.id, .target_arn = c.target, .events = c.events,
           .prefix = c.filter.empty() ? "" : c.filter[0].value}));
    }
    elements_ = std::move(next);
    return FakeReply::Ok();
  }

  static FakeReply NoQueue() {
    return FakeReply{.status = 400,
                     .headers = {},
                     .body = R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist"})",
                     .error = Status::Ok()};
  }

  FakeReply Sqs(const std::string& action, const json& j) {
    if (action == "GetQueueUrl") {
      const std::string name = j["QueueName"];
      if (!queues_.contains(name)) return NoQueue();
      return FakeReply::Ok(json({{"QueueUrl", Url(name)}}).dump());
    }
    if (action == "CreateQueue") {
      const std::string name = j["QueueName"];
      ++creates;
      queues_[name]["QueueArn"] = Arn(name);
      return FakeReply::Ok(json({{"QueueUrl", Url(name)}}).dump());
    }
    const std::string url = j["QueueUrl"];
    const std::string name = url.substr(url.rfind('/') + 1);
    auto it = queues_.find(name);
    if (it == queues_.end()) return NoQueue();
    if (action == "GetQueueAttributes") {
      json attrs = json::object();
      for (const json& name : j["AttributeNames"]) {
        const std::string n = name.get<std::string>();
        if (it->second.contains(n)) attrs[n] = it->second[n];
      }
      return FakeReply::Ok(json({{"Attributes", attrs}}).dump());
    }
    if (action == "SetQueueAttributes") {
      for (const auto& [k, v] : j["Attributes"].items()) {
        ++policy_sets;
        it->second[k] = v.get<std::string>();
      }
      return FakeReply::Ok("{}");
    }
    if (action == "DeleteQueue") {
      queues_.erase(it);
      return FakeReply::Ok("{}");
    }
    return FakeReply::S3Error(400, "InvalidAction");
  }
};

QueueArnSetupRequest ArnRequest(const std::string& arn, const std::string& prefix = "") {
  QueueArnSetupRequest r;
  r.bucket = "b";
  r.queue_arn = arn;
  r.prefix = prefix;
  return r;
}

QueueRemoveRequest Removal(const std::string& queue, const std::string& arn, bool delete_queue) {
  QueueRemoveRequest r;
  r.bucket = "b";
  r.queue = queue;
  r.queue_arn = arn;
  r.delete_queue = delete_queue;
  return r;
}

class QueueSetupTest : public ::testing::Test {
 protected:
  QueueSetupTest()
      : creds_(std::make_shared<s3::StaticCredentials>(s3::Credentials{"AKIATEST", "SECRET", ""})),
        client_(Options(), transport_, *creds_, clock_),
        sqs_({.url = "http://sqs.test", .region = "us-east-1", .credentials = creds_, .tls = {}}, transport_,
             clock_) {
    transport_.SetHandler([this](const http::HttpRequest& r) { return aws_.Handle(r); });
    aws_.elements_.push_back(kAudit);
  }
  s3::S3Options Options() {
    s3::S3Options o;
    o.endpoint = "http://s3.test";
    o.region = "us-east-1";
    o.retry.max_attempts = 1;
    o.metrics = &metrics_;
    return o;
  }
  static QueueSetupRequest Request() {
    QueueSetupRequest r;
    r.bucket = "b";
    r.queue = "b-events";
    return r;
  }

  FakeAws aws_;
  FakeTransport transport_;
  FakeClock clock_;
  std::shared_ptr<s3::StaticCredentials> creds_;
  obs::Registry metrics_;
  s3::S3Client client_;
  sqs::SqsClient sqs_;
};

TEST_F(QueueSetupTest, CreatesTheQueueAndPolicyKeepsTheOtherAndIsIdempotent) {
  auto r = SetUpBucketQueue(client_, sqs_, Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->queue_created);
  EXPECT_TRUE(r->policy_changed);
  EXPECT_FALSE(r->replaced);
  EXPECT_EQ(r->queue_url, FakeAws::Url("b-events"));
  EXPECT_EQ(r->queue_arn, FakeAws::Arn("b-events"));
  EXPECT_EQ(r->configuration_id, "ferry-b-events");
  EXPECT_EQ(r->configurations, 2u);
  const auto configs = aws_.Configs();
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0].id, "audit");
  EXPECT_EQ(configs[1].kind, "queue");
  EXPECT_EQ(configs[1].target, FakeAws::Arn("b-events"));
  EXPECT_EQ(configs[1].events, DefaultEvents());
  EXPECT_TRUE(PolicyAllowsBucket(aws_.queues_["b-events"]["Policy"], "b"));

  const int puts = aws_.puts;
  auto again = SetUpBucketQueue(client_, sqs_, Request());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->queue_created);
  EXPECT_FALSE(again->policy_changed);
  EXPECT_TRUE(again->replaced);
  EXPECT_EQ(aws_.creates, 1);
  EXPECT_EQ(aws_.policy_sets, 1);
  EXPECT_EQ(aws_.puts, puts + 1);
  EXPECT_EQ(aws_.Configs(), configs);
}

TEST_F(QueueSetupTest, AnExistingQueueByUrlKeepsItsPolicysOtherStatements) {
  aws_.queues_["q"] = {{"QueueArn", FakeAws::Arn("q")},
                       {"Policy", R"({"Version":"2012-10-17","Statement":[{"Sid":"mine",)"
                                  R"("Effect":"Allow","Principal":"*","Action":"sqs:*"}]})"}};
  QueueSetupRequest req = Request();
  req.queue = FakeAws::Url("q");
  req.source_account = kAccount;
  req.prefix = "in/";
  auto r = SetUpBucketQueue(client_, sqs_, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->queue_created);
  const json policy = json::parse(aws_.queues_["q"]["Policy"]);
  ASSERT_EQ(policy["Statement"].size(), 2u);
  EXPECT_EQ(policy["Statement"][0]["Sid"], "mine");
  EXPECT_EQ(policy["Statement"][1]["Condition"]["StringEquals"]["aws:SourceAccount"], kAccount);
  EXPECT_EQ(aws_.Configs()[1].filter[0].value, "in/");
}

TEST_F(QueueSetupTest, AMissingBucketLeavesNoQueue) {
  QueueSetupRequest req = Request();
  req.bucket = "missing";
  auto r = SetUpBucketQueue(client_, sqs_, req);
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(aws_.queues_.empty());
}

TEST_F(QueueSetupTest, AMissingQueueUrlIsNotCreated) {
  QueueSetupRequest req = Request();
  req.queue = FakeAws::Url("nope");
  auto r = SetUpBucketQueue(client_, sqs_, req);
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("no queue at"), std::string::npos);
  EXPECT_EQ(aws_.creates, 0);
}

TEST_F(QueueSetupTest, BadInputIsRefusedBeforeAnyRequest) {
  for (const char* queue : {"a b", "events.fifo", "ftp://x/1/q"}) {
    QueueSetupRequest req = Request();
    req.queue = queue;
    EXPECT_EQ(SetUpBucketQueue(client_, sqs_, req).status().code(), ErrorCode::kInvalidArgument)
        << queue;
  }
  QueueSetupRequest req = Request();
  req.source_account = "12";
  EXPECT_EQ(SetUpBucketQueue(client_, sqs_, req).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_F(QueueSetupTest, AFailureAfterTheQueueWasCreatedSaysSo) {
  // a queue configuration of the Id that is a topic's elsewhere: refused before any queue
  aws_.elements_.push_back(
      "<TopicConfiguration><Id>ferry-b-events</Id><Topic>arn:aws:sns:us-east-1:1:t</Topic>"
      "<Event>s3:ObjectCreated:*</Event></TopicConfiguration>");
  auto held = SetUpBucketQueue(client_, sqs_, Request());
  EXPECT_EQ(held.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(aws_.queues_.empty());
  aws_.elements_.pop_back();
  // the PUT refused after the queue was made: the message says what was done
  transport_.SetHandler([this](const http::HttpRequest& r) {
    if (r.method == "PUT") return FakeReply::S3Error(403, "AccessDenied");
    return aws_.Handle(r);
  });
  auto r = SetUpBucketQueue(client_, sqs_, Request());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("was created and its Policy set, then"), std::string::npos)
      << r.status().message();
}

TEST_F(QueueSetupTest, AQueueArnIsMergedAndAnUnknownOneExplained) {
  aws_.known_arns_.insert("arn:minio:sqs::ferry:webhook");
  QueueArnSetupRequest req = ArnRequest("arn:minio:sqs::ferry:webhook");
  auto r = SetUpBucketQueueArn(client_, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->configuration_id, "ferry-webhook");
  EXPECT_EQ(aws_.Configs().size(), 2u);
  EXPECT_TRUE(aws_.queues_.empty());  // nothing but the bucket's document
  // MinIO without that target
  req.queue_arn = "arn:minio:sqs::other:webhook";
  req.endpoint_url = "http://10.0.0.5:9380/events";
  req.token = "secret-token-0123456789";
  auto refused = SetUpBucketQueueArn(client_, req);
  ASSERT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  const std::string& m = refused.status().message();
  EXPECT_NE(m.find("mc admin config set ALIAS notify_webhook:other "
                   "endpoint=\"http://10.0.0.5:9380/events\" auth_token=\"sec***\""),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("secret-token"), std::string::npos);
  EXPECT_EQ(m.find('\n'), std::string::npos);
  // a bad ARN: before any request
  const size_t sent = transport_.request_count();
  req.queue_arn = "arn:aws:sns:us-east-1:1:t";
  EXPECT_EQ(SetUpBucketQueueArn(client_, req).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), sent);
}

TEST_F(QueueSetupTest, ShowReadsTheQueues) {
  ASSERT_TRUE(SetUpBucketQueue(client_, sqs_, Request()).ok());
  aws_.known_arns_.insert("arn:minio:sqs::ferry:webhook");
  ASSERT_TRUE(
      SetUpBucketQueueArn(client_, ArnRequest("arn:minio:sqs::ferry:webhook", "minio/")).ok());
  auto ev = DescribeBucketEvents(client_, "b", {.sqs = [this] { return &sqs_; }, .sns = {}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  ASSERT_EQ(ev->configurations.size(), 3u);
  ASSERT_EQ(ev->queues.size(), 2u);
  EXPECT_EQ(ev->queues[0].url, FakeAws::Url("b-events"));
  ASSERT_TRUE(ev->queues[0].attributes.ok());
  EXPECT_EQ(ev->queues[1].attributes.status().code(), ErrorCode::kNotSupported);
  // without an SQS client, no queue is asked about
  EXPECT_TRUE(DescribeBucketEvents(client_, "b")->queues.empty());
}

TEST_F(QueueSetupTest, RemoveTakesOutOursAndOurStatementOrTheQueue) {
  ASSERT_TRUE(SetUpBucketQueue(client_, sqs_, Request()).ok());
  auto r = RemoveBucketQueue(client_, &sqs_, Removal("b-events", "", false));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->removed);
  EXPECT_EQ(r->configurations, 1u);
  EXPECT_TRUE(r->policy_changed);
  EXPECT_FALSE(r->queue_deleted);
  EXPECT_EQ(aws_.Configs()[0].id, "audit");
  EXPECT_FALSE(PolicyAllowsBucket(aws_.queues_["b-events"]["Policy"], "b"));
  // again, with the queue deleted
  ASSERT_TRUE(SetUpBucketQueue(client_, sqs_, Request()).ok());
  auto d = RemoveBucketQueue(client_, &sqs_, Removal("b-events", "", true));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->queue_deleted);
  EXPECT_TRUE(aws_.queues_.empty());
  // nothing left to remove: fine, nothing done
  auto none = RemoveBucketQueue(client_, &sqs_, Removal("b-events", "", false));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->removed);
  // --delete-queue with an ARN is a usage error
  EXPECT_EQ(RemoveBucketQueue(client_, nullptr, Removal("", "arn:minio:sqs::ferry:webhook", true))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::events::setup
