// Every x-amz-meta-ferry-* value replication reads is a claim any writer can set or a tool can
// keep stale (docs/design/replication.md, "Claims: what ferry-* metadata may decide"): one test
// per reading site with a forged or stale value. RunPass over versioned MemoryBackends and a
// SQLite status store.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "replicate/pass.h"
#include "replicate/pass_internal.h"
#include "replicate/replica.h"
#include "replicate/transport.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::replicate {
namespace {

using storage::MemoryBackend;
using storage::ObjectInfo;

std::vector<std::byte> ClaimBytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

// A source whose versions read as encrypted (SSE-KMS or SSE-C: the ETag is not an MD5 of the
// bytes), as an S3 HEAD or GET with x-amz-server-side-encryption: aws:kms says.
class OpaqueEtagBackend : public MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Result<ObjectInfo> StatVersion(std::string_view key, std::string_view version_id,
                                 bool with_tags, std::stop_token stop) override {
    auto r = MemoryBackend::StatVersion(key, version_id, with_tags, stop);
    if (r.ok()) r->etag_opaque = true;
    return r;
  }
  Result<ObjectInfo> ReadVersionWithDetails(std::string_view key, std::string_view version_id,
                                            uint64_t offset, std::span<std::byte> out,
                                            bool with_tags, std::stop_token stop) override {
    auto r = MemoryBackend::ReadVersionWithDetails(key, version_id, offset, out, with_tags, stop);
    if (r.ok()) r->etag_opaque = true;
    return r;
  }
};

// One rule "r" to `dest`.
RuleSet To(std::string dest) {
  Rule r;
  r.id = "r";
  r.destinations.push_back({std::move(dest), "", {}, ""});
  return RuleSet{{r}};
}

class ClaimsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-claims-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok());
    session_ = std::move(*session);
    auto store = StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    a_ = std::make_unique<MemoryBackend>(Options("a"));
    b_ = std::make_unique<MemoryBackend>(Options("b"));
  }
  void TearDown() override {
    store_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  MemoryBackend::Options Options(std::string name) {
    MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = true;
    o.name = name;
    o.endpoint = name;  // separate "servers": the data path, not server-side copies
    return o;
  }

  // Writes `data` with `metadata` as a new version of `key` one second after the last write.
  std::string Write(MemoryBackend& m, std::string_view key, std::string_view data,
                    std::map<std::string, std::string> metadata = {}) {
    clock_.SleepFor(std::chrono::seconds(1), {});
    storage::WriteSpec spec;
    spec.size = data.size();
    spec.metadata = std::move(metadata);
    auto r = m.Put(key, ClaimBytes(data), spec, {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->version_id : "";
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
    transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 1});
    o.executor = &keys_executor;  // 1 key at once
    return RunPass(o, stats, {});
  }

  // The contents of `key`'s versions on `m`, oldest first.
  std::vector<std::string> Contents(MemoryBackend& m, std::string_view key) {
    std::vector<std::string> out;
    auto cursor = m.ListVersions(key, "", "");
    EXPECT_TRUE(cursor.ok());
    for (;;) {
      const ObjectInfo* e = *(*cursor)->Next();
      if (e == nullptr) break;
      if (e->key != key || e->delete_marker) continue;
      std::vector<std::byte> data(e->size);
      EXPECT_TRUE(m.ReadVersionAt(key, e->version_id, 0, data, {}).ok());
      out.insert(out.begin(), std::string(reinterpret_cast<const char*>(data.data()), data.size()));
    }
    return out;
  }

  // The rows of `key` (source a) in `state`.
  std::vector<VersionStatus> Rows(const std::string& key, VersionState state) {
    std::vector<VersionStatus> out;
    const Result<std::vector<VersionStatus>> rows = store_->Rows("a", state);
    EXPECT_TRUE(rows.ok());
    for (const VersionStatus& r : *rows) {
      if (r.key == key) out.push_back(r);
    }
    return out;
  }

  testing::FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<MemoryBackend> a_, b_;
  PassOptions options_;
};

// replica.h: marks make a replica only among the locations the run's rules connect. An origin
// elsewhere (a third bucket's replica copied with its metadata) is a claim of somewhere else:
// the version is an original where it is found, ordered and marked by its own write, and a
// ferry-replica-kept it carried is dropped from its copy. ferry-mtime orders nothing.
TEST(ReplicaClaimTest, MarksOutsideTheConnectedLocationsMakeNoReplica) {
  const Connected connected = ConnectedLocations("ra:a/", To("rb:b/"));
  EXPECT_EQ(connected, (Connected{"ra:a/", "rb:b/"}));
  ObjectInfo v;
  v.version_id = "v9";
  v.mtime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795369951007));
  v.metadata[kMetaReplicaOrigin] = "rc:third/";
  v.metadata[kMetaReplicaVersion] = "x1";
  v.metadata[kMetaReplicaTime] = "9999999999.000";
  v.metadata[kMetaReplicaKept] = "1";
  v.metadata[storage::kMetaMtime] = "99999999999000000000";
  EXPECT_FALSE(IsReplica(v, "ra:a/", connected));
  EXPECT_EQ(OrderOf(v, "ra:a/", connected), (WriteOrder{1795369951007, "ra:a/", "v9"}));
  std::map<std::string, std::string> marks = v.metadata;
  MarkReplica(v, "ra:a/", connected, marks);
  EXPECT_EQ(marks.at(kMetaReplicaOrigin), "ra:a/");
  EXPECT_EQ(marks.at(kMetaReplicaVersion), "v9");
  EXPECT_EQ(marks.at(kMetaReplicaTime), "1795369951.007");
  EXPECT_EQ(marks.count(kMetaReplicaKept), 0u);
  // the same marks naming a connected origin: a replica, ordered by them
  v.metadata[kMetaReplicaOrigin] = "rb:b/";
  EXPECT_TRUE(IsReplica(v, "ra:a/", connected));
  EXPECT_EQ(OrderOf(v, "ra:a/", connected).origin, "rb:b/");
  v.metadata[kMetaReplicaOrigin] = "ra:a/";  // a kept copy of its own location's original
  EXPECT_TRUE(IsReplica(v, "ra:a/", connected));
  v.metadata.erase(kMetaReplicaKept);  // came back (fail-back): an original again
  EXPECT_FALSE(IsReplica(v, "ra:a/", connected));
}

// Item 10 of issue 43: a version whose marks name an origin the rules do not connect (copied by
// a tool that keeps metadata from a third bucket's replica) is replicated, marked as the
// source's own write; the reverse pass still takes that replica for one (no loop). A REPLICA
// row an older pass recorded from such marks is looked at again. Before: "1 replicas skipped",
// and the version never reached the destination.
TEST_F(ClaimsTest, AnOriginElsewhereIsReplicated) {
  const std::string v = Write(*a_, "k", "copied from elsewhere",
                              {{kMetaReplicaOrigin, "rc:third/"},
                               {kMetaReplicaVersion, "x1"},
                               {kMetaReplicaTime, "1795369951.000"}});
  PassStats ab;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", To("b"), ab).ok());
  EXPECT_EQ(ab.replicas.load(), 0u);
  EXPECT_EQ(ab.replicated.load(), 1u);
  ASSERT_EQ(Contents(*b_, "k"), (std::vector<std::string>{"copied from elsewhere"}));
  const ObjectInfo at_b = *b_->Stat("k", false, {});
  EXPECT_EQ(at_b.metadata.at(kMetaReplicaOrigin), "a");
  EXPECT_EQ(at_b.metadata.at(kMetaReplicaVersion), v);
  // the loop a -> b -> a is still stopped: at b it is a's replica
  PassStats ba;
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", To("a"), ba).ok());
  EXPECT_EQ(ba.replicas.load(), 1u);
  EXPECT_EQ(ba.replicated.load(), 0u);
  EXPECT_EQ(Contents(*a_, "k").size(), 1u);

  // A REPLICA row of an older pass (its message says nothing) is looked at again: one HEAD.
  const std::string w = Write(*a_, "w", "also from elsewhere", {{kMetaReplicaOrigin, "rc:x/"}});
  VersionStatus old;
  old.source = "a";
  old.rule = "r";
  old.destination = "b";
  old.key = "w";
  old.source_version = w;
  old.state = VersionState::kReplica;
  ASSERT_TRUE(store_->Record(old).ok());
  a_->ResetCounts();
  PassStats again;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", To("b"), again).ok());
  EXPECT_EQ(again.replicated.load(), 1u);
  EXPECT_EQ(Contents(*b_, "w"), (std::vector<std::string>{"also from elsewhere"}));
  // b's replica rows (recorded "replica of a") cost no request on the next pass from b
  b_->ResetCounts();
  PassStats quiet;
  ASSERT_TRUE(Pass(*b_, "b", *a_, "a", To("a"), quiet).ok());
  EXPECT_EQ(quiet.replicas.load(), 2u);
  EXPECT_EQ(b_->counts().stats + b_->counts().reads, 0);
}

// Item 11 of issue 43: a version whose ferry-crc32c its bytes do not match, read twice alike,
// with nothing the store computed to tell (here an SSE-KMS version: its ETag is no MD5), fails
// for a lasting reason of its own: the key's newer version is replicated in the same pass, the
// forged one is reported FAILED with the reason, read twice (not --low-level-retries times),
// and not read again by the next pass (--retry-failed does). Whole and chunked writes. Before:
// every newer version failed "an older version of the key (V) failed", pass after pass.
TEST_F(ClaimsTest, AForgedCrcFailsItsVersionOnlyAndIsNotReadForever) {
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  OpaqueEtagBackend src(Options("a"));
  RuleSet rules = To("b");
  rules.rules[0].sse_kms_objects = true;
  const std::string big(9u << 20, 'b');
  for (const std::string& body : {std::string("forged bytes"), big}) {
    SCOPED_TRACE(body.size());
    const std::string key = "k" + std::to_string(body.size());
    const std::string forged = Write(src, key, body, {{storage::kMetaCrc32c, "0badf00d"}});
    Write(src, key, "the newer version");
    src.ResetCounts();
    PassStats s1;
    ASSERT_TRUE(Pass(src, "a", *b_, "b", rules, s1).ok());
    EXPECT_EQ(s1.failed.load(), 1u);
    EXPECT_EQ(s1.replicated.load(), 1u);
    EXPECT_EQ(Contents(*b_, key), (std::vector<std::string>{"the newer version"}));
    EXPECT_LE(src.counts().bytes_read, 2 * body.size() + 17);  // read twice
    std::vector<VersionStatus> failed = Rows(key, VersionState::kFailed);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].source_version, forged);
    EXPECT_TRUE(internal::IsLastingRefusal(failed[0])) << failed[0].message;
    EXPECT_NE(failed[0].message.find("ferry-crc32c 0badf00d"), std::string::npos)
        << failed[0].message;
    src.ResetCounts();
    PassStats s2;
    ASSERT_TRUE(Pass(src, "a", *b_, "b", rules, s2).ok());
    EXPECT_EQ(s2.failed.load(), 1u);  // still reported
    EXPECT_EQ(src.counts().reads, 0);  // not read again
    options_.retry_failed_only = true;
    PassStats retry;
    ASSERT_TRUE(Pass(src, "a", *b_, "b", rules, retry).ok());
    EXPECT_EQ(retry.failed.load(), 1u);
    EXPECT_GT(src.counts().reads, 0);  // --retry-failed reads it
    options_.retry_failed_only = false;
    ASSERT_TRUE(src.DeleteVersion(key, forged, {}).ok());  // the operator's way out
    PassStats s3;
    ASSERT_TRUE(Pass(src, "a", *b_, "b", rules, s3).ok());
    EXPECT_EQ(s3.failed.load(), 0u);
  }
}

// copy_version.cc CopyChunked: a stale ferry-crc32c (the bytes rewritten, the metadata kept)
// refuses the first attempt only; the next checks the bytes against the store's own MD5 ETag,
// which proves them: the version is replicated with the CRC32C of its bytes, never the claim.
TEST_F(ClaimsTest, AStaleCrcGivesWayToTheStoresDigestInParts) {
  options_.multipart_threshold = 8ull << 20;
  options_.part_size = 5ull << 20;
  std::string body(9u << 20, 's');
  for (size_t i = 0; i < body.size(); i += 4099) body[i] = static_cast<char>('A' + i % 23);
  Write(*a_, "k", body, {{storage::kMetaCrc32c, "0badf00d"}});
  PassStats stats;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", To("b"), stats).ok());
  EXPECT_EQ(stats.failed.load(), 0u);
  EXPECT_EQ(stats.replicated.load(), 1u);
  EXPECT_EQ(stats.unverified.load(), 0u);
  ASSERT_EQ(Contents(*b_, "k").size(), 1u);
  EXPECT_TRUE(Contents(*b_, "k")[0] == body);
  const ObjectInfo at_b = *b_->Stat("k", false, {});
  EXPECT_NE(at_b.metadata.count(storage::kMetaCrc32c) ? at_b.metadata.at(storage::kMetaCrc32c)
                                                      : "",
            "0badf00d");
}

// A failure that is not the version's own still holds the key's newer versions back (the order
// of the key's history at the destination holds when it is retried).
TEST_F(ClaimsTest, ATransientWriteFailureStillKeepsTheOrder) {
  Write(*a_, "k", "v1");
  Write(*a_, "k", "v2");
  b_->FailNext(MemoryBackend::kPut, 1, Status::Unavailable("503 slow down"));
  PassStats s1;
  ASSERT_TRUE(Pass(*a_, "a", *b_, "b", To("b"), s1).ok());
  EXPECT_EQ(s1.failed.load(), 2u);
  EXPECT_TRUE(Contents(*b_, "k").empty());
  const std::vector<VersionStatus> held = Rows("k", VersionState::kFailed);
  ASSERT_EQ(held.size(), 2u);
  for (const VersionStatus& r : held) EXPECT_FALSE(internal::IsLastingRefusal(r)) << r.message;
}

// Item 13 of issue 43: a version encrypted with SSE-KMS (its ETag is not an MD5) written
// unverified is reported as what it is. Before: "a multipart ETag no part layout reproduces,
// read the same twice", of a single-part version read once.
TEST_F(ClaimsTest, AnUnverifiedEncryptedVersionSaysWhy) {
  OpaqueEtagBackend src(Options("kms"));
  Write(src, "k", "encrypted bytes");
  RuleSet rules = To("b");
  rules.rules[0].sse_kms_objects = true;
  ::testing::internal::CaptureStderr();
  PassStats stats;
  ASSERT_TRUE(Pass(src, "kms", *b_, "b", rules, stats).ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.unverified.load(), 1u);
  EXPECT_NE(log.find("its ETag is not an MD5 of its bytes (encrypted with SSE-KMS or SSE-C)"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("multipart"), std::string::npos) << log;
}

// key.cc FindReplica / transport.cc FindReplicaOf: a destination version carrying the marks of
// the version to recover (copied there by any tool) is its replica only with its size and, both
// ETags MD5s, its MD5: other bytes are written, never recorded COMPLETED for them. Before: the
// marks alone made the pass record the version replicated, over other bytes.
TEST_F(ClaimsTest, ForgedMarksAtTheDestinationAreNotTheReplica) {
  for (const std::string other : {"short", "same length, other!"}) {
    SCOPED_TRACE(other);
    const std::string key = "k" + std::to_string(other.size());
    const std::string v = Write(*a_, key, "same length, bytes!");
    VersionStatus pending;
    pending.source = "a";
    pending.rule = "r";
    pending.destination = "b";
    pending.key = key;
    pending.source_version = v;
    pending.state = VersionState::kPending;
    ASSERT_TRUE(store_->Record(pending).ok());
    std::map<std::string, std::string> marks;
    MarkReplica(*a_->StatVersion(key, v, false, {}), "a", {"a", "b"}, marks);
    Write(*b_, key, other, marks);
    PassStats stats;
    ASSERT_TRUE(Pass(*a_, "a", *b_, "b", To("b"), stats).ok());
    EXPECT_EQ(stats.recovered.load(), 0u);
    EXPECT_EQ(stats.replicated.load(), 1u);
    EXPECT_EQ(Contents(*b_, key).back(), "same length, bytes!");
  }
}

// transport.cc IsUnstampedTwin: the version right below a found replica is deleted as an
// interrupted commit's first version only when its ETag and size are the replica's, whatever
// its marks and ferry-crc32c say: a forged twin with other bytes stays.
TEST_F(ClaimsTest, AForgedTwinBelowTheReplicaIsNotDeleted) {
  const std::string v = Write(*a_, "k", "the version");
  std::map<std::string, std::string> marks;
  MarkReplica(*a_->StatVersion("k", v, false, {}), "a", {"a", "b"}, marks);
  Write(*b_, "k", "other bytes", marks);  // marks, no ferry-crc32c: the twin's shape
  auto stamped = marks;
  stamped[storage::kMetaCrc32c] = "0badf00d";
  Write(*b_, "k", "the version", stamped);
  auto found = FindReplicaOf(*b_, "k", marks, {.size = 11, .md5_etag = {}}, {});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(Contents(*b_, "k"), (std::vector<std::string>{"other bytes", "the version"}));
}

}  // namespace
}  // namespace ferry::replicate
