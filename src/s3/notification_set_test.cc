// SetNotificationConfiguration: a <QueueConfiguration> set among the configurations an AWS
// bucket already has, every other one kept.
#include "s3/notification_set.h"

#include <gtest/gtest.h>

#include <string>

#include "s3/notification.h"

namespace ferry::s3 {
namespace {

// What AWS answers for a bucket notifying a topic and a Lambda function.
constexpr const char* kAwsOthers =
    R"(<?xml version="1.0" encoding="UTF-8"?>)"
    R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
    "<TopicConfiguration><Id>audit</Id><Topic>arn:aws:sns:us-east-1:123456789012:audit</Topic>"
    "<Event>s3:ObjectRemoved:*</Event><Filter><S3Key><FilterRule><Name>Prefix</Name>"
    "<Value>logs/</Value></FilterRule></S3Key></Filter></TopicConfiguration>"
    "<CloudFunctionConfiguration><Id>thumbs</Id>"
    "<CloudFunction>arn:aws:lambda:us-east-1:123456789012:function:thumbs</CloudFunction>"
    "<Event>s3:ObjectCreated:Put</Event></CloudFunctionConfiguration>"
    "</NotificationConfiguration>";

NotificationConfigSpec Queue() {
  return {.kind = "queue",
          .id = "ferry-photos-events",
          .target_arn = "arn:aws:sqs:us-east-1:123456789012:photos-events",
          .events = {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
          .prefix = ""};
}

TEST(NotificationSetTest, BuildsAQueueConfiguration) {
  NotificationConfigSpec spec = Queue();
  spec.prefix = "a&b/";
  EXPECT_EQ(*BuildNotificationConfiguration(spec),
            "<QueueConfiguration><Id>ferry-photos-events</Id>"
            "<Queue>arn:aws:sqs:us-east-1:123456789012:photos-events</Queue>"
            "<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event>"
            "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>a&amp;b/</Value>"
            "</FilterRule></S3Key></Filter></QueueConfiguration>");
  spec.kind = "function";
  EXPECT_EQ(BuildNotificationConfiguration(spec).status().code(), ErrorCode::kInvalidArgument);
}

TEST(NotificationSetTest, AQueueConfigurationIsAddedAndTheOthersKept) {
  bool replaced = true;
  auto edited = SetNotificationConfiguration(kAwsOthers, Queue(), &replaced);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_FALSE(replaced);
  auto before = ParseNotificationConfiguration(kAwsOthers);
  auto after = ParseNotificationConfiguration(*edited);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ((*after)[0], (*before)[0]);
  EXPECT_EQ((*after)[1], (*before)[1]);
  EXPECT_EQ((*after)[2].kind, "queue");
  EXPECT_EQ((*after)[2].target, "arn:aws:sqs:us-east-1:123456789012:photos-events");
  // the others byte for byte
  EXPECT_NE(edited->find("<Value>logs/</Value></FilterRule></S3Key></Filter></TopicConfiguration>"
                         "<CloudFunctionConfiguration><Id>thumbs</Id>"),
            std::string::npos)
      << *edited;
}

TEST(NotificationSetTest, ARerunReplacesOnlyFerrysQueueConfiguration) {
  auto once = SetNotificationConfiguration(kAwsOthers, Queue());
  ASSERT_TRUE(once.ok());
  NotificationConfigSpec changed = Queue();
  changed.events = {"s3:ObjectCreated:*"};
  bool replaced = false;
  auto twice = SetNotificationConfiguration(*once, changed, &replaced);
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(replaced);
  auto after = ParseNotificationConfiguration(*twice);
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ((*after)[2].events, std::vector<std::string>{"s3:ObjectCreated:*"});
  // the same input twice: the same document
  EXPECT_EQ(*SetNotificationConfiguration(*once, Queue()), *once);
}

TEST(NotificationSetTest, AnIdHeldByAnotherKindIsRefused) {
  NotificationConfigSpec spec = Queue();
  spec.id = "audit";  // the topic configuration's
  auto edited = SetNotificationConfiguration(kAwsOthers, spec);
  EXPECT_EQ(edited.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(edited.status().message().find("not a queue configuration"), std::string::npos);
}

TEST(NotificationSetTest, AnEmptyDocumentGetsOnlyOurs) {
  auto edited = SetNotificationConfiguration("", Queue());
  ASSERT_TRUE(edited.ok());
  auto after = ParseNotificationConfiguration(*edited);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].id, "ferry-photos-events");
}

TEST(NotificationSetTest, MotosEmptyReplyIsAnEmptyConfiguration) {
  const std::string moto = R"(<?xml version="1.0" encoding="utf-8"?>)"
                           R"(<GetBucketNotificationResponse )"
                           R"(xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>)";
  auto configs = ParseNotificationConfiguration(moto);
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  EXPECT_TRUE(configs->empty());
  auto edited = SetNotificationConfiguration(moto, Queue());
  ASSERT_TRUE(edited.ok());
  EXPECT_EQ(ParseNotificationConfiguration(*edited)->size(), 1u);
  // with something in it, it is not a configuration
  EXPECT_FALSE(ParseNotificationConfiguration(
                   "<GetBucketNotificationResponse><X/></GetBucketNotificationResponse>")
                   .ok());
}

}  // namespace
}  // namespace ferry::s3
