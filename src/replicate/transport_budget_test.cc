// The budget of a replication pass with compressed transport: a replicate-keys job's versions
// for a transported destination packed (PackTransported) on an executor of the test's own, then
// unpacked (UnpackTransported) on another, each several times smaller than the versions. Every
// version reaches the destination intact and in order; each budget's peak stays within its
// capacity plus the overdraws the components document; nothing stays in either after.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "archive/backend_io.h"
#include "checksum/checksum.h"
#include "replicate/transport.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/sizeless_store.h"
#include "testing/test_data.h"
#include "transport/pack.h"
#include "transfer/executor.h"

namespace ferry::replicate {
namespace {

using ferry::testing::Text;
using ferry::testing::Random;

using storage::MemoryBackend;
using storage::ObjectInfo;

void Report(const char* what, uint64_t budget, uint64_t peak, uint64_t bound, double seconds) {
  std::printf("%s: budget %llu, peak %llu, bound %llu (%.2f s)\n", what,
              static_cast<unsigned long long>(budget), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(bound), seconds);
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class TransportBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-repl-transport-budget-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok());
    session_ = std::move(*session);
    auto store = StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok());
    status_ = std::move(*store);
    auto archives = transport::TransportStore::Open(*session_);
    ASSERT_TRUE(archives.ok());
    archives_ = std::move(*archives);
    a_ = New("a");
    b_ = New("b");
    MemoryBackend::Options so;
    so.name = "s";
    so.endpoint = "s";
    staging_ = std::make_unique<testing::SizelessChunkedStore>(so);
    Rule r;
    r.id = "r";
    Transport tb{.compress = true, .staging = "s:stage/", .region = "B", .level = 1};
    r.destinations = {{"b", "", tb, ""}};
    rules_.rules.push_back(r);
    ASSERT_TRUE(Validate(rules_).ok());
  }
  void TearDown() override {
    archives_.reset();
    status_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<MemoryBackend> New(std::string name) {
    MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = true;
    o.name = name;
    o.endpoint = name;
    return std::make_unique<MemoryBackend>(o);
  }

  void Write(const std::string& key, std::string data) {
    clock_.SleepFor(std::chrono::seconds(1), {});
    storage::WriteSpec spec;
    spec.size = data.size();
    spec.metadata["color"] = "blue";
    ASSERT_TRUE(a_->Put(key, checksum::AsBytes(data), spec, {}).ok());
    written_[key].push_back(std::move(data));
  }

  // The source's keys with their versions, oldest first (as a replicate-keys job gets them).
  std::vector<KeyVersions> Listed() {
    std::vector<KeyVersions> keys;
    auto cursor = a_->ListVersions("", "", "");
    EXPECT_TRUE(cursor.ok());
    for (;;) {
      const ObjectInfo* e = *(*cursor)->Next();
      if (e == nullptr) break;
      if (keys.empty() || keys.back().key != e->key) keys.push_back({e->key, {}});
      keys.back().versions.insert(keys.back().versions.begin(), *e);
    }
    return keys;
  }

  // Contents of `key`'s versions at `m`, oldest first.
  std::vector<std::string> History(MemoryBackend& m, std::string_view key) {
    std::vector<std::string> out;
    auto cursor = m.ListVersions(key, "", "");
    EXPECT_TRUE(cursor.ok());
    for (;;) {
      const ObjectInfo* e = *(*cursor)->Next();
      if (e == nullptr) break;
      if (e->key != key) continue;
      std::string text(e->size, '\0');
      EXPECT_TRUE(
          m.ReadVersionAt(key, e->version_id, 0, std::as_writable_bytes(std::span(text)), {}).ok());
      out.insert(out.begin(), std::move(text));
    }
    return out;
  }

  std::filesystem::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> status_;
  std::unique_ptr<transport::TransportStore> archives_;
  std::unique_ptr<MemoryBackend> a_, b_, staging_;  // staging_: a SizelessChunkedStore
  RuleSet rules_;
  std::map<std::string, std::vector<std::string>> written_;  // each key's versions, oldest first
};

TEST_F(TransportBudgetTest, APassWithCompressedTransportStaysWithinItsDocumentedOverdraws) {
  constexpr uint64_t kBudget = 4ull << 20;
  constexpr size_t kLarge = 6u << 20;
  // 150 keys of two small versions (~4.7 MiB of text) and two keys of one large version
  // (random, 6 MiB: read in ranges, stored raw): ~17 MiB of versions, four budgets.
  for (int i = 0; i < 150; ++i) {
    const std::string key = "s/" + std::to_string(1000 + i);
    Write(key, Text((16u << 10) + static_cast<size_t>(i), i));
    Write(key, Text((16u << 10) + static_cast<size_t>(i) + 1, 5000 + i));
  }
  Write("z/large-1", Random(kLarge, 1));
  Write("z/large-2", Random(kLarge + 3, 2));
  uint64_t total = 0, largest = 0;
  for (const auto& [key, versions] : written_) {
    for (const auto& v : versions) {
      total += v.size();
      largest = std::max<uint64_t>(largest, v.size());
    }
  }
  ASSERT_GT(total, 4 * kBudget);

  // The pack side: a replicate-keys job's pass (it collects the versions for the transported
  // destination, reading no bytes) and its archive, on its own executor.
  transfer::Executor pack_ex(
      transfer::ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  PassOptions o;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations = {{"b", b_.get()}};
  o.rules = &rules_;
  o.store = status_.get();
  o.clock = &clock_;
  o.executor = &pack_ex;
  TransportCollector collected;
  o.transported = &collected;
  auto archive_key = [](const std::string&) { return std::string("j1.fza"); };
  o.in_transit = InTransit(*archives_, archive_key);
  auto started = std::chrono::steady_clock::now();
  auto scope = PreparePass(o);
  ASSERT_TRUE(scope.ok()) << scope.status().message();
  PassStats stats;
  ASSERT_TRUE(ReplicateKeys(o, *scope, Listed(), stats, {}).ok());
  EXPECT_EQ(stats.failed.load(), 0u);
  PackTransportOptions t;
  t.archive_key = archive_key;
  t.staging = {{"s:stage/", staging_.get()}};
  t.archives = archives_.get();
  t.executor = &pack_ex;
  auto packed = PackTransported(o, collected.Take(), t, {});
  const double pack_seconds = Since(started);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  EXPECT_EQ(packed->entries, 302u);
  EXPECT_EQ(packed->bytes_in, total);
  ASSERT_EQ(packed->unpacks.size(), 1u);

  // The pack's bound (PackTransported takes PackOptions' defaults and a BackendSink of
  // ArchivePartSize parts, two in flight). Every TryAcquire and Acquire of the budget succeeds
  // only within its capacity; beyond it only overdraws:
  //  - the BackendSink's (parts_in_flight + 1) part buffers, held until it is destroyed
  //    (archive/backend_io.h): 3 x ArchivePartSize(17 MiB) = 3 x 5 MiB;
  //  - one item read ahead of the archive writer, its one consumer (read_ahead.h, prefetch.h):
  //    a small version (<= whole_read_limit, 1 MiB) or a range of a large one (<= range_size,
  //    4 MiB);
  //  - the archive's bytes not yet taken by the sink (the pack's UploadPipe), at most
  //    upload_ahead (32 MiB).
  const transport::PackOptions defaults;
  const uint64_t pack_bound = kBudget + 3 * archive::ArchivePartSize(total) +
                              std::max<uint64_t>(defaults.whole_read_limit, defaults.range_size) +
                              defaults.upload_ahead;
  Report("replication pack", kBudget, pack_ex.budget().peak(), pack_bound, pack_seconds);
  EXPECT_LE(pack_ex.budget().peak(), pack_bound);
  EXPECT_GE(pack_ex.budget().peak(), 3 * archive::ArchivePartSize(total));  // counted
  EXPECT_EQ(pack_ex.budget().in_use(), 0u);

  // The unpack side, on an executor of its own.
  transfer::Executor unpack_ex(
      transfer::ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  started = std::chrono::steady_clock::now();
  auto unpacked = UnpackTransported(packed->unpacks[0],
                                    TransportedUnpackSides{.staging = *staging_,
                                                           .dst = *b_,
                                                           .status = *status_,
                                                           .archives = *archives_,
                                                           .source_name = "a",
                                                           .before_write = {},
                                                           .executor = &unpack_ex},
                                    {});
  const double unpack_seconds = Since(started);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status().message();
  EXPECT_EQ(unpacked->written, 302u);

  // (a) Every version at the destination, in order, its bytes the source's.
  for (const auto& [key, versions] : written_) {
    const std::vector<std::string> got = History(*b_, key);
    ASSERT_EQ(got.size(), versions.size()) << key;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i] == versions[i]) << key << " " << i;
  }

  // The unpack's bound (UnpackTransported takes UnpackOptions' defaults: every version here is
  // below whole_limit, 16 MiB, so each is one PUT). Beyond the capacity only overdraws:
  //  - one entry's bytes, only when no write of the unpack is under way (unpack_pipeline.h,
  //    EntryWriters::WaitRoom): at most the largest version;
  //  - one range read ahead of the archive's decode (unpack_source.h, ReadAheadSource): at most
  //    one EntryStream read, 8 MiB;
  //  - the stream's own buffers (UnpackResult::stream_bytes).
  const uint64_t unpack_bound = kBudget + largest + (8ull << 20) + unpacked->stream_bytes;
  Report("replication unpack", kBudget, unpack_ex.budget().peak(), unpack_bound, unpack_seconds);
  EXPECT_LE(unpack_ex.budget().peak(), unpack_bound);
  EXPECT_GT(unpack_ex.budget().peak(), 0u);
  // (c) Nothing left in either budget.
  EXPECT_EQ(unpack_ex.budget().in_use(), 0u);
  EXPECT_EQ(pack_ex.budget().in_use(), 0u);
}

}  // namespace
}  // namespace ferry::replicate
