// The config file's top (config.cc: sections dispatched, unknown ones and ones that are not
// tables refused) and each section's parser called on its own table (config_<section>.h).
#include <gtest/gtest.h>

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "app/config_costs.h"
#include "app/config_limits.h"
#include "app/config_remotes.h"
#include "app/config_replication.h"
#include "app/config_serve.h"
#include "app/config_transfer.h"

namespace ferry::app {
namespace {

// A section's table from TOML text (the tests' own, well formed).
toml::table TableOf(const std::string& text) { return toml::parse(text); }

TEST(ConfigSectionsTest, AnUnknownSectionIsRefusedByName) {
  auto c = ParseConfig("[transfers]\nconcurrency = 8\n", "f.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "f.toml: unknown section 'transfers'");
}

// Nothing in a config is skipped: a section written as a value is refused, not ignored.
TEST(ConfigSectionsTest, ASectionThatIsNotATableIsRefused) {
  for (const char* section : {"remotes", "transfer", "limits", "replication", "serve", "costs"}) {
    auto c = ParseConfig(std::string(section) + " = 1\n", "f.toml");
    ASSERT_FALSE(c.ok()) << section;
    EXPECT_EQ(c.status().message(), "f.toml: " + std::string(section) + " must be a table");
  }
  auto remote = ParseConfig("[remotes]\nra = \"http://x\"\n", "f.toml");
  ASSERT_FALSE(remote.ok());
  EXPECT_EQ(remote.status().message(), "f.toml: remotes.ra must be a table");
}

TEST(ConfigSectionsTest, EmptySectionsKeepTheDefaults) {
  auto c = ParseConfig("[transfer]\n[limits]\n[replication]\n[costs]\n", "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->transfer.concurrency);
  EXPECT_FALSE(c->limits.max_rps);
  EXPECT_TRUE(c->replication.rules.rules.empty());
  EXPECT_FALSE(c->serve.present);
}

TEST(ConfigSectionsTest, ParseRemoteReadsItsTableAndNamesTheRemote) {
  RemoteConfig r;
  ASSERT_TRUE(ParseRemote("ra", TableOf("endpoint = \"https://s3.example\"\nregion = \"eu\"\n"),
                          "f.toml", r)
                  .ok());
  EXPECT_EQ(r.name, "ra");
  EXPECT_EQ(r.endpoint, "https://s3.example");
  EXPECT_EQ(r.region, "eu");
  RemoteConfig bad;
  Status s = ParseRemote("ra", TableOf("endpont = \"https://s3.example\"\n"), "f.toml", bad);
  EXPECT_EQ(s.message(), "f.toml: [remotes.ra]: unknown key 'endpont'");
}

TEST(ConfigSectionsTest, ParseTransferReadsItsTable) {
  TransferDefaults t;
  ASSERT_TRUE(ParseTransfer(TableOf("concurrency = 8\npart_size = \"16MiB\"\n"), "f.toml", t).ok());
  EXPECT_EQ(t.concurrency, 8);
  EXPECT_EQ(t.part_size, "16MiB");
  EXPECT_FALSE(t.memory);
  TransferDefaults bad;
  EXPECT_EQ(ParseTransfer(TableOf("threads = 8\n"), "f.toml", bad).message(),
            "f.toml: [transfer]: unknown key 'threads'");
}

TEST(ConfigSectionsTest, ParseLimitsReadsItsTable) {
  LimitsSettings l;
  ASSERT_TRUE(ParseLimits(TableOf("max_rps = 20\nadaptive = false\n"), "f.toml", l).ok());
  EXPECT_EQ(l.max_rps, 20.0);
  EXPECT_EQ(l.adaptive, false);
  LimitsSettings bad;
  EXPECT_EQ(ParseLimits(TableOf("adaptive = 1\n"), "f.toml", bad).message(),
            "f.toml: [limits]: 'adaptive' must be true or false");
}

TEST(ConfigSectionsTest, ParseReplicationReadsItsTable) {
  ReplicationConfig r;
  ASSERT_TRUE(ParseReplication(TableOf("server_side_copy_limit = \"64MiB\"\n"
                                       "[buckets]\n\"arn:aws:s3:::b\" = \"s3://b\"\n"),
                               "f.toml", {}, r)
                  .ok());
  EXPECT_EQ(r.server_side_copy_limit, uint64_t{64} << 20);
  ASSERT_EQ(r.buckets.size(), 1u);
  EXPECT_EQ(r.buckets[0].second, "s3://b");
  ReplicationConfig bad;
  EXPECT_EQ(ParseReplication(TableOf("rule = 1\n"), "f.toml", {}, bad).message(),
            "f.toml: [replication]: unknown key 'rule'");
}

TEST(ConfigSectionsTest, ParseServeReadsItsTableAndMarksItPresent) {
  ServeConfig s;
  ASSERT_TRUE(ParseServe(TableOf("listen = \"127.0.0.1:9380\"\n"), "f.toml", {}, s).ok());
  EXPECT_TRUE(s.present);
  EXPECT_EQ(s.listen, "127.0.0.1:9380");
  ServeConfig bad;
  EXPECT_EQ(ParseServe(TableOf("port = 80\n"), "f.toml", {}, bad).message(),
            "f.toml: [serve]: unknown key 'port'");
}

TEST(ConfigSectionsTest, ParseCostsReadsItsTable) {
  estimate::Prices p;
  ASSERT_TRUE(ParseCosts(TableOf("per_gb = 0.5\n"), "f.toml", p).ok());
  estimate::Prices bad;
  Status s = ParseCosts(TableOf("per_tb = 1\n"), "f.toml", bad);
  EXPECT_NE(s.message().find("f.toml: [costs]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unknown key 'per_tb'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ferry::app
