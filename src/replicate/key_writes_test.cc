// The writes of one key's pass (key_writes.h) on MemoryBackends: a version as a replica, a
// delete marker, the object lock carried or refused, a version kept current, a replica found.
#include "replicate/key_writes.h"

#include <gtest/gtest.h>

#include "replicate/key_test_data.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::replicate::internal {
namespace {

using keytest::kDst;
using keytest::kKey;
using keytest::kSrc;
using storage::MemoryBackend;
using storage::ObjectInfo;

class KeyWriterTest : public ::testing::Test {
 protected:
  KeyWriterTest() : src_(Memory("a", true)), dst_(Memory("b", true)) {
    o_.source_name = kSrc;
    o_.source = src_.get();
    o_.destinations[kDst] = dst_.get();
    o_.clock = &clock_;
    o_.executor = &testing::TestExecutor();
    dest_.location = kDst;
  }

  std::unique_ptr<MemoryBackend> Memory(std::string name, bool versioned, bool lock = false) {
    MemoryBackend::Options mo;
    mo.clock = &clock_;
    mo.versioned = versioned;
    mo.name = name;
    mo.endpoint = name;  // separate servers: the read path
    mo.object_lock = lock;
    return std::make_unique<MemoryBackend>(mo);
  }

  // Writes `data` to `m` and returns the version with its details, as a pass reads it.
  ObjectInfo Put(MemoryBackend& m, std::string_view data) {
    clock_.SleepFor(std::chrono::seconds(1), {});
    std::vector<std::byte> bytes(data.size());
    for (size_t i = 0; i < data.size(); ++i) bytes[i] = static_cast<std::byte>(data[i]);
    storage::WriteSpec spec;
    spec.size = data.size();
    spec.metadata["color"] = "blue";
    Result<storage::WriteResult> w = m.Put(kKey, bytes, spec, {});
    EXPECT_TRUE(w.ok()) << w.status().message();
    Result<ObjectInfo> d = m.StatVersion(kKey, w->version_id, true, {});
    EXPECT_TRUE(d.ok()) << d.status().message();
    d->key = kKey;
    d->version_id = w->version_id;
    return *d;
  }

  KeyWriter Writer() { return KeyWriter(o_, key_, connected_, stats_, {}); }

  testing::FakeClock clock_;
  std::unique_ptr<MemoryBackend> src_;
  std::unique_ptr<MemoryBackend> dst_;
  PassOptions o_;
  PassStats stats_;
  Destination dest_;
  const std::string key_ = kKey;
  const Connected connected_{kSrc, kDst};
};

TEST_F(KeyWriterTest, AVersionIsWrittenAsAReplicaOfItsOriginAndFoundAgain) {
  const ObjectInfo v1 = Put(*src_, "first");
  const ObjectInfo v2 = Put(*src_, "second");
  KeyWriter writer = Writer();
  dest_.storage_class = "STANDARD_IA";
  Result<storage::WriteResult> w = writer.Write(dest_, v1, &v1, nullptr, *dst_);
  ASSERT_TRUE(w.ok()) << w.status().message();
  Result<ObjectInfo> written = dst_->StatVersion(kKey, w->version_id, false, {});
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->size, 5u);
  EXPECT_EQ(written->metadata["color"], "blue");
  EXPECT_EQ(written->metadata[kMetaReplicaOrigin], kSrc);
  EXPECT_EQ(written->metadata[kMetaReplicaVersion], v1.version_id);
  EXPECT_EQ(written->storage_class, "STANDARD_IA");

  Result<std::optional<std::string>> found = writer.FindReplica(*dst_, v1);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, w->version_id);
  found = writer.FindReplica(*dst_, v2);  // never written there
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);
}

TEST_F(KeyWriterTest, AMarkerIsADeleteWhereTheDestinationKeepsNoVersions) {
  ObjectInfo marker = keytest::ListedMarker("m1", 1000, true);
  std::unique_ptr<MemoryBackend> flat = Memory("c", false);
  Put(*flat, "there");
  KeyWriter writer = Writer();
  Result<storage::WriteResult> deleted = writer.Write(dest_, marker, nullptr, nullptr, *flat);
  ASSERT_TRUE(deleted.ok()) << deleted.status().message();
  EXPECT_EQ(deleted->version_id, "");
  EXPECT_EQ(flat->Stat(kKey, false, {}).status().code(), ErrorCode::kNotFound);

  Put(*dst_, "there");
  Result<storage::WriteResult> added = writer.Write(dest_, marker, nullptr, nullptr, *dst_);
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_NE(added->version_id, "");
  EXPECT_EQ(dst_->Stat(kKey, false, {}).status().code(), ErrorCode::kNotFound);
}

TEST_F(KeyWriterTest, ALockGoesOnlyToADestinationWithObjectLock) {
  std::unique_ptr<MemoryBackend> locked = Memory("d", true, /*lock=*/true);
  KeyWriter writer = Writer();
  ObjectInfo d = keytest::Listed("v1", 1000);
  storage::WriteSpec spec;
  EXPECT_TRUE(writer.CarryLock(d, *dst_, spec).ok());  // no lock: nothing asked
  EXPECT_FALSE(spec.lock.any());
  d.lock.legal_hold = true;
  Status refused = writer.CarryLock(d, *dst_, spec);
  EXPECT_EQ(refused.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("has no object lock"), std::string::npos);
  EXPECT_FALSE(spec.lock.any());
  ASSERT_TRUE(writer.CarryLock(d, *locked, spec).ok());
  EXPECT_TRUE(spec.lock.legal_hold);
}

TEST_F(KeyWriterTest, KeepCurrentCopiesAVersionOntoItselfAsAKeptReplica) {
  const ObjectInfo older = Put(*dst_, "older");
  Put(*dst_, "newer");
  KeyWriter writer = Writer();
  std::optional<std::string> made = writer.KeepCurrent(*dst_, kDst, older.version_id);
  ASSERT_TRUE(made);
  EXPECT_EQ(stats_.restored.load(), 1u);
  Result<ObjectInfo> current = dst_->Stat(kKey, false, {});
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version_id, *made);
  EXPECT_EQ(current->size, 5u);
  EXPECT_EQ(current->metadata[kMetaReplicaKept], "1");
  EXPECT_EQ(current->metadata[kMetaReplicaOrigin], kDst);
  EXPECT_EQ(current->metadata[kMetaReplicaVersion], older.version_id);

  EXPECT_EQ(writer.KeepCurrent(*dst_, kDst, "no-such-version"), std::nullopt);
  EXPECT_EQ(stats_.failed.load(), 1u);
  EXPECT_EQ(stats_.restored.load(), 1u);
}

}  // namespace
}  // namespace ferry::replicate::internal
