// [[notify]] of the config file and --notify (config_notify.h).
#include <gtest/gtest.h>

#include "app/config.h"
#include "app/config_notify.h"

namespace ferry::app {
namespace {

// The error of a config, "" when it parses.
std::string NotifyConfigError(const std::string& text) {
  auto c = ParseConfig(text, "f.toml");
  return c.ok() ? "" : c.status().message();
}

TEST(ConfigNotifyTest, ParsesEachKind) {
  auto c = ParseConfig(R"(
[remotes.moto]
endpoint = "http://127.0.0.1:5000"
[[notify]]
kind = "webhook"
url = "https://hooks.example/ferry"
headers = { Authorization = { env = "HOOK_TOKEN" }, X-Key = { file = "/run/key" } }
on = ["failed", "dead"]
[[notify]]
kind = "sns"
topic_arn = "arn:aws:sns:us-east-1:123456789012:ferry"
remote = "moto"
[[notify]]
kind = "sqs"
queue_url = "http://127.0.0.1:5000/123456789012/ferry"
region = "us-east-1"
[[notify]]
kind = "smtp"
url = "smtp://127.0.0.1:2525"
from = "ferry@example.org"
to = ["ops@example.org"]
user = "ferry"
password_file = "/run/smtp"
)",
                       "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->notify.size(), 4u);
  EXPECT_EQ(c->notify[0].kind, notify::Kind::kWebhook);
  ASSERT_EQ(c->notify[0].headers.size(), 2u);
  EXPECT_EQ(c->notify[0].headers[0].value.env, "HOOK_TOKEN");
  EXPECT_FALSE(c->notify[0].on.Has(notify::EndState::kDone));
  EXPECT_TRUE(c->notify[0].on.Has(notify::EndState::kDead));
  EXPECT_EQ(c->notify[1].remote, "moto");
  EXPECT_TRUE(c->notify[2].on.Has(notify::EndState::kDone));  // default: every end
  EXPECT_EQ(c->notify[3].password.file, "/run/smtp");
}

TEST(ConfigNotifyTest, RefusesBadEntriesInOneLine) {
  const std::string hook = "[[notify]]\nkind = \"webhook\"\nurl = \"https://h/x\"\n";
  EXPECT_EQ(NotifyConfigError(hook + "colour = 1\n"),
            "f.toml: [[notify]] #1: unknown key 'colour'");
  EXPECT_NE(NotifyConfigError(hook + "headers = { Authorization = \"Bearer x\" }\n")
                .find("a secret is never written in the config"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError(hook + "on = [\"done\", \"done\"]\n").find("'on' must be"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError(hook + "on = [\"finished\"]\n").find("'on' must be"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError("[[notify]]\nkind = \"pigeon\"\n").find("'kind' must be"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError("[[notify]]\nkind = \"webhook\"\nurl = \"ftp://x\"\n")
                .find("'url' must be"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError("[[notify]]\nkind = \"sns\"\ntopic_arn = \"arn:aws:sns:r:1:t\"\n"
                              "remote = \"nope\"\n")
                .find("'remote' names no remote"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError("[[notify]]\nkind = \"sqs\"\nqueue_url = \"http://q/1/a\"\n"
                              "url = \"http://x\"\n")
                .find("unknown key 'url'"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError("[[notify]]\nkind = \"smtp\"\nurl = \"smtp://h:25\"\n"
                              "from = \"a@b\"\nto = [\"c@d\"]\nuser = \"u\"\n")
                .find("go together"),
            std::string::npos);
  EXPECT_NE(NotifyConfigError("[notify]\nkind = \"webhook\"\n").find("[[notify]] tables"),
            std::string::npos);
}

TEST(ConfigNotifyTest, TheFlagTakesAWebhookATopicOrAQueue) {
  EXPECT_EQ(ParseNotifyFlag("http://127.0.0.1:8080/hook")->kind, notify::Kind::kWebhook);
  EXPECT_EQ(ParseNotifyFlag("sns:arn:aws:sns:us-east-1:1:t")->topic_arn,
            "arn:aws:sns:us-east-1:1:t");
  EXPECT_EQ(ParseNotifyFlag("sqs:http://127.0.0.1:5000/1/q")->queue_url,
            "http://127.0.0.1:5000/1/q");
  EXPECT_FALSE(ParseNotifyFlag("mailto:ops@example.org").ok());
  EXPECT_FALSE(ParseNotifyFlag("sns:topic").ok());
}

}  // namespace
}  // namespace ferry::app
