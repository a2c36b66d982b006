#include "s3/notification.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::s3 {
namespace {

// What RGW 16.2 answered for a bucket with one configuration (a key filter) of another tool.
constexpr const char* kRgwOther =
    "<NotificationConfiguration><TopicConfiguration><Id>other</Id>"
    "<Topic>arn:aws:sns:region-a::other-topic</Topic><Filter><S3Key><FilterRule><Name>prefix"
    "</Name><Value>logs/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.txt</Value>"
    "</FilterRule></S3Key></Filter><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"
    "</NotificationConfiguration>";

TopicConfigSpec Ours() {
  return TopicConfigSpec{.id = "ferry-t",
                         .topic_arn = "arn:aws:sns:region-a::t",
                         .events = {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
                         .prefix = ""};
}

TEST(NotificationTest, ParsesRgwsDocument) {
  auto configs = ParseNotificationConfiguration(kRgwOther);
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  ASSERT_EQ(configs->size(), 1u);
  const NotificationConfig& c = (*configs)[0];
  EXPECT_EQ(c.kind, "topic");
  EXPECT_EQ(c.id, "other");
  EXPECT_EQ(c.target, "arn:aws:sns:region-a::other-topic");
  EXPECT_EQ(c.events, std::vector<std::string>{"s3:ObjectCreated:*"});
  ASSERT_EQ(c.filter.size(), 2u);
  EXPECT_EQ(c.filter[0], (NotificationFilterRule{"prefix", "", "logs/"}));
  EXPECT_EQ(c.filter[1], (NotificationFilterRule{"suffix", "", ".txt"}));
}

TEST(NotificationTest, ParsesAwsKindsAndRgwFilters) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <QueueConfiguration><Id>q</Id><Queue>arn:aws:sqs:us-east-1:1:q</Queue>
    <Event>s3:ObjectRemoved:*</Event>
    <Filter><S3Key><FilterRule><Name>Prefix</Name><Value>a/</Value></FilterRule></S3Key></Filter>
  </QueueConfiguration>
  <CloudFunctionConfiguration><Id>f</Id><CloudFunction>arn:aws:lambda:f</CloudFunction>
    <Event>s3:ObjectCreated:Put</Event></CloudFunctionConfiguration>
  <TopicConfiguration><Id>m</Id><Topic>arn:aws:sns:zg::m</Topic><Event>s3:ObjectCreated:*</Event>
    <Filter><S3Metadata><FilterRule><Name>x-amz-meta-team</Name><Value>web</Value></FilterRule>
    </S3Metadata><S3Tags><FilterRule><Name>env</Name><Value>prod</Value></FilterRule></S3Tags>
    </Filter></TopicConfiguration>
  <EventBridgeConfiguration/>
</NotificationConfiguration>)";
  auto configs = ParseNotificationConfiguration(xml);
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  ASSERT_EQ(configs->size(), 4u);
  EXPECT_EQ((*configs)[0].kind, "queue");
  EXPECT_EQ((*configs)[0].target, "arn:aws:sqs:us-east-1:1:q");
  EXPECT_EQ((*configs)[0].filter,
            (std::vector<NotificationFilterRule>{NotificationFilterRule{"prefix", "", "a/"}}));
  EXPECT_EQ((*configs)[1].kind, "function");
  EXPECT_EQ((*configs)[1].target, "arn:aws:lambda:f");
  EXPECT_EQ((*configs)[2].filter,
            (std::vector<NotificationFilterRule>{{"metadata", "x-amz-meta-team", "web"},
                                                 {"tag", "env", "prod"}}));
  EXPECT_EQ((*configs)[3].kind, "EventBridgeConfiguration");
  EXPECT_EQ((*configs)[3].id, "");
}

TEST(NotificationTest, EmptyBodiesAreEmptyConfigurations) {
  for (const char* xml : {"", "  \n", "<NotificationConfiguration></NotificationConfiguration>",
                          "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                          "2006-03-01/\"/>"}) {
    auto configs = ParseNotificationConfiguration(xml);
    ASSERT_TRUE(configs.ok()) << xml;
    EXPECT_TRUE(configs->empty()) << xml;
  }
}

TEST(NotificationTest, RefusesOtherDocuments) {
  EXPECT_EQ(ParseNotificationConfiguration("<Error><Code>x</Code></Error>").status().code(),
            ErrorCode::kInternal);
  EXPECT_EQ(ParseNotificationConfiguration("<Notif").status().code(), ErrorCode::kInternal);
  EXPECT_EQ(SetTopicConfiguration("<ListBucketResult/>", Ours()).status().code(),
            ErrorCode::kInternal);
}

TEST(NotificationTest, BuildsTheTopicConfigurationEscaped) {
  TopicConfigSpec spec = Ours();
  spec.prefix = "a&b<c>/";
  EXPECT_EQ(BuildTopicConfiguration(spec),
            "<TopicConfiguration><Id>ferry-t</Id><Topic>arn:aws:sns:region-a::t</Topic>"
            "<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event>"
            "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>a&amp;b&lt;c&gt;/</Value>"
            "</FilterRule></S3Key></Filter></TopicConfiguration>");
  auto parsed = ParseNotificationConfiguration("<NotificationConfiguration>" +
                                               BuildTopicConfiguration(spec) +
                                               "</NotificationConfiguration>");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0].filter[0].value, "a&b<c>/");
}

// Ours is added; the other configuration is kept as it was, byte for byte.
TEST(NotificationTest, SetKeepsTheOthersAndAddsOurs) {
  bool replaced = true;
  auto edited = SetTopicConfiguration(kRgwOther, Ours(), &replaced);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_FALSE(replaced);
  const std::string other(kRgwOther);
  const std::string other_element =
      other.substr(other.find("<TopicConfiguration>"),
                   other.find("</NotificationConfiguration>") - other.find("<TopicConfiguration>"));
  EXPECT_NE(edited->find(other_element), std::string::npos) << *edited;
  auto configs = ParseNotificationConfiguration(*edited);
  ASSERT_TRUE(configs.ok());
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[0].id, "other");
  EXPECT_EQ((*configs)[1].id, "ferry-t");
  EXPECT_EQ((*configs)[1].target, "arn:aws:sns:region-a::t");
  EXPECT_EQ((*configs)[1].events.size(), 2u);
}

// A rerun replaces ours (one of it, with the new events), nothing else.
TEST(NotificationTest, SetIsIdempotentAndReplacesOnlyOurs) {
  auto once = SetTopicConfiguration(kRgwOther, Ours());
  ASSERT_TRUE(once.ok());
  bool replaced = false;
  auto twice = SetTopicConfiguration(*once, Ours(), &replaced);
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(replaced);
  EXPECT_EQ(*twice, *once);
  TopicConfigSpec changed = Ours();
  changed.events = {"s3:ObjectCreated:Put"};
  changed.prefix = "p/";
  auto third = SetTopicConfiguration(*twice, changed);
  ASSERT_TRUE(third.ok());
  auto configs = ParseNotificationConfiguration(*third);
  ASSERT_TRUE(configs.ok());
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[1].events, std::vector<std::string>{"s3:ObjectCreated:Put"});
  EXPECT_EQ((*configs)[1].filter[0].value, "p/");
}

TEST(NotificationTest, SetIntoAnEmptyOrNamespacedDocument) {
  auto from_empty = SetTopicConfiguration("", Ours());
  ASSERT_TRUE(from_empty.ok());
  EXPECT_EQ(*from_empty, "<NotificationConfiguration>" + BuildTopicConfiguration(Ours()) +
                             "</NotificationConfiguration>");
  auto aws = SetTopicConfiguration(
      "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>", Ours());
  ASSERT_TRUE(aws.ok());
  EXPECT_TRUE(aws->starts_with(
      "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"))
      << *aws;
}

TEST(NotificationTest, OurIdHeldByAnotherKindIsRefused) {
  const std::string xml =
      "<NotificationConfiguration><QueueConfiguration><Id>ferry-t</Id><Queue>q</Queue>"
      "</QueueConfiguration></NotificationConfiguration>";
  EXPECT_EQ(SetTopicConfiguration(xml, Ours()).status().code(), ErrorCode::kInvalidArgument);
}

TEST(NotificationTest, RemoveTakesOutOnlyThatId) {
  auto with_ours = SetTopicConfiguration(kRgwOther, Ours());
  ASSERT_TRUE(with_ours.ok());
  int removed = 0;
  auto without = RemoveConfiguration(*with_ours, "ferry-t", &removed);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(*without, kRgwOther);
  auto none = RemoveConfiguration(*without, "ferry-t", &removed);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(removed, 0);
  auto empty = RemoveConfiguration(*without, "other", &removed);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(removed, 1);
  auto configs = ParseNotificationConfiguration(*empty);
  ASSERT_TRUE(configs.ok());
  EXPECT_TRUE(configs->empty());
}

}  // namespace
}  // namespace ferry::s3
