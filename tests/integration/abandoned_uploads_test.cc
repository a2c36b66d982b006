// The clean-up of abandoned uploads on RGW (app::AbortAbandonedUploads): of the unfinished
// multipart uploads on a destination bucket, only ferry's orphans are aborted. Another tool's
// upload (made with the S3 client directly) and the journaled upload of a live run (a durable
// copy of a large object interrupted mid-way, to be resumed) survive, however old.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include "app/durable.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "testing/wait_for.h"
#include "tests/integration/rgw_fixture.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class AbandonedUploadsTest : public RgwTest {
 protected:
  void SetUp() override {
    RgwTest::SetUp();
    char tmpl[] = "/tmp/ferry-abandoned-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), SystemClock::Default());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
    RgwTest::TearDown();
  }

  std::set<std::string> Pending(const std::string& bucket) {
    auto uploads = client(1).ListMultipartUploads(bucket, "");
    EXPECT_TRUE(uploads.ok()) << uploads.status().ToString();
    std::set<std::string> ids;
    if (uploads.ok()) {
      for (const auto& u : *uploads) ids.insert(u.upload_id);
    }
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
};

TEST_F(AbandonedUploadsTest, OnlyFerrysOrphansAreAborted) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  const std::string dest = "rb:" + b;  // the destination as its runs name it

  // Another tool's upload.
  auto foreign = client(1).CreateMultipartUpload(b, "foreign", {});
  ASSERT_TRUE(foreign.ok()) << foreign.status().ToString();

  // A live run: a durable copy of a large object, stopped mid-way. Its job is queued again and
  // its upload journaled for the resume.
  PutObject(0, a, "big", RandomBytes(40u << 20, 7));
  jobs::RunOptions options;
  options.part_size = 5u << 20;
  options.multipart_threshold = 8u << 20;
  auto run = store_->CreateRun({"ra:" + a, dest, jobs::EncodeRunOptions(options)});
  ASSERT_TRUE(run.ok());
  jobs::JobSpec scan;
  scan.run = *run;
  scan.kind = jobs::kScanKind;
  scan.payload = jobs::EncodeScan(jobs::KeyRange{});
  ASSERT_TRUE(store_->Enqueue({scan}).ok());
  jobs::BackendOpener opener = [&](const std::string&,
                                   bool destination) -> Result<std::unique_ptr<storage::Backend>> {
    return destination ? S3(1, b) : S3(0, a);
  };
  jobs::WorkerOptions w;
  w.owner = jobs::DefaultOwner();
  w.concurrency = 1;
  // One worker and a budget of 5 MiB (one part at a time).
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 1,
                                                        .memory_budget = 5u << 20});
  w.executor = &executor;
  w.only_run = *run;
  w.idle_poll = milliseconds(10);
  transfer::Stats stats;
  std::string live;
  {
    jobs::Worker worker(*store_, opener, w, stats);
    std::stop_source stop;
    std::thread serving([&] { EXPECT_TRUE(worker.Run(stop.get_token()).ok()); });
    // The copy's first checkpoint: the upload id its transfer job recorded.
    const bool checkpointed = ferry::testing::WaitFor(
        [&] {
          auto transfers = store_->ListJobs(*run, std::nullopt, 10);
          if (!transfers.ok()) return false;
          for (const jobs::Job& j : *transfers) {
            if (j.spec.kind != jobs::kTransferKind) continue;
            auto u = store_->LoadUpload(j.id, {"", "big"});
            if (u.ok() && u->has_value()) live = (*u)->upload_id;
          }
          return !live.empty();
        },
        seconds(15));
    EXPECT_TRUE(checkpointed);
    stop.request_stop();  // interrupted: the upload stays for the next attempt
    serving.join();
  }
  ASSERT_FALSE(live.empty()) << "the copy never checkpointed an upload";
  ASSERT_EQ(Pending(b).count(live), 1u) << "the interrupted copy kept its upload";

  // Ferry's orphan: an upload recorded for a job that ended (dead) without finishing it.
  auto other_run = store_->CreateRun({"ra:" + a + "/x", dest, ""});
  ASSERT_TRUE(other_run.ok());
  jobs::JobSpec spec;
  spec.run = *other_run;
  ASSERT_TRUE(store_->Enqueue({spec}).ok());
  auto claimed = store_->Claim("w", seconds(600), 1, *other_run);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  auto dst = S3(1, b);
  storage::WriteSpec ws;
  ws.size = 10u << 20;
  auto writer = dst->OpenChunkWriter("orphan", ws, 5u << 20, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const std::string orphan = (*writer)->upload_id();
  (*writer)->Detach();
  writer->reset();
  ASSERT_TRUE(store_->SaveUpload((*claimed)[0].lease, {"orphan", orphan, 5u << 20, "", {}}).ok());
  jobs::Outcome dead;
  dead.kind = jobs::Outcome::Kind::kFail;
  dead.error = "gone";
  ASSERT_TRUE(store_->Finish((*claimed)[0].lease, dead).ok());
  ASSERT_EQ(Pending(b), (std::set<std::string>{*foreign, live, orphan}));

  // All three are old enough for the minimum age; only the orphan goes.
  auto n = app::AbortAbandonedUploads(*store_, dest, *dst,
                                      std::chrono::system_clock::now() + hours(1), {});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(Pending(b), (std::set<std::string>{*foreign, live}));
  // Another destination's view of the same bucket knows none of them.
  n = app::AbortAbandonedUploads(*store_, "s3://" + b, *dst,
                                 std::chrono::system_clock::now() + hours(1), {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(Pending(b).size(), 2u);
}

}  // namespace
}  // namespace ferry::testing
