// A warm's per-object report rows (WarmOptions::report, cache::warm_rows): each object listed
// exactly one row, given once its outcome is recorded: copied, skipped as cached, joined (an
// overlapping request copied it), failed.
#include <map>
#include <mutex>
#include <thread>

#include "cache/test_env.h"
#include "report/row.h"
#include "testing/wait_for.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

// The rows a warm gave, by key (a key given two rows fails the test).
class WarmRowsSink : public report::RowSink {
 public:
  void Add(report::Row row) override {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(rows.contains(row.key)) << "two rows for " << row.key;
    rows.insert_or_assign(row.key, std::move(row));
  }
  std::map<std::string, report::Row> rows;

 private:
  std::mutex mu_;
};

Result<WarmResult> WarmReported(CacheEnv& env, std::vector<std::string> prefixes,
                                const std::string& owner, WarmRowsSink& sink) {
  WarmOptions o = env.Options(owner);
  o.report = &sink;
  return cache::Warm(WarmRequest{.prefixes = std::move(prefixes), .ttl = 1h, .force = false},
                     env.Context(), o, {});
}

TEST(WarmReportTest, RowsOfCopiesFailuresAndCachedObjects) {
  CacheEnv env;
  env.Put("p/a", "alpha");
  env.Put("p/b", "bravo");
  env.cache.FailNext(storage::MemoryBackend::kPut, 1, Status::PermissionDenied("no write"));
  WarmRowsSink first;
  auto r = WarmReported(env, {"p/"}, "first", first);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->failed, 1u);
  ASSERT_EQ(first.rows.size(), 2u);
  const std::string bad = r->failures[0].key;
  const std::string good = bad == "p/a" ? "p/b" : "p/a";
  const report::Row& failed = first.rows.at(bad);
  EXPECT_EQ(failed.action, report::Action::kFailed);
  EXPECT_EQ(failed.error_code, "PermissionDenied");
  EXPECT_NE(failed.error_message.find("no write"), std::string::npos) << failed.error_message;
  const report::Row& copied = first.rows.at(good);
  EXPECT_EQ(copied.action, report::Action::kCopied);
  EXPECT_EQ(copied.outcome, report::Outcome::kOk);
  EXPECT_EQ(copied.size, 5u);
  EXPECT_NE(copied.checksum, "none");  // the engine's: what proved the bytes copied

  env.clock.Advance(1s);  // a later request: what "first" copied is cached, not joined
  WarmRowsSink second;
  r = WarmReported(env, {"p/"}, "second", second);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(second.rows.size(), 2u);
  EXPECT_EQ(second.rows.at(good).action, report::Action::kSkipped);  // cached, renewed
  EXPECT_EQ(second.rows.at(good).checksum, "etag");
  EXPECT_EQ(second.rows.at(bad).action, report::Action::kCopied);
}

TEST(WarmReportTest, KeysAnOverlappingRequestCopiedAreJoinedRows) {
  CacheEnv env;
  env.Put("y/a", "a");
  env.Put("y/b", "b");
  std::vector<std::string> held = {"y/"};
  auto a = env.locks->Acquire("A", held, 24h);
  ASSERT_TRUE(a.ok());
  std::vector<ClaimItem> items;
  for (const char* key : {"y/a", "y/b"}) {
    const storage::ObjectInfo o = *env.source.Stat(key, false, {});
    items.push_back(ClaimItem{
        .key = key, .source_etag = o.etag, .source_mtime_ns = 0, .size = o.size, .waited_on = ""});
  }
  const ClaimOptions opts{.since_ms = env.index->NowMs(), .force = false, .ttl = 1h};
  ASSERT_TRUE(env.index->Claim(a->hold.id, "A", items, opts).ok());
  env.clock.Advance(1s);  // B starts after A
  WarmRowsSink sink;
  Result<WarmResult> b = Status::Internal("not run");
  std::thread waiter([&] { b = WarmReported(env, {"y/"}, "B", sink); });
  EXPECT_TRUE(ferry::testing::WaitFor([&] { return !env.clock.sleeps().empty(); }));
  std::vector<Copied> copied;
  for (const ClaimItem& i : items) {
    copied.push_back(Copied{.key = i.key, .source_etag = i.source_etag, .source_version = "",
                            .source_mtime_ns = 0, .size = i.size});
  }
  ASSERT_TRUE(env.index->Settle(a->hold.id, copied, {}, {}, 1h, "A").ok());
  waiter.join();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->joined, 2u);
  ASSERT_EQ(sink.rows.size(), 2u);
  for (const auto& [key, row] : sink.rows) {
    EXPECT_EQ(row.action, report::Action::kJoined) << key;
    EXPECT_EQ(row.outcome, report::Outcome::kSkipped) << key;
  }
}

}  // namespace
}  // namespace ferry::cache::testing
