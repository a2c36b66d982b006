// A Worker serving two runs submits the transfers of both to the one transfer::Executor it was
// given (WorkerOptions::executor): local folders, a SQLite JobStore in a temporary folder.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "base/clock.h"
#include "checksum/checksum.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/local/local_backend.h"
#include "transfer/executor.h"
#include "testing/wait_for.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

Result<std::unique_ptr<storage::Backend>> OpenLocal(const std::string& path, bool destination) {
  (void)destination;
  return std::unique_ptr<storage::Backend>(std::make_unique<storage::LocalBackend>(path));
}

TEST(WorkerExecutorTest, TheRunsOfAWorkerGoThroughTheExecutorItWasGiven) {
  char tmpl[] = "/tmp/ferry-worker-executor-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  SystemClock clock;
  auto store = OpenSqliteJobStore((dir / "state.db").string(), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<RunId> runs;
  for (const std::string n : {"1", "2"}) {
    fs::create_directories(dir / ("src" + n));
    fs::create_directories(dir / ("dst" + n));
    storage::LocalBackend src((dir / ("src" + n)).string());
    for (int i = 0; i < 5; ++i) {
      const std::string body(1000 + i, static_cast<char>('a' + i));
      storage::WriteSpec spec;
      spec.size = body.size();
      ASSERT_TRUE(src.Put("k" + std::to_string(i), checksum::AsBytes(body), spec, {}).ok());
    }
    RunSpec spec;
    spec.source = (dir / ("src" + n)).string();
    spec.destination = (dir / ("dst" + n)).string();
    spec.options = EncodeRunOptions(RunOptions{});
    auto run = (*store)->CreateRun(spec);
    ASSERT_TRUE(run.ok());
    JobSpec scan;
    scan.run = *run;
    scan.kind = kScanKind;
    scan.payload = EncodeScan(KeyRange{});
    ASSERT_TRUE((*store)->Enqueue({scan}).ok());
    runs.push_back(*run);
  }

  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 2,
                                                        .memory_budget = 1 << 20});
  transfer::Stats stats;
  {
    WorkerOptions w;
    w.owner = "test:0";
    w.executor = &executor;
    w.idle_poll = std::chrono::milliseconds(20);
    Worker worker(**store, &OpenLocal, w, stats);
    std::stop_source stop;
    std::thread watcher([&] {  // stops the worker once both runs are done
      EXPECT_TRUE(testing::WaitFor(
          [&] {
            bool done = true;
            for (RunId run : runs) {
              auto r = (*store)->GetRun(run);
              done = done && r.ok() && r->state == RunState::kDone;
            }
            return done;
          },
          std::chrono::seconds(60)));
      stop.request_stop();
    });
    EXPECT_TRUE(worker.Run(stop.get_token()).ok());
    watcher.join();
  }
  EXPECT_EQ(stats.objects_copied.load(), 10u);
  EXPECT_EQ(stats.failures(), 0u);
  // Both runs' bytes went through the given executor's budget (an engine with a budget of its
  // own would leave it untouched).
  EXPECT_GE(executor.budget().peak(), 1000u);
  EXPECT_EQ(executor.budget().in_use(), 0u);
  for (const std::string n : {"1", "2"}) {
    EXPECT_TRUE(fs::exists(dir / ("dst" + n) / "k4")) << n;
  }
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ferry::jobs
