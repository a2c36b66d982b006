// The "cache-warm" kind (warm_kind.h) through a Worker on SQLite, the cache's index in the job
// store's database and both locations memory backends opened by location text: a queued warm
// copies exactly the objects under its prefixes and records them in the index with the TTL
// asked for; a second warm of the same prefixes copies nothing; objects that could not be
// cached are retried, and the retry copies only those; the payload round-trips, and one that
// can never run is refused.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cache/index.h"
#include "cache/kinds/warm_kind.h"
#include "jobs/kinds/registry.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::cache {
namespace {

namespace fs = std::filesystem;
using jobs::JobState;
using jobs::RunProgress;
using namespace std::chrono_literals;

constexpr char kSource[] = "mem:src/";
constexpr char kCache[] = "mem:cache/";  // also the index's name of the cache

std::string Body(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);  // readable in a failure
  return s;
}

class WarmKindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-warm-kind-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    kinds_ = jobs::KindRegistry::Builtin();
    ASSERT_TRUE(kinds_.Register(MakeWarmHandler()).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void Put(const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(source_.Put(key, std::as_bytes(std::span(body)), spec, {}).ok());
    bodies_[key] = body;
  }

  // A warm run as `ferry cache warm --detach` queues it: its one job.
  jobs::JobId Queue(const WarmJob& request) {
    jobs::RunOptions ro;
    ro.command = kWarmCommand;
    auto run = store_->CreateRun(jobs::RunSpec{kSource, kCache, jobs::EncodeRunOptions(ro)});
    EXPECT_TRUE(run.ok());
    jobs::JobSpec job;
    job.run = *run;
    job.kind = kWarmKind;
    job.payload = EncodeWarmJob(request);
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
    w.owner = "test:2:-:00000002";
    w.registry = &kinds_;
    w.executor = &ferry::testing::TestExecutor();
    w.only_run = run_;
    w.exit_when_done = true;
    w.idle_poll = 5ms;
    jobs::BackendOpener opener = [this](const std::string& location,
                                        bool) -> Result<std::unique_ptr<storage::Backend>> {
      storage::Backend* b =
          location == kSource ? &source_ : location == kCache ? &cache_ : nullptr;
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

  static WarmJob Hot() {
    WarmJob job;
    job.cache_name = kCache;
    job.request.prefixes = {"hot/"};
    job.request.ttl = 1h;
    return job;
  }

  testing::FakeClock clock_;  // the store's
  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  jobs::KindRegistry kinds_;
  storage::MemoryBackend source_;
  storage::MemoryBackend cache_;
  std::map<std::string, std::string> bodies_;
  jobs::RunId run_ = 0;
};

TEST_F(WarmKindTest, AWorkerWarmsThePrefixesAndRecordsThem) {
  std::vector<std::string> hot;
  for (int i = 0; i < 12; ++i) {
    hot.push_back("hot/" + std::to_string(100 + i));
    Put(hot.back(), Body(i == 0 ? 200'000 : 500 + i * 101, i + 1));
    Put("cold/" + std::to_string(100 + i), Body(300, 50 + i));
  }
  Put("hotter", "not under hot/");
  const jobs::JobId job = Queue(Hot());
  transfer::Stats stats;
  EXPECT_EQ(Serve(stats), RunProgress::kDone);
  const jobs::Job j = JobOf(job);
  EXPECT_EQ(j.state, JobState::kDone) << j.last_error;
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(cache_.Keys(), hot);
  for (const std::string& key : hot) EXPECT_EQ(cache_.Contents(key), bodies_[key]) << key;
  EXPECT_EQ(stats.objects_copied.load(), hot.size());
  EXPECT_EQ(stats.objects_skipped.load(), 0u);

  // The index the worker wrote: the cache as the request named it, every hot/ object with its
  // size, expiring an hour from now.
  auto index = CacheIndex::Open(*store_->session(), SystemClock::Default(), kCache);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  auto entries = (*index)->EntriesUnder("");
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::vector<std::string> recorded;
  for (const Entry& e : *entries) {
    recorded.push_back(e.key);
    EXPECT_EQ(e.size, bodies_[e.key].size()) << e.key;
    EXPECT_GT(e.expires_ms, (*index)->NowMs() + 59 * 60 * 1000) << e.key;
    EXPECT_LE(e.expires_ms, (*index)->NowMs() + 60 * 60 * 1000) << e.key;
  }
  EXPECT_EQ(recorded, hot);

  // Again: everything is cached and unchanged, nothing is copied.
  const int puts = cache_.counts().puts;
  const jobs::JobId second = Queue(Hot());
  EXPECT_EQ(Serve(stats), RunProgress::kDone);
  EXPECT_EQ(JobOf(second).state, JobState::kDone) << JobOf(second).last_error;
  EXPECT_EQ(stats.objects_copied.load(), hot.size());
  EXPECT_EQ(stats.objects_skipped.load(), hot.size());
  EXPECT_EQ(cache_.counts().puts, puts);
  EXPECT_EQ(cache_.counts().writers_opened, 0);
}

// Objects that could not be cached fail the attempt (retried after a backoff on the store's
// clock); the retry copies them and skips what the first attempt cached.
TEST_F(WarmKindTest, AWarmWhoseObjectsFailedIsRetried) {
  for (int i = 0; i < 5; ++i) Put("hot/" + std::to_string(i), Body(100 + i, i));
  cache_.FailNext(storage::MemoryBackend::kPut, 2, Status::PermissionDenied("no write"));
  const jobs::JobId job = Queue(Hot());
  transfer::Stats stats;
  RunProgress progress = RunProgress::kWorking;
  std::thread serving([&] { progress = Serve(stats); });
  jobs::Job j;
  ferry::testing::WaitFor([&] {
    j = JobOf(job);
    return j.attempts == 1 && j.state != JobState::kLeased;
  }, 20s);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.state, JobState::kQueued) << "the first attempt was not retried";
  EXPECT_NE(j.last_error.find("2 objects could not be cached"), std::string::npos)
      << j.last_error;
  EXPECT_EQ(cache_.Keys().size(), 3u);
  clock_.Advance(2min);  // past the backoff
  serving.join();
  EXPECT_EQ(progress, RunProgress::kDone);
  j = JobOf(job);
  EXPECT_EQ(j.state, JobState::kDone) << j.last_error;
  EXPECT_EQ(j.attempts, 2);
  for (const auto& [key, body] : bodies_) EXPECT_EQ(cache_.Contents(key), body) << key;
  EXPECT_EQ(stats.objects_copied.load(), 5u);   // three, then the two that failed
  EXPECT_EQ(stats.objects_skipped.load(), 3u);  // cached by the first attempt
}

TEST(WarmJobTest, PayloadRoundTrips) {
  WarmJob job;
  job.cache_name = "s3://cache/ü/";
  job.request = WarmRequest{.prefixes = {"a/", "", "b c/"}, .ttl = 36h, .force = true};
  job.lock_ttl = 45s;
  job.record_batch = 7;
  auto back = DecodeWarmJob(EncodeWarmJob(job));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cache_name, job.cache_name);
  EXPECT_EQ(back->request.prefixes, job.request.prefixes);
  EXPECT_EQ(back->request.ttl, 36h);
  EXPECT_TRUE(back->request.force);
  EXPECT_EQ(back->lock_ttl, 45s);
  EXPECT_EQ(back->record_batch, 7u);

  job.record_batch = 0;  // would never record a copy
  auto zero = DecodeWarmJob(EncodeWarmJob(job));
  EXPECT_EQ(zero.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("record_batch"), std::string::npos);
  for (const char* bad : {"", "{", "[]", "{\"cache_name\":\"c\"}", "{\"cache_name\":1}"}) {
    EXPECT_EQ(DecodeWarmJob(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ferry::cache
