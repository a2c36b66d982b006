// [serve.replication_events]: parsed with its defaults, refused when wrong (one line naming the
// table and the key).
#include <gtest/gtest.h>

#include "app/config.h"
#include "app/config_replication_events.h"

namespace ferry::app {
namespace {

Result<Config> Parse(const std::string& table) {
  return ParseConfig("[serve]\nreplicate = [\"s3://photos\"]\n[serve.replication_events]\n" + table,
                     "t.toml");
}

TEST(ConfigReplicationEventsTest, ParsesWithDefaults) {
  auto c = Parse("url = \"https://hooks.example/ferry\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ReplicationEventsConfig& e = c->serve.replication_events;
  EXPECT_TRUE(e.present);
  EXPECT_EQ(e.url, "https://hooks.example/ferry");
  EXPECT_EQ(e.events,
            (std::vector<std::string>{"failed", "missed-threshold", "after-threshold"}));
  EXPECT_EQ(e.max_pending, 100000);
  EXPECT_EQ(e.batch, 100);
  auto none = ParseConfig("[serve]\nreplicate = [\"s3://photos\"]\n", "t.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->serve.replication_events.present);
}

TEST(ConfigReplicationEventsTest, ParsesEveryKey) {
  auto c = Parse(
      "url = \"http://127.0.0.1:9000/hook\"\ntoken_env = \"HOOK_TOKEN\"\n"
      "events = [\"missed-threshold\"]\nmax_pending = 10\nbatch = 5\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ReplicationEventsConfig& e = c->serve.replication_events;
  EXPECT_EQ(e.token_env, "HOOK_TOKEN");
  EXPECT_EQ(e.events, (std::vector<std::string>{"missed-threshold"}));
  EXPECT_EQ(e.max_pending, 10);
  EXPECT_EQ(e.batch, 5);
  const replicate::ReplicationEventSet set = RecordedEvents(e);
  EXPECT_FALSE(set.failed);
  EXPECT_TRUE(set.missed_threshold);
  EXPECT_FALSE(set.after_threshold);
  EXPECT_FALSE(RecordedEvents(ReplicationEventsConfig{}).any());  // no table: none
}

TEST(ConfigReplicationEventsTest, RefusesWhatIsWrongInOneLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"url = \"https://h/x\"\nretries = 3\n", "unknown key 'retries'"},
      {"token_env = \"T\"\n", "'url' is missing"},
      {"url = \"ftp://h/x\"\n", "'url' must be an http(s)://host[:port]/path URL"},
      {"url = \"https:///x\"\n", "'url' must be"},
      {"url = \"\"\n", "'url' must be a non-empty string"},
      {"url = \"https://h/x\"\nevents = []\n", "'events' must be a list"},
      {"url = \"https://h/x\"\nevents = [\"failed\", \"failed\"]\n", "'events' must be a list"},
      {"url = \"https://h/x\"\nevents = [\"late\"]\n", "'events' must be a list"},
      {"url = \"https://h/x\"\nmax_pending = 0\n", "'max_pending' must be a whole number"},
      {"url = \"https://h/x\"\nbatch = 1001\n", "'batch' must be a whole number from 1 to 1000"},
      {"url = \"http://h/x\"\nca_bundle = \"/ca.pem\"\n", "'ca_bundle' needs an https:// url"},
  };
  for (const auto& [table, want] : cases) {
    auto c = Parse(table);
    ASSERT_FALSE(c.ok()) << table;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << table;
    EXPECT_NE(c.status().message().find("t.toml: [serve.replication_events]"), std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << c.status().message();
  }
  auto not_table = ParseConfig("[serve]\nreplication_events = 3\n", "t.toml");
  ASSERT_FALSE(not_table.ok());
  EXPECT_NE(not_table.status().message().find("must be a table"), std::string::npos);
}

}  // namespace
}  // namespace ferry::app
