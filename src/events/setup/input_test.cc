#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events/setup/setup.h"

namespace ferry::events::setup {
namespace {

TEST(SetupInputTest, Events) {
  auto words = ParseEvents("created, removed,created,delete-marker");
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"s3:ObjectCreated:*", "s3:ObjectRemoved:*",
                                              "s3:ObjectRemoved:DeleteMarkerCreated"}));
  auto names = ParseEvents("s3:ObjectCreated:Put,s3:ObjectCreated:CompleteMultipartUpload");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 2u);
  for (const char* bad : {"", "created,", "writes", "s3:", "s3:Object Created", "ObjectCreated:*",
                          "s3:ObjectCreated:<x>"}) {
    auto r = ParseEvents(bad);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(DefaultEvents(), (std::vector<std::string>{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}));
}

TEST(SetupInputTest, TopicNames) {
  EXPECT_EQ(TopicNameFor("my.bucket-1"), "ferry-my-bucket-1");
  EXPECT_EQ(ConfigurationIdFor("ferry-b"), "ferry-b");
  EXPECT_EQ(ConfigurationIdFor("events"), "ferry-events");
  EXPECT_TRUE(ValidateTopicName("ferry-my_bucket-1").ok());
  EXPECT_TRUE(ValidateTopicName(std::string(256, 'a')).ok());
  for (const std::string& bad : {std::string(), std::string(257, 'a'), std::string("a/b"),
                                 std::string("a.b"), std::string("a b")}) {
    EXPECT_EQ(ValidateTopicName(bad).code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(SetupInputTest, EndpointUrls) {
  for (const char* ok : {"http://127.0.0.1:9380/events", "https://ferry.example.com/events",
                         "http://[::1]:9380/events", "http://u:p@host/events?x=1", "http://h"}) {
    EXPECT_TRUE(ValidateEndpointUrl(ok).ok()) << ok;
  }
  for (const char* bad : {"", "127.0.0.1:9380/events", "ftp://h/events", "http://", "http:///x",
                          "http://h:port/events", "http://h:/x", "http://h/a b",
                          "http://h/x#frag", "http://[::1/x", "http://h:123456/"}) {
    Status s = ValidateEndpointUrl(bad);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_TRUE(s.message().starts_with("--endpoint: ")) << s.message();
  }
  // A refusal never shows a password.
  EXPECT_EQ(ValidateEndpointUrl("http://u:secret@/x").message().find("secret"),
            std::string::npos);
}

TEST(SetupInputTest, Masks) {
  EXPECT_EQ(MaskToken(""), "");
  EXPECT_EQ(MaskToken("short"), "***");
  EXPECT_EQ(MaskToken("tok-1234567890"), "tok***");
  EXPECT_EQ(MaskUrl("http://127.0.0.1:9380/events"), "http://127.0.0.1:9380/events");
  EXPECT_EQ(MaskUrl("https://user:pa@ss@h:1/e?token=abc&x=&flag#f"),
            "https://user:***@h:1/e?token=***&x=***&flag#f");
  EXPECT_EQ(MaskUrl("http://user@h/e"), "http://user@h/e");
  EXPECT_EQ(MaskUrl("not a url?k=v"), "not a url?k=***");
}

}  // namespace
}  // namespace ferry::events::setup
