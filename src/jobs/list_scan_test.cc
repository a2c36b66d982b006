// Durable runs from a key list (--files-from): the run's list-scan jobs carry the sorted keys,
// and workers plan and copy exactly those. What these would catch: an unlisted key copied or
// deleted (the lookups of a dense list read listings in which unlisted keys lie between listed
// ones), a listed key skipped after a worker was killed holding its chunk, a listed key the
// source lacks failing the run. MemoryBackends, a SQLite JobStore, real workers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/clock.h"
#include "jobs/job_report.h"
#include "jobs/list_scan.h"
#include "jobs/redrive.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

void PutBody(storage::Backend& b, const std::string& key, const std::string& body) {
  storage::WriteSpec spec;
  spec.size = body.size();
  ASSERT_TRUE(b.Put(key, std::as_bytes(std::span(body)), spec, {}).ok()) << key;
}

std::string Key(int i) {
  char k[16];
  std::snprintf(k, sizeof k, "k%05d", i);
  return k;
}

class ListScanRunTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-list-scan-test-XXXXXX";
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

  // A run src -> dst whose first jobs are `keys`' list-scan jobs (as app::RunDurable makes it).
  RunId NewListRun(const std::vector<std::string>& keys, bool delete_extra,
                   ReportOptions report = {}) {
    RunOptions options;
    options.report = report;
    options.command = delete_extra ? "sync" : "cp";
    options.delete_extra = delete_extra;
    options.decide.delete_extra = delete_extra;
    options.files_from = "list.txt";
    size_t at = 0;
    auto jobs = ListScanJobs(0, options.max_attempts, [&]() -> Result<const std::string*> {
      return at < keys.size() ? &keys[at++] : nullptr;
    });
    EXPECT_TRUE(jobs.ok());
    if (report.wanted()) jobs->push_back(ReportSummaryJob());
    auto run = store_->CreateRun(RunSpec{"src", "dst", EncodeRunOptions(options)}, *jobs);
    EXPECT_TRUE(run.ok());
    return *run;
  }

  Result<std::unique_ptr<storage::Backend>> Open(const std::string& text, bool) {
    storage::Backend& b = text == "src"      ? static_cast<storage::Backend&>(src_)
                          : text == "report" ? static_cast<storage::Backend&>(report_)
                                             : dst_;
    return std::unique_ptr<storage::Backend>(std::make_unique<testing::BorrowedBackend>(b));
  }

  // Runs one worker on `run` until it is done (or, `expect`, until it ends otherwise).
  void Work(RunId run, RunProgress expect = RunProgress::kDone) {
    WorkerOptions w;
    w.owner = "test:worker";
    w.concurrency = 4;
    w.executor = &testing::TestExecutor();
    w.batch_objects = 50;
    w.only_run = run;
    w.exit_when_done = true;
    w.idle_poll = std::chrono::milliseconds(10);
    Worker worker(*store_, [this](const std::string& t, bool d) { return Open(t, d); }, w,
                  stats_);
    RunProgress progress = RunProgress::kWorking;
    Status s = worker.Run({}, &progress);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(progress, expect);
  }

  // The report's summary.json, parsed.
  nlohmann::json Summary() {
    auto text = report_.Contents("summary.json");
    EXPECT_TRUE(text.has_value()) << "no summary.json";
    return text ? nlohmann::json::parse(*text) : nlohmann::json::object();
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  storage::MemoryBackend src_;
  storage::MemoryBackend dst_;
  storage::MemoryBackend report_;
  transfer::Stats stats_;
};

// A dense list (every other key of a range both sides hold, so its lookups are listings): the
// listed keys are copied or deleted, and no unlisted key is copied, deleted or changed —
// although the listings read them. A listed key neither side has is counted, not a failure.
TEST_F(ListScanRunTest, OnlyListedKeysAreCopiedAndDeleted) {
  std::vector<std::string> listed;
  for (int i = 0; i < 3000; ++i) {
    PutBody(src_, Key(i), "new" + std::to_string(i));
    if (i % 2 == 0) listed.push_back(Key(i));
  }
  for (int i = 3000; i < 3400; ++i) {
    PutBody(dst_, Key(i), "stale");  // the source lacks these
    if (i % 2 == 0) listed.push_back(Key(i));
  }
  PutBody(dst_, Key(7), "old7");  // unlisted and different: must stay as it is
  listed.push_back("nowhere");
  const RunId run = NewListRun(listed, /*delete_extra=*/true);
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->of(kListScanKind).of(JobState::kQueued), 2u);  // 1,701 keys
  Work(run);
  for (int i = 0; i < 3400; ++i) {
    const auto got = dst_.Contents(Key(i));
    if (i < 3000 && i % 2 == 0) {
      EXPECT_EQ(got, "new" + std::to_string(i)) << Key(i);  // listed: copied
    } else if (i < 3000) {
      EXPECT_EQ(got, i == 7 ? std::optional<std::string>("old7") : std::nullopt) << Key(i);
    } else if (i % 2 == 0) {
      EXPECT_EQ(got, std::nullopt) << Key(i);  // listed, the source lacks it: deleted
    } else {
      EXPECT_EQ(got, "stale") << Key(i);  // unlisted: never deleted
    }
  }
  EXPECT_EQ(stats_.listed_not_found.load(), 201u);  // the 200 deleted and "nowhere"
  EXPECT_EQ(stats_.failures(), 0u);
}

// A worker killed while it held a chunk (its lease never finished, its process gone): the
// chunk is claimed again and every listed key is copied; nothing else.
TEST_F(ListScanRunTest, AChunkHeldByAKilledWorkerIsDoneOnResume) {
  std::vector<std::string> listed;
  for (int i = 0; i < 2500; ++i) {
    PutBody(src_, Key(i), "b" + std::to_string(i));
    if (i % 5 != 0) listed.push_back(Key(i));
  }
  const RunId run = NewListRun(listed, /*delete_extra=*/false);
  auto held = store_->Claim("killed:1", std::chrono::seconds(600), 1, run);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].job.spec.kind, kListScanKind);
  // What a rerun does for a process of this machine that is gone (ReleaseLeasesOfDeadLocal-
  // Owners); else the lease runs out.
  ASSERT_TRUE(store_->ExpireLeases("killed:1").ok());
  Work(run);
  std::vector<std::string> want = listed;
  EXPECT_EQ(dst_.Keys(), want);
  EXPECT_EQ(stats_.listed_not_found.load(), 0u);
}

// --report on a killed and resumed run, with a failed copy retried: the recorded parts hold
// one row per listed key the run touched, each once: the killed chunk's rows come from its
// second attempt, the failed copy's from the attempt that copied it (the first attempt's
// failure row is dropped, the copy retried), deletes from the delete phase.
TEST_F(ListScanRunTest, TheReportHasEachListedKeyOnceAfterAKillAndARetry) {
  std::vector<std::string> listed;
  for (int i = 0; i < 1500; ++i) {
    PutBody(src_, Key(i), "v" + std::to_string(i));
    if (i % 3 == 0) PutBody(dst_, Key(i), "v" + std::to_string(i));  // unchanged: skipped
    if (i % 2 == 0) listed.push_back(Key(i));
  }
  PutBody(dst_, "z-gone", "x");  // listed, the source lacks it: deleted
  listed.push_back("z-gone");
  const RunId run = NewListRun(listed, true, {.location = "report", .level = "all"});
  auto held = store_->Claim("killed:1", std::chrono::seconds(600), 1, run);
  ASSERT_TRUE(held.ok() && held->size() == 1u);
  ASSERT_TRUE(store_->ExpireLeases("killed:1").ok());
  src_.FailNext(storage::MemoryBackend::kRead, 1, Status::Unavailable("injected 503"));
  Work(run);
  auto jobs = store_->ListJobs(run, JobState::kDone, 1000);
  ASSERT_TRUE(jobs.ok());
  int retried = 0;
  for (const Job& j : *jobs) retried += j.spec.kind == kTransferKind && j.attempts == 2;
  EXPECT_EQ(retried, 1) << "the injected failure retried one transfer job";
  auto parts = RecordedParts(*store_, run);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  report::Tally total;
  for (const auto& p : *parts) {
    total.Merge(p.tally);
    EXPECT_TRUE(p.error.empty()) << p.name;
  }
  const auto count = [&](report::Action a, report::Outcome o) {
    return total.counts[static_cast<int>(a)][static_cast<int>(o)];
  };
  EXPECT_EQ(count(report::Action::kFailed, report::Outcome::kFailed), 0u);
  EXPECT_EQ(count(report::Action::kSkipped, report::Outcome::kSkipped), 250u);  // i % 6 == 0
  EXPECT_EQ(count(report::Action::kCopied, report::Outcome::kOk), 500u);
  EXPECT_EQ(count(report::Action::kDeleted, report::Outcome::kOk), 1u);
  EXPECT_EQ(total.rows, listed.size());
  // Every row in a part that a record names; the parts' rows are the listed keys, once each.
  std::multiset<std::string> keys;
  for (const auto& p : *parts) {
    if (p.name.empty()) continue;
    auto text = report_.Contents(p.name);
    ASSERT_TRUE(text.has_value()) << p.name;
    size_t at = text->find('\n') + 1;  // the header
    while (at < text->size()) {
      const size_t end = text->find('\n', at);
      keys.insert(text->substr(at, text->find(',', at) - at));
      at = end + 1;
    }
  }
  EXPECT_EQ(keys, std::multiset<std::string>(listed.begin(), listed.end()));
}

// The run's last job (report-summary) writes summary.json from the records once every other
// job is done, with no command process to do it (a detached run's case), and removes the part
// an attempt left without a record.
TEST_F(ListScanRunTest, TheRunsLastJobWritesTheSummaryAndRemovesUnrecordedParts) {
  std::vector<std::string> listed;
  for (int i = 0; i < 30; ++i) {
    PutBody(src_, Key(i), "v" + std::to_string(i));
    listed.push_back(Key(i));
  }
  const RunId run = NewListRun(listed, false, {.location = "report", .level = "all"});
  auto r = store_->GetRun(run);
  ASSERT_TRUE(r.ok());
  const std::string orphan = "part-" + ReportRunId(*r) + "-j999-a1.csv";
  PutBody(report_, orphan, "key,version_id\nk00000,\n");  // a killed attempt's
  Work(run);
  EXPECT_FALSE(report_.Contents(orphan).has_value()) << "the unrecorded part is still there";
  const nlohmann::json summary = Summary();
  EXPECT_EQ(summary["complete"], true);
  EXPECT_EQ(summary["counts"]["copied"]["ok"], 30);
  auto parts = RecordedParts(*store_, run);
  ASSERT_TRUE(parts.ok());
  size_t named = 0;
  for (const auto& p : *parts) named += !p.name.empty();
  EXPECT_EQ(summary["parts"].size(), named);
  for (const auto& p : summary["parts"]) {
    EXPECT_TRUE(report_.Contents(p["name"].get<std::string>()).has_value()) << p["name"];
  }
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->of(kReportSummaryKind).of(JobState::kDone), 1u);
}

// A part that could not be written makes the report incomplete: the summary job writes the
// summary ("complete": false), then dies at once (kDataLoss is final), and the run fails.
TEST_F(ListScanRunTest, ALostPartFailsTheSummaryJobAndTheRun) {
  std::vector<std::string> listed;
  for (int i = 0; i < 5; ++i) {
    PutBody(src_, Key(i), "v" + std::to_string(i));
    listed.push_back(Key(i));
  }
  const RunId run = NewListRun(listed, false, {.location = "report", .level = "all"});
  report_.FailNext(storage::MemoryBackend::kPut, 1, Status::PermissionDenied("injected 403"));
  Work(run, RunProgress::kBlocked);
  EXPECT_EQ(Summary()["complete"], false);
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  const KindCounts summary_job = counts->of(kReportSummaryKind);
  EXPECT_EQ(summary_job.of(JobState::kDead), 1u);
  auto dead = store_->ListJobs(run, JobState::kDead, 10);
  ASSERT_TRUE(dead.ok() && dead->size() == 1u);
  EXPECT_EQ(dead->at(0).attempts, 1) << "a lost part is final, not retried";
  EXPECT_NE(dead->at(0).last_error.find("report incomplete"), std::string::npos)
      << dead->at(0).last_error;
  EXPECT_EQ(counts->state, RunState::kFailed);
}

// A run failed by a dead job still gets its summary, written by its summary job before the run
// fails: it says the run failed and how to go on, its failed object is a row, and the deletes
// stay parked. A redrive arms the summary again: the run's end writes it anew.
TEST_F(ListScanRunTest, AFailedRunWritesItsSummaryAndARedriveWritesItAgain) {
  std::vector<std::string> listed;
  for (int i = 0; i < 5; ++i) {
    PutBody(src_, Key(i), "v" + std::to_string(i));
    listed.push_back(Key(i));
  }
  listed.push_back(Key(99));  // listed, not on the source: deleted at the destination
  PutBody(dst_, Key(99), "kept while the run has failed");
  const RunId run = NewListRun(listed, /*delete_extra=*/true, {.location = "report", .level = "all"});
  dst_.FailNext(storage::MemoryBackend::kWrites, 1, Status::PermissionDenied("injected 403"));
  Work(run, RunProgress::kBlocked);
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->state, RunState::kFailed);
  EXPECT_EQ(counts->of(kReportSummaryKind).of(JobState::kDone), 1u);
  EXPECT_EQ(counts->jobs[static_cast<size_t>(JobState::kDead)], 1u);
  EXPECT_TRUE(dst_.Contents(Key(99)).has_value()) << "a failed run deleted";
  nlohmann::json summary = Summary();
  EXPECT_EQ(summary["complete"], true);
  EXPECT_EQ(summary["counts"]["failed"]["failed"], 1) << summary.dump();
  EXPECT_EQ(summary["counts"]["copied"]["ok"], 4) << summary.dump();
  ASSERT_TRUE(summary.contains("not_checked")) << summary.dump();
  EXPECT_NE(summary["not_checked"].dump().find("the run failed: 1 of its jobs are dead"),
            std::string::npos)
      << summary.dump();

  auto again = RedriveRun(*store_, run, KindRegistry::Builtin());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 1u);
  Work(run);
  EXPECT_FALSE(dst_.Contents(Key(99)).has_value()) << "the finished run's deletes did not run";
  summary = Summary();
  EXPECT_EQ(summary["counts"]["copied"]["ok"], 5) << summary.dump();
  // Every recorded part is whole: the redriven attempt 1 wrote a part of its own, not over the
  // first attempt 1's.
  size_t rows_in_parts = 0;
  std::set<std::string> names;
  for (const auto& p : summary["parts"]) {
    const std::string name = p["name"].get<std::string>();
    EXPECT_TRUE(names.insert(name).second) << "two records name " << name;
    const std::string text = report_.Contents(name).value_or("");
    rows_in_parts += static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) - 1;
  }
  EXPECT_EQ(rows_in_parts, summary["rows"].get<size_t>()) << summary.dump();
  EXPECT_EQ(summary["not_checked"].dump().find("the run failed"), std::string::npos)
      << summary.dump();
  counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->state, RunState::kDone);
  EXPECT_EQ(counts->of(kReportSummaryKind).of(JobState::kDone), 2u);
}

// A chunk's payload holds at most kListChunkKeys keys, and one it cannot read fails its job
// at once (DecodeListScan).
TEST(ListScanPayloadTest, ChunksAreBoundedAndRoundTrip) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2001; ++i) keys.push_back(Key(i));
  size_t at = 0;
  auto jobs = ListScanJobs(7, 2, [&]() -> Result<const std::string*> {
    return at < keys.size() ? &keys[at++] : nullptr;
  });
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[2].run, 7);
  auto last = DecodeListScan((*jobs)[2].payload);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::vector<std::string>{Key(2000)});
  EXPECT_FALSE(DecodeListScan(EncodeListScan(std::vector<std::string>(1001, "a"))).ok());
}

}  // namespace
}  // namespace ferry::jobs
