// RunPass over versioned MemoryBackends and a SQLite status store.
#include "replicate/pass.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <random>
#include <set>

#include "replicate/replica.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transfer/executor.h"
#include "transfer/memory_fixture.h"

namespace ferry::replicate {
namespace {

using storage::MemoryBackend;
using storage::ObjectInfo;

std::vector<std::byte> Bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

// A FakeClock that runs `on_sleep` (once) when code under test sleeps: what happens elsewhere
// while the pass waits, such as a write of a dead process landing at the destination.
class LandingClock : public testing::FakeClock {
 public:
  void SleepFor(std::chrono::milliseconds d, std::stop_token stop) override {
    FakeClock::SleepFor(d, stop);
    if (on_sleep) std::exchange(on_sleep, nullptr)();
  }
  std::function<void()> on_sleep;
};

class PassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-pass-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok());
    session_ = std::move(*session);
    auto store = StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    a_ = NewBackend("a");
    b_ = NewBackend("b");
  }
  void TearDown() override {
    store_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<MemoryBackend> NewBackend(std::string name, bool versioned = true) {
    MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = versioned;
    o.name = name;
    o.endpoint = name;  // separate "servers": the data path, not server-side copies
    return std::make_unique<MemoryBackend>(o);
  }

  // Writes `data` as a new version one second after the previous write.
  std::string Write(MemoryBackend& m, std::string_view key, std::string_view data,
                    storage::Tags tags = {}, bool same_second = false) {
    if (!same_second) clock_.SleepFor(std::chrono::seconds(1), {});
    storage::WriteSpec spec;
    spec.size = data.size();
    spec.metadata["color"] = "blue";
    if (!tags.empty()) spec.tags = tags;
    auto r = m.Put(key, Bytes(data), spec, {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->version_id : "";
  }

  static Rule OneRule(std::string id, std::string dest) {
    Rule r;
    r.id = std::move(id);
    r.destinations.push_back({std::move(dest), "", {}, ""});
    return r;
  }

  Status Pass(MemoryBackend& src, std::string src_name, MemoryBackend& dst, std::string dst_name,
              const RuleSet& rules, PassStats& stats) {
    PassOptions o = options_;
    o.source_name = std::move(src_name);
    o.source = &src;
    o.destinations[dst_name] = &dst;
    o.rules = &rules;
    o.store = store_.get();
    o.clock = &clock_;
    // The keys on an executor of concurrency_ workers, unless the test gave its own.
    std::optional<transfer::Executor> keys_executor;
    if (o.executor == nullptr) {
      o.executor = &keys_executor.emplace(transfer::ExecutorOptions{.concurrency = concurrency_});
    }
    return RunPass(o, stats, {});
  }

  int concurrency_ = 4;  // keys replicated at once
  PassOptions options_;  // sizes, limits and retry_failed_only for Pass

  // The versions of `key` oldest first: (content, version info with details).
  std::vector<std::pair<std::string, ObjectInfo>> History(MemoryBackend& m,
                                                          std::string_view key) {
    std::vector<std::pair<std::string, ObjectInfo>> out;
    auto cursor = m.ListVersions(key, "", "");
    EXPECT_TRUE(cursor.ok());
    for (;;) {
      const ObjectInfo* e = *(*cursor)->Next();
      if (e == nullptr) break;
      if (e->key != key) continue;
      if (e->delete_marker) {
        out.insert(out.begin(), {"<marker>", *e});
        continue;
      }
      std::vector<std::byte> data(e->size);
      EXPECT_TRUE(m.ReadVersionAt(key, e->version_id, 0, data, {}).ok());
      ObjectInfo details = *m.StatVersion(key, e->version_id, true, {});
      out.insert(out.begin(),
                 {std::string(reinterpret_cast<const char*>(data.data()), data.size()), details});
    }
    return out;
  }

  // A PENDING row for version `v` of `key` (rule r, a -> b), last changed `age` ago: as if its
  // process died after (maybe) sending the write, before recording COMPLETED.
  void RecordPending(const std::string& key, const std::string& v, std::chrono::seconds age,
                     VersionState state = VersionState::kPending) {
    VersionStatus pending;
    pending.source = "a";
    pending.rule = "r";
    pending.destination = "b";
    pending.key = key;
    pending.source_version = v;
    pending.state = state;
    pending.updated_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             (clock_.Now() - age).time_since_epoch())
                             .count();
    ASSERT_TRUE(store_->Record(pending).ok());
  }

  // Writes at b what the dead process's write of version `v` of `key` of a would have made.
  // `extra`: metadata added to the replica's (a stamped commit's ferry-crc32c, say).
  void LandReplica(const std::string& key, const std::string& v,
                   const std::map<std::string, std::string>& extra = {}) {
    auto details = a_->StatVersion(key, v, true, {});
    ASSERT_TRUE(details.ok());
    std::vector<std::byte> data(details->size);
    ASSERT_TRUE(a_->ReadVersionAt(key, v, 0, data, {}).ok());
    storage::WriteSpec spec;
    spec.size = data.size();
    spec.metadata = details->metadata;
    MarkReplica(*details, "a", {"a", "b"}, spec.metadata);
    for (const auto& [name, value] : extra) spec.metadata[name] = value;
    ASSERT_TRUE(b_->Put(key, data, spec, {}).ok());
  }

  // The sleeps of at least a second since `from` (the pass's waits).
  std::vector<std::chrono::milliseconds> WaitsSince(size_t from) {
    std::vector<std::chrono::milliseconds> out;
    auto all = clock_.sleeps();
    for (size_t i = from; i < all.size(); ++i) {
      if (all[i] >= std::chrono::seconds(1)) out.push_back(all[i]);
    }
    return out;
  }

  LandingClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<MemoryBackend> a_, b_;
};

TEST_F(PassTest, EveryVersionInOrderWithReplicaMetadata) {
  const std::string keys[] = {"k", "dir/ünï cødé + space", "empty"};
  std::vector<std::string> v1;
  for (const std::string& k : keys) v1.push_back(Write(*a_, k, "one " + k));
  Write(*a_, keys[0], "two");
  Write(*a_, keys[0], "three");
  Write(*a_, keys[2], "");
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.replicated.load(), 6u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].first, "one k");
  EXPECT_EQ(h[1].first, "two");
  EXPECT_EQ(h[2].first, "three");
  EXPECT_EQ(h[0].second.metadata.at("color"), "blue");
  EXPECT_EQ(h[0].second.metadata.at(kMetaReplicaOrigin), "a");
  EXPECT_EQ(h[0].second.metadata.at(kMetaReplicaVersion), v1[0]);
  EXPECT_TRUE(h[0].second.metadata.count(kMetaReplicaTime));
  EXPECT_EQ(History(*b_, keys[1]).size(), 1u);
  auto e = History(*b_, "empty");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].first, "");

  // A second pass costs the listing only.
  const int reads = a_->counts().reads, stats_calls = a_->counts().stats;
  const int puts = b_->counts().puts;
  PassStats again;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, again).ok());
  EXPECT_EQ(again.replicated.load(), 0u);
  EXPECT_EQ(again.already.load(), 6u);
  EXPECT_EQ(a_->counts().reads, reads);
  EXPECT_EQ(a_->counts().stats, stats_calls);
  EXPECT_EQ(b_->counts().puts, puts);
  auto counts = *store_->Counts("a");
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].state, VersionState::kCompleted);
  EXPECT_EQ(counts[0].count, 6);
}

// Requests per version at the floor: one read of the version (its details come with its bytes)
// and one write; tags, metadata and replica marks still reach the destination. The
// destination's current version is read (one HEAD per key) only once a pass has run from it.
TEST_F(PassTest, OneReadAndOneWritePerVersion) {
  Write(*a_, "k", "one");
  Write(*a_, "k", "two");
  Write(*a_, "t", "tagged", {{"team", "x"}});
  Write(*a_, "e", "");
  const RuleSet ab{{OneRule("ab", "b")}}, ba{{OneRule("ba", "a")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, stats).ok());
  EXPECT_EQ(stats.replicated.load(), 4u);
  EXPECT_EQ(a_->counts().stats, 0);  // no HEAD of a source version
  EXPECT_EQ(a_->counts().reads, 4);
  EXPECT_EQ(b_->counts().stats, 0);  // b was never a source: no HEAD of its current version
  EXPECT_EQ(b_->counts().puts, 4);
  const ObjectInfo t = *b_->Stat("t", true, {});
  EXPECT_EQ(t.tags, (storage::Tags{{"team", "x"}}));
  EXPECT_EQ(t.metadata.at("color"), "blue");
  EXPECT_EQ(t.metadata.at(kMetaReplicaOrigin), "a");
  EXPECT_EQ(History(*b_, "k").back().first, "two");

  // Once b has been a source, a pass to it reads the current version of each key it writes.
  PassStats back;
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, back).ok());
  EXPECT_EQ(back.replicas.load(), 4u);
  Write(*a_, "k", "three");
  b_->ResetCounts();
  PassStats two_way;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, two_way).ok());
  EXPECT_EQ(two_way.replicated.load(), 1u);
  EXPECT_EQ(b_->counts().stats, 1);
}

// Same endpoint: a version above the single-copy limit is copied on the server in parts
// (UploadPartCopy of that version), with its metadata, tags and replica marks; the history
// keeps the source's order and bytes.
TEST_F(PassTest, ServerSideCopiesAboveTheSingleCopyLimitInParts) {
  MemoryBackend::Options mo;
  mo.clock = &clock_;
  mo.versioned = true;
  mo.endpoint = "one";
  mo.features.min_part_size = 4;
  mo.name = "sa";
  MemoryBackend sa(mo);
  mo.name = "sb";
  MemoryBackend sb(mo);
  options_.server_side_copy_limit = 10;
  options_.part_size = 8;
  const std::string big = "0123456789abcdefghij";  // 20 bytes: 3 parts of 8
  Write(sa, "k", big, {{"team", "x"}});
  Write(sa, "k", "small");
  const std::string newest = std::string(12, 'z');  // 2 parts
  Write(sa, "k", newest);
  const RuleSet rules{{OneRule("r", "sb")}};
  PassStats stats;
  ASSERT_TRUE(Pass(sa, "sa", sb, "sb", rules, stats).ok());
  EXPECT_EQ(stats.replicated.load(), 3u);
  // The memory backend has no CopyFromWithSpec: the small version is read and written.
  EXPECT_EQ(stats.server_side.load(), 2u);
  EXPECT_EQ(stats.server_side_parts.load(), 2u);
  EXPECT_EQ(sb.counts().part_copies, 5);
  EXPECT_EQ(sa.counts().reads, 1);
  auto h = History(sb, "k");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].first, big);
  EXPECT_EQ(h[1].first, "small");
  EXPECT_EQ(h[2].first, newest);
  EXPECT_EQ(h[0].second.tags, (storage::Tags{{"team", "x"}}));
  EXPECT_EQ(h[0].second.metadata.at("color"), "blue");
  EXPECT_EQ(h[0].second.metadata.at(kMetaReplicaOrigin), "sa");
  EXPECT_EQ(h[0].second.metadata.at(kMetaReplicaVersion), History(sa, "k")[0].second.version_id);
}

// replica_modifications: a tag change on the original reaches the replica, one on the replica
// reaches the original (two-way pair); a pass with nothing changed puts no tags; a rule without
// the option leaves tag changes alone.
TEST_F(PassTest, ReplicaModificationsCarryTagChangesBothWays) {
  concurrency_ = 1;
  Rule ab_rule = OneRule("ab", "b"), ba_rule = OneRule("ba", "a");
  ab_rule.replica_modifications = ba_rule.replica_modifications = true;
  const RuleSet ab{{ab_rule}}, ba{{ba_rule}}, ab_off{{OneRule("ab", "b")}};
  const std::string v = Write(*a_, "k", "data", {{"team", "x"}});
  PassStats s1, s2;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s1).ok());
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, s2).ok());
  EXPECT_EQ(s1.tags_synced.load() + s2.tags_synced.load(), 0u);
  const std::string replica = History(*b_, "k").back().second.version_id;

  ASSERT_TRUE(a_->PutVersionTags("k", v, {{"team", "y"}}, {}).ok());
  PassStats off;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab_off, off).ok());  // the option off: nothing
  EXPECT_EQ(off.tags_synced.load(), 0u);
  EXPECT_EQ(b_->StatVersion("k", replica, true, {})->tags, (storage::Tags{{"team", "x"}}));
  PassStats s3;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s3).ok());
  EXPECT_EQ(s3.tags_synced.load(), 1u);
  EXPECT_EQ(b_->StatVersion("k", replica, true, {})->tags, (storage::Tags{{"team", "y"}}));

  b_->ResetCounts();
  PassStats quiet_ab, quiet_ba;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, quiet_ab).ok());
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, quiet_ba).ok());
  EXPECT_EQ(quiet_ab.tags_synced.load() + quiet_ba.tags_synced.load(), 0u);
  EXPECT_EQ(b_->counts().tag_puts, 0);

  ASSERT_TRUE(b_->PutVersionTags("k", replica, {{"team", "z"}, {"new", "1"}}, {}).ok());
  PassStats s4;
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, s4).ok());
  EXPECT_EQ(s4.tags_synced.load(), 1u);
  EXPECT_EQ(a_->StatVersion("k", v, true, {})->tags,
            (storage::Tags{{"team", "z"}, {"new", "1"}}));
  PassStats s5;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s5).ok());  // agreed: nothing flows back
  EXPECT_EQ(s5.tags_synced.load(), 0u);
}

TEST_F(PassTest, DeleteMarkersFollowTheRuleAndVersionDeletesNever) {
  Write(*a_, "gone", "x");
  Write(*a_, "kept", "y");
  const std::string kept_v2 = Write(*a_, "kept", "y2");
  clock_.SleepFor(std::chrono::seconds(1), {});
  ASSERT_TRUE(a_->AddDeleteMarker("gone", {}).ok());
  Rule with = OneRule("with", "b");
  with.delete_markers = true;
  Rule without = OneRule("without", "c");
  auto c = NewBackend("c");
  PassOptions o;
  RuleSet rules{{with, without}};
  rules.rules[1].priority = 1;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations = {{"b", b_.get()}, {"c", c.get()}};
  o.rules = &rules;
  o.store = store_.get();
  o.clock = &clock_;
  o.executor = &ferry::testing::TestExecutor();
  PassStats stats;
  ASSERT_TRUE(RunPass(o, stats, {}).ok());
  EXPECT_EQ(stats.delete_markers.load(), 1u);
  EXPECT_EQ(b_->Stat("gone", false, {}).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(c->Stat("gone", false, {}).ok());
  // A permanent delete of one version at the source is not replicated.
  ASSERT_TRUE(a_->DeleteVersion("kept", kept_v2, {}).ok());
  PassStats again;
  ASSERT_TRUE(RunPass(o, again, {}).ok());
  EXPECT_EQ(History(*b_, "kept").size(), 2u);
  EXPECT_EQ(History(*c, "kept").size(), 2u);
}

// A marker replicated to a destination that keeps no versions deletes the key there; when the
// source then removes the marker (an undelete), the version current again is written again.
// Before, the key stayed deleted at the destination forever.
TEST_F(PassTest, AnUndeleteReachesADestinationWithoutVersions) {
  Write(*a_, "k", "alive");
  auto plain = NewBackend("plain", /*versioned=*/false);
  Rule rule = OneRule("r", "plain");
  rule.delete_markers = true;
  const RuleSet rules{{rule}};
  PassStats s1, s2, s3, s4;
  ASSERT_TRUE(Pass(*a_, "a", *plain, "plain", rules, s1).ok());
  clock_.SleepFor(std::chrono::seconds(1), {});
  auto marker = a_->AddDeleteMarker("k", {});
  ASSERT_TRUE(marker.ok());
  ASSERT_TRUE(Pass(*a_, "a", *plain, "plain", rules, s2).ok());
  EXPECT_EQ(plain->Stat("k", false, {}).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(a_->DeleteVersion("k", marker->version_id, {}).ok());  // the undelete
  clock_.SleepFor(std::chrono::seconds(1), {});
  ASSERT_TRUE(Pass(*a_, "a", *plain, "plain", rules, s3).ok());
  EXPECT_EQ(s3.replicated.load(), 1u);
  std::vector<std::byte> data(5);
  ASSERT_TRUE(plain->ReadAt("k", 0, data, "", {}).ok());
  EXPECT_EQ(data, Bytes("alive"));
  ASSERT_TRUE(Pass(*a_, "a", *plain, "plain", rules, s4).ok());
  EXPECT_EQ(s4.replicated.load(), 0u);  // once
}

TEST_F(PassTest, ReplicasAreNeverReplicatedBack) {
  Write(*a_, "k", "from a");
  const RuleSet ab{{OneRule("ab", "b")}}, ba{{OneRule("ba", "a")}};
  ASSERT_TRUE(b_->AddDeleteMarker("m", {}).ok());  // an original marker at b
  Write(*a_, "m2", "x");
  clock_.SleepFor(std::chrono::seconds(1), {});
  ASSERT_TRUE(a_->AddDeleteMarker("m2", {}).ok());
  RuleSet ab_markers = ab;
  ab_markers.rules[0].delete_markers = true;
  RuleSet ba_markers = ba;
  ba_markers.rules[0].delete_markers = true;
  PassStats s1, s2;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab_markers, s1).ok());
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba_markers, s2).ok());
  EXPECT_EQ(s2.replicas.load(), 3u);  // k, m2's version and m2's marker
  EXPECT_EQ(s2.replicated.load(), 1u);  // b's own marker "m"
  EXPECT_EQ(History(*a_, "k").size(), 1u);
  EXPECT_EQ(History(*a_, "m2").size(), 2u);
  auto counts = *store_->Counts("b");
  bool replica_rows = false;
  for (const StatusCount& c : counts) replica_rows |= c.state == VersionState::kReplica;
  EXPECT_TRUE(replica_rows);
}

// Fail-back: a replica copied back to its origin by any tool, metadata and all, is an original
// there again. Before, its replica marks made every later pass take it for a replica, and it
// was never replicated to any destination again. Replica marks of another origin still make a
// replica (never sent back), and so does a copy a two-way pass kept current.
TEST_F(PassTest, AReplicaCopiedBackToItsOriginIsAnOriginalThere) {
  Write(*a_, "k", "from a");
  const RuleSet ab{{OneRule("ab", "b")}};
  PassStats s1;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s1).ok());
  // a loses the key; b's replica is copied back with its metadata (aws s3 cp, rclone, ...)
  auto back = History(*b_, "k");
  ASSERT_EQ(back.size(), 1u);
  storage::WriteSpec spec;
  spec.size = back[0].first.size();
  spec.metadata = back[0].second.metadata;
  ASSERT_EQ(spec.metadata.at(kMetaReplicaOrigin), "a");
  ASSERT_TRUE(a_->Put("k", Bytes(back[0].first), spec, {}).ok());
  auto c = NewBackend("c");
  const RuleSet ac{{OneRule("ac", "c")}};
  PassStats s2;
  ASSERT_TRUE(Pass(*a_, "a", *c, "c", ac, s2).ok());
  EXPECT_EQ(s2.replicas.load(), 0u);
  EXPECT_EQ(s2.replicated.load(), 2u);  // the first write and the copy back
  auto at_c = History(*c, "k");
  ASSERT_EQ(at_c.size(), 2u);
  EXPECT_EQ(at_c[1].first, "from a");
  // marked as a's own newest write: its own version and time, not the copied marks
  const std::string newest_at_a = History(*a_, "k").back().second.version_id;
  EXPECT_EQ(at_c[1].second.metadata.at(kMetaReplicaVersion), newest_at_a);
  // what b holds is still a replica there (origin a): never sent back
  const Connected abc{"a", "b", "c"};
  EXPECT_TRUE(IsReplica(back[0].second, "b", abc));
  EXPECT_FALSE(IsReplica(back[0].second, "a", abc));
  ObjectInfo kept = back[0].second;
  kept.metadata[kMetaReplicaKept] = "1";
  EXPECT_TRUE(IsReplica(kept, "a", abc));
}

TEST_F(PassTest, TwoWayConvergesOnTheLatestOriginalWrite) {
  const RuleSet ab{{OneRule("ab", "b")}}, ba{{OneRule("ba", "a")}};
  Write(*a_, "x", "a first");   // older
  Write(*b_, "x", "b later");   // newer
  Write(*b_, "y", "b first");
  Write(*a_, "y", "a later");
  for (int round = 0; round < 2; ++round) {
    PassStats s1, s2;
    ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s1).ok());
    ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, s2).ok());
  }
  for (const char* key : {"x", "y"}) {
    std::vector<std::byte> da(16), db(16);
    auto ia = a_->ReadObject(key, std::span(da).first(a_->Stat(key, false, {})->size), "", {});
    auto ib = b_->ReadObject(key, std::span(db).first(b_->Stat(key, false, {})->size), "", {});
    ASSERT_TRUE(ia.ok() && ib.ok());
    EXPECT_EQ(ia->size, ib->size) << key;
    EXPECT_EQ(da, db) << key;
  }
  std::vector<std::byte> x(7);
  ASSERT_TRUE(a_->ReadAt("x", 0, x, "", {}).ok());
  EXPECT_EQ(x, Bytes("b later"));
  std::vector<std::byte> y(7);
  ASSERT_TRUE(b_->ReadAt("y", 0, y, "", {}).ok());
  EXPECT_EQ(y, Bytes("a later"));
  // No replica of a replica: a side holds each original of the other side at most once, and
  // its replicas of its own originals (kept current) name an original it holds.
  for (auto* m : {a_.get(), b_.get()}) {
    const std::string self = m == a_.get() ? "a" : "b";
    for (const char* key : {"x", "y"}) {
      std::set<std::string> originals, from_other;
      auto history = History(*m, key);
      for (const auto& [data, info] : history) {
        if (!IsReplica(info, self, {"a", "b"})) originals.insert(info.version_id);
      }
      for (const auto& [data, info] : history) {
        if (!IsReplica(info, self, {"a", "b"})) continue;
        const std::string& version = info.metadata.at(kMetaReplicaVersion);
        if (info.metadata.at(kMetaReplicaOrigin) == self) {
          EXPECT_TRUE(originals.count(version)) << self << " " << key << " " << data;
        } else {
          EXPECT_TRUE(from_other.insert(version).second) << self << " " << key << " " << data;
        }
      }
    }
  }
}

// Seconds order writes: a write of a that lands after b's replica reached a, in the same second,
// is ordered before b's write ("a" < "b" breaks the tie). The pass a -> b then keeps b's write
// current at b and must make it current at a as well, or each side keeps its own forever.
TEST_F(PassTest, TwoWayConvergesWhenTheLaterArrivalIsOrderedFirst) {
  concurrency_ = 1;
  const RuleSet ab{{OneRule("ab", "b")}}, ba{{OneRule("ba", "a")}};
  Write(*b_, "k", "b write");
  PassStats s0;
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, s0).ok());  // b's write reaches a
  ASSERT_EQ(s0.replicated.load(), 1u);
  Write(*a_, "k", "a write", {}, /*same_second=*/true);  // current at a, ordered before b's
  PassStats s1, s2;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s1).ok());
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, s2).ok());
  EXPECT_EQ(s1.replicated.load(), 1u);
  EXPECT_EQ(s1.restored.load(), 2u);  // at b, and at a
  EXPECT_EQ(s2.replicated.load(), 0u);
  for (MemoryBackend* m : {a_.get(), b_.get()}) {
    std::vector<std::byte> data(7);
    ASSERT_EQ(m->Stat("k", false, {})->size, 7u);
    ASSERT_TRUE(m->ReadAt("k", 0, data, "", {}).ok());
    EXPECT_EQ(data, Bytes("b write")) << (m == a_.get() ? "a" : "b");
  }
  // A third round changes nothing: converged, and no replica of a replica is made.
  PassStats s3, s4;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", ab, s3).ok());
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, s4).ok());
  EXPECT_EQ(s3.replicated.load() + s3.restored.load(), 0u);
  EXPECT_EQ(s4.replicated.load() + s4.restored.load(), 0u);
}

// A user's write at b covered a moment later by a replica ordered before it (a pass keeping an
// older version current raced the write): the pass b -> a, which replicates the write, finds b's
// current version ordered before it and makes the write current at b again.
TEST_F(PassTest, TwoWayHealsAWriteCoveredByAnEarlierReplica) {
  concurrency_ = 1;
  const RuleSet ba{{OneRule("ba", "a")}};
  Write(*a_, "k", "a old");
  const ObjectInfo a_old = *a_->Stat("k", true, {});
  Write(*b_, "k", "b newest");
  {  // the stale copy: a replica of a's older write, made current at b after b's write
    clock_.SleepFor(std::chrono::milliseconds(10), {});
    storage::WriteSpec spec;
    spec.size = 5;
    MarkReplica(a_old, "a", {"a", "b"}, spec.metadata);
    ASSERT_TRUE(b_->Put("k", Bytes("a old"), spec, {}).ok());
  }
  PassStats stats;
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", ba, stats).ok());
  EXPECT_EQ(stats.replicated.load(), 1u);  // b's write reached a, and is current there
  EXPECT_EQ(stats.replicas.load(), 1u);
  EXPECT_GE(stats.restored.load(), 1u);    // ... and at b again
  for (MemoryBackend* m : {a_.get(), b_.get()}) {
    std::vector<std::byte> data(8);
    ASSERT_EQ(m->Stat("k", false, {})->size, 8u) << (m == a_.get() ? "a" : "b");
    ASSERT_TRUE(m->ReadAt("k", 0, data, "", {}).ok());
    EXPECT_EQ(data, Bytes("b newest")) << (m == a_.get() ? "a" : "b");
  }
}

TEST(ReplicaOfTest, AnUnversionedOriginalMatchesOnlyByItsWriteTime) {
  ObjectInfo original;
  original.mtime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795369951916));
  std::map<std::string, std::string> marks;
  MarkReplica(original, "a", {"a"}, marks);
  ASSERT_EQ(marks.at(kMetaReplicaVersion), "null");
  EXPECT_TRUE(IsReplicaOf(marks, marks));
  auto earlier = marks;
  earlier[kMetaReplicaTime] = "1795369950.100";
  EXPECT_FALSE(IsReplicaOf(earlier, marks));
  auto whole_seconds = marks;  // an older replica's time
  whole_seconds[kMetaReplicaTime] = "1795369951";
  EXPECT_TRUE(IsReplicaOf(whole_seconds, marks));
  auto elsewhere = marks;
  elsewhere[kMetaReplicaOrigin] = "b";
  EXPECT_FALSE(IsReplicaOf(elsewhere, marks));
  // a versioned original: its version id decides
  original.version_id = "v1";
  std::map<std::string, std::string> versioned;
  MarkReplica(original, "a", {"a"}, versioned);
  auto other_time = versioned;
  other_time[kMetaReplicaTime] = "1.000";
  EXPECT_TRUE(IsReplicaOf(other_time, versioned));
}

TEST(WriteOrderTest, MillisecondsFromListingsAndReplicaMetadata) {
  ObjectInfo original;
  original.version_id = "v1";
  original.mtime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795369951007));
  const Connected bc{"ra:b/", "rb:c/"};
  EXPECT_EQ(OrderOf(original, "ra:b/", bc).time_ms, 1795369951007);
  std::map<std::string, std::string> meta;
  MarkReplica(original, "ra:b/", bc, meta);
  EXPECT_EQ(meta.at(kMetaReplicaTime), "1795369951.007");
  ObjectInfo replica;
  replica.metadata = meta;
  EXPECT_EQ(OrderOf(replica, "rb:c/", bc), OrderOf(original, "ra:b/", bc));
  replica.metadata[kMetaReplicaTime] = "1795369951";  // written by an older ferry
  EXPECT_EQ(OrderOf(replica, "rb:c/", bc).time_ms, 1795369951000);
  replica.metadata[kMetaReplicaTime] = "1795369951.9";
  EXPECT_EQ(OrderOf(replica, "rb:c/", bc).time_ms, 1795369951900);
}

TEST_F(PassTest, LatestModeAndExistingObjectsOff) {
  Write(*a_, "k", "old");
  Write(*a_, "k", "new");
  Rule latest = OneRule("latest", "b");
  latest.versions = VersionsMode::kLatest;
  RuleSet rules{{latest}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first, "new");

  auto c = NewBackend("c");
  Rule fresh = OneRule("fresh", "c");
  fresh.existing_objects = false;
  RuleSet only_new{{fresh}};
  PassStats s1;
  ASSERT_TRUE(Pass(*a_, "a", *c, "c", only_new, s1).ok());  // the rule is first seen now
  EXPECT_EQ(s1.replicated.load(), 0u);
  Write(*a_, "k", "newest");
  PassStats s2;
  ASSERT_TRUE(Pass(*a_, "a", *c, "c", only_new, s2).ok());
  EXPECT_EQ(s2.replicated.load(), 1u);
  ASSERT_EQ(History(*c, "k").size(), 1u);
  EXPECT_EQ(History(*c, "k")[0].first, "newest");
}

TEST_F(PassTest, AFailureHoldsBackLaterVersionsUntilRetried) {
  Write(*a_, "k", "v1");
  Write(*a_, "k", "v2");
  Write(*a_, "other", "o");
  concurrency_ = 1;  // keys in listing order: the failed write is k's first version
  b_->FailNext(MemoryBackend::kPut, 1, Status::PermissionDenied("denied by test"));
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.failed.load(), 2u);  // the first write, and v2 held back
  EXPECT_EQ(stats.replicated.load(), 1u);
  auto failed = *store_->Rows("a", VersionState::kFailed);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].key, "k");
  PassStats retry;
  options_.retry_failed_only = true;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, retry).ok());
  EXPECT_EQ(retry.replicated.load(), 2u);
  EXPECT_EQ(retry.already.load(), 0u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].first, "v1");
  EXPECT_EQ(h[1].first, "v2");
  EXPECT_TRUE(store_->Rows("a", VersionState::kFailed)->empty());
}

// A version that cannot be read for reasons of its own (archived, a key the reader may not use)
// does not hold back the key's newer versions, as S3 replicates each version on its own. Once
// readable it is written late, and the newest version is made current again. Before, every
// newer version waited on it forever.
TEST_F(PassTest, AVersionThatCannotBeReadDoesNotHoldBackNewerOnes) {
  Write(*a_, "k", "v1");
  Write(*a_, "k", "v2");
  concurrency_ = 1;
  a_->FailNext(MemoryBackend::kRead | MemoryBackend::kStat, 1,
               Status::PermissionDenied("the version's key may not be used"));
  RuleSet rules{{OneRule("r", "b")}};
  PassStats s1;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, s1).ok());
  EXPECT_EQ(s1.failed.load(), 1u);
  EXPECT_EQ(s1.replicated.load(), 1u);
  ASSERT_EQ(History(*b_, "k").size(), 1u);
  EXPECT_EQ(History(*b_, "k")[0].first, "v2");
  PassStats s2;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, s2).ok());
  EXPECT_EQ(s2.failed.load(), 0u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 3u);  // v2, v1 late, v2 current again
  EXPECT_EQ(h[1].first, "v1");
  EXPECT_EQ(h[2].first, "v2");
  EXPECT_TRUE(store_->Rows("a", VersionState::kFailed)->empty());
  PassStats s3;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, s3).ok());
  EXPECT_EQ(History(*b_, "k").size(), 3u);
  // a destination without versions holds the newest only: the late one is not written there
  auto plain = NewBackend("plain", /*versioned=*/false);
  const RuleSet to_plain{{OneRule("p", "plain")}};
  a_->FailNext(MemoryBackend::kRead | MemoryBackend::kStat, 1, Status::NotSupported("archived"));
  PassStats p1, p2;
  ASSERT_TRUE(Pass(*a_, "a", *plain, "plain", to_plain, p1).ok());
  ASSERT_TRUE(Pass(*a_, "a", *plain, "plain", to_plain, p2).ok());
  EXPECT_EQ(p2.replicated.load(), 0u);
  std::vector<std::byte> data(2);
  ASSERT_TRUE(plain->ReadAt("k", 0, data, "", {}).ok());
  EXPECT_EQ(data, Bytes("v2"));
}

// A source whose first reads of version bytes come back with one byte flipped (corrupted on the
// way, the reply itself fine), another bit each time: two reads corrupted on the way never come
// back alike (two reads alike are the version's own bytes: RefusedRead, copy_version.cc).
class FlippingBackend : public MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  std::atomic<int> flips{1};
  std::string flip_key;  // "" = any
  Status ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                       std::span<std::byte> out, std::stop_token stop) override {
    Status s = MemoryBackend::ReadVersionAt(key, version_id, offset, out, stop);
    Flip(key, s, out);
    return s;
  }
  Result<ObjectInfo> ReadVersionWithDetails(std::string_view key, std::string_view version_id,
                                            uint64_t offset, std::span<std::byte> out,
                                            bool with_tags, std::stop_token stop) override {
    auto r = MemoryBackend::ReadVersionWithDetails(key, version_id, offset, out, with_tags, stop);
    Flip(key, r.status(), out);
    return r;
  }

 private:
  void Flip(std::string_view key, const Status& s, std::span<std::byte> out) {
    if (!flip_key.empty() && key != flip_key) return;
    if (s.ok() && !out.empty() && flips.fetch_sub(1) > 0) {
      out[0] ^= static_cast<std::byte>(1u << (flipped.fetch_add(1) % 8));
    }
  }
  std::atomic<unsigned> flipped{0};
};

// The options of a versioned source named "flip" (a FlippingBackend) on `clock`.
MemoryBackend::Options FlipSource(Clock* clock) {
  MemoryBackend::Options o;
  o.clock = clock;
  o.versioned = true;
  o.name = "flip";
  o.endpoint = "flip";
  return o;
}

// Bytes corrupted on the way are refused by the check (nothing written) and read again, as
// sync does: the version is replicated in the same pass. Before, it failed at once (the run
// exited 1) although a fresh read was good.
TEST_F(PassTest, ACorruptedReadIsReadAgainNotFailed) {
  FlippingBackend src(FlipSource(&clock_));
  Write(src, "k", "the bytes of v1");
  Write(src, "big", std::string(3 << 20, 'x'));
  for (int flips : {1, 2}) {
    src.flips = flips;
    auto dst = NewBackend("d" + std::to_string(flips));
    RuleSet rules{{OneRule("r", "d" + std::to_string(flips))}};
    PassStats stats;
    ASSERT_TRUE(Pass(src, "flip", *dst, "d" + std::to_string(flips), rules, stats).ok());
    EXPECT_EQ(stats.failed.load(), 0u) << flips;
    EXPECT_EQ(stats.replicated.load(), 2u) << flips;
    ASSERT_EQ(History(*dst, "k").size(), 1u);
    EXPECT_EQ(History(*dst, "k")[0].first, "the bytes of v1");
  }
}

// A multipart source version that declares no CRC32C (written by another tool): its parts are
// read in the source's part layout and their MD5 digest checked against its ETag. A flipped
// byte in a part is read again and never written; a layout no common part size reproduces is
// replicated once the same bytes were read twice, and counted unverified. Before, a flipped
// byte in a part was written to the destination and the pass reported success.
TEST_F(PassTest, AMultipartVersionIsProvenByItsEtag) {
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  concurrency_ = 1;
  FlippingBackend src(FlipSource(&clock_));
  src.flips = 0;
  auto write_parts = [&](const std::string& key, const std::string& data, uint64_t part) {
    storage::WriteSpec spec;
    spec.size = data.size();
    auto writer = src.OpenChunkWriter(key, spec, part, {});
    ASSERT_TRUE(writer.ok());
    for (uint64_t offset = 0, n = 1; offset < data.size(); offset += part, ++n) {
      const std::string_view chunk = std::string_view(data).substr(offset, part);
      ASSERT_TRUE((*writer)->WriteChunk(static_cast<int>(n), offset, Bytes(chunk), {}).ok());
    }
    ASSERT_TRUE((*writer)->Commit({}).ok());
  };
  std::string common(12u << 20, 'c'), odd(12u << 20, 'o');
  for (size_t i = 0; i < common.size(); i += 4099) common[i] = static_cast<char>('A' + i % 23);
  for (size_t i = 0; i < odd.size(); i += 4111) odd[i] = static_cast<char>('a' + i % 19);
  write_parts("common", common, 5u << 20);  // 3 parts of the likeliest size
  write_parts("odd", odd, 6u << 20);        // 2 parts: no common size makes its ETag
  src.flip_key = "common";
  src.flips = 1;
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(src, "flip", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.failed.load(), 0u);
  EXPECT_EQ(stats.replicated.load(), 2u);
  EXPECT_EQ(stats.unverified.load(), 1u);
  ASSERT_EQ(History(*b_, "common").size(), 1u);
  EXPECT_TRUE(History(*b_, "common")[0].first == common) << "the flipped byte was written";
  ASSERT_EQ(History(*b_, "odd").size(), 1u);
  EXPECT_TRUE(History(*b_, "odd")[0].first == odd);
}

// A version above the multipart threshold written in one PUT by another tool (a plain MD5 ETag,
// no CRC32C) is copied in parts and checked against its MD5 as sync's copies are
// (transfer::CheckParts: the parts read again in order): a byte flipped on the way is read again
// and never written, and nothing is counted unverified. Before, replication's own chunked copy
// checked nothing but a declared CRC32C: the flipped byte was written and the pass succeeded.
TEST_F(PassTest, ALargeVersionIsProvenByItsMd5Etag) {
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  concurrency_ = 1;
  FlippingBackend src(FlipSource(&clock_));
  src.flips = 0;
  std::string data(12u << 20, 'm');
  for (size_t i = 0; i < data.size(); i += 4093) data[i] = static_cast<char>('A' + i % 29);
  storage::WriteSpec spec;
  spec.size = data.size();
  ASSERT_TRUE(src.Put("one-put", Bytes(data), spec, {}).ok());
  Result<ObjectInfo> listed = src.Stat("one-put", false, {});
  ASSERT_TRUE(listed.ok());
  ASSERT_TRUE(listed->etag_is_md5()) << listed->etag;
  ASSERT_FALSE(listed->crc32c().has_value());
  src.flip_key = "one-put";
  src.flips = 1;  // the first part of the first attempt: the check's second read differs
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(src, "flip", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.failed.load(), 0u);
  EXPECT_EQ(stats.replicated.load(), 1u);
  EXPECT_EQ(stats.unverified.load(), 0u);
  ASSERT_EQ(History(*b_, "one-put").size(), 1u);
  EXPECT_TRUE(History(*b_, "one-put")[0].first == data) << "the flipped byte was written";
}

// A journal that calls `on_part` after each part it records.
class TrippingJournal : public transfer::testing::MemoryJournal {
 public:
  Status PartDone(const Part& part) override {
    Status s = MemoryJournal::PartDone(part);
    if (on_part) on_part(part.part_number);
    return s;
  }
  std::function<void(int)> on_part;
};

// A large version whose chunked write was interrupted (its job's lease lost, its worker
// stopped: a part's write cancelled) keeps its upload, and the next attempt with the same
// journal sends only the parts that are missing: the parts written are adopted, not read and
// sent again, and the replica is the version byte for byte. Before, replication had no journal:
// every interruption sent the whole version again.
TEST_F(PassTest, AnInterruptedChunkedWriteResumesWithThePartsWritten) {
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  concurrency_ = 1;  // parts one after another: the interruption falls right after part 3
  std::string data(38u << 20, 'v');  // 8 parts of 5 MiB, the last one 3 MiB
  for (size_t i = 0; i < data.size(); i += 4093) data[i] = static_cast<char>('A' + i % 29);
  Write(*a_, "big", data);
  auto journal = std::make_shared<TrippingJournal>();
  journal->on_part = [&](int part) {
    if (part == 3) b_->FailNext(MemoryBackend::kWriteChunk, 1, Status::Cancelled("lease lost"));
  };
  options_.journal = [&](const std::string& destination, const std::string& key) {
    EXPECT_EQ(destination, "b");
    EXPECT_EQ(key, "big");
    return journal;
  };
  RuleSet rules{{OneRule("r", "b")}};
  PassStats first;
  (void)Pass(*a_, "a", *b_, "b", rules, first);
  EXPECT_EQ(first.replicated.load(), 0u);
  EXPECT_EQ(b_->counts().parts, 4);   // three written, the fourth cancelled
  EXPECT_EQ(b_->counts().aborts, 0);  // the upload is kept for the next attempt
  ASSERT_TRUE(journal->upload_.has_value());
  EXPECT_EQ(journal->upload_->parts.size(), 3u);
  EXPECT_TRUE(History(*b_, "big").empty());

  journal->on_part = nullptr;
  b_->ResetCounts();
  PassStats second;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, second).ok());
  EXPECT_EQ(second.replicated.load(), 1u);
  EXPECT_EQ(second.failed.load(), 0u);
  EXPECT_EQ(second.parts_resumed.load(), 3u);
  EXPECT_EQ(second.bytes_resumed.load(), uint64_t{15} << 20);
  EXPECT_EQ(b_->counts().writers_resumed, 1);
  EXPECT_EQ(b_->counts().writers_opened, 0);
  EXPECT_EQ(b_->counts().parts, 5);  // parts 4-8 only
  EXPECT_EQ(b_->counts().bytes_written, uint64_t{23} << 20);
  EXPECT_FALSE(journal->upload_.has_value()) << "committed: the journal is cleared";
  ASSERT_EQ(History(*b_, "big").size(), 1u);
  EXPECT_TRUE(History(*b_, "big")[0].first == data);
}

// A chunked write that fails for good (not cancelled) aborts its upload and clears its journal:
// a version recorded FAILED ends its job, and nothing would ever resume the upload.
TEST_F(PassTest, AChunkedWriteThatFailsAbortsItsUpload) {
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  concurrency_ = 1;
  Write(*a_, "big", std::string(12u << 20, 'w'));
  auto journal = std::make_shared<TrippingJournal>();
  journal->on_part = [&](int part) {
    if (part == 1) b_->FailNext(MemoryBackend::kWriteChunk, 1, Status::PermissionDenied("no"));
  };
  options_.journal = [&](const std::string&, const std::string&) { return journal; };
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  (void)Pass(*a_, "a", *b_, "b", rules, stats);
  EXPECT_EQ(stats.failed.load(), 1u);
  EXPECT_EQ(b_->counts().aborts, 1);
  EXPECT_EQ(b_->open_writers(), 0);
  EXPECT_FALSE(journal->upload_.has_value());
}

// Key locks (durable passes): a key another job holds is left alone and counted busy; a key
// whose lock is taken has its rows read again first, so a version another job finished between
// the batch's read and the lock is not written twice. A replicated key takes no lock at all.
TEST_F(PassTest, AKeyIsWrittenOnlyUnderItsLockWithItsRowsReadAgain) {
  const std::string v1 = Write(*a_, "held", "held by another job");
  const std::string v2 = Write(*a_, "raced", "finished by another job meanwhile");
  Write(*a_, "free", "nobody else on it");
  RuleSet rules{{OneRule("r", "b")}};
  std::vector<std::string> locked, unlocked;
  std::mutex mu;
  options_.lock_key = [&](const std::string& key) -> Result<bool> {
    std::lock_guard lock(mu);
    locked.push_back(key);
    if (key == "held") return false;
    if (key == "raced") {  // another job wrote it and recorded it just before
      LandReplica("raced", v2);
      VersionStatus done;
      done.source = "a";
      done.rule = "r";
      done.destination = "b";
      done.key = "raced";
      done.source_version = v2;
      done.state = VersionState::kCompleted;
      auto landed = b_->Stat("raced", false, {});
      done.dest_version = landed.ok() ? landed->version_id : "";
      EXPECT_TRUE(store_->Record(done).ok());
    }
    return true;
  };
  options_.unlock_key = [&](const std::string& key) {
    std::lock_guard lock(mu);
    unlocked.push_back(key);
  };
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.busy.load(), 1u);
  EXPECT_EQ(stats.replicated.load(), 1u);  // "free" only
  EXPECT_EQ(stats.already.load(), 1u);     // "raced", seen done once its rows were read again
  EXPECT_TRUE(History(*b_, "held").empty());
  EXPECT_EQ(History(*b_, "raced").size(), 1u) << "written once, by the other job";
  EXPECT_EQ(History(*b_, "free").size(), 1u);
  std::sort(locked.begin(), locked.end());
  std::sort(unlocked.begin(), unlocked.end());
  EXPECT_EQ(locked, (std::vector<std::string>{"free", "held", "raced"}));
  EXPECT_EQ(unlocked, (std::vector<std::string>{"free", "raced"}));
  // a second pass: every key of b is done but "held": only it takes the lock
  locked.clear();
  PassStats again;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, again).ok());
  EXPECT_EQ(locked, std::vector<std::string>{"held"});
  (void)v1;
}

// A version on its way in another archive (its unpack job dead, say, until a redrive) holds
// back the key's newer versions: written first, they would be covered by it when it lands.
TEST_F(PassTest, AVersionInTransitHoldsBackNewerOnes) {
  const std::string v1 = Write(*a_, "k", "v1");
  Write(*a_, "k", "v2");
  RecordPending("k", v1, std::chrono::seconds(60));
  bool in_transit = true;
  options_.in_transit = [&](const VersionStatus&) -> Result<bool> { return in_transit; };
  RuleSet rules{{OneRule("r", "b")}};
  PassStats s1;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, s1).ok());
  EXPECT_EQ(s1.replicated.load(), 0u);
  EXPECT_TRUE(History(*b_, "k").empty());
  auto failed = *store_->Rows("a", VersionState::kFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].message.find("on its way"), std::string::npos) << failed[0].message;
  // the archive lands v1; the next pass writes v2 after it
  LandReplica("k", v1);
  in_transit = false;
  PassStats s2;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, s2).ok());
  EXPECT_EQ(s2.recovered.load(), 1u);
  EXPECT_EQ(s2.replicated.load(), 1u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].first, "v1");
  EXPECT_EQ(h[1].first, "v2");
}

TEST_F(PassTest, PendingWriteFoundAtTheDestinationIsNotWrittenAgain) {
  const std::string v = Write(*a_, "k", "data");
  RuleSet rules{{OneRule("r", "b")}};
  PassStats first;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, first).ok());
  // As if the process died after writing, before recording COMPLETED.
  VersionStatus pending;
  pending.source = "a";
  pending.rule = "r";
  pending.destination = "b";
  pending.key = "k";
  pending.source_version = v;
  pending.state = VersionState::kPending;
  ASSERT_TRUE(store_->Record(pending).ok());
  const int puts = b_->counts().puts;
  PassStats again;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, again).ok());
  EXPECT_EQ(again.recovered.load(), 1u);
  EXPECT_EQ(b_->counts().puts, puts);
  EXPECT_EQ(History(*b_, "k").size(), 1u);
}

// A write recorded FAILED may have landed all the same (cancelled when its job lost its lease,
// after the server had the whole body): the next pass looks for it before writing again, as
// for a PENDING row. Before, it wrote the version a second time (replicate_durable_test).
TEST_F(PassTest, FailedWriteFoundAtTheDestinationIsNotWrittenAgain) {
  const std::string v = Write(*a_, "k", "data");
  RuleSet rules{{OneRule("r", "b")}};
  PassStats first;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, first).ok());
  RecordPending("k", v, std::chrono::seconds(60), VersionState::kFailed);
  const int puts = b_->counts().puts;
  PassStats again;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, again).ok());
  EXPECT_EQ(again.recovered.load(), 1u);
  EXPECT_EQ(b_->counts().puts, puts);
  EXPECT_EQ(History(*b_, "k").size(), 1u);
}

// kWriteInFlightGrace: a PENDING row younger than 10 s may have its write still in flight.
TEST_F(PassTest, RecentPendingWriteLandingDuringTheGraceIsNotWrittenAgain) {
  const std::string v = Write(*a_, "k", "data");
  RecordPending("k", v, std::chrono::seconds(3));
  // Not at b when the pass first looks; the dead process's write lands while it waits.
  clock_.on_sleep = [&] { LandReplica("k", v); };
  const size_t sleeps = clock_.sleeps().size();
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(WaitsSince(sleeps), (std::vector<std::chrono::milliseconds>{std::chrono::seconds(7)}));
  EXPECT_EQ(stats.recovered.load(), 1u);
  EXPECT_EQ(stats.replicated.load(), 0u);
  EXPECT_EQ(b_->counts().puts, 1);  // the landed write only
  EXPECT_EQ(History(*b_, "k").size(), 1u);
  auto done = *store_->Rows("a", VersionState::kCompleted);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].dest_version, History(*b_, "k")[0].second.version_id);
}

TEST_F(PassTest, RecentPendingWriteThatNeverLandsIsWrittenOnceAfterTheGrace) {
  const std::string v = Write(*a_, "k", "data");
  RecordPending("k", v, std::chrono::seconds(4));
  const size_t sleeps = clock_.sleeps().size();
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(WaitsSince(sleeps), (std::vector<std::chrono::milliseconds>{std::chrono::seconds(6)}));
  EXPECT_EQ(stats.recovered.load(), 0u);
  EXPECT_EQ(stats.replicated.load(), 1u);
  EXPECT_EQ(b_->counts().puts, 1);
  EXPECT_EQ(History(*b_, "k").size(), 1u);
}

// A chunked write's commit on S3 completes the upload (version 1, without ferry-crc32c), copies
// it onto itself with the CRC learnt while streaming (version 2) and deletes version 1. A process
// killed between the copy and the delete leaves both: the next attempt finds its replica (the
// stamped one) and deletes the unstamped first version as the commit would have, so the source
// version is at the destination once. (Seen after SIGKILLs of ferry serve: 25 versions at the
// destination for 24 keys.)
TEST_F(PassTest, AnInterruptedStampedCommitLeavesOneVersion) {
  const std::string v = Write(*a_, "k", "large version written in parts");
  RecordPending("k", v, std::chrono::seconds(60));
  LandReplica("k", v);                                   // completed upload
  LandReplica("k", v, {{storage::kMetaCrc32c, "0badf00d"}});  // its stamped copy
  const std::string stamped = History(*b_, "k").back().second.version_id;
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.recovered.load(), 1u);
  EXPECT_EQ(stats.replicated.load(), 0u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 1u) << "the interrupted commit's first version is left";
  EXPECT_EQ(h[0].second.version_id, stamped);
  auto done = *store_->Rows("a", VersionState::kCompleted);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].dest_version, stamped);
}

// Only the unstamped twin right below the replica goes: an earlier replica of the same source
// version with another version between them (a kept copy history), or two stamped ones, stay.
TEST_F(PassTest, RecoveryDeletesNothingButAnInterruptedCommitsTwin) {
  const std::string v = Write(*a_, "k", "the version");
  const std::string other = Write(*a_, "o", "another key's bytes");
  RecordPending("k", v, std::chrono::seconds(60));
  LandReplica("k", v);
  {
    storage::WriteSpec spec;
    spec.size = 5;
    ASSERT_TRUE(b_->Put("k", std::as_bytes(std::span("other", 5)), spec, {}).ok());
  }
  LandReplica("k", v, {{storage::kMetaCrc32c, "0badf00d"}});
  RecordPending("o", other, std::chrono::seconds(60));
  LandReplica("o", other, {{storage::kMetaCrc32c, "00000001"}});
  LandReplica("o", other, {{storage::kMetaCrc32c, "00000001"}});
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.recovered.load(), 2u);
  EXPECT_EQ(History(*b_, "k").size(), 3u);
  EXPECT_EQ(History(*b_, "o").size(), 2u);
}

TEST_F(PassTest, PendingRowOlderThanTheGraceIsNotWaitedFor) {
  const std::string v = Write(*a_, "k", "data");
  RecordPending("k", v, std::chrono::seconds(11));
  const size_t sleeps = clock_.sleeps().size();
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_TRUE(WaitsSince(sleeps).empty());
  EXPECT_EQ(stats.replicated.load(), 1u);
  EXPECT_EQ(b_->counts().puts, 1);
}

TEST_F(PassTest, UnversionedSourceReplicatesRewrites) {
  auto plain = NewBackend("plain", /*versioned=*/false);
  Write(*plain, "k", "one");
  RuleSet rules{{OneRule("r", "b")}};
  PassStats s1, s2, s3;
  ASSERT_TRUE(Pass(*plain, "plain", *b_, "b", rules, s1).ok());
  EXPECT_EQ(s1.replicated.load(), 1u);
  ASSERT_TRUE(Pass(*plain, "plain", *b_, "b", rules, s2).ok());
  EXPECT_EQ(s2.replicated.load(), 0u);
  Write(*plain, "k", "two");
  ASSERT_TRUE(Pass(*plain, "plain", *b_, "b", rules, s3).ok());
  EXPECT_EQ(s3.replicated.load(), 1u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].first, "two");
}

// An unversioned source's rewrite whose first write failed: the replica of the earlier bytes
// carries the same origin and version ("null") and must not be taken for the rewrite's. Before,
// the next pass recorded the rewrite COMPLETED against it and the destination kept the old bytes.
TEST_F(PassTest, UnversionedRewriteWhoseWriteFailedIsNotTakenForTheOldReplica) {
  auto plain = NewBackend("plain", /*versioned=*/false);
  Write(*plain, "k", "one");
  RuleSet rules{{OneRule("r", "b")}};
  PassStats s1, s2, s3;
  ASSERT_TRUE(Pass(*plain, "plain", *b_, "b", rules, s1).ok());
  Write(*plain, "k", "two");
  b_->FailNext(MemoryBackend::kPut, 1, Status::Unavailable("reset by test"));
  ASSERT_TRUE(Pass(*plain, "plain", *b_, "b", rules, s2).ok());
  EXPECT_EQ(s2.failed.load(), 1u);
  ASSERT_TRUE(Pass(*plain, "plain", *b_, "b", rules, s3).ok());
  EXPECT_EQ(s3.recovered.load(), 0u);
  EXPECT_EQ(s3.replicated.load(), 1u);
  auto h = History(*b_, "k");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].first, "two");
  auto done = *store_->Rows("plain", VersionState::kCompleted);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].dest_version, h[1].second.version_id);
}

// The pass's keys run on the executor it is given, and every version byte it holds is a buffer
// of that executor's pool: with a 16 MiB budget, twelve keys of 4 MiB versions and two of 24 MiB
// (chunked in 5 MiB parts) never hold more than the budget at once. Before, each key read its
// whole version into a vector of its own (about 1 GiB per job at 16 keys of 64 MiB).
TEST_F(PassTest, VersionBytesStayWithinTheExecutorsBudget) {
  const uint64_t budget = 16ull << 20;
  transfer::ExecutorOptions eo;
  eo.concurrency = 8;
  eo.memory_budget = budget;
  transfer::Executor executor(eo);
  options_.executor = &executor;
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  std::map<std::string, std::string> written;
  for (int i = 0; i < 14; ++i) {
    const size_t size = i < 12 ? (4u << 20) + i : (24u << 20) + i;
    std::string data(size, static_cast<char>('a' + i));
    data[size / 2] = 'Z';
    const std::string key = "k" + std::to_string(i);
    Write(*a_, key, data, {}, /*same_second=*/true);
    written[key] = std::move(data);
  }
  RuleSet rules{{OneRule("r", "b")}};
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", rules, stats).ok());
  EXPECT_EQ(stats.replicated.load(), 14u);
  EXPECT_EQ(stats.failed.load(), 0u);
  EXPECT_LE(executor.budget().peak(), budget);
  EXPECT_GT(executor.budget().peak(), 0u);
  EXPECT_EQ(executor.budget().in_use(), 0u);
  for (const auto& [key, data] : written) {
    auto h = History(*b_, key);
    ASSERT_EQ(h.size(), 1u) << key;
    EXPECT_TRUE(h[0].first == data) << key;
  }
}

TEST_F(PassTest, TagFilterAndDryRun) {
  Write(*a_, "t/yes", "1", {{"team", "x"}});
  Write(*a_, "t/no", "2", {{"team", "y"}});
  Rule tagged = OneRule("tagged", "b");
  tagged.prefix = "t/";
  tagged.tags = {{"team", "x"}};
  RuleSet rules{{tagged}};
  PassOptions o;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations["b"] = b_.get();
  o.rules = &rules;
  o.clock = &clock_;
  o.executor = &ferry::testing::TestExecutor();
  o.dry_run = true;
  std::vector<std::string> lines;
  o.plan = [&](const PlannedVersion& p) { lines.push_back(PlanLine(p)); };
  PassStats dry;
  ASSERT_TRUE(RunPass(o, dry, {}).ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(0, 24), "tagged -> b: t/yes (vers");
  EXPECT_EQ(dry.planned_bytes.load(), 1u);  // t/yes's one byte: the dry run's cost estimate
  EXPECT_EQ(b_->counts().puts, 0);
  o.dry_run = false;
  o.store = store_.get();
  PassStats real;
  ASSERT_TRUE(RunPass(o, real, {}).ok());
  EXPECT_EQ(real.replicated.load(), 1u);
  EXPECT_TRUE(b_->Stat("t/yes", true, {}).ok());
  EXPECT_EQ(b_->Stat("t/yes", true, {})->tags->at(0).second, "x");
  EXPECT_EQ(b_->Stat("t/no", false, {}).status().code(), ErrorCode::kNotFound);
  // A dry run with the status store shows only what is left: nothing.
  lines.clear();
  o.dry_run = true;
  PassStats after;
  ASSERT_TRUE(RunPass(o, after, {}).ok());
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(after.already.load(), 1u);
}

}  // namespace
}  // namespace ferry::replicate
