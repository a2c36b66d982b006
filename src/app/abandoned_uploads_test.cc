// AbortAbandonedUploads on a local destination and a SQLite state store: only uploads that
// ferry recorded for that destination and that no run will resume are aborted; another tool's
// upload, a live job's journaled upload and another destination's are left alone.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "app/durable.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "storage/local/local_backend.h"

namespace ferry::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;

class AbandonedUploadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-abandoned-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "dst");
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), SystemClock::Default());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto dst = storage::LocalBackend::Open((dir_ / "dst").string(), false);
    ASSERT_TRUE(dst.ok()) << dst.status().ToString();
    dst_ = std::move(dst).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A new unfinished upload of `key` on the destination; returns its id.
  std::string StartUpload(const std::string& key) {
    storage::WriteSpec spec;
    spec.size = 10;
    auto writer = dst_->OpenChunkWriter(key, spec, 5, {});
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return "";
    const std::string id = (*writer)->upload_id();
    (*writer)->Detach();
    return id;
  }
  // A claimed transfer job of a new run to `destination`.
  jobs::ClaimedJob NewJob(const std::string& destination) {
    auto run = store_->CreateRun({"src", destination, ""});
    EXPECT_TRUE(run.ok());
    jobs::JobSpec spec;
    spec.run = *run;
    EXPECT_TRUE(store_->Enqueue({spec}).ok());
    auto claimed = store_->Claim("w", seconds(600), 1, *run);
    EXPECT_TRUE(claimed.ok() && claimed->size() == 1u);
    return claimed->at(0);
  }
  // Records `id` as the job's upload of `key` (what the journal's Begin does).
  void Record(const jobs::ClaimedJob& job, const std::string& key, const std::string& id) {
    ASSERT_TRUE(store_->SaveUpload(job.lease, {key, id, 5, "", {}, {}}).ok());
  }
  std::set<std::string> Pending() {
    auto pending = dst_->ListPendingUploads("", {});
    EXPECT_TRUE(pending.ok());
    std::set<std::string> ids;
    for (const auto& u : *pending) ids.insert(u.upload_id);
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  std::unique_ptr<storage::LocalBackend> dst_;
};

TEST_F(AbandonedUploadsTest, AbortsOnlyFerrysUploadsThatNoRunWillResume) {
  const std::string dest = (dir_ / "dst").string();
  const std::string foreign = StartUpload("foreign");  // unknown to the store
  const jobs::ClaimedJob live = NewJob(dest);
  const std::string live_id = StartUpload("live");
  Record(live, "live", live_id);
  const jobs::ClaimedJob done = NewJob(dest);
  const std::string orphan = StartUpload("orphan");
  Record(done, "orphan", orphan);
  ASSERT_TRUE(store_->Finish(done.lease, {}).ok());  // its worker died after the commit failed
  const jobs::ClaimedJob replaced = NewJob(dest);
  const std::string old_id = StartUpload("replaced");
  Record(replaced, "replaced", old_id);
  const std::string new_id = StartUpload("replaced");
  Record(replaced, "replaced", new_id);  // a new attempt started over
  const jobs::ClaimedJob elsewhere = NewJob("s3://other/place");
  const std::string other_id = StartUpload("other");
  Record(elsewhere, "other", other_id);
  ASSERT_TRUE(store_->Finish(elsewhere.lease, {}).ok());
  ASSERT_EQ(Pending().size(), 6u);

  // Younger than the minimum age: nothing is touched.
  const auto now = std::chrono::system_clock::now();
  auto n = AbortAbandonedUploads(*store_, dest, *dst_, now - hours(1), {});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(Pending().size(), 6u);

  // In a local folder every ferry temporary file is ferry's by its name, also those no journal
  // recorded (whole-object writes of a killed run): idle ones that no live run of this store
  // owns are aborted too. On S3 nothing tells another tool's upload from ferry's, so unrecorded
  // ones are never touched there (tests/integration/abandoned_uploads_test.cc).
  n = AbortAbandonedUploads(*store_, dest, *dst_, now + hours(1), {});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(Pending(), (std::set<std::string>{live_id, new_id}));
  auto started = store_->ListStartedUploads(dest);
  ASSERT_TRUE(started.ok());
  std::set<std::string> recorded;
  for (const auto& u : *started) recorded.insert(u.upload_id);
  EXPECT_EQ(recorded, (std::set<std::string>{live_id, new_id})) << "aborted ones are forgotten";
  // The live job still resumes its upload.
  auto checkpoint = store_->LoadUpload(live.job.id, {"", "live"});
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ((*checkpoint)->upload_id, live_id);

  // Once its run is done, the live job's upload is abandoned too (e.g. the commit's answer was
  // lost); an upload completed meanwhile is just forgotten.
  ASSERT_TRUE(store_->SetRunState(live.job.spec.run, jobs::RunState::kDone).ok());
  ASSERT_TRUE(store_->Finish(replaced.lease, {}).ok());
  ASSERT_TRUE(dst_->AbortPendingUpload({"replaced", new_id, {}}, {}).ok());  // gone by itself
  n = AbortAbandonedUploads(*store_, dest, *dst_, now + hours(1), {});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(Pending().empty());
  started = store_->ListStartedUploads(dest);
  ASSERT_TRUE(started.ok());
  EXPECT_TRUE(started->empty());
}

}  // namespace
}  // namespace ferry::app
