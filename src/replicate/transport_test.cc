// Compressed transport of replicated versions on memory backends and a SQLite state database:
// two transported destinations (regions B and C) sharing one staging location and one direct
// destination. Versions reach each destination in the source's order with the replica metadata
// a direct copy writes; statuses go PENDING when packed and COMPLETED when unpacked; a key with
// a delete marker goes directly; a rerun between pack and unpack writes nothing twice and loses
// nothing; the archive goes once both destinations are unpacked.
#include "replicate/transport.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "replicate/pass_internal.h"
#include "replicate/replica.h"
#include "replicate/sla.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::replicate {
namespace {

using storage::MemoryBackend;
using storage::ObjectInfo;

std::vector<std::byte> Bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

// A staging store whose chunked writes need no size up front, as S3's multipart uploads (the
// memory backend's want it at open): parts gathered, one Put at commit.
using StagingBackend = testing::SizelessChunkedStore;

// A versioned memory store whose first `flips` version reads come back with a byte flipped, a
// different bit each time (two reads corrupted alike are the version's own bytes: they would
// be refused for good, PackOptions::refused, not read again).
class FlippingVersions : public MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Status ReadVersionAt(std::string_view key, std::string_view version, uint64_t offset,
                       std::span<std::byte> out, std::stop_token stop) override {
    Status s = MemoryBackend::ReadVersionAt(key, version, offset, out, stop);
    if (s.ok() && !out.empty() && flips.fetch_sub(1) > 0) {
      out[0] ^= std::byte{static_cast<unsigned char>(1u << (flipped++ % 8))};
    }
    return s;
  }
  std::atomic<int> flips{0};
  std::atomic<unsigned> flipped{0};
};

class TransportPassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-repl-transport-" + std::to_string(std::random_device{}()));
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
    {
      MemoryBackend::Options o;
      o.clock = &clock_;
      o.versioned = true;
      o.name = "a";
      o.endpoint = "a";
      auto a = std::make_unique<FlippingVersions>(o);
      flipping_ = a.get();
      a_ = std::move(a);
    }
    b_ = New("b", true);
    c_ = New("c", true);
    d_ = New("d", true);
    MemoryBackend::Options so;
    so.name = "s";
    so.endpoint = "s";
    staging_ = std::make_unique<StagingBackend>(so);
    Rule r;
    r.id = "r";
    r.delete_markers = true;
    Transport tb{.compress = true, .staging = "s:stage/", .region = "B", .level = 1};
    Transport tc{.compress = true, .staging = "s:stage/", .region = "C", .level = 1};
    r.destinations = {{"b", "", tb, ""}, {"c", "STANDARD_IA", tc, ""}, {"d", "", {}, ""}};
    rules_.rules.push_back(r);
    ASSERT_TRUE(Validate(rules_).ok());
  }
  void TearDown() override {
    archives_.reset();
    status_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<MemoryBackend> New(std::string name, bool versioned, bool object_lock = false) {
    MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = versioned;
    o.object_lock = object_lock;
    o.name = name;
    o.endpoint = name;
    return std::make_unique<MemoryBackend>(o);
  }

  void Write(std::string_view key, std::string_view data) {
    clock_.SleepFor(std::chrono::seconds(1), {});
    storage::WriteSpec spec;
    spec.size = data.size();
    spec.metadata["color"] = "blue";
    spec.content.content_type = "text/plain";
    spec.tags = storage::Tags{{"team", "x"}};
    ASSERT_TRUE(a_->Put(key, Bytes(data), spec, {}).ok());
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

  // One replicate-keys job of the pass: its direct writes, then its archive ("job" names it).
  PackedTransport Job(const std::string& job) {
    PassOptions o;
    o.source_name = "a";
    o.source = a_.get();
    o.destinations = {{"b", b_.get()}, {"c", c_.get()}, {"d", d_.get()}};
    o.rules = &rules_;
    o.store = status_.get();
    o.clock = &clock_;
    transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 3});
    o.executor = &keys_executor;  // 3 keys at once
    o.metrics = &registry_;
    TransportCollector collected;
    o.transported = &collected;
    auto key = [job](const std::string&) { return job + ".fza"; };
    o.in_transit = InTransit(*archives_, key);
    auto scope = PreparePass(o);
    EXPECT_TRUE(scope.ok());
    PassStats stats;
    EXPECT_TRUE(ReplicateKeys(o, *scope, Listed(), stats, {}).ok());
    EXPECT_EQ(stats.failed.load(), 0u);
    PackTransportOptions t;
    t.archive_key = key;
    t.staging = {{"s:stage/", staging_.get()}};
    t.archives = archives_.get();
    t.executor = &testing::TestExecutor();
    auto packed = PackTransported(o, collected.Take(), t, {});
    EXPECT_TRUE(packed.ok()) << packed.status().message();
    return packed.ok() ? *packed : PackedTransport{};
  }

  Result<transport::UnpackResult> Unpack(const TransportUnpack& u) {
    MemoryBackend& dst = u.destination == "b" ? *b_ : *c_;
    return UnpackTransported(u,
                             TransportedUnpackSides{.staging = *staging_,
                                                    .dst = dst,
                                                    .status = *status_,
                                                    .archives = *archives_,
                                                    .source_name = "a",
                                                    .before_write = {},
                                                    .executor = &ferry::testing::TestExecutor(),
                                                    .clock = &clock_,
                                                    .metrics = &registry_},
                             {});
  }

  // Contents of `key`'s versions at `m`, oldest first ("<marker>" for a delete marker).
  std::vector<std::string> History(MemoryBackend& m, std::string_view key) {
    std::vector<std::string> out;
    auto cursor = m.ListVersions(key, "", "");
    EXPECT_TRUE(cursor.ok());
    for (;;) {
      const ObjectInfo* e = *(*cursor)->Next();
      if (e == nullptr) break;
      if (e->key != key) continue;
      std::string text = "<marker>";
      if (!e->delete_marker) {
        std::vector<std::byte> data(e->size);
        EXPECT_TRUE(m.ReadVersionAt(key, e->version_id, 0, data, {}).ok());
        text.assign(reinterpret_cast<const char*>(data.data()), data.size());
      }
      out.insert(out.begin(), text);
    }
    return out;
  }

  int Rows(VersionState state, const std::string& destination) {
    auto rows = status_->Rows("a", state);
    EXPECT_TRUE(rows.ok());
    int n = 0;
    for (const VersionStatus& r : *rows) n += r.destination == destination ? 1 : 0;
    return n;
  }

  std::filesystem::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> status_;
  std::unique_ptr<transport::TransportStore> archives_;
  std::unique_ptr<MemoryBackend> a_, b_, c_, d_, staging_;  // staging_: a StagingBackend
  FlippingVersions* flipping_ = nullptr;  // a_
  RuleSet rules_;
  obs::Registry registry_;  // the SLA metrics of Job and Unpack
};

// A pass's versions for transported destinations are checked against what each declares as
// they are packed (here an MD5 ETag: the memory store's): a byte flipped on the way is never
// archived under a CRC32C of its own. A small version is read whole and read again when its
// bytes do not match (as sync does): one flip costs a read, three fail the pack (the job is done
// again); a large one, read in ranges as the archive takes it, fails the pack at once. Before,
// only a declared CRC32C was checked: a version without one was packed as read.
TEST_F(TransportPassTest, AVersionCorruptedOnTheWayIsNeverPacked) {
  Write("k1", std::string(100000, 'v'));
  Write("k2", std::string(3u << 20, 'w'));  // above the pack's whole-read limit: ranged reads
  PassOptions o;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations = {{"b", b_.get()}, {"c", c_.get()}, {"d", d_.get()}};
  o.rules = &rules_;
  o.store = status_.get();
  o.clock = &clock_;
  transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 3});
  o.executor = &keys_executor;  // 3 keys at once
  auto key = [](const std::string&) { return std::string("j.fza"); };
  o.in_transit = InTransit(*archives_, key);
  auto scope = PreparePass(o);
  ASSERT_TRUE(scope.ok());
  PackTransportOptions t;
  t.archive_key = key;
  t.staging = {{"s:stage/", staging_.get()}};
  t.archives = archives_.get();
  t.executor = &testing::TestExecutor();
  std::optional<std::string> clean;
  // k1's reads come first (keys in order; the large version's ranges are read after it).
  for (const int flips : {0, 1, 3}) {
    TransportCollector collected;
    o.transported = &collected;
    PassStats stats;
    ASSERT_TRUE(ReplicateKeys(o, *scope, Listed(), stats, {}).ok());
    flipping_->flips = flips;
    ASSERT_TRUE(staging_->Delete("j.fza", {}).ok());
    auto packed = PackTransported(o, collected.Take(), t, {});
    if (flips == 3) {
      EXPECT_EQ(packed.status().code(), ErrorCode::kDataLoss) << packed.status().ToString();
      continue;
    }
    ASSERT_TRUE(packed.ok()) << flips << ": " << packed.status().ToString();
    EXPECT_EQ(packed->archives, 1u);
    auto archive = staging_->Contents("j.fza");
    ASSERT_TRUE(archive.has_value());
    if (!clean) {
      clean = *archive;
    } else {
      EXPECT_TRUE(*archive == *clean) << "the flipped read was packed";
    }
  }
  // A flip in a range of the large version: the pack fails.
  TransportCollector collected;
  o.transported = &collected;
  PassStats stats;
  ASSERT_TRUE(ReplicateKeys(o, *scope, Listed(), stats, {}).ok());
  std::vector<TransportedVersion> items = collected.Take();
  std::erase_if(items, [](const TransportedVersion& v) { return v.row.key != "k2"; });
  ASSERT_FALSE(items.empty());
  flipping_->flips = 1;
  auto packed = PackTransported(o, std::move(items), t, {});
  EXPECT_EQ(packed.status().code(), ErrorCode::kDataLoss) << packed.status().ToString();
}

// A version whose bytes contradict what it declares, read twice alike (a forged or stale
// ferry-crc32c claim with a multipart ETag that cannot settle it), is its own lasting failure
// (issue 43 item 11): recorded FAILED for its destinations, left out of the archive, and the
// other versions packed all the same. Before, every pack of the batch failed on it ("corrupted
// on the way", the job done again for ever), and no version of the batch reached its region.
TEST_F(TransportPassTest, AVersionWhoseOwnBytesContradictItsClaimFailsAloneAndTheRestArePacked) {
  Write("k1", std::string(100000, 'v'));       // read whole
  Write("k2", std::string(3u << 20, 'w'));     // read in ranges
  Write("k3", std::string(2000, 'x'));
  PassOptions o;
  o.source_name = "a";
  o.source = a_.get();
  o.destinations = {{"b", b_.get()}, {"c", c_.get()}, {"d", d_.get()}};
  o.rules = &rules_;
  o.store = status_.get();
  o.clock = &clock_;
  transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 3});
  o.executor = &keys_executor;  // 3 keys at once
  auto key = [](const std::string&) { return std::string("j.fza"); };
  o.in_transit = InTransit(*archives_, key);
  auto scope = PreparePass(o);
  ASSERT_TRUE(scope.ok());
  PackTransportOptions t;
  t.archive_key = key;
  t.staging = {{"s:stage/", staging_.get()}};
  t.archives = archives_.get();
  t.executor = &testing::TestExecutor();
  TransportCollector collected;
  o.transported = &collected;
  PassStats stats;
  ASSERT_TRUE(ReplicateKeys(o, *scope, Listed(), stats, {}).ok());
  std::vector<TransportedVersion> items = collected.Take();
  ASSERT_EQ(items.size(), 6u);  // 3 versions x regions B and C
  // k1 and k2 as a tool that kept a claim over other bytes leaves them: a ferry-crc32c their
  // bytes do not have, and a multipart ETag (no MD5 to settle it).
  for (TransportedVersion& v : items) {
    if (v.row.key == "k3") continue;
    v.version.etag = "\"0123456789abcdef0123456789abcdef-2\"";
    v.version.metadata[storage::kMetaCrc32c] = "0badc0de";
  }
  auto packed = PackTransported(o, std::move(items), t, {});
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_EQ(packed->refused, 4u);
  EXPECT_EQ(packed->versions, 2u);  // k3 to B and C
  EXPECT_EQ(packed->entries, 1u);
  auto failed = status_->Rows("a", VersionState::kFailed);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 4u);
  for (const VersionStatus& r : *failed) {
    EXPECT_TRUE(r.key == "k1" || r.key == "k2") << r.key;
    EXPECT_TRUE(internal::IsLastingRefusal(r)) << r.message;
    EXPECT_NE(r.message.find("ferry-crc32c"), std::string::npos) << r.message;
  }
  EXPECT_EQ(Rows(VersionState::kPending, "b"), 1);
  EXPECT_EQ(Rows(VersionState::kPending, "c"), 1);
  // What was packed reaches both regions.
  ASSERT_EQ(packed->unpacks.size(), 2u);
  for (const TransportUnpack& u : packed->unpacks) {
    auto unpacked = Unpack(u);
    ASSERT_TRUE(unpacked.ok()) << unpacked.status().ToString();
  }
  EXPECT_EQ(History(*b_, "k3"), std::vector<std::string>{std::string(2000, 'x')});
  EXPECT_TRUE(History(*b_, "k1").empty());
  EXPECT_TRUE(History(*c_, "k2").empty());
}

TEST_F(TransportPassTest, VersionsArriveInOrderOnceAndTheArchiveGoesAfterBothRegions) {
  Write("k1", "one");
  Write("k1", "two two");
  Write("k1", "three three three");
  Write("k2", "first");
  Write("k2", "second");
  ASSERT_TRUE(a_->Delete("k2", {}).ok());  // a delete marker: k2 goes directly
  Write("k3", "alone");

  PackedTransport first = Job("j1");
  EXPECT_EQ(first.archives, 1u);
  EXPECT_EQ(first.entries, 4u);   // k1 x3, k3: one entry for both destinations
  EXPECT_EQ(first.versions, 8u);  // ... x2 destinations
  ASSERT_EQ(first.unpacks.size(), 2u);
  EXPECT_TRUE(staging_->Contents("j1.fza").has_value());
  // The key with a marker went directly to all three, in order; the rest waits for the unpack.
  for (MemoryBackend* m : {b_.get(), c_.get(), d_.get()}) {
    EXPECT_EQ(History(*m, "k2"), (std::vector<std::string>{"first", "second", "<marker>"}));
  }
  EXPECT_EQ(History(*d_, "k1"),
            (std::vector<std::string>{"one", "two two", "three three three"}));
  EXPECT_TRUE(History(*b_, "k1").empty());
  EXPECT_EQ(Rows(VersionState::kPending, "b"), 4);
  EXPECT_EQ(Rows(VersionState::kPending, "c"), 4);

  // The job runs again (its worker died before it finished): the same archive again, no write.
  const int b_puts = b_->counts().puts;
  PackedTransport again = Job("j1");
  EXPECT_EQ(again.versions, 8u);
  EXPECT_EQ(b_->counts().puts, b_puts);

  // B unpacks: versions in order, checked, with the replica marks a direct copy writes.
  const TransportUnpack& ub = again.unpacks[0].destination == "b" ? again.unpacks[0]
                                                                   : again.unpacks[1];
  const TransportUnpack& uc = again.unpacks[0].destination == "b" ? again.unpacks[1]
                                                                   : again.unpacks[0];
  EXPECT_EQ(ub.region, "B");
  EXPECT_EQ(uc.storage_class, "STANDARD_IA");
  auto r = Unpack(ub);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->written, 4u);
  EXPECT_FALSE(r->archive_deleted);  // C still needs it
  EXPECT_EQ(History(*b_, "k1"),
            (std::vector<std::string>{"one", "two two", "three three three"}));
  EXPECT_EQ(History(*b_, "k3"), std::vector<std::string>{"alone"});
  auto b_k1 = b_->Stat("k1", true, {});
  ASSERT_TRUE(b_k1.ok());
  EXPECT_EQ(b_k1->metadata.at("color"), "blue");
  EXPECT_EQ(b_k1->metadata.at(std::string(kMetaReplicaOrigin)), "a");
  EXPECT_EQ(b_k1->content.content_type, "text/plain");
  EXPECT_EQ(b_k1->tags, (storage::Tags{{"team", "x"}}));
  EXPECT_EQ(Rows(VersionState::kCompleted, "b"), 7);  // k1 x3, k3; k2 x2 and its marker
  auto rows = status_->Rows("a", VersionState::kCompleted);
  ASSERT_TRUE(rows.ok());
  for (const VersionStatus& row : *rows) {
    if (row.destination == "b" && row.key == "k3") {
      EXPECT_EQ(row.dest_version, b_->Stat("k3", false, {})->version_id);
    }
  }

  // A rerun of the pass in between (another job): B's versions are done, C's on their way.
  const int c_puts = c_->counts().puts;
  PackedTransport between = Job("j2");
  EXPECT_EQ(between.versions, 0u);
  EXPECT_FALSE(staging_->Contents("j2.fza").has_value());
  EXPECT_EQ(c_->counts().puts, c_puts);

  r = Unpack(uc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->written, 4u);
  EXPECT_TRUE(r->archive_deleted);
  EXPECT_TRUE(staging_->Keys().empty());
  EXPECT_EQ(History(*c_, "k1"),
            (std::vector<std::string>{"one", "two two", "three three three"}));
  EXPECT_EQ(c_->Stat("k1", true, {})->storage_class, "STANDARD_IA");
  EXPECT_EQ(Rows(VersionState::kPending, "b") + Rows(VersionState::kPending, "c"), 0);

  // A last pass: nothing to do anywhere.
  const int puts = b_->counts().puts + c_->counts().puts + d_->counts().puts;
  PackedTransport last = Job("j3");
  EXPECT_EQ(last.versions, 0u);
  EXPECT_EQ(b_->counts().puts + c_->counts().puts + d_->counts().puts, puts);
}

// A version's retention and legal hold travel in its archive entry to a transported
// destination with object lock, as a direct write carries them (format 2); a version without
// stays without.
TEST_F(TransportPassTest, ALockedVersionTravelsWithItsLock) {
  {
    MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = true;
    o.name = "a";
    o.endpoint = "a";
    o.object_lock = true;
    auto a = std::make_unique<FlippingVersions>(o);
    flipping_ = a.get();
    a_ = std::move(a);
  }
  b_ = New("b", true, true);
  c_ = New("c", true, true);
  d_ = New("d", true, true);
  const storage::ObjectLock lock{
      .mode = "GOVERNANCE",
      .retain_until = std::chrono::system_clock::time_point(std::chrono::seconds(4'000'000'000)),
      .legal_hold = true};
  storage::WriteSpec spec;
  spec.size = 6;
  spec.lock = lock;
  ASSERT_TRUE(a_->Put("locked", Bytes("locked"), spec, {}).ok());
  Write("plain", "plain");
  PackedTransport packed = Job("j1");
  EXPECT_EQ(packed.entries, 2u);
  ASSERT_EQ(packed.unpacks.size(), 2u);
  for (const TransportUnpack& u : packed.unpacks) {
    auto r = Unpack(u);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->written, 2u);
  }
  for (MemoryBackend* m : {b_.get(), c_.get(), d_.get()}) {  // d: the direct destination
    SCOPED_TRACE(m->Describe());
    auto locked = m->Stat("locked", false, {});
    ASSERT_TRUE(locked.ok());
    EXPECT_EQ(locked->lock, lock);
    auto plain = m->Stat("plain", false, {});
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->lock.any());
  }
}

// A packed version is pending until an unpack writes it: its latency runs from its write at the
// source to the unpack (sla.h).
TEST_F(TransportPassTest, ATransportedVersionsLatencyRunsUntilItsUnpack) {
  Write("k", "one");
  PackedTransport packed = Job("j");
  auto latency = [&](std::string_view destination) {
    return registry_
        .AddHistogram("ferry_replication_latency_seconds", "", {"rule", "destination"},
                      SlaLatencyBuckets())
        .WithLabels({"r", destination})
        .Read();
  };
  EXPECT_EQ(latency("d").count, 1u);  // written directly
  EXPECT_EQ(latency("b").count, 0u);  // packed: still pending
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_EQ(packed.unpacks.size(), 2u);
  for (const TransportUnpack& u : packed.unpacks) ASSERT_TRUE(Unpack(u).ok());
  for (std::string_view destination : {"b", "c"}) {
    EXPECT_EQ(latency(destination).count, 1u) << destination;
    EXPECT_GE(latency(destination).sum, 120) << destination;
    EXPECT_LT(latency(destination).sum, 130) << destination;
  }
}

TEST_F(TransportPassTest, ACrashedUnpackResumesWithoutWritingAVersionTwice) {
  Write("k", "v1");
  Write("k", "v1");  // two versions with the same bytes: told apart by their replica marks
  Write("k", "v3");
  PackedTransport packed = Job("j1");
  ASSERT_EQ(packed.unpacks.size(), 2u);
  const TransportUnpack& ub = packed.unpacks[0].destination == "b" ? packed.unpacks[0]
                                                                    : packed.unpacks[1];
  ASSERT_TRUE(Unpack(ub).ok());
  auto made = status_->Rows("a", VersionState::kCompleted);
  ASSERT_TRUE(made.ok());
  // As if the unpack died after its writes, before recording any of them (rows and watermark).
  for (VersionStatus row : *made) {
    if (row.destination != "b") continue;
    row.state = VersionState::kPending;
    row.dest_version.clear();
    row.message = PackedMessage("s:stage/", "j1.fza");
    ASSERT_TRUE(status_->Record(row).ok());
  }
  ASSERT_TRUE(archives_
                  ->Progress(transport::ArchiveRow{.staging = "s:stage/",
                                                   .archive = "j1.fza",
                                                   .destination = "b",
                                                   .state = transport::ArchiveState::kUnpacking,
                                                   .entries = 3,
                                                   .written = 0,
                                                   .archive_bytes = 0,
                                                   .updated_ns = 0})
                  .ok());
  const int puts = b_->counts().puts;
  auto r = Unpack(ub);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->written, 0u);
  EXPECT_EQ(r->already_present, 3u);  // each found by its replica marks, not its bytes
  EXPECT_EQ(b_->counts().puts, puts);
  EXPECT_EQ(History(*b_, "k"), (std::vector<std::string>{"v1", "v1", "v3"}));
  auto rows = status_->Rows("a", VersionState::kCompleted);
  ASSERT_TRUE(rows.ok());
  std::set<std::string> versions;
  for (const VersionStatus& row : *rows) {
    if (row.destination == "b") versions.insert(row.dest_version);
  }
  EXPECT_EQ(versions.size(), 3u);  // three distinct destination versions
}

// --restart: the archives of the discarded run leave staging and their rows become done;
// another run's archives, and those of a run with the same id of another state store (other
// hex digits), stay.
// A replica that cannot be read is not "absent": the caller would write the version again
// (a second version at the destination, out of the source's order). Only a version gone since
// the listing is skipped.
TEST_F(TransportPassTest, AReplicaThatCannotBeReadIsAnErrorNotAbsent) {
  storage::WriteSpec spec;
  spec.size = 2;
  spec.metadata[kMetaReplicaOrigin] = "a";
  spec.metadata[kMetaReplicaVersion] = "v1";
  auto made = b_->Put("k", Bytes("hi"), spec, {});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto found = FindReplicaOf(*b_, "k", spec.metadata, {.size = 2, .md5_etag = {}}, {});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, std::optional<std::string>(made->version_id));
  b_->FailNext(MemoryBackend::kStat, 1, Status::Unavailable("503 slow down"));
  auto failed = FindReplicaOf(*b_, "k", spec.metadata, {.size = 2, .md5_etag = {}}, {});
  EXPECT_EQ(failed.status().code(), ErrorCode::kUnavailable);
  b_->FailNext(MemoryBackend::kStat, 1, Status::NotFound("version gone"));
  auto gone = FindReplicaOf(*b_, "k", spec.metadata, {.size = 2, .md5_etag = {}}, {});
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(*gone, std::nullopt);
}

TEST_F(TransportPassTest, DiscardRunArchivesDeletesOnlyTheRunsArchives) {
  RunArchiveNames run{.run = 7, .source = "a", .created_ticks = 1234};
  RunArchiveNames other_store{.run = 7, .source = "a", .created_ticks = 99};
  RunArchiveNames other_run{.run = 70, .source = "a", .created_ticks = 1234};
  const std::string mine = run.KeyOf(3, "s:stage/");
  const std::string staged_no_rows = run.KeyOf(4, "s:stage/");
  const std::string theirs = other_store.KeyOf(3, "s:stage/");
  const std::string next = other_run.KeyOf(3, "s:stage/");
  EXPECT_TRUE(run.IsOfRun("s:stage/", mine));
  EXPECT_FALSE(run.IsOfRun("s:stage/", theirs));
  EXPECT_FALSE(run.IsOfRun("s:stage/", next));
  EXPECT_FALSE(run.IsOfRun("s:other/", mine));
  EXPECT_EQ(mine.substr(0, run.Prefix().size()), run.Prefix());
  for (const std::string& key : {mine, staged_no_rows, theirs, next}) {
    storage::WriteSpec spec;
    spec.size = 1;
    ASSERT_TRUE(staging_->Put(key, Bytes("x"), spec, {}).ok());
  }
  for (const std::string& key : {mine, theirs}) {
    for (const char* dst : {"b", "c"}) {
      ASSERT_TRUE(archives_->Staged(transport::ArchiveRow{.staging = "s:stage/", .archive = key,
                                                          .destination = dst,
                                                          .state = transport::ArchiveState::kStaged,
                                                          .entries = 1, .written = 0,
                                                          .archive_bytes = 1, .updated_ns = 0})
                      .ok());
    }
  }
  std::map<std::string, storage::Backend*> staging{{"s:stage/", staging_.get()}};
  auto d = DiscardRunArchives(run, staging, *archives_, {});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->archives, 2u);
  EXPECT_EQ(d->rows, 2u);
  EXPECT_FALSE(staging_->Stat(mine, false, {}).ok());
  EXPECT_FALSE(staging_->Stat(staged_no_rows, false, {}).ok());
  EXPECT_TRUE(staging_->Stat(theirs, false, {}).ok());
  EXPECT_TRUE(staging_->Stat(next, false, {}).ok());
  auto rows = archives_->Rows("s:stage/");
  ASSERT_TRUE(rows.ok());
  for (const transport::ArchiveRow& r : *rows) {
    EXPECT_EQ(r.state == transport::ArchiveState::kDone, r.archive == mine) << r.archive;
  }
  // A version packed into the discarded archive is no longer in transit: the next pass looks
  // for it at the destination and packs it again.
  VersionStatus row;
  row.state = VersionState::kPending;
  row.destination = "b";
  row.message = PackedMessage("s:stage/", mine);
  auto in_transit = InTransit(*archives_, [](const std::string&) { return std::string("mine"); });
  auto before = in_transit(row);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(*before);
  row.message = PackedMessage("s:stage/", theirs);
  auto still = in_transit(row);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(*still);
  auto again = DiscardRunArchives(run, staging, *archives_, {});  // idempotent
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->archives + again->rows + again->uploads, 0u);
}

TEST(TransportRulesTest, ValidateRefusesBadTransports) {
  auto rule = [](Transport t, std::string location = "rb:west/") {
    Rule r;
    r.id = "r";
    r.destinations.push_back({std::move(location), "", std::move(t), ""});
    return RuleSet{{r}};
  };
  EXPECT_TRUE(Validate(rule({.compress = true, .staging = "rb:stage/x", .region = "", .level = 0}))
                  .ok());
  struct Case {
    RuleSet rules;
    std::string message;
  };
  const Case cases[] = {
      {rule({.compress = true, .staging = "", .region = "", .level = 0}),
       "replication rule 'r': destination rb:west/: transport needs 'staging' (a location for "
       "the archives)"},
      {rule({.compress = true, .staging = "rb:west/stage/", .region = "", .level = 0}),
       "replication rule 'r': destination rb:west/: transport 'staging' rb:west/stage/ is in the "
       "destination's bucket"},
      {rule({.compress = false, .staging = "rb:stage/", .region = "", .level = 0}),
       "replication rule 'r': destination rb:west/: transport sets staging, region, level, "
       "max_delay or batch_* without compress = true"},
      {rule({.compress = false, .staging = "", .region = "", .level = 0,
             .max_delay = std::chrono::seconds(5)}),
       "replication rule 'r': destination rb:west/: transport sets staging, region, level, "
       "max_delay or batch_* without compress = true"},
      {rule({.compress = true, .staging = "rb:stage/", .region = "", .level = 20}),
       "replication rule 'r': destination rb:west/: transport 'level' must be 0 (adaptive) to 19"},
      {rule({.compress = true, .staging = "rb:stage/", .region = "", .level = 0,
             .max_delay = std::chrono::seconds(3601)}),
       "replication rule 'r': destination rb:west/: transport 'max_delay' must be 0 to 1h"},
      {rule({.compress = true, .staging = "rb:stage/", .region = "", .level = 0,
             .max_delay = std::chrono::seconds(30), .batch_objects = 0}),
       "replication rule 'r': destination rb:west/: transport 'batch_objects' must be above 0"},
      {rule({.compress = true, .staging = "rb:stage/", .region = "", .level = 0,
             .max_delay = std::chrono::seconds(30), .batch_objects = 10, .batch_bytes = 0}),
       "replication rule 'r': destination rb:west/: transport 'batch_bytes' must be above 0"},
  };
  for (const Case& c : cases) {
    Status s = Validate(c.rules);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.message(), c.message);
  }
  // Two destinations staged at one location in one region: refused.
  RuleSet shared = rule({.compress = true, .staging = "rb:stage/", .region = "B", .level = 0});
  shared.rules[0].destinations.push_back(
      {"rb:east/", "", {.compress = true, .staging = "rb:stage/", .region = "B", .level = 0}});
  EXPECT_EQ(Validate(shared).message(),
            "replication rule 'r': destination rb:east/: destinations staged at rb:stage/ need "
            "different transport 'region's");
  // One destination, two paths: refused.
  RuleSet two = rule({.compress = true, .staging = "rb:stage/", .region = "", .level = 0});
  Rule other;
  other.id = "o";
  other.priority = 1;
  other.prefix = "logs/";
  other.destinations.push_back({"rb:west/", "", {}, ""});
  two.rules.push_back(other);
  EXPECT_EQ(Validate(two).message(),
            "replication rule 'o': destination rb:west/: another rule names it with another "
            "transport (a destination's versions take one path)");
}

// A run's batching: the shortest delay and smallest limits of its transported destinations;
// none without one, nor with a delay of 0.
TEST(TransportRulesTest, BatchingTakesTheTightestOfTheRunsDestinations) {
  Rule r;
  r.id = "r";
  r.destinations.push_back({"rb:direct/", "", {}, ""});
  EXPECT_FALSE(BatchingOf(RuleSet{{r}}).enabled());
  r.destinations.push_back({"rb:west/", "", {.compress = true, .staging = "rb:stage/x",
                                            .region = "B", .level = 0}, ""});
  PackBatching b = BatchingOf(RuleSet{{r}});
  EXPECT_TRUE(b.enabled());
  EXPECT_EQ(b.max_delay, Transport::kDefaultMaxDelay);
  EXPECT_EQ(b.objects, Transport::kDefaultBatchObjects);
  EXPECT_EQ(b.bytes, Transport::kDefaultBatchBytes);
  r.destinations.push_back({"rc:east/", "", {.compress = true, .staging = "rc:stage/y",
                                            .region = "C", .level = 0,
                                            .max_delay = std::chrono::seconds(5),
                                            .batch_objects = 50, .batch_bytes = 1 << 20}, ""});
  b = BatchingOf(RuleSet{{r}});
  EXPECT_EQ(b.max_delay, std::chrono::seconds(5));
  EXPECT_EQ(b.objects, 50u);
  EXPECT_EQ(b.bytes, uint64_t{1} << 20);
  r.destinations[2].transport.max_delay = std::chrono::seconds(0);
  EXPECT_FALSE(BatchingOf(RuleSet{{r}}).enabled());
  r.enabled = false;
  EXPECT_EQ(BatchingOf(RuleSet{{r}}).objects, 0u);  // a disabled rule sends nothing
}

}  // namespace
}  // namespace ferry::replicate
