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

constexpr const char* kBackup = R"(
[[schedules]]
name = "nightly-backup"
at = "daily 02:30"
tz = "Europe/Paris"
command = "backup"
source = "ra:photos"
location = "rb:backups/photos"
)";
constexpr const char* kPrune = R"(
[[schedules]]
name = "prune"
at = "Sun 04:00"
command = "catalog-prune"
location = "rb:backups/photos"
)";

TEST(ConfigSchedulesTest, ParsesBackupAndCatalogPrune) {
  auto c = ParseConfig(std::string(kBackup) + "compress_level = 7\narchive_size = \"8MiB\"\n"
                       "max_attempts = 3\n" + kPrune + "keep_last = 3\nkeep_within = \"7d\"\n",
                       "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->schedules.size(), 2u);
  const ScheduleConfig& b = c->schedules[0];
  EXPECT_EQ(b.command, "backup");
  EXPECT_EQ(b.tz, "Europe/Paris");
  EXPECT_EQ(b.source, "ra:photos");
  EXPECT_EQ(b.location, "rb:backups/photos");
  EXPECT_EQ(b.compress_level, 7);
  EXPECT_EQ(b.archive_size, "8MiB");
  EXPECT_EQ(b.max_attempts, 3);
  const ScheduleConfig& p = c->schedules[1];
  EXPECT_EQ(p.command, "catalog-prune");
  EXPECT_EQ(p.tz, "");
  EXPECT_EQ(p.location, "rb:backups/photos");
  EXPECT_EQ(p.keep_last, 3u);
  EXPECT_EQ(p.keep_within, std::chrono::hours(24 * 7));
  // defaults: as `ferry backup` without the flags
  auto d = ParseConfig(kBackup, "f.toml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->schedules[0].compress_level, 0);
  EXPECT_EQ(d->schedules[0].archive_size, "");
  EXPECT_EQ(d->schedules[0].max_attempts, 5);
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
       "'x': 'source' is missing"},
      {std::string(kBackup) + "destination = \"rb:x\"\n",
       "unknown key 'destination' for command 'backup'"},
      {std::string(kBackup) + "compress_level = 20\n", "'compress_level' must be an integer, 0..19"},
      {std::string(kBackup) + "compress_level = \"high\"\n", "'compress_level' must be an integer"},
      {std::string(kBackup) + "max_attempts = 0\n", "'max_attempts' must be an integer, 1..1000"},
      {std::string(kBackup) + "archive_size = 64\n", "'archive_size' must be a non-empty string"},
      {std::string(kBackup) + "keep_last = 2\n", "unknown key 'keep_last' for command 'backup'"},
      {"[[schedules]]\nname = \"x\"\nat = \"hourly\"\ncommand = \"backup\"\n"
       "source = \"ra:a\"\n",
       "'location' (the backup location) is missing"},
      {std::string(kSync) + "tz = \"Europe/Pariss\"\n", "tz \"Europe/Pariss\""},
      {std::string(kSync) + "tz = 1\n", "'tz' must be a non-empty string"},
      {kPrune, "'prune': give 'keep_last' and/or 'keep_within'"},
      {std::string(kPrune) + "keep_last = 0\n", "'keep_last' must be an integer, 1.."},
      {std::string(kPrune) + "keep_within = \"later\"\n", "'keep_within'"},
      {std::string(kPrune) + "keep_last = 1\nsource = \"ra:a\"\n",
       "unknown key 'source' for command 'catalog-prune'"},
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
