#include "app/engine.h"

#include <gtest/gtest.h>

namespace ferry::app {
namespace {

EngineSettings Requests(int concurrency = 0, std::string memory = "") {
  EngineSettings s;
  s.profile = EngineProfile::kRequests;
  s.concurrency = concurrency;
  s.memory = std::move(memory);
  return s;
}

EngineSettings Keys(int concurrency) {
  EngineSettings s;
  s.profile = EngineProfile::kKeys;
  s.concurrency = concurrency;
  s.default_concurrency = 16;
  return s;
}

TEST(EngineTest, RequestsProfileTakesTheFlagThenTheConfigThenTheDefault) {
  TransferDefaults none;
  TransferDefaults config;
  config.concurrency = 24;
  config.memory = "64MiB";
  EngineSettings s = Requests(8, "32MiB");
  s.default_concurrency = 16;
  s.default_memory = 256ull << 20;

  auto flag = ResolveEngine(s, config);
  ASSERT_TRUE(flag.ok()) << flag.status().message();
  EXPECT_EQ(flag->requests, 8);
  EXPECT_EQ(flag->keys, 8);
  EXPECT_EQ(flag->memory, 32ull << 20);

  s.concurrency = 0;
  s.memory.clear();
  auto from_config = ResolveEngine(s, config);
  ASSERT_TRUE(from_config.ok());
  EXPECT_EQ(from_config->requests, 24);
  EXPECT_EQ(from_config->memory, 64ull << 20);

  auto defaults = ResolveEngine(s, none);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->requests, 16);
  EXPECT_EQ(defaults->memory, 256ull << 20);
  EXPECT_EQ(defaults->request_slots, 16);
}

TEST(EngineTest, AdaptsOnlyWhenAllowedAndNoNumberWasGiven) {
  TransferDefaults none;
  TransferDefaults config;
  config.concurrency = 32;
  EngineSettings s = Requests();
  EXPECT_FALSE(ResolveEngine(s, none)->adaptive);  // not allowed: fixed at the default
  s.adaptive_allowed = true;
  EXPECT_TRUE(ResolveEngine(s, none)->adaptive);
  EXPECT_EQ(ResolveEngine(s, none)->requests, 64);  // the most it adapts to
  EXPECT_FALSE(ResolveEngine(s, config)->adaptive);
  s.concurrency = 4;
  EXPECT_FALSE(ResolveEngine(s, none)->adaptive);
}

TEST(EngineTest, KeysProfileDerivesTheRequestsFromTheKeys) {
  TransferDefaults none;
  auto one = ResolveEngine(Keys(1), none);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->keys, 1);
  EXPECT_EQ(one->requests, 16);  // never fewer than 16
  auto ten = ResolveEngine(Keys(10), none);
  EXPECT_EQ(ten->keys, 10);
  EXPECT_EQ(ten->requests, 40);
  auto many = ResolveEngine(Keys(1000), none);
  EXPECT_EQ(many->keys, kEngineMaxKeys);
  EXPECT_EQ(many->requests, kEngineMaxRequests);
  auto by_default = ResolveEngine(Keys(0), none);
  EXPECT_EQ(by_default->keys, 16);
  EXPECT_EQ(by_default->requests, 64);
  TransferDefaults config;
  config.concurrency = 8;  // keys too, for a keys command
  EXPECT_EQ(ResolveEngine(Keys(0), config)->requests, 32);
}

TEST(EngineTest, RefusesWithOneLineNamingTheFlagOrTheConfigKey) {
  TransferDefaults none;
  auto negative = ResolveEngine(Requests(-5), none);
  ASSERT_EQ(negative.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(negative.status().message(), "--concurrency: 1..1024");
  EXPECT_FALSE(ResolveEngine(Requests(1025), none).ok());
  EXPECT_FALSE(ResolveEngine(Keys(2000), none).ok());

  TransferDefaults zero;
  zero.concurrency = 0;
  EXPECT_EQ(ResolveEngine(Requests(), zero).status().message(),
            "[transfer] concurrency: 1..1024");

  auto bad_size = ResolveEngine(Requests(0, "lots"), none);
  ASSERT_FALSE(bad_size.ok());
  EXPECT_NE(bad_size.status().message().find("--memory"), std::string::npos);

  EngineSettings s = Requests(0, "4MiB");
  s.min_memory = 16ull << 20;
  s.min_memory_for = "--part-size";
  EXPECT_EQ(ResolveEngine(s, none).status().message(), "--memory: at least 16MiB (--part-size)");
  TransferDefaults small;
  small.memory = "1MiB";
  s.memory.clear();
  s.min_memory_for.clear();
  EXPECT_EQ(ResolveEngine(s, small).status().message(), "[transfer] memory: at least 16MiB");
  EXPECT_EQ(ResolveEngine(Requests(0, "0"), none).status().message(),
            "--memory: must be above 0");
}

TEST(EngineTest, OpenMakesTheExecutorSetsTheRequestSlotsAndRegistersItsMetrics) {
  obs::Registry registry;
  limits::Limits limits;
  EngineSettings s = Keys(4);
  s.memory = "48MiB";
  s.extra_request_slots = 3;
  {
    auto engine = Engine::Open(s, TransferDefaults{}, registry, limits);
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    Engine& e = **engine;
    EXPECT_EQ(e.keys(), 4);
    EXPECT_EQ(e.requests(), 16);
    EXPECT_EQ(e.executor().concurrency(), 16);
    EXPECT_EQ(e.executor().budget().capacity(), 48ull << 20);
    EXPECT_EQ(limits.request_slots(), 19);
    e.SetExtraRequestSlots(5);
    EXPECT_EQ(limits.request_slots(), 21);
    EXPECT_EQ(registry.Total("ferry_executor_memory_budget_bytes"), 48.0 * (1 << 20));
    EXPECT_EQ(registry.Total("ferry_executor_memory_bytes"), 0);
    EXPECT_NE(registry.RenderPrometheus().find("ferry_executor_stall_overdraws_total"),
              std::string::npos);
  }
  // One-shot commands keep the last values for the metrics file written at exit.
  EXPECT_EQ(registry.Total("ferry_executor_memory_budget_bytes"), 48.0 * (1 << 20));
}

TEST(EngineTest, AServiceEngineRemovesItsSeriesSoThatTheNextOneDoesNotAddToThem) {
  obs::Registry registry;
  limits::Limits limits;
  EngineSettings s = Requests(2, "8MiB");
  s.metrics_at_end = EngineMetricsAtEnd::kRemove;
  ASSERT_TRUE(Engine::Open(s, TransferDefaults{}, registry, limits).ok());
  EXPECT_EQ(registry.Total("ferry_executor_memory_budget_bytes"), 0);
  auto again = Engine::Open(s, TransferDefaults{}, registry, limits);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(registry.Total("ferry_executor_memory_budget_bytes"), 8.0 * (1 << 20));
}

TEST(EngineTest, OpenRefusesBadSettingsBeforeTouchingTheLimits) {
  obs::Registry registry;
  limits::Limits limits;
  auto engine = Engine::Open(Requests(0, "nope"), TransferDefaults{}, registry, limits);
  EXPECT_FALSE(engine.ok());
  EXPECT_EQ(limits.request_slots(), 0);
  EXPECT_EQ(registry.Total("ferry_executor_memory_budget_bytes"), 0);
}

}  // namespace
}  // namespace ferry::app
