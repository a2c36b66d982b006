// The pieces of a durable pass: key-range version listings grouped by key (listing.cc), the
// run and job payloads (payload.cc), and ReplicateKeys over the batches a range listing made.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "replicate/listing.h"
#include "replicate/payload.h"
#include "replicate/replica.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::replicate {
namespace {

using storage::MemoryBackend;

std::vector<std::byte> Bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

class DurablePassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = NewBackend("a");
    b_ = NewBackend("b");
    // a: 3 versions, b: 1, c: 1 and a delete marker, d: 4, e: 1
    for (auto [key, n] : {std::pair{"a", 3}, {"b", 1}, {"c", 1}, {"d", 4}, {"e", 1}}) {
      for (int i = 0; i < n; ++i) Write(key, std::string(key) + std::to_string(i));
    }
    clock_.SleepFor(std::chrono::seconds(1), {});
    EXPECT_TRUE(a_->AddDeleteMarker("c", {}).ok());
  }

  std::unique_ptr<MemoryBackend> NewBackend(std::string name) {
    MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = true;
    o.name = name;
    o.endpoint = name;
    return std::make_unique<MemoryBackend>(o);
  }

  void Write(std::string_view key, std::string_view data) {
    clock_.SleepFor(std::chrono::seconds(1), {});
    storage::WriteSpec spec;
    spec.size = data.size();
    auto r = a_->Put(key, Bytes(data), spec, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  // Lists (start_after, last] and returns the batches as "key:versions" lists.
  std::vector<std::string> Batches(std::string_view start_after, std::optional<std::string> last,
                                   size_t max_keys, size_t batch_versions, RangeChunk* chunk) {
    std::vector<std::string> out;
    auto r = ListRangeVersions(
        *a_,
        {.start_after = std::string(start_after),
         .last = last,
         .max_keys = max_keys,
         .batch_versions = batch_versions},
        [&](std::vector<KeyVersions> keys) {
          std::string line;
          for (const KeyVersions& k : keys) {
            line += (line.empty() ? "" : " ") + k.key + ":" + std::to_string(k.versions.size());
            // oldest first, each entry of its key, the newest the current one
            for (size_t i = 0; i < k.versions.size(); ++i) {
              EXPECT_EQ(k.versions[i].key, k.key);
              if (i > 0) {
                EXPECT_GE(k.versions[i].mtime, k.versions[i - 1].mtime);
              }
              EXPECT_EQ(k.versions[i].is_latest, i + 1 == k.versions.size());
            }
          }
          out.push_back(line);
          return Status::Ok();
        },
        {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok() && chunk != nullptr) *chunk = *r;
    return out;
  }

  testing::FakeClock clock_;
  std::unique_ptr<MemoryBackend> a_, b_;
};

TEST_F(DurablePassTest, RangeListingGroupsKeysAndNeverSplitsOne) {
  RangeChunk chunk;
  // (a, d]: b, c (a version and a marker) and d; batches of 3 versions: d's 4 come alone.
  EXPECT_EQ(Batches("a", "d", 100, 3, &chunk), (std::vector<std::string>{"b:1 c:2", "d:4"}));
  EXPECT_EQ(chunk.keys, 3u);
  EXPECT_EQ(chunk.versions, 7u);
  EXPECT_FALSE(chunk.resume_after.has_value());
  // The whole key space in one batch per key.
  EXPECT_EQ(Batches("", std::nullopt, 100, 1, &chunk),
            (std::vector<std::string>{"a:3", "b:1", "c:2", "d:4", "e:1"}));
}

TEST_F(DurablePassTest, RangeListingStopsAfterItsChunkOfKeys) {
  RangeChunk chunk;
  EXPECT_EQ(Batches("", std::nullopt, 2, 100, &chunk), (std::vector<std::string>{"a:3 b:1"}));
  ASSERT_TRUE(chunk.resume_after.has_value());
  EXPECT_EQ(*chunk.resume_after, "b");
  EXPECT_EQ(chunk.next_key, "c");
  // The rest goes on exactly after it: every key once.
  EXPECT_EQ(Batches(*chunk.resume_after, std::nullopt, 2, 100, &chunk),
            (std::vector<std::string>{"c:2 d:4"}));
  EXPECT_EQ(*chunk.resume_after, "d");
  EXPECT_EQ(Batches(*chunk.resume_after, std::nullopt, 2, 100, &chunk),
            (std::vector<std::string>{"e:1"}));
  EXPECT_FALSE(chunk.resume_after.has_value());
  // A chunk that ends with its range says nothing more is left.
  EXPECT_EQ(Batches("", "b", 2, 100, &chunk), (std::vector<std::string>{"a:3 b:1"}));
  EXPECT_FALSE(chunk.resume_after.has_value());
}

TEST_F(DurablePassTest, OneKeysVersionsOldestFirstAndNoneOfALongerKey) {
  Write("a1", "longer key");  // listed by the prefix "a", not one of a's versions
  auto a = ListKeyVersions(*a_, "a", {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->versions.size(), 3u);
  for (size_t i = 0; i < a->versions.size(); ++i) EXPECT_EQ(a->versions[i].key, "a");
  EXPECT_LT(a->versions[0].mtime, a->versions[2].mtime);
  EXPECT_TRUE(a->versions[2].is_latest);
  auto c = ListKeyVersions(*a_, "c", {});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->versions.size(), 2u);
  EXPECT_TRUE(c->versions[1].delete_marker);
  auto none = ListKeyVersions(*a_, "zzz", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->versions.empty());
}

TEST_F(DurablePassTest, PayloadsRoundTrip) {
  std::vector<KeyVersions> keys;
  auto c = a_->ListVersions("", "", "");
  ASSERT_TRUE(c.ok());
  for (;;) {
    const storage::ObjectInfo* e = *(*c)->Next();
    if (e == nullptr) break;
    if (keys.empty() || keys.back().key != e->key) keys.push_back({e->key, {}});
    keys.back().versions.push_back(*e);
  }
  keys.push_back({std::string("bad\xff utf8"), {keys[0].versions[0]}});
  keys.back().versions[0].key = keys.back().key;
  auto back = DecodeKeyBatch(EncodeKeyBatch(keys));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*back)[i].key, keys[i].key);
    ASSERT_EQ((*back)[i].versions.size(), keys[i].versions.size());
    for (size_t n = 0; n < keys[i].versions.size(); ++n) {
      const storage::ObjectInfo& x = keys[i].versions[n];
      const storage::ObjectInfo& y = (*back)[i].versions[n];
      EXPECT_EQ(y.key, x.key);
      EXPECT_EQ(y.version_id, x.version_id);
      EXPECT_EQ(y.size, x.size);
      EXPECT_EQ(y.etag, x.etag);
      EXPECT_EQ(y.mtime, x.mtime);
      EXPECT_EQ(y.delete_marker, x.delete_marker);
      EXPECT_EQ(y.is_latest, x.is_latest);
    }
  }

  DurablePass p;
  p.source = "ra:src/";
  Rule r;
  r.id = "r1";
  r.priority = 2;
  r.prefix = "logs/";
  r.tags = {{"team", "blue"}};
  r.destinations = {{"rb:dst/", "GLACIER", {}, ""}};
  r.existing_objects = false;
  r.versions = VersionsMode::kLatest;
  r.replica_modifications = true;
  r.replication_time = std::chrono::minutes(15);
  r.sse_kms_objects = true;
  r.destinations[0].replica_kms_key_id = "testkey-2";
  p.rules.rules = {r};
  p.batch_versions = 7;
  p.retry_failed_only = true;
  auto text = EncodeDurablePass(p, R"({"command":"replicate","max_attempts":3})");
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(text->find("\"max_attempts\":3"), std::string::npos);  // the jobs' options kept
  auto q = DecodeDurablePass(*text);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->source, p.source);
  EXPECT_EQ(q->batch_versions, 7u);
  EXPECT_TRUE(q->retry_failed_only);
  ASSERT_EQ(q->rules.rules.size(), 1u);
  const Rule& s = q->rules.rules[0];
  EXPECT_EQ(s.id, "r1");
  EXPECT_EQ(s.priority, 2);
  EXPECT_EQ(s.prefix, "logs/");
  EXPECT_EQ(s.tags, r.tags);
  ASSERT_EQ(s.destinations.size(), 1u);
  EXPECT_EQ(s.destinations[0].location, "rb:dst/");
  EXPECT_EQ(s.destinations[0].storage_class, "GLACIER");
  EXPECT_FALSE(s.existing_objects);
  EXPECT_EQ(s.versions, VersionsMode::kLatest);
  EXPECT_TRUE(s.replica_modifications);
  EXPECT_EQ(s.replication_time, std::chrono::minutes(15));
  EXPECT_TRUE(s.sse_kms_objects);
  EXPECT_EQ(s.destinations[0].replica_kms_key_id, "testkey-2");
  EXPECT_EQ(DecodeDurablePass(R"({"command":"sync"})").status().code(),
            ErrorCode::kInvalidArgument);
  // an event job's key, as every key, round-trips exactly (bytes that are not UTF-8 too)
  for (std::string key : {std::string("dir/a b+c.txt"), std::string("caf\xc3\xa9"),
                          std::string("raw\xff\x01")}) {
    auto w = DecodeEventWork(EncodeEventWork({.key = key, .first_event_ns = 42, .events = 3}));
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_EQ(w->key, key);
    EXPECT_EQ(w->first_event_ns, 42);
    EXPECT_EQ(w->events, 3u);
  }
  EXPECT_EQ(DecodeEventWork(R"({"k":"","t":0,"n":1})").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeEventWork("{").status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DurablePassTest, KeysOfSplitRangesReplicateEveryVersionOnce) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ferry-durable-" + std::to_string(std::random_device{}()));
  auto session = state::OpenSqliteSession((dir / "state.db").string());
  ASSERT_TRUE(session.ok());
  auto store = StatusStore::Open(**session);
  ASSERT_TRUE(store.ok());
  Rule rule;
  rule.id = "r";
  rule.delete_markers = true;
  rule.destinations.push_back({"b", "", {}, ""});
  RuleSet rules{{rule}};
  PassOptions o;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations = {{"b", b_.get()}};
  o.rules = &rules;
  o.store = store->get();
  o.clock = &clock_;
  transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 3});
  o.executor = &keys_executor;  // 3 keys at once
  auto scope = PreparePass(o);
  ASSERT_TRUE(scope.ok());
  // Two ranges, (, c] and (c, ], in batches of 2 versions, as separate jobs would take them.
  PassStats stats;
  for (auto [start_after, last] : {std::pair<std::string, std::optional<std::string>>{"", "c"},
                                   {"c", std::nullopt}}) {
    auto chunk = ListRangeVersions(
        *a_, {.start_after = start_after, .last = last, .max_keys = 100, .batch_versions = 2},
        [&](std::vector<KeyVersions> keys) {
          return ReplicateKeys(o, *scope, std::move(keys), stats, {});
        },
        {});
    ASSERT_TRUE(chunk.ok()) << chunk.status().message();
  }
  EXPECT_EQ(stats.replicated.load(), 11u);  // 10 versions and c's delete marker
  EXPECT_EQ(stats.delete_markers.load(), 1u);
  EXPECT_EQ(stats.failed.load(), 0u);
  // Every version at b once, in the source's order.
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    std::vector<std::string> src, dst;
    for (auto* side : {a_.get(), b_.get()}) {
      auto c = side->ListVersions(key, "", "");
      ASSERT_TRUE(c.ok());
      for (;;) {
        const storage::ObjectInfo* e = *(*c)->Next();
        if (e == nullptr) break;
        std::string what = "marker";
        if (!e->delete_marker) {
          std::vector<std::byte> data(e->size);
          EXPECT_TRUE(side->ReadVersionAt(key, e->version_id, 0, data, {}).ok());
          what.assign(reinterpret_cast<const char*>(data.data()), data.size());
        }
        (side == a_.get() ? src : dst).push_back(what);
      }
    }
    EXPECT_EQ(dst, src) << key;
  }
  // The same batches again (a job retried after its worker died) write nothing.
  PassStats again;
  auto chunk = ListRangeVersions(
      *a_, {.start_after = "", .last = std::nullopt, .max_keys = 100, .batch_versions = 2},
      [&](std::vector<KeyVersions> keys) {
        return ReplicateKeys(o, *scope, std::move(keys), again, {});
      },
      {});
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(again.replicated.load(), 0u);
  EXPECT_EQ(again.already.load(), 11u);
  store->reset();
  session->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(DurablePassTest, AFailedFenceStopsBeforeTheWrite) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ferry-fence-" + std::to_string(std::random_device{}()));
  auto session = state::OpenSqliteSession((dir / "state.db").string());
  ASSERT_TRUE(session.ok());
  auto store = StatusStore::Open(**session);
  ASSERT_TRUE(store.ok());
  Rule rule;
  rule.id = "r";
  rule.destinations.push_back({"b", "", {}, ""});
  RuleSet rules{{rule}};
  PassOptions o;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations = {{"b", b_.get()}};
  o.rules = &rules;
  o.store = store->get();
  o.clock = &clock_;
  transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 1});
  o.executor = &keys_executor;  // 1 key at once
  std::atomic<int> calls{0};
  // The lease is lost after two writes: the third version is not written, the pass says why.
  o.before_write = [&] {
    return ++calls <= 2 ? Status::Ok() : Status::Cancelled("the job's lease was lost");
  };
  auto scope = PreparePass(o);
  ASSERT_TRUE(scope.ok());
  std::vector<KeyVersions> keys;
  ASSERT_TRUE(ListRangeVersions(*a_,
                                {.start_after = "", .last = "a", .max_keys = 100,
                                 .batch_versions = 100},
                                [&](std::vector<KeyVersions> k) {
                                  keys = std::move(k);
                                  return Status::Ok();
                                },
                                {})
                  .ok());
  PassStats stats;
  EXPECT_EQ(ReplicateKeys(o, *scope, keys, stats, {}).code(), ErrorCode::kCancelled);
  EXPECT_EQ(stats.replicated.load(), 2u);
  auto c = b_->ListVersions("a", "", "");
  ASSERT_TRUE(c.ok());
  int at_b = 0;
  while (*(*c)->Next() != nullptr) ++at_b;
  EXPECT_EQ(at_b, 2);
  // The third version's row stays PENDING: the job's next holder looks for it first.
  auto rows = (*store)->Rows("a", VersionState::kPending);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
  store->reset();
  session->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::replicate
