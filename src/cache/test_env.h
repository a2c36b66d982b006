// Shared set-up of the cache's unit tests: a FakeClock, a SQLite state database in a fresh
// temporary folder, the index and locks of one cache, and two memory backends (source, cache).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "cache/index.h"
#include "cache/locks.h"
#include "cache/warm.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "transfer/executor.h"

namespace ferry::cache::testing {

class CacheEnv {
 public:
  // `memory_budget`: the executor's ByteBudget; `min_part_size` (0: the memory store's own,
  // S3's): the least part both stores take, so that multipart copies run on small objects.
  explicit CacheEnv(uint64_t memory_budget = 64u << 20, uint64_t min_part_size = 0)
      : source(Store("src", "memory", min_part_size)),
        cache(Store("cache", "other", min_part_size)),
        executor(transfer::ExecutorOptions{.concurrency = 4, .memory_budget = memory_budget}) {
    char tmpl[] = "/tmp/ferry-cache-test-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) dir = tmpl;
    auto s = state::OpenSqliteSession(dir + "/state.db");
    if (s.ok()) session = std::move(s).value();
    if (session != nullptr) {
      auto i = CacheIndex::Open(*session, clock, "memory://cache/");
      if (i.ok()) index = std::move(i).value();
      locks = std::make_unique<PrefixLocks>(*session, clock, "memory://cache/");
    }
  }
  ~CacheEnv() {
    index.reset();
    locks.reset();
    session.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  void Put(const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    auto r = source.Put(key, std::as_bytes(std::span(body.data(), body.size())), spec, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  WarmContext Context() {
    return WarmContext{
        .source = source, .cache = cache, .index = *index, .locks = *locks, .executor = executor};
  }
  WarmOptions Options(std::string owner = "req-1") {
    WarmOptions o;
    o.owner = std::move(owner);
    return o;
  }
  Result<WarmResult> Warm(std::vector<std::string> prefixes, std::chrono::seconds ttl,
                          bool force = false, std::string owner = "req-1") {
    WarmRequest r{.prefixes = std::move(prefixes), .ttl = ttl, .force = force};
    return cache::Warm(r, Context(), Options(std::move(owner)), {});
  }

  storage::MemoryBackend::Options Store(std::string name, std::string endpoint,
                                        uint64_t min_part_size) {
    storage::MemoryBackend::Options o{
        .endpoint = std::move(endpoint), .name = std::move(name), .clock = &clock};
    if (min_part_size != 0) o.features.min_part_size = min_part_size;
    return o;
  }

  ferry::testing::FakeClock clock;
  std::string dir;
  storage::MemoryBackend source;
  storage::MemoryBackend cache;
  transfer::Executor executor;
  std::unique_ptr<state::SqlSession> session;
  std::unique_ptr<CacheIndex> index;
  std::unique_ptr<PrefixLocks> locks;
};

}  // namespace ferry::cache::testing
