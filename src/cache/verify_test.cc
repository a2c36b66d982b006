// Verify mends index and cache both ways.
#include "cache/verify.h"

#include "cache/test_env.h"
#include "checksum/checksum.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

TEST(VerifyTest, DropsEntriesWithoutObjectsAndAdoptsOrDeletesUnknownObjects) {
  CacheEnv env;
  env.Put("a", "alpha");
  env.Put("b", "bravo");
  env.Put("c", "charlie");
  ASSERT_TRUE(env.Warm({"a", "b"}, 1h).ok());
  ASSERT_TRUE(env.cache.Delete("a", {}).ok());  // gone behind the index's back
  storage::WriteSpec spec;
  spec.size = 7;
  const std::string c = "charlie", junk = "garbage";
  // "c" written by someone else with the source's bytes: adoptable. "junk": not in the source.
  ASSERT_TRUE(env.cache.Put("c", std::as_bytes(std::span(c.data(), c.size())), spec, {}).ok());
  ASSERT_TRUE(
      env.cache.Put("junk", std::as_bytes(std::span(junk.data(), junk.size())), spec, {}).ok());

  auto report = Verify(*env.index, env.cache, nullptr, {}, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->objects, 3u);
  EXPECT_EQ(report->entries, 2u);
  EXPECT_EQ(report->dropped, 1u);
  EXPECT_EQ(report->unknown, 2u);
  EXPECT_FALSE(env.index->Get("a")->has_value());
  EXPECT_EQ(env.cache.Keys().size(), 3u);  // report only: unknown objects stay

  VerifyOptions adopt;
  adopt.unknown = UnknownObjects::kAdopt;
  auto mended = Verify(*env.index, env.cache, &env.source, adopt, {});
  ASSERT_TRUE(mended.ok()) << mended.status().message();
  EXPECT_EQ(mended->adopted, 1u);
  EXPECT_EQ(mended->deleted, 1u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(env.index->Get("c")->has_value());
  // The adopted object now counts as cached.
  auto warm = env.Warm({""}, 1h, false, "req-2");
  EXPECT_EQ(warm->copied, 1u);  // "a" again
  EXPECT_EQ(warm->skipped, 2u);

  VerifyOptions del;
  del.unknown = UnknownObjects::kDelete;
  ASSERT_TRUE(
      env.cache.Put("junk", std::as_bytes(std::span(junk.data(), junk.size())), spec, {}).ok());
  auto cleaned = Verify(*env.index, env.cache, nullptr, del, {});
  EXPECT_EQ(cleaned->deleted, 1u);
  EXPECT_EQ(cleaned->dropped, 0u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"a", "b", "c"}));
}

// A state store that never saw the cache is no authority on what is unknown in it: verify
// reports, and refuses to adopt or delete. Before, a fresh --state deleted a whole folder.
TEST(VerifyTest, AStateStoreThatNeverSawTheCacheDeletesNothing) {
  CacheEnv env;
  storage::WriteSpec spec;
  spec.size = 4;
  for (const char* key : {"x", "y/z"}) {
    ASSERT_TRUE(env.cache.Put(key, checksum::AsBytes("data"), spec, {}).ok());
  }
  auto report = Verify(*env.index, env.cache, nullptr, {}, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->unknown, 2u);
  for (UnknownObjects mode : {UnknownObjects::kDelete, UnknownObjects::kAdopt}) {
    VerifyOptions o;
    o.unknown = mode;
    auto refused = Verify(*env.index, env.cache, &env.source, o, {});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("knows nothing of the cache"), std::string::npos)
        << refused.status().message();
  }
  EXPECT_EQ(env.cache.Keys().size(), 2u);
}

// A cache nested inside another (same state store, its location inside the outer one's): the
// outer cache's verify leaves the inner cache's objects alone. Before, it deleted them while
// their rows stayed live in the inner index, so warms never copied them again.
TEST(VerifyTest, AnOuterCacheLeavesANestedCachesObjectsAlone) {
  CacheEnv env;
  env.Put("inner/a", "alpha");
  env.Put("top", "top");
  ASSERT_TRUE(env.Warm({"top"}, 1h).ok());  // the outer cache is known to the store
  // The nested cache "memory://cache/inner/" warms its own "a" into the same location.
  auto inner_index = CacheIndex::Open(*env.session, env.clock, "memory://cache/inner/");
  ASSERT_TRUE(inner_index.ok());
  PrefixLocks inner_locks(*env.session, env.clock, "memory://cache/inner/");
  const std::vector<std::string> everything{""};
  auto hold = inner_locks.Acquire("inner-req", everything, 60s);
  ASSERT_TRUE(hold.ok()) << hold.status().message();
  storage::WriteSpec spec;
  spec.size = 5;
  ASSERT_TRUE(env.cache.Put("inner/a", checksum::AsBytes("alpha"), spec, {}).ok());
  ASSERT_TRUE((*inner_index)
                  ->Record(Copied{.key = "a", .source_etag = "e", .source_version = "",
                                  .source_mtime_ns = 0, .size = 5},
                           1h, "inner-req")
                  .ok());
  VerifyOptions del;
  del.unknown = UnknownObjects::kDelete;
  auto r = Verify(*env.index, env.cache, nullptr, del, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->nested, 1u);
  EXPECT_EQ(r->unknown, 0u);
  EXPECT_EQ(r->deleted, 0u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"inner/a", "top"}));
}

TEST(VerifyTest, AnObjectAWarmRequestClaimsIsLeftAlone) {
  CacheEnv env;
  storage::WriteSpec spec;
  spec.size = 1;
  // A warm request wrote "k" and has not recorded it yet (copies are recorded in batches).
  auto hold = env.locks->Acquire("warm", std::vector<std::string>{""}, 1h);
  ASSERT_TRUE(hold.ok());
  std::vector<ClaimItem> items = {
      ClaimItem{.key = "k", .source_etag = "e", .source_mtime_ns = 0, .size = 1, .waited_on = ""}};
  const ClaimOptions opts{.since_ms = env.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_EQ((*env.index->Claim(hold->hold.id, "warm", items, opts))[0].state,
            ClaimState::kClaimed);
  ASSERT_TRUE(env.cache.Put("k", std::as_bytes(std::span("v", 1)), spec, {}).ok());
  VerifyOptions del;
  del.unknown = UnknownObjects::kDelete;
  auto r = Verify(*env.index, env.cache, nullptr, del, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->unknown, 1u);
  EXPECT_EQ(r->deleted, 0u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"k"}));
  // Once the request is gone (its hold released), the object is unknown and deleted.
  ASSERT_TRUE(env.locks->Release(hold->hold).ok());
  EXPECT_EQ(Verify(*env.index, env.cache, nullptr, del, {})->deleted, 1u);
}

}  // namespace
}  // namespace ferry::cache::testing

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

// A directory bucket lists keys out of lexicographical order: this backend lists them in
// reverse, so that nothing that relied on a sorted listing could pass.
class OutOfOrderBackend : public storage::MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Result<std::unique_ptr<storage::ListingCursor>> List(std::string_view prefix) override {
    FERRY_ASSIGN_OR_RETURN(auto sorted, MemoryBackend::List(prefix));
    auto cursor = std::make_unique<Reversed>();
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, sorted->Next());
      if (o == nullptr) break;
      cursor->objects.insert(cursor->objects.begin(), *o);
    }
    return std::unique_ptr<storage::ListingCursor>(std::move(cursor));
  }

 private:
  struct Reversed : storage::ListingCursor {
    Result<const storage::ObjectInfo*> Next() override {
      if (next == objects.size()) return static_cast<const storage::ObjectInfo*>(nullptr);
      return &objects[next++];
    }
    std::vector<storage::ObjectInfo> objects;
    size_t next = 0;
  };
};

TEST(VerifyTest, NeitherWarmNorVerifyReliesOnASortedListing) {
  CacheEnv env;
  OutOfOrderBackend source(storage::MemoryBackend::Options{.name = "src2", .clock = &env.clock});
  OutOfOrderBackend cache(storage::MemoryBackend::Options{
      .endpoint = "express", .name = "express", .clock = &env.clock});
  storage::WriteSpec spec;
  spec.size = 1;
  for (const char* k : {"a/1", "a/2", "a/3", "b/1"}) {
    ASSERT_TRUE(source.Put(k, std::as_bytes(std::span("x", 1)), spec, {}).ok());
  }
  WarmContext ctx{.source = source,
                  .cache = cache,
                  .index = *env.index,
                  .locks = *env.locks,
                  .executor = env.executor};
  WarmOptions options = env.Options();
  auto first = Warm(WarmRequest{.prefixes = {""}, .ttl = 1h, .force = false}, ctx, options, {});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->copied, 4u);
  auto second = Warm(WarmRequest{.prefixes = {"a/"}, .ttl = 1h, .force = false}, ctx, options, {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->skipped, 3u);
  EXPECT_EQ(second->copied, 0u);
  ASSERT_TRUE(cache.Delete("a/2", {}).ok());
  ASSERT_TRUE(cache.Put("zz", std::as_bytes(std::span("y", 1)), spec, {}).ok());
  auto v = Verify(*env.index, cache, nullptr, {}, {});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->objects, 4u);
  EXPECT_EQ(v->dropped, 1u);
  EXPECT_EQ(v->unknown, 1u);
}

// An unknown cached object whose ferry-crc32c claims the source's CRC32C (forged, or kept
// stale over other bytes of the same size) is not adopted: only a digest both stores computed
// proves the bytes (docs/design/integrity.md §8). It is deleted and warmed again when asked.
TEST(VerifyTest, AForgedFerryCrcClaimIsNotAdopted) {
  CacheEnv env;
  env.Put("a", "alpha");
  ASSERT_TRUE(env.Warm({"a"}, 1h).ok());  // the state store knows the cache
  const std::string body = "charlie";
  const std::string claim = checksum::Hex32(checksum::Crc32c(checksum::AsBytes(body)));
  storage::WriteSpec spec;
  spec.size = body.size();
  spec.metadata[storage::kMetaCrc32c] = claim;
  ASSERT_TRUE(env.source.Put("c", checksum::AsBytes(body), spec, {}).ok());
  const std::string other = "charlyy";  // same size, other bytes, the source's claim kept
  ASSERT_TRUE(env.cache.Put("c", checksum::AsBytes(other), spec, {}).ok());
  VerifyOptions adopt;
  adopt.unknown = UnknownObjects::kAdopt;
  auto mended = Verify(*env.index, env.cache, &env.source, adopt, {});
  ASSERT_TRUE(mended.ok()) << mended.status().message();
  EXPECT_EQ(mended->adopted, 0u);
  EXPECT_EQ(mended->deleted, 1u);
  EXPECT_FALSE(env.index->Get("c")->has_value());
}

}  // namespace
}  // namespace ferry::cache::testing
