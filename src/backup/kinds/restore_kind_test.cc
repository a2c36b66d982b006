// The "restore" kind (restore_kind.h) through a Worker on SQLite, its catalog in the job
// store's database and its locations memory backends opened by location text: a queued
// restore is written byte for byte with its metadata and the job is done; a target that
// exists and differs fails the job at once (dead after one attempt, "kept") unless the
// request forces; a target that cannot be looked at is retried, and the retry writes only what
// is missing; a selection that finds nothing fails at once; the payload round-trips.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "archive/io.h"
#include "backup/backup.h"
#include "backup/catalog.h"
#include "backup/kinds/restore_kind.h"
#include "checksum/checksum.h"
#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transport/pack.h"
#include "testing/wait_for.h"

namespace ferry::backup {
namespace {

namespace fs = std::filesystem;
using jobs::JobState;
using jobs::RunProgress;

constexpr char kLoc[] = "mem:backup/p/";  // the backup location, as the catalog names it
constexpr char kTarget[] = "mem:target/";

std::string Body(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);  // readable in a failure
  return s;
}

class RestoreKindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-restore-kind-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto catalog = CatalogStore::Open(*store_->session());  // the database the worker serves
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
    kinds_ = jobs::KindRegistry::Builtin();
    ASSERT_TRUE(kinds_.Register(MakeRestoreHandler()).ok());
  }
  void TearDown() override {
    catalog_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Writes `n` objects under "d/" with metadata to src_ (every fifth one of 150 KB and more,
  // in 64 KiB frames of its own: several frames), packs them into archive "1.fza" of backup_
  // and records it in the catalog.
  void Backup(int n) {
    std::vector<storage::ObjectInfo> listed;
    for (int i = 0; i < n; ++i) {
      const std::string key = "d/" + std::to_string(100 + i) + ".csv";
      const std::string body = Body(i % 5 == 0 ? 150'000 + i * 1000 : 2000 + i * 37, i + 1);
      storage::WriteSpec spec;
      spec.size = body.size();
      spec.content.content_type = "text/csv";
      spec.metadata = {{"owner", "ops"}, {"n", std::to_string(i)}};
      spec.tags = storage::Tags{{"team", "a b"}};
      spec.storage_class = "STANDARD_IA";
      spec.mtime = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + i));
      ASSERT_TRUE(src_.Put(key, checksum::AsBytes(body), spec, {}).ok());
      bodies_[key] = body;
      listed.push_back(*src_.Stat(key, false, {}));
    }
    archive::StringSink sink;
    transport::PackOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.writer.threads = 1;
    o.writer.small_limit = 16 << 10;
    o.writer.frame_size = 64 << 10;
    auto packed = transport::PackObjects(src_, listed, sink, o, {});
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    storage::WriteSpec spec;
    spec.size = sink.bytes.size();
    ASSERT_TRUE(backup_.Put("1.fza", checksum::AsBytes(sink.bytes), spec, {}).ok());
    auto row = RecordBackupArchive(*catalog_, backup_,
                                   {.location = kLoc,
                                    .archive = "1.fza",
                                    .archive_bytes = sink.bytes.size(),
                                    .backed_up_ms = 1000},
                                   {});
    ASSERT_TRUE(row.ok()) << row.status().message();
  }

  // A restore run as `ferry restore --detach` queues it: its one job.
  // With `report`: --report to the location "report" (report_), and its summary job.
  jobs::JobId Queue(const RestoreJob& request, bool report = false) {
    jobs::RunOptions ro;
    ro.command = kRestoreCommand;
    std::vector<jobs::JobSpec> summary;
    if (report) {
      ro.report = {.location = "report", .format = "csv", .level = "changes"};
      summary.push_back(jobs::ReportSummaryJob());
    }
    auto run = store_->CreateRun(jobs::RunSpec{kLoc, kTarget, jobs::EncodeRunOptions(ro)}, summary);
    EXPECT_TRUE(run.ok());
    jobs::JobSpec job;
    job.run = *run;
    job.kind = kRestoreKind;
    job.payload = EncodeRestoreJob(request);
    job.max_attempts = ro.max_attempts;
    auto ids = store_->Enqueue({job});
    EXPECT_TRUE(ids.ok());
    run_ = *run;
    return ids.ok() ? ids->at(0) : 0;
  }

  // A worker serves the last run queued until it is done or blocked on a dead job (at most
  // 30 s: then kWorking).
  RunProgress Serve(transfer::Stats& stats) {
    jobs::WorkerOptions w;
    w.owner = "test:1:-:00000001";
    w.registry = &kinds_;
    w.executor = &ferry::testing::TestExecutor();
    w.only_run = run_;
    w.exit_when_done = true;
    w.idle_poll = std::chrono::milliseconds(5);
    jobs::BackendOpener opener = [this](const std::string& location,
                                        bool) -> Result<std::unique_ptr<storage::Backend>> {
      storage::Backend* b = location == kLoc      ? &backup_
                            : location == kTarget ? &dst_
                            : location == "report" ? &report_
                                                   : nullptr;
      if (b == nullptr) return Status::InvalidArgument("no location " + location);
      return std::unique_ptr<storage::Backend>(new ferry::testing::BorrowedBackend(*b));
    };
    jobs::Worker worker(*store_, opener, w, stats);
    // A run that never ends (a job retried where it should have failed) is stopped after a
    // while: the test fails instead of hanging.
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

  jobs::Job JobOf(jobs::JobId id) {
    auto j = store_->GetJob(id);
    EXPECT_TRUE(j.ok());
    return j.ok() ? *j : jobs::Job{};
  }

  // Whether the target of `key` holds its backed-up bytes.
  bool Restored(const std::string& key) {
    auto c = dst_.Contents(key);
    return c.has_value() && *c == bodies_.at(key);
  }

  static RestoreJob Prefix(std::string prefix, bool force = false) {
    RestoreJob job;
    job.selection.prefix = std::move(prefix);
    job.selection.has_prefix = true;
    job.force = force;
    return job;
  }

  testing::FakeClock clock_;  // the store's
  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  std::unique_ptr<CatalogStore> catalog_;
  jobs::KindRegistry kinds_;
  storage::MemoryBackend src_, backup_, dst_, report_;
  std::map<std::string, std::string> bodies_;
  jobs::RunId run_ = 0;
};

TEST_F(RestoreKindTest, AWorkerRestoresAPrefixFromTheCatalog) {
  Backup(20);
  uint64_t most_frames = 0;
  ASSERT_TRUE(catalog_->Visit(kLoc, "", [&](const CatalogEntry& e) {
    most_frames = std::max(most_frames, e.frame_count);
    return Status::Ok();
  }).ok());
  ASSERT_GT(most_frames, 1u) << "no entry spans frames";
  const jobs::JobId job = Queue(Prefix(""));
  transfer::Stats stats;
  EXPECT_EQ(Serve(stats), RunProgress::kDone);
  const jobs::Job j = JobOf(job);
  EXPECT_EQ(j.state, JobState::kDone) << j.last_error;
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(stats.objects_copied.load(), 20u);
  EXPECT_EQ(dst_.Keys().size(), 20u);
  for (const auto& [key, body] : bodies_) {
    EXPECT_TRUE(Restored(key)) << key;
    auto got = dst_.Stat(key, true, {});
    auto want = src_.Stat(key, true, {});
    ASSERT_TRUE(got.ok()) << key;
    EXPECT_EQ(got->content, want->content) << key;
    EXPECT_EQ(got->metadata.at("owner"), "ops") << key;
    EXPECT_EQ(got->metadata.at("n"), want->metadata.at("n")) << key;
    EXPECT_EQ(got->tags, want->tags) << key;
    EXPECT_EQ(got->storage_class, "STANDARD_IA") << key;
    EXPECT_EQ(got->source_mtime(), want->source_mtime()) << key;
  }
  auto counts = store_->CountJobs(run_);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->state, jobs::RunState::kDone);
}

TEST_F(RestoreKindTest, ATargetThatDiffersFailsTheJobAtOnceUnlessForced) {
  Backup(6);
  const std::string differs = "d/102.csv";
  storage::WriteSpec spec;
  spec.size = 5;
  ASSERT_TRUE(dst_.Put(differs, checksum::AsBytes(std::string("local")), spec, {}).ok());
  const jobs::JobId kept = Queue(Prefix("d/"));
  transfer::Stats stats;
  EXPECT_EQ(Serve(stats), RunProgress::kBlocked);
  const jobs::Job j = JobOf(kept);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_EQ(j.attempts, 1) << "a kept target is not retried";
  EXPECT_NE(j.last_error.find("kept"), std::string::npos) << j.last_error;
  EXPECT_NE(j.last_error.find(differs), std::string::npos) << j.last_error;
  EXPECT_EQ(dst_.Contents(differs), "local");
  for (const auto& [key, body] : bodies_) {
    if (key != differs) {
      EXPECT_TRUE(Restored(key)) << key;
    }
  }
  EXPECT_EQ(stats.objects_copied.load(), 5u);

  const jobs::JobId forced = Queue(Prefix("d/", /*force=*/true));
  transfer::Stats again;
  EXPECT_EQ(Serve(again), RunProgress::kDone);
  const jobs::Job f = JobOf(forced);
  EXPECT_EQ(f.state, JobState::kDone) << f.last_error;
  EXPECT_TRUE(Restored(differs));
  EXPECT_EQ(again.objects_copied.load(), 6u);  // --force writes every target again
}

// A target that cannot be looked at fails the attempt (retried after a backoff on the store's
// clock); the retry writes what is missing and leaves the targets already written.
TEST_F(RestoreKindTest, ATargetThatCannotBeLookedAtIsRetried) {
  Backup(4);
  dst_.FailNext(storage::MemoryBackend::kStat, 1, Status::Unavailable("injected"));
  const jobs::JobId job = Queue(Prefix("d/"));
  transfer::Stats stats;
  RunProgress progress = RunProgress::kWorking;
  std::thread serving([&] { progress = Serve(stats); });
  jobs::Job j;
  ferry::testing::WaitFor(
      [&] {
        j = JobOf(job);
        return j.attempts == 1 && j.state != JobState::kLeased;
      },
      std::chrono::seconds(20));
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.state, JobState::kQueued) << "the first attempt was not retried";
  EXPECT_NE(j.last_error.find("could not be restored"), std::string::npos) << j.last_error;
  EXPECT_EQ(dst_.Keys().size(), 3u);  // the others were written
  clock_.Advance(std::chrono::minutes(2));  // past the backoff
  serving.join();
  EXPECT_EQ(progress, RunProgress::kDone);
  j = JobOf(job);
  EXPECT_EQ(j.state, JobState::kDone) << j.last_error;
  EXPECT_EQ(j.attempts, 2);
  for (const auto& [key, body] : bodies_) EXPECT_TRUE(Restored(key)) << key;
  EXPECT_EQ(stats.objects_copied.load(), 4u);   // three, then the one that failed
  EXPECT_EQ(stats.objects_skipped.load(), 3u);  // identical on the retry
}

// --report with a retried attempt: the first attempt's writes are its rows, its failure is left
// to the retry, whose write is its row: every target written has exactly one copied row, and no
// failed row is left; the retry found the first attempt's writes identical (skipped rows,
// counted, written at level all only).
TEST_F(RestoreKindTest, TheReportOfARetriedRestoreHasEachWriteOnceAndNoStaleFailure) {
  Backup(4);
  dst_.FailNext(storage::MemoryBackend::kStat, 1, Status::Unavailable("injected"));
  const jobs::JobId job = Queue(Prefix("d/"), /*report=*/true);
  transfer::Stats stats;
  RunProgress progress = RunProgress::kWorking;
  std::thread serving([&] { progress = Serve(stats); });
  ferry::testing::WaitFor(
      [&] {
        const jobs::Job j = JobOf(job);
        return j.attempts == 1 && j.state == JobState::kQueued;
      },
      std::chrono::seconds(20));
  clock_.Advance(std::chrono::minutes(2));  // past the backoff
  serving.join();
  EXPECT_EQ(progress, RunProgress::kDone);
  const auto text = report_.Contents("summary.json");
  ASSERT_TRUE(text.has_value()) << "no summary";
  const nlohmann::json summary = nlohmann::json::parse(*text);
  EXPECT_EQ(summary["counts"],
            nlohmann::json({{"copied", {{"ok", 4}}}, {"skipped", {{"skipped", 3}}}}))
      << summary.dump();
  EXPECT_EQ(summary["rows_written"], 4) << summary.dump();
  EXPECT_EQ(summary["complete"], true);
}

TEST_F(RestoreKindTest, NothingSelectedFailsAtOnce) {
  Backup(3);
  const jobs::JobId job = Queue(Prefix("nope/"));
  transfer::Stats stats;
  EXPECT_EQ(Serve(stats), RunProgress::kBlocked);
  const jobs::Job j = JobOf(job);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_NE(j.last_error.find("nothing backed up"), std::string::npos) << j.last_error;
  EXPECT_TRUE(dst_.Keys().empty());
}

TEST(RestoreJobTest, PayloadRoundTrips) {
  const RestoreJob job{.selection = {.key = "a/ü b",
                                     .prefix = "a/",
                                     .has_prefix = true,
                                     .version = "v7",
                                     .at_ms = 1'700'000'000'123,
                                     .include_deleted = true},
                       .force = true,
                       .storage_class = "GLACIER_IR",
                       .preserve_lock = true};
  auto back = DecodeRestoreJob(EncodeRestoreJob(job));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const RestoreSelection& s = back->selection;
  EXPECT_EQ(s.key, "a/ü b");
  EXPECT_EQ(s.prefix, "a/");
  EXPECT_TRUE(s.has_prefix);
  EXPECT_EQ(s.version, "v7");
  EXPECT_EQ(s.at_ms, 1'700'000'000'123);
  EXPECT_TRUE(s.include_deleted);
  EXPECT_TRUE(back->force);
  EXPECT_EQ(back->storage_class, "GLACIER_IR");
  EXPECT_TRUE(back->preserve_lock);
  // A payload without it (an older ferry's, or not asked for) reads as false.
  RestoreJob unlocked = job;
  unlocked.preserve_lock = false;
  const std::string text = EncodeRestoreJob(unlocked);
  EXPECT_EQ(text.find("preserve_lock"), std::string::npos);
  auto old = DecodeRestoreJob(text);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->preserve_lock);
  for (const char* bad : {"", "{", "[]", "{\"key\":\"k\"}", "{\"key\":1,\"prefix\":\"\"}"}) {
    EXPECT_EQ(DecodeRestoreJob(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ferry::backup
