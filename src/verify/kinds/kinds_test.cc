// The verify kinds (kinds.h) through a Worker on SQLite, both sides memory backends opened by
// location text: a run of small chunks finds each planted difference (missing, extra, other
// bytes of the same size) exactly once, a job a killed worker held is claimed again without a
// verdict counted twice, a filter keeps its keys only, a run with --report gets its summary from
// the summary job; payloads and records round-trip.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/list_scan.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "verify/kinds/kinds.h"

namespace ferry::verify {
namespace {

namespace fs = std::filesystem;
using jobs::RunProgress;
using namespace std::chrono_literals;

constexpr char kSrc[] = "mem:src/";
constexpr char kDst[] = "mem:dst/";
constexpr char kReport[] = "mem:report/";

class VerifyKindsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-verify-kinds-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    kinds_ = jobs::KindRegistry::Builtin();
    ASSERT_TRUE(kinds_.Register(MakeVerifyRangeHandler()).ok());
    ASSERT_TRUE(kinds_.Register(MakeVerifyListHandler()).ok());
    ASSERT_TRUE(kinds_.Register(MakeVerifyResultHandler()).ok());
    ASSERT_TRUE(kinds_.Register(MakeVerifySummaryHandler()).ok());
    // 40 keys k00..k39; the destination lacks k10, holds k20 with other bytes of the same
    // size, and a stray k33x.
    for (int i = 0; i < 40; ++i) {
      char key[8];
      std::snprintf(key, sizeof key, "k%02d", i);
      const std::string body = "object " + std::string(key);
      Put(src_, key, body);
      if (i == 10) continue;
      Put(dst_, key, i == 20 ? "OBJECT " + std::string(key) : body);
    }
    Put(dst_, "k33x", "stray");
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  static void Put(storage::MemoryBackend& b, const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(b.Put(key, std::as_bytes(std::span(body)), spec, {}).ok());
  }

  // A verify run as `ferry verify --state` makes it (app::RunDurable with its first jobs).
  jobs::RunId Queue(jobs::RunOptions ro = {}, std::vector<jobs::JobSpec> first = {}) {
    ro.command = kVerifyCommand;
    if (first.empty()) first.push_back(FirstVerifyJob(CompareOptions{}, ro.max_attempts));
    if (ro.report.wanted()) first.push_back(jobs::ReportSummaryJob());
    auto run = store_->CreateRun(jobs::RunSpec{kSrc, kDst, jobs::EncodeRunOptions(ro)},
                                 std::move(first));
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : 0;
  }

  // A worker (chunks of 7 source keys) serves `run` until it is done or blocked (at most 30 s).
  RunProgress Serve(jobs::RunId run) {
    jobs::WorkerOptions w;
    w.owner = "test:2:-:00000002";
    w.registry = &kinds_;
    w.executor = &ferry::testing::TestExecutor();
    w.only_run = run;
    w.exit_when_done = true;
    w.idle_poll = 5ms;
    w.scan_chunk = 7;
    jobs::BackendOpener opener = [this](const std::string& location,
                                        bool) -> Result<std::unique_ptr<storage::Backend>> {
      storage::Backend* b = location == kSrc      ? &src_
                            : location == kDst    ? &dst_
                            : location == kReport ? &report_
                                                  : nullptr;
      if (b == nullptr) return Status::InvalidArgument("no location " + location);
      return std::unique_ptr<storage::Backend>(new ferry::testing::BorrowedBackend(*b));
    };
    transfer::Stats stats;
    jobs::Worker worker(*store_, opener, w, stats);
    std::stop_source stop;
    std::jthread watchdog([&stop](std::stop_token worker_ended) {
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      cv.wait_for(lock, worker_ended, std::chrono::seconds(30), [] { return false; });
      if (!worker_ended.stop_requested()) stop.request_stop();
    });
    RunProgress progress = RunProgress::kWorking;
    const Status s = worker.Run(stop.get_token(), &progress);
    watchdog.request_stop();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return progress;
  }

  static std::vector<std::string> Named(const VerifyTally& t) {
    std::vector<std::string> out;
    for (const Entry& e : t.differences) out.push_back(std::string(1, MarkChar(e.mark)) + e.key);
    std::sort(out.begin(), out.end());
    return out;
  }

  size_t JobsOfKind(jobs::RunId run, std::string_view kind) {
    auto all = store_->ListJobs(run, std::nullopt, 100000);
    EXPECT_TRUE(all.ok());
    size_t n = 0;
    for (const jobs::Job& j : *all) n += j.spec.kind == kind ? 1 : 0;
    return n;
  }

  testing::FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  jobs::KindRegistry kinds_;
  storage::MemoryBackend src_, dst_, report_;
};

TEST_F(VerifyKindsTest, ARunOfChunksFindsEachDifferenceOnce) {
  const jobs::RunId run = Queue();
  EXPECT_EQ(Serve(run), RunProgress::kDone);
  auto tally = RunTally(*store_, run);
  ASSERT_TRUE(tally.ok()) << tally.status().ToString();
  EXPECT_EQ(tally->counts.identical, 38u);
  EXPECT_EQ(tally->counts.differ, 1u);
  EXPECT_EQ(tally->counts.missing, 1u);
  EXPECT_EQ(tally->counts.extra, 1u);
  EXPECT_EQ(tally->counts.errors, 0u);
  EXPECT_EQ(Named(*tally), (std::vector<std::string>{"*k20", "+k33x", "-k10"}));
  // 40 keys in chunks of 7: at least 6 jobs, each committed with its record.
  EXPECT_GE(JobsOfKind(run, kVerifyRangeKind), 6u);
  EXPECT_EQ(JobsOfKind(run, kVerifyRangeKind), JobsOfKind(run, kVerifyResultKind));
}

TEST_F(VerifyKindsTest, AJobAKilledWorkerHeldIsComparedAgainAndCountedOnce) {
  const jobs::RunId run = Queue();
  auto held = store_->Claim("killed:1", std::chrono::seconds(600), 1, run);
  ASSERT_TRUE(held.ok() && held->size() == 1u);
  EXPECT_EQ((*held)[0].job.spec.kind, kVerifyRangeKind);
  ASSERT_TRUE(store_->ExpireLeases("killed:1").ok());  // its worker is gone
  EXPECT_EQ(Serve(run), RunProgress::kDone);
  auto tally = RunTally(*store_, run);
  ASSERT_TRUE(tally.ok());
  EXPECT_EQ(tally->counts.identical + tally->counts.differ + tally->counts.missing +
                tally->counts.extra,
            41u);
  EXPECT_EQ(Named(*tally), (std::vector<std::string>{"*k20", "+k33x", "-k10"}));
}

TEST_F(VerifyKindsTest, AFilterKeepsItsKeysOnly) {
  jobs::RunOptions ro;
  ro.filter.include = {"k1*", "k3*"};
  ro.filter.exclude = {"k3?"};  // k33x is left: three characters after k3
  const jobs::RunId run = Queue(ro);
  EXPECT_EQ(Serve(run), RunProgress::kDone);
  auto tally = RunTally(*store_, run);
  ASSERT_TRUE(tally.ok());
  EXPECT_EQ(tally->counts.identical, 9u);
  EXPECT_EQ(Named(*tally), (std::vector<std::string>{"+k33x", "-k10"}));
}

TEST_F(VerifyKindsTest, AReportGetsEveryDifferenceAndItsSummaryFromTheSummaryJob) {
  jobs::RunOptions ro;
  ro.report = {.location = kReport, .format = "csv", .level = "changes"};
  const jobs::RunId run = Queue(ro);
  EXPECT_EQ(Serve(run), RunProgress::kDone);
  auto parts = jobs::RecordedParts(*store_, run);
  ASSERT_TRUE(parts.ok());
  report::Tally sum;
  for (const auto& p : *parts) sum.Merge(p.tally);
  EXPECT_EQ(sum.rows, 41u);
  EXPECT_EQ(sum.rows_written, 3u);  // the differences: changes
  auto summary = report_.Stat("summary.json", false, {});
  EXPECT_TRUE(summary.ok()) << "written by the summary job";
}

TEST_F(VerifyKindsTest, AListComparesItsKeysOnlyAcrossChunks) {
  // k05..k12 and k33x listed, and a key neither side has: the list's two chunks of at most 5.
  std::vector<std::string> listed{"k05", "k06", "k07", "k08", "k09", "k10",
                                  "k11", "k12", "k33x", "nowhere"};
  size_t at = 0;
  std::vector<jobs::JobSpec> scans;
  for (size_t i = 0; i < listed.size(); i += 5) {  // as jobs::ListScanJobs cuts a list
    std::vector<std::string> chunk(listed.begin() + i,
                                   listed.begin() + std::min(listed.size(), i + 5));
    jobs::JobSpec spec;
    spec.kind = jobs::kListScanKind;
    spec.payload = jobs::EncodeListScan(chunk);
    scans.push_back(spec);
    at += chunk.size();
  }
  ASSERT_EQ(at, listed.size());
  auto first = VerifyListJobs(scans, CompareOptions{});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].kind, kVerifyListKind);
  const jobs::RunId run = Queue({}, *first);
  EXPECT_EQ(Serve(run), RunProgress::kDone);
  auto tally = RunTally(*store_, run);
  ASSERT_TRUE(tally.ok());
  EXPECT_EQ(tally->counts.identical, 7u);
  EXPECT_EQ(Named(*tally), (std::vector<std::string>{"+k33x", "-k10"}));
  EXPECT_EQ(JobsOfKind(run, kVerifyRangeKind), 0u) << "nothing else is listed";
}

TEST(VerifyKindsPayloadTest, RangeJobsAndTalliesRoundTrip) {
  RangeJob job{.range = {.start_after = std::string("a\xff", 2), .last = "z"},
               .compare = {.download = true, .metadata = false}};
  auto back = DecodeRangeJob(EncodeRangeJob(job));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->range, job.range);
  EXPECT_TRUE(back->compare.download);
  EXPECT_FALSE(back->compare.metadata);
  EXPECT_FALSE(DecodeRangeJob("{\"range\": 1}").ok());

  VerifyTally t;
  t.counts.identical = 5;
  t.counts.missing = 1;
  Entry e;
  e.key = std::string("m\xfe", 2);
  e.mark = Mark::kMissing;
  e.reason = "only in SRC";
  e.src_size = 3;
  t.Note(e);
  Entry same;
  same.mark = Mark::kIdentical;
  t.Note(same);  // not a difference: not kept
  auto tb = DecodeVerifyTally(EncodeVerifyTally(t));
  ASSERT_TRUE(tb.ok()) << tb.status().ToString();
  EXPECT_EQ(tb->counts.identical, 5u);
  ASSERT_EQ(tb->differences.size(), 1u);
  EXPECT_EQ(tb->differences[0].key, e.key);
  EXPECT_EQ(tb->differences[0].mark, Mark::kMissing);
  EXPECT_EQ(tb->differences[0].src_size, 3u);
  EXPECT_FALSE(tb->differences[0].dst_size.has_value());
}

}  // namespace
}  // namespace ferry::verify
