#include "app/config.h"
#include "app/config_remotes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "app/location.h"
#include "app/wiring.h"
#include "testing/scoped_env.h"

namespace ferry::app {
namespace {

TEST(ConfigTest, ParsesRemotesAndTransferDefaults) {
  auto c = ParseConfig(R"(
[remotes.ra]
endpoint = "http://127.0.0.1:7480"
region = "region-a"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"

[remotes.prod]
profile = "prod"
addressing = "virtual"

[transfer]
concurrency = 32
memory = "512MiB"
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->remotes.size(), 2u);
  EXPECT_EQ(c->remotes.at("ra").endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(c->remotes.at("ra").access_key_id_env, "RA_KEY");
  EXPECT_EQ(c->remotes.at("prod").profile, "prod");
  EXPECT_EQ(c->transfer.concurrency, 32);
  EXPECT_EQ(c->transfer.memory, "512MiB");
}

// type = "azure": its own keys, secrets only by variable or file, S3 keys refused.
TEST(ConfigTest, AzureRemotesTakeTheirOwnKeysAndNoSecrets) {
  auto c = ParseConfig(R"(
[remotes.az]
type = "azure"
account = "devstoreaccount1"
endpoint = "http://127.0.0.1:10000/devstoreaccount1"
account_key_env = "AZ_KEY"
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const RemoteConfig& az = c->remotes.at("az");
  EXPECT_TRUE(az.is_azure());
  EXPECT_EQ(az.account, "devstoreaccount1");
  EXPECT_EQ(az.account_key_env, "AZ_KEY");
  EXPECT_EQ(c->remotes.size(), 1u);
  const std::pair<const char*, const char*> refused[] = {
      {"type = \"azure\"\naccount = \"a1\"\naccount_key = \"c2VjcmV0\"\n",
       "secrets do not belong"},
      {"type = \"azure\"\naccount = \"a1\"\nregion = \"x\"\n", "unknown key 'region'"},
      {"type = \"azure\"\naccount = \"a1\"\nsas_token_env = \"A\"\naccount_key_file = \"/k\"\n",
       "one source of credentials"},
      {"type = \"azure\"\naccount_key_env = \"A\"\n", "'account' is not set"},
      {"type = \"hdfs\"\n", "type must be"},
  };
  for (const auto& [body, why] : refused) {
    auto bad = ParseConfig(std::string("[remotes.az]\n") + body, "test.toml");
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_NE(bad.status().message().find(why), std::string::npos) << bad.status().message();
  }
}

// type = "gcs": its own keys, the service account key only by file.
TEST(ConfigTest, GcsRemotesTakeTheirOwnKeysAndNoSecrets) {
  auto c = ParseConfig(R"(
[remotes.g]
type = "gcs"
endpoint = "http://127.0.0.1:9199"
anonymous = true
[remotes.prod]
type = "gcs"
credentials_file = "/etc/ferry/sa.json"
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->remotes.at("g").is_gcs());
  EXPECT_TRUE(c->remotes.at("g").anonymous);
  EXPECT_EQ(c->remotes.at("g").endpoint, "http://127.0.0.1:9199");
  EXPECT_EQ(c->remotes.at("prod").credentials_file, "/etc/ferry/sa.json");
  EXPECT_FALSE(c->remotes.at("prod").anonymous);
  const std::pair<const char*, const char*> refused[] = {
      {"type = \"gcs\"\nprivate_key = \"-----BEGIN\"\n", "secrets do not belong"},
      {"type = \"gcs\"\ncredentials_json = \"{}\"\n", "credentials_file"},
      {"type = \"gcs\"\nregion = \"x\"\n", "unknown key 'region' for type = \"gcs\""},
      {"type = \"gcs\"\nanonymous = \"yes\"\n", "'anonymous' must be true or false"},
      {"type = \"gcs\"\nanonymous = true\ncredentials_file = \"/k\"\n", "together"},
      {"type = \"gcs\"\nendpoint = \"127.0.0.1:9199\"\n", "http:// or https://"},
      {"type = \"gcs\"\ncredentials_file = \"\"\n", "'credentials_file' is empty"},
  };
  for (const auto& [body, why] : refused) {
    auto bad = ParseConfig(std::string("[remotes.g]\n") + body, "test.toml");
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_NE(bad.status().message().find(why), std::string::npos) << bad.status().message();
    EXPECT_EQ(bad.status().message().find('\n'), std::string::npos) << bad.status().message();
  }
}

// gs:// and type = "gcs" remotes open a GCS backend; credentials come from the environment.
TEST(ConfigTest, GcsLocationsOpenThroughWiring) {
  testing::ScopedEnv env({"STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS",
                          "FERRY_GCS_ENDPOINT"});
  auto c = ParseConfig("[remotes.g]\ntype = \"gcs\"\nendpoint = \"http://127.0.0.1:1\"\n"
                       "anonymous = true\n",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Wiring wiring(*c);
  auto remote = wiring.OpenBackend(ParseLocation("g:bkt/p").value(), false);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ((*remote)->Describe(), "gs://bkt/p/");
  EXPECT_NE(wiring.ClientFor(ParseLocation("g:bkt").value()).status().message().find(
                "not an S3 store"),
            std::string::npos);

  auto none = wiring.OpenBackend(ParseLocation("gs://bkt").value(), false);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("GOOGLE_APPLICATION_CREDENTIALS"), std::string::npos);
  EXPECT_EQ(none.status().message().find('\n'), std::string::npos);

  setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:2", 1);
  auto emulator = wiring.OpenBackend(ParseLocation("gs://bkt/x").value(), false);
  ASSERT_TRUE(emulator.ok()) << emulator.status().ToString();
  EXPECT_EQ((*emulator)->Describe(), "gs://bkt/x/");
}

TEST(ConfigTest, MalformedTomlNamesFileAndLine) {
  auto c = ParseConfig("[remotes.ra]\nendpoint = \n", "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("bad.toml line 2"), std::string::npos)
      << c.status().message();
}

// Found by fuzz_config_toml: toml++ quotes what it met, line breaks included.
TEST(ConfigTest, MalformedTomlIsRefusedInOnePrintableLine) {
  auto c = ParseConfig("[transfer]\nx = fa\nlse\n", "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("bad.toml line 2"), std::string::npos)
      << c.status().message();
}

TEST(ConfigTest, RefusesSecretsUnknownKeysAndBadValues) {
  EXPECT_NE(ParseConfig("[remotes.a]\nsecret_access_key = \"x\"\n", "f")
                .status()
                .message()
                .find("secrets do not belong"),
            std::string::npos);
  EXPECT_FALSE(ParseConfig("[remotes.a]\nendpont = \"http://x\"\n", "f").ok());
  EXPECT_FALSE(ParseConfig("[remotes.a]\nendpoint = \"ftp://x\"\n", "f").ok());
  EXPECT_FALSE(ParseConfig("[remotes.a]\naddressing = \"dns\"\n", "f").ok());
  EXPECT_FALSE(ParseConfig("[remotes.a]\naccess_key_id_env = \"K\"\n", "f").ok());
  EXPECT_FALSE(ParseConfig("[nonsense]\n", "f").ok());
}

// [transfer] values are checked like the options they stand for: one error naming the key.
TEST(ConfigTest, RefusesBadTransferDefaults) {
  for (const char* text :
       {"concurrency = -5", "concurrency = 0", "concurrency = 2000", "concurrency = \"8\"",
        "concurrency = 1.5", "memory = \"-1\"", "memory = \"0\"", "memory = 5",
        "part_size = \"lots\"", "multipart_threshold = \"-64MiB\"", "concurency = 8"}) {
    auto c = ParseConfig(std::string("[transfer]\n") + text + "\n", "f.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
    const std::string key = std::string(text).substr(0, std::string(text).find(' '));
    EXPECT_NE(c.status().message().find("f.toml: [transfer]"), std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find(key), std::string::npos) << c.status().message();
  }
  auto ok = ParseConfig("[transfer]\nconcurrency = 1024\nmemory = \"1GiB\"\n"
                        "part_size = \"8MiB\"\nmultipart_threshold = \"100MB\"\n",
                        "f.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->transfer.concurrency, 1024);
  EXPECT_EQ(ok->transfer.multipart_threshold, "100MB");
  EXPECT_FALSE(ParseConfig("transfer = 5\n", "f.toml").ok());
}

TEST(ConfigTest, LimitsAreReadAndCheckedLikeTheFlags) {
  auto ok = ParseConfig("[limits]\nbwlimit = \"Mon-08:00,512k Sat-00:00,off\"\nmax_rps = 50\n"
                        "max_rps_burst = 10\nadaptive = false\n",
                        "f.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->limits.bwlimit, "Mon-08:00,512k Sat-00:00,off");
  EXPECT_EQ(ok->limits.max_rps, 50.0);
  EXPECT_EQ(ok->limits.max_rps_burst, 10);
  EXPECT_EQ(ok->limits.adaptive, false);
  auto half = ParseConfig("[limits]\nmax_rps = 0.5\n", "f.toml");
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ(half->limits.max_rps, 0.5);
  EXPECT_FALSE(half->limits.bwlimit.has_value());
  EXPECT_FALSE(half->limits.adaptive.has_value());
  for (const char* text :
       {"bwlimit = \"10X\"", "bwlimit = \"25:00,1M\"", "bwlimit = 5", "max_rps = 0",
        "max_rps = -1", "max_rps = \"5\"", "max_rps_burst = 0", "max_rps_burst = 1.5",
        "adaptive = 1", "adaptive = \"no\"", "max_rsp = 5"}) {
    auto c = ParseConfig(std::string("[limits]\n") + text + "\n", "f.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
    const std::string key = std::string(text).substr(0, std::string(text).find(' '));
    EXPECT_NE(c.status().message().find("f.toml: [limits]"), std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find(key), std::string::npos) << c.status().message();
  }
  EXPECT_FALSE(ParseConfig("limits = 5\n", "f.toml").ok());
}

TEST(ConfigTest, SyncMaxDeleteIsReadAndCheckedLikeTheFlag) {
  auto count = ParseConfig("[sync]\nmax_delete = 1000\n", "f.toml");
  ASSERT_TRUE(count.ok()) << count.status().message();
  ASSERT_TRUE(count->sync.max_delete.has_value());
  EXPECT_EQ(count->sync.max_delete->Text(), "1000");
  auto share = ParseConfig("[sync]\nmax_delete = \"10%\"\n", "f.toml");
  ASSERT_TRUE(share.ok()) << share.status().message();
  EXPECT_EQ(share->sync.max_delete->Text(), "10%");
  EXPECT_FALSE(ParseConfig("[sync]\n", "f.toml")->sync.max_delete.has_value());
  for (const char* text : {"max_delete = -1", "max_delete = \"abc\"", "max_delete = \"150%\"",
                           "max_delete = 0.5", "max_delete = \"0.5\"", "max_delete = true",
                           "max_deletes = 5"}) {
    auto c = ParseConfig(std::string("[sync]\n") + text + "\n", "f.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find("f.toml: [sync]"), std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find("max_delete"), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << c.status().message();
  }
}

TEST(ConfigTest, ParsesReplicationRules) {
  auto c = ParseConfig(R"(
[replication.buckets]
"arn:aws:s3:::west" = "rb:west"

[[replication.rules]]
id = "docs"
priority = 2
filter = { prefix = "docs/", tags = { team = "x" } }
destinations = [ { location = "rb:west/copy", storage_class = "STANDARD_IA" }, "rc:other" ]
versions = "latest"
existing_objects = false
replication_time = "1h15m"

[[replication.rules]]
id = "all"
status = "disabled"
destinations = ["rb:west"]
delete_markers = true
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& rules = c->replication.rules.rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].id, "docs");
  EXPECT_EQ(rules[0].priority, 2);
  EXPECT_EQ(rules[0].prefix, "docs/");
  ASSERT_EQ(rules[0].tags.size(), 1u);
  EXPECT_EQ(rules[0].tags[0].second, "x");
  ASSERT_EQ(rules[0].destinations.size(), 2u);
  EXPECT_EQ(rules[0].destinations[0].location, "rb:west/copy");
  EXPECT_EQ(rules[0].destinations[0].storage_class, "STANDARD_IA");
  EXPECT_EQ(rules[0].destinations[1].location, "rc:other");
  EXPECT_EQ(rules[0].versions, replicate::VersionsMode::kLatest);
  EXPECT_FALSE(rules[0].existing_objects);
  EXPECT_EQ(rules[0].replication_time, std::chrono::minutes(75));
  EXPECT_EQ(rules[1].replication_time, std::chrono::seconds(0));  // none
  EXPECT_FALSE(rules[1].enabled);
  EXPECT_TRUE(rules[1].delete_markers);
  ASSERT_EQ(c->replication.buckets.size(), 1u);
  EXPECT_EQ(c->replication.buckets[0].second, "rb:west");
}

TEST(ConfigTest, RefusesBadReplicationRules) {
  const std::pair<const char*, const char*> cases[] = {
      {"[[replication.rules]]\nid = \"r\"\ndestinations = [\"rb:bbb\"]\nfilter = { tags = { a = "
       "\"1\" } }\ndelete_markers = true\n",
       "t.toml: replication rule 'r': 'delete_markers' cannot be replicated with a tag filter (S3 refuses it too)"},
      {"[[replication.rules]]\nid = \"r\"\ndestinations = [\"rb:bbb\"]\nversions = \"some\"\n",
       "t.toml: [[replication.rules]] #1 (rule 'r'): 'versions' must be \"all\" or \"latest\""},
      {"[[replication.rules]]\nid = \"r\"\ndestinations = [\"/tmp/x\"]\n",
       "t.toml: [[replication.rules]] #1 (rule 'r'): 'destinations': /tmp/x is not an S3 "
       "location"},
      {"[[replication.rules]]\nid = \"r\"\ndestination = [\"rb:bbb\"]\n",
       "t.toml: [[replication.rules]] #1: unknown key 'destination'"},
      {"[[replication.rules]]\nid = \"r\"\ndestinations = [\"rb:bbb\"]\n"
       "replication_time = \"15\"\n",
       "t.toml: [[replication.rules]] #1 (rule 'r'): 'replication_time': bad age \"15\": missing "
       "unit after the number (s, m, h, d, w)"},
      {"[[replication.rules]]\nid = \"r\"\ndestinations = [\"rb:bbb\"]\n"
       "replication_time = 15\n",
       "t.toml: [[replication.rules]] #1 (rule 'r'): 'replication_time' must be a string"},
      {"[[replication.rules]]\nid = \"r\"\ndestinations = [\"rb:bbb\"]\n"
       "replication_time = \"0m\"\n",
       "t.toml: [[replication.rules]] #1 (rule 'r'): 'replication_time' must be above 0 and at "
       "most 1000000 minutes"},
      {"[[replication.rules]]\nid = \"a\"\ndestinations = [\"rb:bbb\"]\n"
       "[[replication.rules]]\nid = \"b\"\ndestinations = [\"rb:ccc\"]\n",
       "t.toml: replication rule 'b': 'priority' 0 equals that of rule 'a', whose filter "
       "overlaps"},
  };
  for (const auto& [text, message] : cases) {
    auto c = ParseConfig(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(c.status().message(), message);
  }
}

TEST(ConfigTest, ParsesADestinationsTransport) {
  auto c = ParseConfig(R"(
[remotes.rb]
endpoint = "http://127.0.0.1:1"
region = "region-b"

[[replication.rules]]
id = "t"
destinations = [
  { location = "rb:west/", transport = { compress = true, staging = "rb:stage/x" } },
  { location = "rc:east/", transport = { compress = true, staging = "rc:stage/", region = "C", level = 6, max_delay = "5s", batch_objects = 200, batch_bytes = "64MiB" } },
  "rb:plain/" ]
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& d = c->replication.rules.rules[0].destinations;
  ASSERT_EQ(d.size(), 3u);
  EXPECT_TRUE(d[0].transport.compress);
  EXPECT_EQ(d[0].transport.staging, "rb:stage/x");
  EXPECT_EQ(d[0].transport.region, "region-b");  // the staging remote's
  EXPECT_EQ(d[0].transport.level, 0);
  EXPECT_EQ(d[1].transport.region, "C");
  EXPECT_EQ(d[1].transport.level, 6);
  EXPECT_EQ(d[0].transport.max_delay, std::chrono::seconds(30));  // the defaults
  EXPECT_EQ(d[0].transport.batch_objects, 1000u);
  EXPECT_EQ(d[0].transport.batch_bytes, uint64_t{1} << 30);
  EXPECT_EQ(d[1].transport.max_delay, std::chrono::seconds(5));
  EXPECT_EQ(d[1].transport.batch_objects, 200u);
  EXPECT_EQ(d[1].transport.batch_bytes, uint64_t{64} << 20);
  EXPECT_FALSE(d[2].transport.compress);
  const std::pair<const char*, const char*> bad[] = {
      {"{ compress = true }",
       "t.toml: replication rule 'r': destination rb:www/: transport needs 'staging' (a "
       "location for the archives)"},
      {"{ compress = true, staging = \"rb:www/s\" }",
       "t.toml: replication rule 'r': destination rb:www/: transport 'staging' rb:www/s is in the "
       "destination's bucket"},
      {"{ compress = true, staging = \"/tmp/s\" }",
       "t.toml: [[replication.rules]] #1 (rule 'r') destinations: transport: 'staging' /tmp/s is "
       "not an S3 location"},
      {"{ compress = true, staging = \"rb:sss/\", level = 20 }",
       "t.toml: [[replication.rules]] #1 (rule 'r') destinations: transport: 'level' must be a "
       "whole number from 0 (adaptive) to 19"},
      {"{ compress = true, staging = \"rb:sss/\", max_delay = \"soon\" }",
       "t.toml: [[replication.rules]] #1 (rule 'r') destinations: transport: 'max_delay': "},
      {"{ compress = true, staging = \"rb:sss/\", max_delay = \"2h\" }",
       "t.toml: replication rule 'r': destination rb:www/: transport 'max_delay' must be 0 to 1h"},
      {"{ compress = true, staging = \"rb:sss/\", batch_objects = 0 }",
       "t.toml: [[replication.rules]] #1 (rule 'r') destinations: transport: 'batch_objects' "
       "must be a whole number above 0"},
      {"{ compress = true, staging = \"rb:sss/\", batch_bytes = \"0\" }",
       "t.toml: [[replication.rules]] #1 (rule 'r') destinations: transport: 'batch_bytes' must "
       "be above 0"},
      {"{ staging = \"rb:sss/\", max_delay = \"5s\" }",
       "t.toml: replication rule 'r': destination rb:www/: transport sets staging, region, level, "
       "max_delay or batch_* without compress = true"},
      {"{ compress = true, staging = \"rb:sss/\", speed = 1 }",
       "t.toml: [[replication.rules]] #1 (rule 'r') destinations: transport: unknown key 'speed'"},
  };
  for (const auto& [transport, message] : bad) {
    auto b = ParseConfig(std::string("[[replication.rules]]\nid = \"r\"\ndestinations = [ { "
                                     "location = \"rb:www/\", transport = ") +
                             transport + " } ]\n",
                         "t.toml");
    ASSERT_FALSE(b.ok()) << transport;
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
    // the parse errors of a value end with the parser's words about it
    EXPECT_EQ(b.status().message().substr(0, std::string_view(message).size()), message);
  }
}

TEST(ConfigTest, ReplicationServerSideCopyLimit) {
  auto c = ParseConfig("[replication]\nserver_side_copy_limit = \"5MiB\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->replication.server_side_copy_limit, std::optional<uint64_t>(5ull << 20));
  EXPECT_FALSE(ParseConfig("", "t.toml")->replication.server_side_copy_limit);
  for (const char* bad : {"\"6GiB\"", "\"0\"", "\"lots\""}) {
    auto b = ParseConfig(std::string("[replication]\nserver_side_copy_limit = ") + bad + "\n",
                         "t.toml");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(b.status().message().starts_with("t.toml: [replication]")) << b.status().message();
  }
}

TEST(ConfigTest, ParsesCostsWithDefaultsForWhatIsNotSet) {
  auto c = ParseConfig(R"(
[costs]
per_gb = 0.09
per_cpu_second = 0
staging_hours = 2
[costs.pairs]
"region-a->region-b" = 0.01
)",
                       "costs.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->costs.per_gb, 0.09);
  EXPECT_DOUBLE_EQ(c->costs.per_cpu_second, 0);
  EXPECT_DOUBLE_EQ(c->costs.staging_hours, 2);
  EXPECT_DOUBLE_EQ(c->costs.per_1000_put, estimate::Prices{}.per_1000_put);
  EXPECT_DOUBLE_EQ(estimate::PricePerGb(c->costs, "region-a", "region-b"), 0.01);
  EXPECT_DOUBLE_EQ(estimate::PricePerGb(c->costs, "region-b", "region-a"), 0.09);
  EXPECT_TRUE(c->serve.sns_topics.empty());
  EXPECT_EQ(c->serve.sns_ca_bundle, "");
  auto sns = ParseConfig(R"(
[serve]
sns_topics = ["arn:aws:sns:eu-west-3:111122223333:ledger", "arn:aws-cn:sns:cn-north-1:1:x"]
sns_ca_bundle = "/etc/ferry/sns-ca.pem"
sns_test_connect_to = "127.0.0.1:8443"
)",
                         "s.toml");
  ASSERT_TRUE(sns.ok()) << sns.status().ToString();
  EXPECT_EQ(sns->serve.sns_topics,
            (std::vector<std::string>{"arn:aws:sns:eu-west-3:111122223333:ledger",
                                      "arn:aws-cn:sns:cn-north-1:1:x"}));
  EXPECT_EQ(sns->serve.sns_ca_bundle, "/etc/ferry/sns-ca.pem");
  EXPECT_EQ(sns->serve.sns_test_connect_to, "127.0.0.1:8443");
  auto none = ParseConfig("", "empty.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_DOUBLE_EQ(none->costs.per_gb, 0.02);
}

TEST(ConfigTest, RefusesBadCostsNamingTheKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"[costs]\nper_gb = -0.01\n", "'per_gb' must be a number, 0 or more"},
      {"[costs]\nper_1000_put = \"cheap\"\n", "'per_1000_put' must be a number"},
      {"[costs]\nper_1000_get = nan\n", "'per_1000_get' must be a number"},
      {"[costs]\nper_tb = 1\n", "unknown key 'per_tb'"},
      {"[costs]\npairs = 3\n", "'pairs' must be a table"},
      {"[costs.pairs]\n\"a-b\" = 0.1\n", "pairs 'a-b' must be written"},
      {"[costs.pairs]\n\"a->b\" = -1\n", "pairs 'a->b' must be a number"},
      {"costs = 1\n", "costs must be a table"},
  };
  for (const auto& [text, want] : bad) {
    auto c = ParseConfig(text, "c.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("c.toml"), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << c.status().message();
  }
}


// [remotes.X.prices] (docs/design/cost.md): every key read, every unknown key refused in one line.
TEST(ConfigTest, RemotePricesParsedAndBadOnesRefusedNamingTheKey) {
  auto c = ParseConfig(R"(
[remotes.ra]
endpoint = "http://127.0.0.1:7480"
[remotes.ra.prices]
per_1000_put = 0.01
per_10000_get = 0
per_gb_out = 0.05
per_gb_month_STANDARD_IA = 0.0125
[remotes.plain]
endpoint = "http://127.0.0.1:7481"
)",
                       "p.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->remotes.at("ra").prices.has_value());
  const estimate::StorePrices& p = *c->remotes.at("ra").prices;
  EXPECT_DOUBLE_EQ(p.per_1000_put, 0.01);
  EXPECT_DOUBLE_EQ(p.per_gb_out, 0.05);
  EXPECT_DOUBLE_EQ(p.per_gb_month.at("STANDARD_IA"), 0.0125);
  EXPECT_DOUBLE_EQ(p.per_1000_list, 0);  // a table names every price it charges
  EXPECT_EQ(p.source, "[remotes.ra.prices]");
  EXPECT_FALSE(c->remotes.at("plain").prices.has_value());
  const std::pair<const char*, const char*> bad[] = {
      {"[remotes.r.prices]\nper_1000_puts = 1\n",
       "[remotes.r.prices]: unknown key 'per_1000_puts'"},
      {"[remotes.r.prices]\nper_gb_out = -1\n", "'per_gb_out' must be a number, 0 or more"},
      {"[remotes.r.prices]\nper_gb_out = \"cheap\"\n", "'per_gb_out' must be a number"},
      {"[remotes.r.prices]\nper_gb_month_COLD = 1\n", "storage class 'COLD' is not one of"},
      {"[remotes.r]\nprices = 3\n", "[remotes.r.prices]: must be a table"},
      {"[remotes.r]\ntype = \"azure\"\naccount = \"a\"\n[remotes.r.prices]\nper_gb_out = 1\n",
       "unknown key 'prices'"},
  };
  for (const auto& [text, want] : bad) {
    auto r = ParseConfig(text, "c.toml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("c.toml"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  }
}


// Which prices a store gets: its table; AWS's list prices, named, for AWS; none for a custom
// endpoint (counted, never priced with made-up numbers).
TEST(ConfigTest, PricesOfStoreTableAwsDefaultsOrNone) {
  auto c = ParseConfig(R"(
[remotes.priced]
endpoint = "http://127.0.0.1:7480"
[remotes.priced.prices]
per_gb_out = 0.01
[remotes.aws]
region = "eu-west-1"
[remotes.rgw]
endpoint = "http://127.0.0.1:7481"
)",
                       "p.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto priced = PricesOfStore(*c, "priced");
  ASSERT_TRUE(priced.has_value());
  EXPECT_DOUBLE_EQ(priced->per_gb_out, 0.01);
  auto aws = PricesOfStore(*c, "aws");
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->source, "AWS S3 us-east-1 list prices (defaults)");
  EXPECT_DOUBLE_EQ(aws->per_1000_put, 0.005);
  EXPECT_FALSE(PricesOfStore(*c, "rgw").has_value());
  EXPECT_FALSE(PricesOfStore(*c, "unknown").has_value());
}

TEST(ConfigTest, ParsesServeWithItsDefaults) {
  auto c = ParseConfig(R"(
[serve]
listen = "0.0.0.0:9000"
replicate = ["ra:photos", "ra:docs/x"]
scan_interval = "15m"
token_env = "TOKEN"
max_event_body = "256KiB"
)",
                       "s.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->serve.present);
  EXPECT_EQ(c->serve.listen, "0.0.0.0:9000");
  EXPECT_EQ(c->serve.replicate, (std::vector<std::string>{"ra:photos", "ra:docs/x"}));
  EXPECT_EQ(c->serve.scan_interval, std::chrono::seconds(900));
  EXPECT_EQ(c->serve.token_env, "TOKEN");
  EXPECT_EQ(c->serve.max_event_body, 256u << 10);
  EXPECT_TRUE(c->serve.sns_topics.empty());
  EXPECT_EQ(c->serve.sns_ca_bundle, "");
  auto sns = ParseConfig(R"(
[serve]
sns_topics = ["arn:aws:sns:eu-west-3:111122223333:ledger", "arn:aws-cn:sns:cn-north-1:1:x"]
sns_ca_bundle = "/etc/ferry/sns-ca.pem"
sns_test_connect_to = "127.0.0.1:8443"
)",
                         "s.toml");
  ASSERT_TRUE(sns.ok()) << sns.status().ToString();
  EXPECT_EQ(sns->serve.sns_topics,
            (std::vector<std::string>{"arn:aws:sns:eu-west-3:111122223333:ledger",
                                      "arn:aws-cn:sns:cn-north-1:1:x"}));
  EXPECT_EQ(sns->serve.sns_ca_bundle, "/etc/ferry/sns-ca.pem");
  EXPECT_EQ(sns->serve.sns_test_connect_to, "127.0.0.1:8443");
  auto exposed = ParseConfig(R"(
[serve]
insecure_no_auth = true
tls_cert = "/etc/ferry/cert.pem"
tls_key = "/etc/ferry/key.pem"
)",
                             "s.toml");
  ASSERT_TRUE(exposed.ok()) << exposed.status().ToString();
  EXPECT_TRUE(exposed->serve.insecure_no_auth);
  EXPECT_EQ(exposed->serve.tls_cert, "/etc/ferry/cert.pem");
  EXPECT_EQ(exposed->serve.tls_key, "/etc/ferry/key.pem");
  EXPECT_FALSE(exposed->serve.unpack_regions.has_value());  // every region the rules name
  auto regions = ParseConfig("[serve]\nunpack_regions = [\"region-b\"]\n", "s.toml");
  ASSERT_TRUE(regions.ok()) << regions.status().ToString();
  EXPECT_EQ(regions->serve.unpack_regions, std::vector<std::string>{"region-b"});
  auto no_regions = ParseConfig("[serve]\nunpack_regions = []\n", "s.toml");
  ASSERT_TRUE(no_regions.ok()) << no_regions.status().ToString();
  EXPECT_EQ(no_regions->serve.unpack_regions, std::vector<std::string>{});
  auto none = ParseConfig("", "empty.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->serve.present);
  EXPECT_FALSE(none->serve.insecure_no_auth);
  EXPECT_EQ(none->serve.tls_cert, "");
  EXPECT_EQ(none->serve.scan_interval, std::chrono::seconds(3600));
  EXPECT_EQ(none->serve.listen, "127.0.0.1:9380");
  EXPECT_EQ(none->serve.admin_listen, "");  // the admin paths on the listener (loopback)
  EXPECT_EQ(none->serve.admin_token_env, "");
  auto admin = ParseConfig(
      "[serve]\nadmin_listen = \"127.0.0.1:9381\"\nadmin_token_env = \"ADMIN\"\n", "s.toml");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(admin->serve.admin_listen, "127.0.0.1:9381");
  EXPECT_EQ(admin->serve.admin_token_env, "ADMIN");
  EXPECT_EQ(none->serve.max_waiting_events, 100'000u);  // serve::kDefaultMaxWaitingEvents
  auto bounded = ParseConfig("[serve]\nmax_waiting_events = 0\n", "s.toml");
  ASSERT_TRUE(bounded.ok()) << bounded.status().ToString();
  EXPECT_EQ(bounded->serve.max_waiting_events, 0u);  // no bound
}

TEST(ConfigTest, RefusesBadServeNamingTheKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"[serve]\nlisten = \"\"\n", "'listen' is empty"},
      {"[serve]\nmax_waiting_events = -1\n", "'max_waiting_events' must be a whole number"},
      {"[serve]\nmax_waiting_events = \"many\"\n", "'max_waiting_events' must be a whole"},
      {"[serve]\nreplicate = \"ra:x\"\n", "'replicate' must be a list"},
      {"[serve]\nreplicate = [1]\n", "'replicate' must be a list"},
      {"[serve]\nscan_interval = \"often\"\n", "'scan_interval'"},
      {"[serve]\nscan_interval = \"0s\"\n", "'scan_interval' must be at least 1s"},
      {"[serve]\nmax_event_body = \"10\"\n", "'max_event_body' must be from 1KiB"},
      {"[serve]\nport = 80\n", "unknown key 'port'"},
      {"[serve]\ninsecure_no_auth = \"yes\"\n", "'insecure_no_auth' must be true or false"},
      {"[serve]\ninsecure_no_auth = true\ntoken_env = \"T\"\n",
       "'insecure_no_auth' with 'token_env'"},
      {"[serve]\ntls_cert = \"/c.pem\"\n", "'tls_cert' needs 'tls_key'"},
      {"[serve]\ntls_key = \"/k.pem\"\n", "'tls_key' needs 'tls_cert'"},
      {"[serve]\nsns_topics = \"arn:aws:sns:us-east-1:1:t\"\n", "'sns_topics' must be a list"},
      {"[serve]\nsns_topics = [\"arn:aws:sqs:us-east-1:1:t\"]\n", "'sns_topics' must be a list"},
      {"[serve]\nsns_topics = [\"arn:aws:sns:us-east-1:1\"]\n", "'sns_topics' must be a list"},
      {"[serve]\nsns_topics = [\"arn:aws:sns:us-east-1:1:\"]\n", "'sns_topics' must be a list"},
      {"[serve]\nsns_topics = [1]\n", "'sns_topics' must be a list"},
      {"[serve]\nsns_ca_bundle = \"/ca.pem\"\n", "'sns_ca_bundle' needs 'sns_topics'"},
      {"[serve]\nsns_topics = [\"arn:aws:sns:r:1:t\"]\nsns_ca_bundle = \"\"\n",
       "'sns_ca_bundle' is empty"},
      {"[serve]\nsns_topics = [\"arn:aws:sns:r:1:t\"]\nsns_test_connect_to = \"127.0.0.1:1\"\n",
       "'sns_test_connect_to' (tests only) needs 'sns_ca_bundle'"},
      {"[serve]\nsns_topics = [\"arn:aws:sns:r:1:t\"]\nsns_ca_bundle = \"/c\"\n"
       "sns_test_connect_to = \"127.0.0.1\"\n",
       "'sns_test_connect_to' must be HOST:PORT"},
      {"[serve]\nsns_topics = [\"arn:aws:sns:r:1:t\"]\nsns_ca_bundle = \"/c\"\n"
       "sns_test_connect_to = \"h:70000\"\n",
       "'sns_test_connect_to' must be HOST:PORT"},
      {"[serve]\nunpack_regions = \"b\"\n", "'unpack_regions' must be a list of region names"},
      {"[serve]\nunpack_regions = [\"\"]\n", "'unpack_regions' must be a list of region names"},
      {"serve = 1\n", "serve must be a table"},
  };
  for (const auto& [text, want] : bad) {
    auto c = ParseConfig(text, "s.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find(want), std::string::npos)
        << text << " -> " << c.status().message();
  }
}

}  // namespace
}  // namespace ferry::app
