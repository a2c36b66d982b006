// [[serve.cache]] and [[serve.unpack]]: parsed with their defaults, refused when wrong (one line
// naming the entry and the key).
#include <gtest/gtest.h>

#include "app/config.h"

namespace ferry::app {
namespace {

constexpr char kRoleRemotes[] = R"(
[remotes.ra]
endpoint = "http://127.0.0.1:7480"
region = "region-a"
)";

Result<Config> ParseRoles(const std::string& serve) {
  return ParseConfig(std::string(kRoleRemotes) + "[serve]\n" + serve, "t.toml");
}

TEST(ConfigRolesTest, ParsesCacheAndUnpackRolesWithTheirDefaults) {
  auto c = ParseRoles(R"(
[[serve.cache]]
cache = "ra:cache/p"
[[serve.cache]]
cache = "/var/cache/ferry"
state = "postgres://db/ferry"
interval = "5m"
max_size = "500GiB"
max_objects = 2000000
[[serve.unpack]]
staging = "ra:stage/s"
destination = "ra:dst"
[[serve.unpack]]
staging = "ra:stage/t"
destination = "ra:dst2"
region = "region-a"
state = "/tmp/u.db"
storage_class = "STANDARD_IA"
preserve_lock = true
interval = "10s"
claim_ttl = "2m"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->serve.cache.size(), 2u);
  EXPECT_EQ(c->serve.cache[0].cache, "ra:cache/p");
  EXPECT_EQ(c->serve.cache[0].state, "");
  EXPECT_EQ(c->serve.cache[0].interval, std::chrono::seconds(60));
  EXPECT_EQ(c->serve.cache[0].max_bytes, 0u);  // no limit
  EXPECT_EQ(c->serve.cache[0].max_objects, 0u);
  EXPECT_EQ(c->serve.cache[1].cache, "/var/cache/ferry");
  EXPECT_EQ(c->serve.cache[1].state, "postgres://db/ferry");
  EXPECT_EQ(c->serve.cache[1].interval, std::chrono::seconds(300));
  EXPECT_EQ(c->serve.cache[1].max_bytes, 500ULL << 30);
  EXPECT_EQ(c->serve.cache[1].max_objects, 2000000u);
  ASSERT_EQ(c->serve.unpack.size(), 2u);
  const UnpackRoleConfig& a = c->serve.unpack[0];
  EXPECT_EQ(a.staging, "ra:stage/s");
  EXPECT_EQ(a.destination, "ra:dst");
  EXPECT_EQ(a.region, "");
  EXPECT_FALSE(a.preserve_lock);
  EXPECT_EQ(a.interval, std::chrono::seconds(30));
  EXPECT_EQ(a.claim_ttl, std::chrono::seconds(60));
  const UnpackRoleConfig& b = c->serve.unpack[1];
  EXPECT_EQ(b.region, "region-a");
  EXPECT_EQ(b.state, "/tmp/u.db");
  EXPECT_EQ(b.storage_class, "STANDARD_IA");
  EXPECT_TRUE(b.preserve_lock);
  EXPECT_EQ(b.interval, std::chrono::seconds(10));
  EXPECT_EQ(b.claim_ttl, std::chrono::seconds(120));
}

TEST(ConfigRolesTest, NoRolesByDefault) {
  auto c = ParseRoles("replicate = [\"ra:src\"]\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->serve.cache.empty());
  EXPECT_TRUE(c->serve.unpack.empty());
}

struct RoleCase {
  const char* toml;
  const char* message;
};

TEST(ConfigRolesTest, RefusesWhatIsWrongInOneLine) {
  const RoleCase cases[] = {
      {"[[serve.cache]]\ncache = \"ra:cache\"\nttl = \"1h\"\n",
       "t.toml: [[serve.cache]] #1: unknown key 'ttl'"},
      {"[[serve.cache]]\ninterval = \"1m\"\n", "t.toml: [[serve.cache]] #1: 'cache' is missing"},
      {"[[serve.cache]]\ncache = \"nope:cache\"\n",
       "t.toml: [[serve.cache]] #1: 'cache': unknown remote 'nope'"},
      {"[[serve.cache]]\ncache = \"ra:cache\"\ninterval = \"0s\"\n",
       "t.toml: [[serve.cache]] #1: 'interval' must be from 1s to 86400s"},
      {"[[serve.cache]]\ncache = \"ra:cache\"\ninterval = 5\n",
       "t.toml: [[serve.cache]] #1: 'interval' must be a non-empty string"},
      {"[[serve.cache]]\ncache = \"ra:cache\"\n[[serve.cache]]\ncache = \"ra:cache\"\n",
       "t.toml: [[serve.cache]] #2: cache ra:cache is listed twice"},
      {"cache = \"ra:cache\"\n", "t.toml: [serve] 'cache' must be [[serve.cache]] tables"},
      {"[[serve.cache]]\ncache = \"ra:cache\"\nmax_size = \"0\"\n",
       "t.toml: [[serve.cache]] #1: 'max_size' must be above 0"},
      {"[[serve.cache]]\ncache = \"ra:cache\"\nmax_size = 500\n",
       "t.toml: [[serve.cache]] #1: 'max_size' must be a non-empty string"},
      {"[[serve.cache]]\ncache = \"ra:cache\"\nmax_objects = 0\n",
       "t.toml: [[serve.cache]] #1: 'max_objects' must be a whole number from 1 to "
       "9223372036854775807"},
      {"[[serve.unpack]]\nstaging = \"ra:stage/p\"\ndestination = \"ra:dst\"\nfollow = 5\n",
       "t.toml: [[serve.unpack]] #1: unknown key 'follow'"},
      {"[[serve.unpack]]\nstaging = \"ra:stage/p\"\n",
       "t.toml: [[serve.unpack]] #1: 'destination' is missing"},
      {"[[serve.unpack]]\nstaging = \"ra:stage/p\"\ndestination = \"ra:dst\"\nclaim_ttl = \"1s\"\n",
       "t.toml: [[serve.unpack]] #1: 'claim_ttl' must be from 2s to 86400s"},
      {"[[serve.unpack]]\nstaging = \"ra:stage/p\"\ndestination = \"ra:dst\"\npreserve_lock = \"yes\"\n",
       "t.toml: [[serve.unpack]] #1: 'preserve_lock' must be true or false"},
      {"[[serve.unpack]]\nstaging = \"ra:stage\"\ndestination = \"ra:dst\"\n"
       "[[serve.unpack]]\nstaging = \"ra:stage\"\ndestination = \"ra:dst\"\n",
       "t.toml: [[serve.unpack]] #2: staging ra:stage to ra:dst is listed twice"},
      {"unpack = [1]\n", "t.toml: [[serve.unpack]] #1 must be a table"},
  };
  for (const RoleCase& b : cases) {
    auto c = ParseRoles(b.toml);
    ASSERT_FALSE(c.ok()) << b.toml;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << b.toml;
    EXPECT_EQ(c.status().message(), b.message) << b.toml;
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << b.toml;
  }
}

}  // namespace
}  // namespace ferry::app
