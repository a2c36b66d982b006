// [[schedules]] of the config file (config_schedules.h).
#include <gtest/gtest.h>

#include "app/config.h"

namespace ferry::app {
namespace {

constexpr const char* kSync = R"(
[[schedules]]
name = "nightly"
at = "daily 02:00"
command = "sync"
source = "ra:a"
destination = "rb:b"
)";

TEST(ConfigSchedulesTest, ParsesEachEntry) {
  auto c = ParseConfig(std::string(kSync) + R"(delete = true
grace = "30m"
[[schedules]]
name = "often"
at = "every 5s"
command = "sync"
source = "ra:a"
destination = "rb:c"
)",
                       "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->schedules.size(), 2u);
  const ScheduleConfig& n = c->schedules[0];
  EXPECT_EQ(n.name, "nightly");
  EXPECT_EQ(n.at, "daily 02:00");
  EXPECT_EQ(n.command, "sync");
  EXPECT_EQ(n.source, "ra:a");
  EXPECT_EQ(n.destination, "rb:b");
  EXPECT_TRUE(n.delete_extra);
  EXPECT_EQ(n.grace, std::chrono::minutes(30));
  EXPECT_FALSE(c->schedules[1].delete_extra);
  EXPECT_EQ(c->schedules[1].grace.count(), 0);

  auto w = ParseConfig(R"(
[[schedules]]
name = "monday-prewarm"
at = "Mon 06:00"
command = "cache-warm"
source = "ra:a"
cache = "rb:hot"
prefixes = ["models/", ""]
ttl = "24h"
)",
                       "f.toml");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->schedules[0].cache, "rb:hot");
  EXPECT_EQ(w->schedules[0].prefixes, (std::vector<std::string>{"models/", ""}));
  EXPECT_EQ(w->schedules[0].ttl, std::chrono::hours(24));
}

TEST(ConfigSchedulesTest, RefusesBadEntriesInOneLine) {
  const std::pair<std::string, std::string> cases[] = {
      {std::string(kSync) + "prefix = \"x\"\n", "unknown key 'prefix' for command 'sync'"},
      {std::string(kSync) + "delete = \"yes\"\n", "'delete' must be true or false"},
      {std::string(kSync) + "grace = \"0s\"\n", "'grace' must be at least 1s"},
      {std::string(kSync) + "grace = \"soon\"\n", "'grace'"},
      {std::string(kSync) + kSync, "'nightly': the name is taken twice"},
      {"[[schedules]]\nat = \"hourly\"\ncommand = \"sync\"\n", "#1: 'name' is missing"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\n", "'x': 'command' is missing"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"backup\"\n",
       "command 'backup' cannot be scheduled yet"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"cache-warm\"\n"
       "source = \"ra:a\"\ncache = \"rb:c\"\nttl = \"1h\"\n",
       "'prefixes' is missing"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"cache-warm\"\n"
       "source = \"ra:a\"\ncache = \"rb:c\"\nprefixes = []\nttl = \"1h\"\n",
       "'prefixes' must be a non-empty list"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"cache-warm\"\n"
       "source = \"ra:a\"\ncache = \"rb:c\"\nprefixes = [\"a/\"]\n",
       "'ttl' is missing"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"cache-warm\"\n"
       "source = \"ra:a\"\ncache = \"rb:c\"\nprefixes = [\"a/\"]\nttl = \"1h\"\n"
       "destination = \"rb:d\"\n",
       "unknown key 'destination' for command 'cache-warm'"},
      {std::string(kSync) + "cache = \"rb:c\"\n", "unknown key 'cache' for command 'sync'"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"catalog-prune\"\n",
       "command 'catalog-prune' cannot be scheduled yet"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"rm\"\n", "unknown command 'rm'"},
      {"[[schedules]]\nname = \"x\"\ncommand = \"sync\"\nsource = \"a\"\ndestination = \"b\"\n",
       "'at' is missing"},
      {"[[schedules]]\nname = \"x\"\nat = \"Tue 6:00\"\ncommand = \"sync\"\nsource = \"a\"\n"
       "destination = \"b\"\n",
       "at \"Tue 6:00\""},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"sync\"\nsource = \"a\"\n",
       "'destination' is missing"},
      {"[schedules]\nname = \"x\"\n", "'schedules' must be [[schedules]] tables"},
      {"schedules = [1]\n", "#1 must be a table"},
  };
  for (const auto& [text, want] : cases) {
    auto c = ParseConfig(text, "f.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(want), std::string::npos)
        << "want '" << want << "' in: " << c.status().message();
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().rfind("f.toml", 0), 0u) << c.status().message();
  }
}

}  // namespace
}  // namespace ferry::app
