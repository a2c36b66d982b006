// Durable runs planned from inventory rows: the list-scan jobs carry the rows (the rows form of
// the payload) and a worker plans each chunk from them with inventory::ChecksFor. What these
// would catch: a data bucket listed although the rows are its listing, a key whose rows say
// equal read anyway, a write or a delete made on a row's word (a key changed since copied as
// the row said, a key the source has again deleted), a key gone since failing the run, a
// payload that loses a row's field or takes an unbounded chunk. MemoryBackends that count their
// listings and Stats, a SQLite JobStore, a real worker.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>

#include "base/clock.h"
#include "jobs/list_scan_rows.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

// A memory store that records the keys it was asked about (Stat) and counts its listings.
class RowsCountingStore : public storage::MemoryBackend {
 public:
  explicit RowsCountingStore(Clock* clock) : MemoryBackend(Options{.clock = clock}) {}
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    {
      std::lock_guard lock(mu);
      statted.insert(std::string(key));
    }
    return MemoryBackend::Stat(key, with_tags, stop);
  }
  Result<std::unique_ptr<storage::ListingCursor>> ListFrom(std::string_view prefix,
                                                           std::string_view start_after) override {
    ++listings;
    return MemoryBackend::ListFrom(prefix, start_after);
  }
  bool Statted(const std::string& key) {
    std::lock_guard lock(mu);
    return statted.contains(key);
  }
  std::mutex mu;
  std::set<std::string> statted;
  std::atomic<int> listings{0};
};

void PutRowBody(storage::Backend& b, const std::string& key, const std::string& body) {
  storage::WriteSpec spec;
  spec.size = body.size();
  ASSERT_TRUE(b.Put(key, std::as_bytes(std::span(body)), spec, {}).ok()) << key;
}

// The store's objects now, as an inventory's rows would say them (key order).
std::vector<storage::ObjectInfo> RowsOf(storage::MemoryBackend& store) {
  std::vector<storage::ObjectInfo> rows;
  for (const std::string& key : store.Keys()) {
    auto o = store.MemoryBackend::Stat(key, false, {});  // not a Stat a test counts
    EXPECT_TRUE(o.ok());
    storage::ObjectInfo row;
    row.key = key;
    row.size = o->size;
    row.mtime = o->mtime;
    row.etag = o->etag;
    rows.push_back(row);
  }
  return rows;
}

// The pairs of two sides' rows, one per key (as inventory::RowPairCursor makes them).
std::vector<inventory::RowPair> PairsOf(const std::vector<storage::ObjectInfo>& src,
                                        const std::vector<storage::ObjectInfo>* dst) {
  std::map<std::string, inventory::RowPair> by_key;
  for (const auto& o : src) by_key[o.key].source = o;
  if (dst != nullptr) {
    for (const auto& o : *dst) by_key[o.key].destination = o;
  }
  std::vector<inventory::RowPair> out;
  for (auto& [key, pair] : by_key) {
    pair.key = key;
    out.push_back(std::move(pair));
  }
  return out;
}

class ListScanRowsRunTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-list-scan-rows-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), SystemClock::Default());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A sync run src -> dst (--delete) whose first jobs are `pairs`' list-scan jobs of rows.
  RunId NewRowsRun(std::vector<inventory::RowPair> pairs, bool destination_current) {
    RunOptions options;
    options.command = "sync";
    options.delete_extra = true;
    options.decide.delete_extra = true;
    options.files_from = "inventory s3://inv/src";
    size_t at = 0;
    auto jobs = ListScanRowJobs(0, options.max_attempts, destination_current,
                                [&]() -> Result<inventory::RowPair*> {
                                  return at < pairs.size() ? &pairs[at++] : nullptr;
                                });
    EXPECT_TRUE(jobs.ok());
    auto run = store_->CreateRun(RunSpec{"src", "dst", EncodeRunOptions(options)}, *jobs);
    EXPECT_TRUE(run.ok());
    return *run;
  }

  void Work(RunId run) {
    WorkerOptions w;
    w.owner = "test:worker";
    w.concurrency = 4;
    w.executor = &testing::TestExecutor();
    w.only_run = run;
    w.exit_when_done = true;
    w.idle_poll = std::chrono::milliseconds(10);
    Worker worker(
        *store_,
        [this](const std::string& t, bool) -> Result<std::unique_ptr<storage::Backend>> {
          storage::Backend& b = t == "src" ? static_cast<storage::Backend&>(src_) : dst_;
          return std::unique_ptr<storage::Backend>(
              std::make_unique<testing::BorrowedBackend>(b));
        },
        w, stats_);
    RunProgress progress = RunProgress::kWorking;
    Status s = worker.Run({}, &progress);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(progress, RunProgress::kDone);
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  testing::FakeClock clock_;
  RowsCountingStore src_{&clock_};
  RowsCountingStore dst_{&clock_};
  transfer::Stats stats_;
};

// Two inventories: no listing of either side, the keys whose rows say equal never read, a key
// changed since copied as it is now, a key gone since counted (not failed), a delete only where
// the destination has the key and the source lacks it as read now.
TEST_F(ListScanRowsRunTest, AWorkerPlansTwoInventoriesRowsOnCurrentFacts) {
  for (const char* k : {"a", "b", "c", "gone", "twin"}) PutRowBody(src_, k, std::string("v1 ") + k);
  clock_.Advance(std::chrono::seconds(10));
  for (const char* k : {"a", "b"}) PutRowBody(dst_, k, std::string("v1 ") + k);
  for (const char* k : {"d", "e", "f"}) PutRowBody(dst_, k, "stale");
  const auto src_rows = RowsOf(src_);
  const auto dst_rows = RowsOf(dst_);
  // Since the inventories: c changed, gone deleted, f added on the source; twin appeared at the
  // destination as the source has it, e deleted from the destination.
  clock_.Advance(std::chrono::seconds(10));
  PutRowBody(src_, "c", "v2 c, longer");
  ASSERT_TRUE(src_.Delete("gone", {}).ok());
  PutRowBody(src_, "f", "stale");
  PutRowBody(dst_, "twin", "v1 twin");
  ASSERT_TRUE(dst_.Delete("e", {}).ok());
  const RunId run = NewRowsRun(PairsOf(src_rows, &dst_rows), /*destination_current=*/false);
  Work(run);
  EXPECT_EQ(src_.listings.load(), 0);  // the rows are the listings
  EXPECT_EQ(dst_.listings.load(), 0);
  for (const char* equal : {"a", "b"}) {
    EXPECT_FALSE(src_.Statted(equal) || dst_.Statted(equal)) << equal << ": read, rows equal";
  }
  EXPECT_EQ(dst_.Keys(), (std::vector<std::string>{"a", "b", "c", "f", "twin"}));
  EXPECT_EQ(dst_.Contents("c"), std::optional<std::string>("v2 c, longer"));  // as it is now
  EXPECT_EQ(stats_.objects_copied.load(), 1u);    // c; twin is at the destination already
  EXPECT_EQ(stats_.objects_deleted.load(), 1u);   // d; e was gone, f is on the source again
  EXPECT_EQ(stats_.listed_not_found.load(), 1u);  // gone: reported, not failed
  EXPECT_EQ(stats_.failures(), 0u);
}

// A source inventory alone: the destination is looked up per chunk (current facts), the source
// never listed, and a key whose row agrees with the destination's object not read on the source.
TEST_F(ListScanRowsRunTest, ASourceInventoryAloneLooksTheDestinationUp) {
  for (const char* k : {"a", "b", "gone"}) PutRowBody(src_, k, std::string("v1 ") + k);
  clock_.Advance(std::chrono::seconds(10));
  PutRowBody(dst_, "a", "v1 a");
  const auto src_rows = RowsOf(src_);
  ASSERT_TRUE(src_.Delete("gone", {}).ok());
  const RunId run = NewRowsRun(PairsOf(src_rows, nullptr), /*destination_current=*/true);
  Work(run);
  EXPECT_EQ(src_.listings.load(), 0);
  EXPECT_FALSE(src_.Statted("a"));
  EXPECT_EQ(dst_.Keys(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stats_.objects_copied.load(), 1u);
  EXPECT_EQ(stats_.listed_not_found.load(), 1u);
}

// A killed worker's chunk of rows is claimed again and planned from the same rows.
TEST_F(ListScanRowsRunTest, AChunkOfRowsHeldByAKilledWorkerIsDoneOnResume) {
  for (int i = 0; i < 1500; ++i) PutRowBody(src_, "k" + std::to_string(10000 + i), "body");
  const RunId run = NewRowsRun(PairsOf(RowsOf(src_), nullptr), /*destination_current=*/true);
  auto held = store_->Claim("killed:1", std::chrono::seconds(600), 1, run);
  ASSERT_TRUE(held.ok() && held->size() == 1u);
  EXPECT_TRUE(IsListScanRows((*held)[0].job.spec.payload));
  ASSERT_TRUE(store_->ExpireLeases("killed:1").ok());
  Work(run);
  EXPECT_EQ(dst_.Keys(), src_.Keys());
  EXPECT_EQ(stats_.listed_not_found.load(), 0u);
}

// Every field of a row survives the payload (any bytes in keys, ETags and versions); a chunk
// holds at most kListChunkKeys pairs; a payload out of order, too long or of the keys form is
// told apart or refused.
// --report: a key gone since the inventory gets a row (skipped, NotFound, why) unless the
// destination has it (then the plan's row, a delete or none, is its row); a listed key the
// source lacks likewise.
TEST(NotOnSourceRowsTest, OnlyKeysNeitherSideHasGetARow) {
  struct Rows : report::RowSink {
    void Add(report::Row row) override { rows.push_back(std::move(row)); }
    std::vector<report::Row> rows;
  } sink;
  std::vector<inventory::RowPair> batch(3);
  batch[0].key = "a";
  storage::ObjectInfo at_destination;
  at_destination.key = "a";
  batch[0].destination = at_destination;
  batch[1].key = "b";
  batch[2].key = "c";
  ReportGoneSinceInventory({"a", "b"}, batch, &sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].key, "b");
  EXPECT_EQ(sink.rows[0].action, report::Action::kSkipped);
  EXPECT_EQ(sink.rows[0].outcome, report::Outcome::kSkipped);
  EXPECT_EQ(sink.rows[0].error_code, "NotFound");
  EXPECT_EQ(sink.rows[0].error_message, "gone since the inventory");
  ReportGoneSinceInventory({"b"}, batch, nullptr);  // no report: nothing, no crash
  sink.rows.clear();
  ReportNotOnSource({"a", "x"}, {at_destination}, kListedNotOnSource, &sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].key, "x");
  EXPECT_EQ(sink.rows[0].error_message, "listed but not found on the source");
}

TEST(ListScanRowsPayloadTest, RowsRoundTripAndChunksAreBounded) {
  storage::ObjectInfo row;
  row.key = std::string("k\xff", 2);
  row.size = 1234567890123;
  row.mtime = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000)) +
              std::chrono::microseconds(123456);
  row.etag = "\"abc-2\"";
  row.storage_class = "GLACIER";
  row.version_id = std::string("v\x01\xfe", 3);
  row.archive.archived = true;
  ListScanRows rows;
  rows.destination_current = false;
  rows.pairs.push_back({.key = "a", .source = std::nullopt, .destination = row});
  rows.pairs.push_back({.key = row.key, .source = row, .destination = std::nullopt});
  rows.pairs[0].destination->key = "a";
  const std::string payload = EncodeListScanRows(rows);
  ASSERT_TRUE(IsListScanRows(payload));
  EXPECT_FALSE(IsListScanRows(EncodeListScan({"a"})));
  auto back = DecodeListScanRows(payload);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->destination_current);
  ASSERT_EQ(back->pairs.size(), 2u);
  EXPECT_FALSE(back->pairs[0].source.has_value());
  const storage::ObjectInfo& s = *back->pairs[1].source;
  EXPECT_EQ(back->pairs[1].key, row.key);
  EXPECT_EQ(s.key, row.key);
  EXPECT_EQ(s.size, row.size);
  EXPECT_EQ(s.mtime, row.mtime);
  EXPECT_EQ(s.etag, row.etag);
  EXPECT_EQ(s.storage_class, row.storage_class);
  EXPECT_EQ(s.version_id, row.version_id);
  EXPECT_TRUE(s.archive.archived);
  EXPECT_EQ(back->pairs[0].destination->key, "a");

  std::swap(rows.pairs[0], rows.pairs[1]);  // out of order
  EXPECT_EQ(DecodeListScanRows(EncodeListScanRows(rows)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeListScanRows("{\"destination\":\"rows\",\"rows\":[{\"k\":\"a\",\"s\":[1]}]}")
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  std::vector<inventory::RowPair> many(2001);
  for (size_t i = 0; i < many.size(); ++i) {
    many[i].key = "k" + std::to_string(100000 + i);
    many[i].source = row;
  }
  size_t at = 0;
  auto jobs = ListScanRowJobs(7, 2, true, [&]() -> Result<inventory::RowPair*> {
    return at < many.size() ? &many[at++] : nullptr;
  });
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  auto last = DecodeListScanRows((*jobs)[2].payload);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->destination_current);
  ASSERT_EQ(last->pairs.size(), 1u);
  EXPECT_EQ(last->pairs[0].key, "k102000");
  auto first = DecodeListScanRows((*jobs)[0].payload);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->pairs.size(), kListChunkKeys);
  ListScanRows too_many;
  for (size_t i = 0; i <= kListChunkKeys; ++i) {
    too_many.pairs.push_back(
        {.key = "k" + std::to_string(100000 + i), .source = row, .destination = std::nullopt});
  }
  EXPECT_EQ(DecodeListScanRows(EncodeListScanRows(too_many)).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::jobs
