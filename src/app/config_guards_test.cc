// The guards' config keys (docs/design/guards.md): [sync]'s cutoffs, [catalog] and [cache]
// max_delete, and the max_delete of [[schedules]] catalog-prune and [[serve.cache]] entries;
// each bad value refused in one line naming the file, the section and the key.
#include <gtest/gtest.h>

#include <string>

#include "app/config.h"

namespace ferry::app {
namespace {

// A refusal of `text` in one line naming `where` and `key`.
void ExpectRefused(const std::string& text, const std::string& where, const std::string& key) {
  auto c = ParseConfig(text, "f.toml");
  ASSERT_FALSE(c.ok()) << text;
  const std::string& m = c.status().message();
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
  EXPECT_NE(m.find("f.toml: " + where), std::string::npos) << m;
  EXPECT_NE(m.find(key), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(ConfigGuardsTest, SyncCutoffsAreReadAsTheFlagsTakeThem) {
  auto c = ParseConfig(
      "[sync]\nmax_transfer = \"3584KiB\"\nmax_duration = \"90m\"\ncutoff_mode = \"Cautious\"\n",
      "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->sync.max_transfer, std::optional<uint64_t>(3670016));
  EXPECT_EQ(c->sync.max_duration, std::optional<std::chrono::seconds>(5400));
  EXPECT_EQ(c->sync.cutoff_mode,
            std::optional<transfer::CutoffMode>(transfer::CutoffMode::kCautious));
  auto one = ParseConfig("[sync]\nmax_duration = \"6h\"\ncutoff_mode = \"soft\"\n", "f.toml");
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_FALSE(one->sync.max_transfer);
  EXPECT_EQ(one->sync.cutoff_mode,
            std::optional<transfer::CutoffMode>(transfer::CutoffMode::kSoft));
  auto none = ParseConfig("[sync]\nmax_delete = 5\n", "f.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->sync.max_transfer || none->sync.max_duration || none->sync.cutoff_mode);
}

TEST(ConfigGuardsTest, BadSyncCutoffsAreRefusedNamingTheKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"max_transfer = \"abc\"", "'max_transfer'"},
      {"max_transfer = \"0\"", "'max_transfer': '0': at least 1 byte"},
      {"max_transfer = 100", "'max_transfer'"},  // a size is a string, as the flag's text
      {"max_transfer = \"\"", "'max_transfer'"},
      {"max_transfer = \"-5MiB\"", "'max_transfer'"},
      {"max_duration = \"soon\"", "'max_duration'"},
      {"max_duration = \"0s\"", "'max_duration': '0s': at least 1s"},
      {"max_duration = 60", "'max_duration'"},
      {"max_duration = \"6h\"\ncutoff_mode = \"gentle\"", "'cutoff_mode'"},
      {"max_duration = \"6h\"\ncutoff_mode = true", "'cutoff_mode'"},
      {"cutoff_mode = \"soft\"", "'cutoff_mode' needs 'max_transfer' or 'max_duration'"},
      {"max_transfers = \"1GiB\"", "unknown key 'max_transfers'"},
  };
  for (const auto& [text, key] : bad) {
    ExpectRefused(std::string("[sync]\n") + text + "\n", "[sync]", key);
  }
}

TEST(ConfigGuardsTest, CatalogAndCacheMaxDeleteAreReadLikeTheFlag) {
  auto c = ParseConfig("[catalog]\nmax_delete = \"10%\"\n[cache]\nmax_delete = 1000\n", "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->catalog.max_delete);
  EXPECT_EQ(c->catalog.max_delete->Text(), "10%");
  ASSERT_TRUE(c->cache.max_delete);
  EXPECT_EQ(c->cache.max_delete->Text(), "1000");
  auto none = ParseConfig("[catalog]\n[cache]\n", "f.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->catalog.max_delete || none->cache.max_delete);
  for (const char* section : {"catalog", "cache"}) {
    for (const char* text : {"max_delete = -1", "max_delete = \"abc\"", "max_delete = \"150%\"",
                             "max_delete = 0.5", "max_delete = true"}) {
      ExpectRefused("[" + std::string(section) + "]\n" + text + "\n",
                    "[" + std::string(section) + "]", "'max_delete'");
    }
    ExpectRefused("[" + std::string(section) + "]\nkeep_last = 3\n",
                  "[" + std::string(section) + "]", "unknown key 'keep_last'");
    ExpectRefused(std::string(section) + " = 5\n", section, "must be a table");
  }
}

constexpr const char* kPrune = R"(
[[schedules]]
name = "prune"
at = "Sun 04:00"
command = "catalog-prune"
location = "rb:backups/photos"
keep_last = 3
)";

TEST(ConfigGuardsTest, AScheduledPruneTakesAMaxDelete) {
  auto c = ParseConfig(std::string(kPrune) + "max_delete = \"5%\"\n", "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->schedules[0].max_delete);
  EXPECT_EQ(c->schedules[0].max_delete->Text(), "5%");
  auto none = ParseConfig(kPrune, "f.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->schedules[0].max_delete);
  ExpectRefused(std::string(kPrune) + "max_delete = \"lots\"\n", "[[schedules]] 'prune'",
                "'max_delete'");
  // a sync schedule's limit is [sync] max_delete: the key is the prune's own
  ExpectRefused(R"(
[[schedules]]
name = "s"
at = "daily 02:00"
command = "sync"
source = "ra:a"
destination = "rb:b"
max_delete = 5
)",
                "[[schedules]] 's'", "unknown key 'max_delete' for command 'sync'");
}

constexpr const char* kCacheRole = R"(
[remotes.ra]
endpoint = "http://127.0.0.1:7480"
[[serve.cache]]
cache = "ra:cache/p"
)";

TEST(ConfigGuardsTest, AServeCacheRoleTakesAMaxDelete) {
  auto c = ParseConfig(std::string(kCacheRole) + "max_delete = 20\n", "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->serve.cache[0].max_delete);
  EXPECT_EQ(c->serve.cache[0].max_delete->Text(), "20");
  auto none = ParseConfig(kCacheRole, "f.toml");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->serve.cache[0].max_delete);
  ExpectRefused(std::string(kCacheRole) + "max_delete = \"101%\"\n", "[[serve.cache]] #1",
                "'max_delete'");
}

}  // namespace
}  // namespace ferry::app
